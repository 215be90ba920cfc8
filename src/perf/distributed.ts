/**
 * `npm run bench -- distributed [--runs N]`: the same small study (N runs of gradient methods on the
 * tiny synthetic task) run by the local runner and on a BullMQ queue with 1 and 2 workers on this
 * machine, against a throw-away loopback Redis. Target and oracle are prepared once beforehand, so
 * each figure is the runs alone. Prints one JSON object: wall time and runs per minute for each,
 * and the queue's overhead per run over the local runner (1 worker vs local).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { startLocalRedis } from '../study/queue/local-redis.ts';

const CLI = fileURLToPath(new URL('../../bin/lethe.js', import.meta.url));

function lethe(args: string[], cwd: string): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'ignore', 'ignore'] });
  return { child, exit: new Promise((done) => child.on('exit', (c) => done(c))) };
}

async function timed(what: string, work: () => Promise<void>): Promise<number> {
  process.stderr.write(`bench distributed: ${what}\n`);
  const t = performance.now();
  await work();
  return (performance.now() - t) / 1000;
}

export async function run(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 6;
  if (!Number.isInteger(runs) || runs < 1) {
    throw new ConfigError('--runs must be a positive integer', { found: String(args[i + 1]) });
  }
  const dir = mkdtempSync(join(tmpdir(), 'lethe-bench-distributed-'));
  const redis = await startLocalRedis();
  try {
    const methods = ['ga', 'grad-diff', 'npo'];
    const study = (out: string) => {
      const path = join(dir, `${out}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          name: 'distributed',
          task: 'synthetic:tiny',
          recipe: { layers: 2, hidden: 64, heads: 4, vocabSize: 512, epochs: 30, lr: 0.005, batchSize: 16 },
          suites: ['tofu'],
          examples: 0,
          methods: Array.from({ length: runs }, (_, k) => ({
            method: methods[k % methods.length],
            args: { epochs: 2, lr: 0.0005 * (1 + Math.floor(k / methods.length)) },
          })),
          cache: join(dir, 'cache'),
          out: join(dir, out),
        }),
      );
      return path;
    };
    const run = async (out: string, extra: string[] = []) => {
      const { exit } = lethe(['bench', '--config', study(out), ...extra], dir);
      const code = await exit;
      if (code !== 0) throw new Error(`lethe bench (${out}) exited with ${code}`);
    };
    // Prepares target and oracle (and evaluates the references) once: not part of any figure.
    await timed('preparing target and oracle', () => run('warm-up'));
    const local = await timed(`local runner, ${runs} runs`, () => run('local'));
    const onQueue = async (out: string, workers: number, db: number) => {
      const queue = `${redis.url}/${db}`;
      const ws = Array.from({ length: workers }, (_, k) =>
        lethe(['worker', '--queue', queue, '--name', `w${k + 1}`], dir),
      );
      try {
        return await timed(`queue with ${workers} worker(s), ${runs} runs`, () =>
          run(out, ['--queue', queue]),
        );
      } finally {
        for (const w of ws) w.child.kill('SIGTERM');
        await Promise.all(ws.map((w) => w.exit));
      }
    };
    const one = await onQueue('queue1', 1, 1);
    const two = await onQueue('queue2', 2, 2);
    const perMinute = (s: number) => Number(((runs * 60) / s).toFixed(2));
    process.stdout.write(
      `${JSON.stringify(
        {
          suite: 'distributed',
          runs,
          cores: availableParallelism(),
          local: { seconds: Number(local.toFixed(1)), runsPerMinute: perMinute(local) },
          queue1Worker: { seconds: Number(one.toFixed(1)), runsPerMinute: perMinute(one) },
          queue2Workers: { seconds: Number(two.toFixed(1)), runsPerMinute: perMinute(two) },
          queueOverheadPerRunSeconds: Number(((one - local) / runs).toFixed(2)),
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
