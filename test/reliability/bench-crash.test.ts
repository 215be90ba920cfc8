/**
 * Crash safety of `lethe bench`, through bin/lethe.js: a tiny study (ga and icul on a hand-made
 * task) runs once uninterrupted into folder A, then into folder B where it is SIGKILLed at kill
 * points drawn by a seeded generator — one at a random unlearning step of the ga run (so its
 * child is mid-training), three at random moments over the uninterrupted run's wall time — and is
 * re-run after each kill. After every kill no unlearning child of B is left running (children die
 * with their parent); in the end every run's results.json (without its `timings`, with the two
 * folders' names normalised) and results.jsonl (without the efficiency cells, which are the
 * manifests' wall time and peak memory) equal A's byte for byte, as do the unlearned weights,
 * step logs and manifests (wall-clock fields apart); B holds the same files as A (a killed atomic
 * write's hidden temporary file apart) and the shared cache no `*.partial` folder or lock.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { isAtomicTempName } from '../../src/io/atomic.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'bin', 'lethe.js');
const dir = mkdtempSync(join(tmpdir(), 'lethe-bench-crash-'));
const env = { ...process.env, LETHE_THREADS: '2' };
const cache = join(dir, 'cache'); // shared by A and B: the target and oracle train once

/** Write the study config whose output goes to `out` (A and B differ only there). */
async function studyConfig(out: string): Promise<string> {
  const path = `${out}.json`;
  writeFileSync(
    path,
    JSON.stringify({
      name: 'kill',
      task: await writeTask(join(dir, 'task'), tinyTask()),
      recipe: {
        layers: 1,
        hidden: 32,
        heads: 2,
        vocabSize: 300,
        context: 64,
        epochs: 20,
        batchSize: 12,
        lr: 0.01,
      },
      suites: ['tofu'],
      methods: [{ method: 'ga', args: { epochs: 80, lr: 0.002, batchSize: 1 } }, { method: 'icul' }],
      examples: 1,
      cache,
      out,
    }),
  );
  return path;
}

const lines = (path: string) =>
  existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;

/** Running: exists and is not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Running processes whose command line mentions `text` (from /proc), whoever their parent now is. */
function processesMentioning(text: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(text) && running(Number(name))) out.push({ pid: Number(name), cmd });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/**
 * Start `lethe bench` and SIGKILL it once `ready(elapsedMs)` is true. Resolves with whether it was
 * killed (rather than finishing first) and the unlearning children alive just before the kill.
 */
async function benchKilledWhen(
  config: string,
  out: string,
  ready: (elapsedMs: number) => boolean,
): Promise<{ killed: boolean; children: number[] }> {
  const started = performance.now();
  const bench: ChildProcess = spawn(process.execPath, [cli, 'bench', '--config', config], {
    cwd: dir,
    env,
    stdio: 'ignore',
  });
  let children: number[] = [];
  const exited = new Promise<boolean>((resolve) =>
    bench.on('exit', (_code, signal) => resolve(signal === 'SIGKILL')),
  );
  const timer = setInterval(() => {
    if (bench.exitCode !== null || bench.signalCode !== null || !ready(performance.now() - started)) return;
    children = processesMentioning(` unlearn `)
      .filter((p) => p.cmd.includes(out))
      .map((p) => p.pid);
    bench.kill('SIGKILL');
  }, 20);
  const killed = await exited;
  clearInterval(timer);
  return { killed, children };
}

/** Wait up to `ms` for every process whose command line names `out` to end; those still running. */
async function survivors(out: string, ms: number): Promise<{ pid: number; cmd: string }[]> {
  const end = Date.now() + ms;
  for (;;) {
    const alive = processesMentioning(out);
    if (alive.length === 0 || Date.now() > end) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function bench(config: string) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'bench', '--config', config], {
    cwd: dir,
    encoding: 'utf8',
    env,
  });
  assert.equal(r.status, 0, r.stderr);
  return performance.now() - t0;
}

/** Every name under `path`, recursively (relative). */
function walk(path: string, prefix = ''): string[] {
  return readdirSync(path, { withFileTypes: true }).flatMap((e) => {
    const rel = join(prefix, e.name);
    return e.isDirectory() ? [rel, ...walk(join(path, e.name), rel)] : [rel];
  });
}

