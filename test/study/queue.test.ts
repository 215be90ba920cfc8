/**
 * Studies on a job queue: a real Redis (Debian's redis-server on a loopback port), a coordinator
 * and workers as real `lethe` processes. Checks that a queued study gives byte-identical run results
 * to the local runner, that a worker killed mid-run loses nothing (its run is retried elsewhere),
 * that a coordinator killed and restarted re-attaches without enqueuing anything twice, and that a
 * run failing by itself is reported once with its error.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { type LocalRedis, redisInstalled, startLocalRedis } from '../../src/study/queue/local-redis.ts';
import { planRuns, runStudy, StudySchema } from '../../src/study/study.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'lethe.js');
const dir = mkdtempSync(join(tmpdir(), 'lethe-queue-'));
const haveRedis = redisInstalled();
if (!haveRedis && process.env.CI) throw new Error('redis-server is not installed: .ci/run must install it');
const skip = haveRedis ? false : 'redis-server is not installed (apt-get install redis-server)';

let redis: LocalRedis | undefined;
let url = '';
const children: ChildProcess[] = [];

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function lethe(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    err += c;
  });
  child.stdout?.resume();
  const exit = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, stderr: () => err, exit };
}

async function until(what: string, check: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const worker = (name: string, queue = url) =>
  lethe(['worker', '--queue', queue, '--name', name, '--lock-ms', '2000']);

let taskPath = '';
const METHODS = [
  { method: 'ga', args: { epochs: 2, lr: 0.002, batchSize: 4 } },
  { method: 'grad-diff', args: { epochs: 2, lr: 0.002, batchSize: 4 } },
  { method: 'npo', args: { epochs: 2, lr: 0.002, batchSize: 4 } },
];

function studyFile(out: string, methods: unknown[] = METHODS, name = 'q'): string {
  const path = join(dir, `${out}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      task: taskPath,
      recipe: {
        layers: 1,
        hidden: 32,
        heads: 2,
        vocabSize: 300,
        context: 64,
        epochs: 40,
        batchSize: 12,
        lr: 0.01,
      },
      suites: ['tofu'],
      metrics: ['mia.loss'],
      methods,
      examples: 1,
      cache: join(dir, 'cache'),
      out: join(dir, out),
    }),
  );
  return path;
}

/** The local runner's results, which every queued study must reproduce byte for byte. */
let local: Map<string, string>;
/** A run's results.json without its wall-clock timings (kept apart in the file for this reason). */
function resultsBytes(path: string): string {
  const r = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  delete r.timings;
  return JSON.stringify(r);
}
const resultsOf = (out: string, name: string, ids: string[]) =>
  new Map(ids.map((id) => [id, resultsBytes(join(out, name, 'runs', id, 'results.json'))]));

function assertSameAsLocal(out: string): void {
  const got = resultsOf(join(dir, out), 'q', [...local.keys()]);
  // The runs' own folders are named in their results; everything else but timings must be the same bytes.
  const here = (bytes: string) => bytes.replaceAll(join(dir, 'local'), join(dir, out));
  for (const [id, bytes] of local) assert.equal(got.get(id), here(bytes), `${id} differs from the local run`);
}

before(async () => {
  if (!haveRedis) return;
  redis = await startLocalRedis();
  url = redis.url;
  taskPath = await writeTask(join(dir, 'task'), tinyTask());
  // Every queued study below has the same name, methods and task: the same run ids and results.
  const study = StudySchema.parse(JSON.parse(readFileSync(studyFile('local'), 'utf8')));
  await runStudy(study, { progress: false });
  local = resultsOf(
    join(dir, 'local'),
    'q',
    planRuns(study).map((r) => r.id),
  );
});

after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  redis?.stop();
});

test('a study on the queue with two workers gives the local runner’s results', { skip }, async () => {
  const w1 = worker('w1');
  const w2 = worker('w2');
  const coord = lethe(['bench', '--config', studyFile('two-workers'), '--queue', url]);
  assert.equal(await coord.exit, 0, coord.stderr());
  assertSameAsLocal('two-workers');
  assert.match(coord.stderr(), /3 done \((w1|w2): \d(, (w1|w2): \d)?\)/);
  assert.ok(existsSync(join(dir, 'two-workers', 'q', 'summary.json')));
  w1.child.kill('SIGTERM');
  w2.child.kill('SIGTERM');
  await Promise.all([w1.exit, w2.exit]);
});

/** The worker log line that says a worker took a run. */
const started = (log: string) => [...log.matchAll(/: (\S+): started/g)].map((m) => m[1]);

test('a worker killed mid-run loses nothing: another worker redoes the run', { skip }, async () => {
  const queue = `${url}/1`;
  const w1 = worker('k1', queue);
  const coord = lethe(['bench', '--config', studyFile('worker-killed'), '--queue', queue]);
  // Kill it while its child is unlearning, i.e. mid-run.
  await until('k1 to be unlearning', () => /: \S+: bench: \S+: unlearning/.test(w1.stderr()));
  const [taken] = started(w1.stderr());
  w1.child.kill('SIGKILL');
  const w2 = worker('k2', queue);
  assert.equal(await coord.exit, 0, coord.stderr());
  assertSameAsLocal('worker-killed');
  assert.ok(started(w2.stderr()).includes(taken), `k2 should have redone ${taken}:\n${w2.stderr()}`);
  w2.child.kill('SIGTERM');
  await w2.exit;
  // The killed worker's child died with it: no process is left on this study's runs.
  await until(
    'orphans to exit',
    () => spawnSync('pgrep', ['-f', 'worker-killed/q/study.queue.json']).status === 1,
    10_000,
  );
});

test('a coordinator killed and restarted re-attaches and enqueues nothing twice', { skip }, async () => {
  const queue = `${url}/2`;
  const w = worker('c1', queue);
  const config = studyFile('coordinator-killed');
  const first = lethe(['bench', '--config', config, '--queue', queue]);
  await until('a run to finish', () => /: \S+: done/.test(w.stderr()));
  first.child.kill('SIGKILL');
  const second = lethe(['bench', '--config', config, '--queue', queue]);
  assert.equal(await second.exit, 0, second.stderr());
  assertSameAsLocal('coordinator-killed');
  const runs = started(w.stderr());
  assert.deepEqual([...runs].sort(), [...local.keys()].sort(), 'each run taken exactly once');
  w.child.kill('SIGTERM');
  await w.exit;
});

test('a run that fails by itself is reported once with its error, not retried', { skip }, async () => {
  const queue = `${url}/3`;
  const w = worker('f1', queue);
  const config = studyFile('fails', [{ method: 'ga', args: { epochs: 2, lr: 1e30, batchSize: 4 } }], 'qf');
  const coord = lethe(['bench', '--config', config, '--queue', queue]);
  assert.equal(await coord.exit, 1, coord.stderr());
  assert.match(coord.stderr(), /1 of 1 runs failed/);
  assert.match(coord.stderr(), /NumericError|became (NaN|Infinity)/);
  assert.equal(started(w.stderr()).length, 1, w.stderr());
  w.child.kill('SIGTERM');
  await w.exit;
});
