/**
 * A searched method from study to report, on the hand-made tiny task: the run's search.json comes
 * back as the summary row's `search` (every trial, the rule's choice, the oracle's grades, choice
 * and gap), each run carries its cost as a fraction of the oracle's training, the summary
 * validates, and the report draws the search with one point per setting.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeTask } from '../../src/data/index.ts';
import { planCharts } from '../../src/report/charts.ts';
import { renderReport } from '../../src/report/render.ts';
import { runStudy, StudySchema } from '../../src/study/study.ts';
import { SummarySchema } from '../../src/study/study-schema.ts';
import { readManifest } from '../../src/study/unlearn-job.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-searched-study-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a searched run: its trials, choices and gap in summary.json and a plot in the report', async () => {
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  const study = StudySchema.parse({
    name: 'tiny-search',
    task: taskPath,
    recipe: {
      layers: 1,
      hidden: 32,
      heads: 2,
      vocabSize: 300,
      context: 64,
      epochs: 30,
      batchSize: 12,
      lr: 0.01,
    },
    suites: ['tofu'],
    methods: [
      {
        method: 'ga',
        args: { epochs: 1, batchSize: 4 },
        search: { strategy: 'grid', space: { lr: [0.0005, 0.005] }, validation: 0.3 },
      },
    ],
    examples: 0,
    cache: join(dir, 'cache'),
    out: join(dir, 'runs'),
  });
  const { dir: studyDir, summary } = await runStudy(study, { progress: false });
  const [run] = summary.runs;
  const s = run.search!;
  assert.ok(s, 'the searched run carries its search');
  const saved = JSON.parse(readFileSync(join(studyDir, 'runs', run.id, 'search.json'), 'utf8'));
  assert.equal(s.trials.length, 2);
  assert.deepEqual(
    s.trials.map((t) => t.args.lr),
    [0.0005, 0.005],
  );
  assert.equal(s.chosen, saved.chosenIndex);
  assert.equal(run.args.lr, s.trials[s.chosen].args.lr, 'the run trained the chosen setting');
  assert.ok(
    s.trials.every((t) => t.oracleGrade !== null),
    'the oracle graded every trial',
  );
  assert.equal(s.oracleChoice, saved.oracleChoice.index);
  const best = s.trials[s.oracleChoice!].oracleGrade! - s.trials[s.chosen].oracleGrade!;
  assert.ok(Math.abs(s.gap! - best) < 1e-12, 'gap = the oracle choice grade − the rule choice grade');
  assert.equal(s.seconds, s.trials[0].seconds + s.trials[1].seconds);

  // The run is the chosen trial, moved into the run folder: not trained a second time.
  const runDir = join(studyDir, 'runs', run.id);
  const manifest = readManifest(join(runDir, 'model'))!;
  assert.ok(!existsSync(join(runDir, 'trials')), 'the trials were cleared');
  assert.ok(manifest.timings.seconds <= s.trials[s.chosen].seconds, "the run's time is its trial's");
  assert.deepEqual(manifest.args, { ...manifest.args, ...s.trials[s.chosen].args });

  // Cost against the oracle's training; a searched run's time with the search is the search's.
  const oracle = summary.references.oracle.training!;
  const c = run.costVsOracle!;
  assert.equal(c.time, run.timings.seconds / oracle.seconds);
  assert.equal(c.withSearch, s.seconds / oracle.seconds);
  assert.ok(c.flops! > 0 && c.flops! < 1, `a short unlearning run costs a fraction of training: ${c.flops}`);

  // The written summary validates and renders, with the search drawn.
  const written = SummarySchema.parse(JSON.parse(readFileSync(join(studyDir, 'summary.json'), 'utf8')));
  assert.deepEqual(written.runs[0].search, s);
  const plan = planCharts(written).find((p) => p.name.startsWith('search-'))!;
  assert.equal((plan.spec as unknown as { data: { values: unknown[] } }).data.values.length, 2);
  const files = await renderReport(written, join(dir, 'report'), { png: false, onWarning: () => {} });
  assert.match(readFileSync(files.markdown, 'utf8'), /## Tuning without the oracle/);
  assert.match(readFileSync(files.html, 'utf8'), /data-plot="search-/);

  // A search whose model is gone (and whose trials were cleared) is searched again — never
  // retrained on the whole task — and gives the same model.
  const weights = readFileSync(join(runDir, 'model', 'model.safetensors'));
  rmSync(join(runDir, 'model'), { recursive: true });
  rmSync(join(runDir, 'results.json'));
  const again = await runStudy(study, { progress: false });
  assert.ok(readFileSync(join(runDir, 'model', 'model.safetensors')).equals(weights));
  const measured = (m: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('efficiency.')));
  assert.deepEqual(measured(again.summary.runs[0].metrics), measured(run.metrics));
});