test('bench: kill -9 at seeded random points, re-run, same results as an uninterrupted run', async (t) => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const [configA, configB] = [await studyConfig(a), await studyConfig(b)];
  const elapsed = bench(configA);
  const summaryA = JSON.parse(readFileSync(join(a, 'kill', 'summary.json'), 'utf8'));
  const ids: string[] = summaryA.runs.map((r: { id: string }) => r.id);
  const ga = ids.find((id) => id.startsWith('ga-'))!;
  const gaLog = (study: string) => join(study, 'kill', 'runs', ga, 'model', 'unlearn-log.jsonl');
  const gaSteps = lines(gaLog(a));
  assert.ok(gaSteps >= 300, `${gaSteps} ga steps`);
  // What B has to do: A's wall time less its training of the target and oracle (B reuses them).
  const span = Math.max(1000, elapsed - summaryA.study.wallTime.training * 1000);

  /** Where B's runs stood (for the diagnostic): evaluated, unlearned, unlearning or not started. */
  const phase = (study: string) =>
    ids
      .map((id) => {
        const run = join(study, 'kill', 'runs', id);
        const stage = existsSync(join(run, 'evaluation.json'))
          ? 'evaluated'
          : existsSync(join(run, 'model', 'manifest.json'))
            ? 'unlearned'
            : existsSync(join(run, 'model'))
              ? 'unlearning'
              : 'not started';
        return `${id.split('-')[0]} ${stage}`;
      })
      .join(', ');
  const rng = new Rng(41);
  const points: string[] = [];
  const afterKill = async (what: string, children: number[]) => {
    points.push(what);
    const left = await survivors(b, 5000);
    for (const p of left) process.kill(p.pid, 'SIGKILL'); // leave nothing behind, even on failure
    assert.deepEqual(
      left,
      [],
      `no process of B outlives its killed bench (kill ${what}; children ${children})`,
    );
  };

  // 1: at a random step early in ga, so the unlearning child is killed mid-training with its
  // parent: it ends (its watch polls every 200 ms, ~45 steps here on idle cores) long before the
  // rest of its steps could run; without the watch it would finish and write its manifest.
  const step = rng.int(1, Math.floor(gaSteps / 4));
  const first = await benchKilledWhen(configB, b, () => lines(gaLog(b)) >= step);
  assert.ok(first.killed, `bench was killed at ga step ${step}`);
  assert.ok(first.children.length > 0, 'an unlearning child was running when the bench was killed');
  await afterKill(`at ga step ${step}`, first.children);
  const reached = lines(gaLog(b));
  points[0] += ` (its child stopped at step ${reached})`;
  assert.ok(
    reached < gaSteps && !existsSync(join(b, 'kill', 'runs', ga, 'model', 'manifest.json')),
    `the orphaned child stopped (at step ${reached} of ${gaSteps}) instead of finishing`,
  );

  // 2-4: at random moments over the uninterrupted run's wall time, one in each third of it so
  // that later phases (icul, evaluation, results, report) are hit too; a late one may find B done.
  for (let third = 0; third < 3; third++) {
    const at = Math.round(((third + rng.uniform()) / 3) * span);
    const r = await benchKilledWhen(configB, b, (ms) => ms >= at);
    if (r.killed) await afterKill(`after ${at} ms (${phase(b)})`, r.children);
  }
  t.diagnostic(`bench killed ${points.join(', ')} (ga: ${gaSteps} steps; A took ${Math.round(elapsed)} ms)`);
  bench(configB);

  // Every result equals A's, byte for byte once wall-clock fields and the folder names are set aside.
  const results = (study: string, id: string) => {
    const r = JSON.parse(readFileSync(join(study, 'kill', 'runs', id, 'results.json'), 'utf8'));
    assert.ok(r.timings, 'results.json has its timings');
    delete r.timings;
    return JSON.stringify(r).replaceAll(study, '<out>');
  };
  const jsonl = (study: string) =>
    readFileSync(join(study, 'kill', 'results.jsonl'), 'utf8')
      .split('\n')
      .map((line) => {
        if (!line) return line;
        const row = JSON.parse(line);
        assert.equal(typeof row.metrics['efficiency.seconds'], 'number');
        delete row.metrics['efficiency.seconds'];
        delete row.metrics['efficiency.peakMemoryMb'];
        return JSON.stringify(row);
      })
      .join('\n');
  /** unlearn-log.jsonl without each step's wall-clock seconds. */
  const stepLog = (model: string) =>
    existsSync(join(model, 'unlearn-log.jsonl'))
      ? readFileSync(join(model, 'unlearn-log.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.stringify({ ...JSON.parse(line), seconds: undefined }))
          .join('\n')
      : null;
  assert.equal(lines(join(b, 'kill', 'results.jsonl')), ids.length);
  assert.equal(jsonl(b), jsonl(a), `results.jsonl after kills ${points}`);
  for (const id of ids) {
    assert.equal(results(b, id), results(a, id), `${id}/results.json after kills ${points}`);
    const [x, y] = [a, b].map((s) => join(s, 'kill', 'runs', id, 'model'));
    assert.deepEqual(
      readFileSync(join(y, 'model.safetensors')),
      readFileSync(join(x, 'model.safetensors')),
      id,
    );
    assert.equal(stepLog(y), stepLog(x), `${id}/model/unlearn-log.jsonl`);
    const manifest = (model: string) => ({
      ...JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')),
      timings: null,
    });
    assert.deepEqual(manifest(y), manifest(x), `${id}/model/manifest.json`);
  }
  const files = (study: string) => walk(study).filter((n) => !isAtomicTempName(basename(n)));
  assert.deepEqual(files(b), files(a), 'B holds the same files as A');
  const leftovers = walk(cache).filter((n) => /\.(partial|lock)$/.test(n));
  assert.deepEqual(leftovers, [], 'no partial folder or lock is left in the cache');
});
