/**
 * `jobs` changes how a study is scheduled, never what it computes. The same tiny study (a target
 * and an oracle, ga, a searched npo, icul) runs from empty caches with jobs = 1 (one thing at a
 * time, the target and oracle trained in this process) and jobs = 2 (the target and oracle trained
 * at once in two child processes, unlearning and search children started while this process
 * evaluates, the children with ⌊cores ÷ 2⌋ native threads). Every result is byte for byte the
 * same: the target's, oracle's and unlearned weights, tokenizers, prepare.json, search.json, every
 * results.json (its environment included), manifest and step log, results.jsonl and the summary —
 * with only wall-clock and memory cells set aside, the folders' names normalised, and the thread
 * count an unlearning manifest records (the children's; the kernels split work by shape only, so
 * results do not depend on it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { filesUnder, studyDifferences } from '../../src/perf/same-results.ts';
import { runStudy, StudySchema } from '../../src/study/study.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-jobs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
  const [wa, wb] = [one.summary.study.wallTime!, two.summary.study.wallTime!];
  assert.equal(wa.jobs, 1);
  assert.equal(wb.jobs, 2);
  t.diagnostic(`wall time: jobs 1 ${JSON.stringify(wa)}; jobs 2 ${JSON.stringify(wb)}`);

  const files = filesUnder(a);
  const weights = files.filter((f) => f.endsWith('.safetensors'));
  assert.equal(weights.length, 5, `target, oracle and three unlearned models: ${weights}`);
  for (const f of ['prepare.json', 'search.json', 'results.json', 'manifest.json', 'summary.json'])
    assert.ok(
      files.some((x) => x.endsWith(f)),
      `${f} is compared`,
    );
  assert.deepEqual(studyDifferences(a, b), []);
  // The comparison sees a one-bit change in a weight and a metric off by 1e-12.
  const w = join(b, weights[0]);
  const bytes = readFileSync(w);
  writeFileSync(w, Buffer.from(bytes.map((x, i) => (i === bytes.length - 1 ? x ^ 1 : x))));
  const results = join(b, files.find((f) => f.endsWith('results.json'))!);
  const r = JSON.parse(readFileSync(results, 'utf8'));
  r.metrics['mia.loss'].unlearned.value += 1e-12;
  writeFileSync(results, JSON.stringify(r));
  assert.deepEqual(
    studyDifferences(a, b).map((d) => d.split(' ')[0]),
    [weights[0], files.find((f) => f.endsWith('results.json'))],
  );

  // The unlearning children's thread count (set aside above) is what each side ran them with.
  const manifest = (root: string) =>
    JSON.parse(
      readFileSync(
        join(root, 'runs', 'jobs', 'runs', one.summary.runs[0].id, 'model', 'manifest.json'),
        'utf8',
      ),
    );
  const shared = Math.max(1, Math.floor(manifest(b).cores / 2)); // unless LETHE_THREADS fixes it
  assert.equal(manifest(b).threads, Number(process.env.LETHE_THREADS || shared));
});
