/**
 * `lethe bench` as a user runs it, through bin/lethe.js: killing the parent (SIGKILL, which nothing
 * can forward, or SIGTERM, which it forwards) takes its unlearning child down; `--json` gives one
 * JSON object on stdout for bench, prepare, unlearn and eval; bad flags of `lethe unlearn` and
 * `lethe eval` fail before anything is loaded or trained.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeTask } from '../../src/data/index.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const cli = fileURLToPath(new URL('../../bin/lethe.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'lethe-bench-process-'));
const recipe = {
  layers: 1,
  hidden: 32,
  heads: 2,
  vocabSize: 300,
  context: 64,
  epochs: 20,
  batchSize: 12,
  lr: 0.01,
};
const recipePath = join(dir, 'recipe.json');
writeFileSync(recipePath, JSON.stringify(recipe));
const taskPath = writeTask(join(dir, 'task'), tinyTask());

/** Run lethe to the end; stdout, stderr and the exit code. */
function lethe(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, code: r.status };
}

/** The pids whose parent is `ppid` (from /proc), with their command lines. */
function childrenOf(ppid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid) {
        out.push({
          pid: Number(name),
          cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' '),
        });
      }
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Running: exists and is not a zombie (an orphan's zombie waits for a reaper that may never come). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | null | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start a bench whose one run unlearns for far longer than the test lasts; resolve once it does. */
async function benchWithBusyChild(name: string): Promise<{ bench: ChildProcess; child: number }> {
  const studyPath = join(dir, `${name}.json`);
  writeFileSync(
    studyPath,
    JSON.stringify({
      name,
      task: await taskPath,
      recipe,
      suites: ['tofu'],
      methods: [{ method: 'ga', args: { steps: 1_000_000, lr: 1e-5, batchSize: 2 } }],
      cache: join(dir, 'cache'),
      out: join(dir, 'runs'),
    }),
  );
  const bench = spawn(process.execPath, [cli, 'bench', '--config', studyPath], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const child = await until(
    'the unlearning child',
    () => childrenOf(bench.pid!).find((c) => c.cmd.includes(' unlearn '))?.pid,
    120_000,
  );
  // Let it get into training (past loading, into the step loop).
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(running(child));
  return { bench, child };
}

test('killing the bench parent with SIGKILL takes its unlearning child down', async () => {
  const { bench, child } = await benchWithBusyChild('kill9');
  try {
    bench.kill('SIGKILL');
    await until('the orphaned child to end', () => !running(child), 5000);
  } finally {
    if (running(child)) process.kill(child, 'SIGKILL');
  }
});

test('SIGTERM to the bench parent is forwarded to the child, then ends the parent', async () => {
  const { bench, child } = await benchWithBusyChild('term');
  const ended = new Promise<NodeJS.Signals | null>((done) => bench.on('exit', (_c, signal) => done(signal)));
  try {
    bench.kill('SIGTERM');
    await until('the child to end', () => !running(child), 5000);
    assert.equal(await ended, 'SIGTERM');
  } finally {
    if (running(child)) process.kill(child, 'SIGKILL');
  }
});

test('lethe unlearn and eval check their flags before loading or training anything', async () => {
  const cache = join(dir, 'empty-cache');
  const nope = lethe([
    'unlearn',
    '--task',
    await taskPath,
    '--method',
    'nope',
    '--out',
    'o',
    '--cache',
    cache,
  ]);
  assert.equal(nope.code, 1);
  assert.match(nope.stderr, /unknown unlearning method "nope"/);
  const lrr = lethe([
    'unlearn',
    '--task',
    await taskPath,
    '--method',
    'ga',
    '--arg',
    'lrr=1e-4',
    '--out',
    'o',
    '--cache',
    cache,
  ]);
  assert.equal(lrr.code, 1);
  assert.match(lrr.stderr, /unknown key lrr[\s\S]*valid keys/);
  const range = lethe([
    'unlearn',
    '--task',
    await taskPath,
    '--method',
    'npo',
    '--arg',
    'lr=-1',
    '--out',
    'o',
    '--cache',
    cache,
  ]);
  assert.equal(range.code, 1);
  assert.match(range.stderr, /lr/);
  const recipeBad = join(dir, 'bad-recipe.json');
  writeFileSync(recipeBad, JSON.stringify({ hidden: 30, heads: 4 }));
  const shape = lethe(['prepare', '--task', await taskPath, '--config', recipeBad, '--cache', cache]);
  assert.equal(shape.code, 1);
  assert.match(shape.stderr, /bad-recipe.json: heads/);
  // An output folder holding anything but an earlier unlearning output is never emptied.
  const keep = join(dir, 'precious');
  mkdirSync(keep);
  writeFileSync(join(keep, 'notes.txt'), 'mine');
  const clobber = lethe([
    'unlearn',
    '--task',
    await taskPath,
    '--method',
    'ga',
    '--out',
    keep,
    '--cache',
    cache,
  ]);
  assert.equal(clobber.code, 2);
  assert.match(clobber.stderr, /is not empty and not this command's own work[\s\S]*notes.txt/);
  assert.equal(readFileSync(join(keep, 'notes.txt'), 'utf8'), 'mine');
  const self = lethe(['unlearn', '--task', await taskPath, '--method', 'ga', '--model', keep, '--out', keep]);
  assert.match(self.stderr, /the output folder is the model being unlearned/);
  assert.ok(!existsSync(cache), 'nothing was prepared');
  const evalSet = lethe([
    'eval',
    '--model',
    'missing',
    '--suite',
    'tofu',
    '--set',
    'nope=1',
    '--out',
    'r.json',
  ]);
  assert.equal(evalSet.code, 1);
  assert.match(evalSet.stderr, /invalid evaluation option/);
  const evalModel = lethe(['eval', '--model', 'missing', '--suite', 'tofu', '--out', 'r.json']);
  assert.equal(evalModel.code, 1);
  assert.match(evalModel.stderr, /model folder not found[\s\S]*--model/);
  assert.ok(!existsSync(join(dir, 'r.json')));
});

test('--json prints one JSON object on stdout for prepare, unlearn, eval and bench', async () => {
  const cache = join(dir, 'cache'); // shared with the kill tests: target and oracle are reused
  const common = ['--task', await taskPath, '--config', recipePath, '--cache', cache];
  const prep = lethe(['prepare', ...common, '--json']);
  assert.equal(prep.code, 0, prep.stderr);
  const p = JSON.parse(prep.stdout);
  assert.ok(existsSync(p.target) && existsSync(p.oracle));
  assert.ok(p.info.target.tokens > 0 && p.info.target.flops > 0);

  const out = join(dir, 'unlearned');
  const un = lethe(['unlearn', ...common, '--method', 'ga', '--arg', 'epochs=1', '--out', out, '--json']);
  assert.equal(un.code, 0, un.stderr);
  const manifest = JSON.parse(un.stdout);
  assert.equal(manifest.method, 'ga');
  assert.equal(manifest.args.epochs, 1);

  const ev = lethe(['eval', '--model', out, '--metric', 'mia.loss', '--out', join(dir, 'r.json'), '--json']);
  assert.equal(ev.code, 0, ev.stderr);
  const results = JSON.parse(ev.stdout);
  assert.equal(results.format, 'lethe-eval/1');
  assert.deepEqual(results, JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')));

  const studyPath = join(dir, 'json-study.json');
  writeFileSync(
    studyPath,
    JSON.stringify({
      name: 'json',
      task: await taskPath,
      recipe,
      suites: ['tofu'],
      methods: [{ method: 'icul' }],
      examples: 0,
      cache,
      out: join(dir, 'runs'),
    }),
  );
  const bench = lethe(['bench', '--config', studyPath, '--json']);
  assert.equal(bench.code, 0, bench.stderr);
  const b = JSON.parse(bench.stdout);
  assert.equal(b.summary.runs.length, 1);
  assert.ok(existsSync(join(dir, b.report)));
  assert.match(bench.stderr, /bench: time: .* training .* unlearning .* evaluation/);
  const check = lethe(['bench', '--config', studyPath, '--check', '--json']);
  assert.deepEqual(JSON.parse(check.stdout), { ok: true, study: 'json', runs: [b.summary.runs[0].id] });
});
