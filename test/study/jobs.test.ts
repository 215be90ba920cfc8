/**
 * `jobs` changes how a study is scheduled, never what it computes. The same tiny study (a target
 * and an oracle, ga, a searched npo, icul) runs from empty caches with jobs = 1 (one thing at a
 * time, the target and oracle trained in this process, the search in a child) and jobs = 2 (the
 * target and oracle trained at once in two child processes, unlearning children started while
 * this process evaluates, one native thread per process). Everything that is a result must be
 * byte for byte the same: the target's, oracle's and unlearned weights, prepare.json, search.json,
 * every results.json and the summary, with only wall-clock and memory cells set aside, the
 * folders' names normalised, and the recorded thread counts (the kernels split work by shape
 * only, so results do not depend on them; here they do differ: 1 per process with jobs = 2).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { runStudy, StudySchema } from '../../src/study/study.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Keys whose values are wall-clock times, memory or the recorded thread count. */
const CLOCK_KEYS = new Set([
  'wallTime',
  'timings',
  'seconds',
  'time',
  'searchSeconds',
  'withSearch',
  'efficiency.seconds',
  'efficiency.peakMemoryMb',
  'threads',
  'environment',
]);

/** JSON text without clock cells (at any depth), with the two sides' folder names made equal. */
function normalised(path: string, root: string): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v)
          .filter(([k]) => !CLOCK_KEYS.has(k))
          .map(([k, x]) => [k, strip(x)]),
      );
    return v;
  };
  return JSON.stringify(strip(JSON.parse(readFileSync(path, 'utf8')))).replaceAll(root, '<root>');
}

/** Equal texts, or a failure that shows where they part (not both whole files). */
function sameText(actual: string, expected: string, what: string): void {
  if (actual === expected) return;
  let i = 0;
  while (actual[i] === expected[i]) i++;
  const near = (x: string) => x.slice(Math.max(0, i - 150), i + 150);
  assert.fail(
    `${what} differs at character ${i}:\n  jobs 2: …${near(actual)}…\n  jobs 1: …${near(expected)}…`,
  );
}

/** Every file under `path`, relative, sorted. */
function walk(path: string, prefix = ''): string[] {
  return readdirSync(path, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? walk(join(path, e.name), join(prefix, e.name)) : [join(prefix, e.name)],
    )
    .sort();
}

test('a study gives the same bytes with jobs = 1 and jobs = 2', async (t) => {
  const task = await writeTask(join(dir, 'task'), tinyTask());
  const studyIn = (root: string) =>
    StudySchema.parse({
      name: 'jobs',
      task,
      recipe: {
        layers: 1,
        hidden: 32,
        heads: 2,
        vocabSize: 300,
        context: 64,
        epochs: 12,
        batchSize: 12,
        lr: 0.01,
      },
      suites: ['tofu'],
      metrics: ['mia.loss'],
      methods: [
        { method: 'ga', args: { epochs: 2, lr: 0.002, batchSize: 4 } },
        {
          method: 'npo',
          args: { epochs: 1, batchSize: 4 },
          search: { strategy: 'grid', space: { lr: [0.0005, 0.005] }, validation: 0.3 },
        },
        { method: 'icul' },
      ],
      examples: 1,
      cache: join(root, 'cache'),
      out: join(root, 'runs'),
    });
  const [a, b] = [join(dir, 'a'), join(dir, 'b')];
  const one = await runStudy(studyIn(a), { progress: false, jobs: 1 });
  const two = await runStudy(studyIn(b), { progress: false, jobs: 2 });
  const wa = one.summary.study.wallTime!;
  const wb = two.summary.study.wallTime!;
  assert.equal(wa.jobs, 1);
  assert.equal(wb.jobs, 2);
  t.diagnostic(`wall time: jobs 1 ${JSON.stringify(wa)}; jobs 2 ${JSON.stringify(wb)}`);

  // The same files on both sides (the cache included: prepare.json, both models, evals).
  const filesA = walk(a);
  assert.deepEqual(walk(b), filesA);
  const weights = filesA.filter((f) => f.endsWith('.safetensors'));
  assert.ok(weights.length >= 5, `target, oracle and three unlearned models: ${weights}`);
  for (const f of weights) assert.deepEqual(readFileSync(join(b, f)), readFileSync(join(a, f)), f);
  const json = filesA.filter(
    (f) =>
      /(prepare|search|results|summary|evaluation|manifest|target|oracle)\.json$/.test(f) ||
      f.startsWith('cache/evals/'),
  );
  assert.ok(json.some((f) => f.endsWith('search.json')) && json.some((f) => f.endsWith('prepare.json')));
  for (const f of json) sameText(normalised(join(b, f), b), normalised(join(a, f), a), f);
  const jsonl = (root: string) =>
    readFileSync(join(root, 'runs', 'jobs', 'results.jsonl'), 'utf8')
      .split('\n')
      .map((l) => (l ? JSON.stringify(JSON.parse(l), (k, v) => (CLOCK_KEYS.has(k) ? undefined : v)) : l))
      .join('\n');
  sameText(jsonl(b), jsonl(a), 'results.jsonl');
  // The thread counts recorded are what each side ran with (they are not part of the comparison).
  const manifest = (root: string) =>
    JSON.parse(
      readFileSync(
        join(root, 'runs', 'jobs', 'runs', one.summary.runs[0].id, 'model', 'manifest.json'),
        'utf8',
      ),
    );
  assert.equal(manifest(b).threads, Math.max(1, Math.floor(manifest(b).cores / 2)));
  assert.ok(existsSync(join(b, 'cache')));
});
