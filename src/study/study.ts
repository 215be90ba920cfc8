/**
 * `lethe bench --config study.json`: a whole unlearning study. For each seed it prepares (or
 * reuses) the target and the oracle, runs every method × hyper-parameter combination of the grid,
 * evaluates each run with the chosen suites against the oracle and the target, and writes
 * runs/<study>/ — one folder per run (model, manifest.json, results.json), results.jsonl,
 * summary.json (the CLI renders the report from it with src/report).
 *
 * Resumable: a run whose results.json exists and validates is skipped; a run killed midway has no
 * results.json (and its model folder no manifest) and is redone from the start, which gives the
 * same bytes as an uninterrupted run. Nothing finished is ever rewritten.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { readConfigFile } from '../config/load.ts';
import { TrainRecipeOverrides } from '../config/train-config.ts';
import { contentHash, type Task, taskHash } from '../data/index.ts';
import { resolveTask } from '../data/resolve-task.ts';
import { ConfigError, LetheError } from '../errors.ts';
import { type EvalResults, evaluate, readResults, writeResults } from '../eval/index.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { qaPrompt } from '../text/format.ts';
import { generate } from '../text/generate.ts';
import { loadPretrained } from '../text/pretrained.ts';
import { getMethod } from '../unlearn/registry.ts';
import { type Prepared, prepare } from './prepare.ts';
import { type SearchSpec, SearchSpecSchema, searchedArgs } from './search.ts';
import { LEADERBOARD, type RunRow, type Summary, SummarySchema } from './study-schema.ts';
import { type Manifest, readManifest } from './unlearn-job.ts';

const MethodEntry = z.strictObject({
  method: z.string(),
  /** Fixed arguments. */
  args: z.record(z.string(), z.unknown()).default({}),
  /** Arguments to sweep: every combination is one run. */
  grid: z.record(z.string(), z.array(z.unknown()).min(1)).default({}),
  /** Shown in the report instead of the generated label. */
  label: z.string().optional(),
  /** Tune the arguments without the oracle (src/study/search.ts); the selected setting is one run. */
  search: SearchSpecSchema.optional(),
});

export const StudySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it names a folder)'),
  description: z.string().optional(),
  task: z.string().default('synthetic'),
  /** Overrides of the target/oracle training recipe (as `lethe prepare --config`). */
  recipe: TrainRecipeOverrides.optional(),
  seeds: z.array(z.number().int()).min(1).default([0]),
  suites: z.array(z.string()).min(1).default(['tofu', 'muse', 'privacy']),
  /** Extra metric names evaluated besides the suites. */
  metrics: z.array(z.string()).default([]),
  methods: z.array(MethodEntry).min(1),
  /** Example generations per split shown in the report. */
  examples: z.number().int().nonnegative().default(3),
  cache: z.string().default('.lethe-cache'),
  out: z.string().default('runs'),
  dataDir: z.string().optional(),
});
export type Study = z.infer<typeof StudySchema>;

interface PlannedRun {
  id: string;
  method: string;
  args: Record<string, unknown>;
  seed: number;
  label: string;
  search?: SearchSpec;
}

/** Every method × grid combination × seed, with stable ids. */
export function planRuns(study: Study): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const entry of study.methods) {
    getMethod(entry.method); // unknown names fail before any work
    let combos: Record<string, unknown>[] = [{}];
    for (const [key, values] of Object.entries(entry.grid)) {
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    for (const combo of combos) {
      const args = { ...entry.args, ...combo };
      const shown = Object.entries(combo).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      for (const seed of study.seeds) {
        const search = entry.search;
        const hash = contentHash({ method: entry.method, args, ...(search ? { search } : {}) }, 'run').slice(
          0,
          8,
        );
        runs.push({
          id: `${entry.method}-${hash}-s${seed}`,
          method: entry.method,
          args,
          seed,
          label: [
            entry.label ?? entry.method,
            ...shown,
            ...(search ? [`(${search.strategy} search)`] : []),
          ].join(' '),
          ...(search ? { search } : {}),
        });
      }
    }
  }
  return runs;
}

const metricValue = (
  r: EvalResults,
  name: string,
  role: 'unlearned' | 'oracle' | 'target' = 'unlearned',
): number | null => {
  const m = r.metrics[name]?.[role];
  return m && 'value' in m ? m.value : null;
};
const extraOf = (r: EvalResults, name: string, role: 'unlearned' | 'oracle' | 'target' = 'unlearned') => {
  const m = r.metrics[name]?.[role];
  return m && 'value' in m ? (m.extra ?? {}) : {};
};
const reasonOf = (r: EvalResults, name: string, role: 'unlearned' | 'oracle' | 'target'): string | null => {
  const m = r.metrics[name]?.[role];
  if (!m) return 'not evaluated';
  return 'skipped' in m ? m.skipped : 'failed' in m ? `failed: ${m.failed}` : null;
};

/** Leaderboard keys → evaluation metric names. */
const METRIC_OF: Record<string, string> = {
  forgetQuality: 'tofu.forgetQuality',
  modelUtility: 'tofu.modelUtility',
  privLeak: 'muse.privleak',
  verbMem: 'muse.verbmem.forget',
  miaAuc: 'mia.loss',
  privacyLeakRate: 'pii.fewShot.forget',
};

function leaderboardMetrics(r: EvalResults, role: 'unlearned' | 'oracle' | 'target') {
  const metrics: Record<string, number | null> = {};
  const notes: Record<string, string> = {};
  for (const [key, name] of Object.entries(METRIC_OF)) {
    metrics[key] = metricValue(r, name, role);
    const why = metrics[key] === null ? reasonOf(r, name, role) : null;
    if (why) notes[key] = why;
  }
  // Relearning recovery: how much of the forgetting (target → this model, on the held-back forget
  // items) a short relearning attack undoes. Needs the target's unattacked value.
  const before = extraOf(r, 'robustness.relearn', role).before;
  const after = metricValue(r, 'robustness.relearn', role);
  const targetBefore = extraOf(r, 'robustness.relearn', 'target').before;
  if (
    typeof before === 'number' &&
    after !== null &&
    typeof targetBefore === 'number' &&
    before - targetBefore > 1e-6
  ) {
    metrics.relearnRecovery = Math.min(1, Math.max(0, (before - after) / (before - targetBefore)));
  } else {
    metrics.relearnRecovery = null;
    notes.relearnRecovery =
      role === 'unlearned' && after !== null
        ? 'no forgetting to recover (NLL not above the target)'
        : 'relearning check not run';
  }
  return { metrics, notes };
}

function rocOf(r: EvalResults, role: 'unlearned' | 'oracle' | 'target'): RunRow['roc'] {
  const out: RunRow['roc'] = {};
  for (const attack of ['loss', 'minK']) {
    const extra = extraOf(r, `mia.${attack}`, role) as {
      roc?: { forgetVsHoldout?: { fpr: number[]; tpr: number[] } };
    };
    const c = extra.roc?.forgetVsHoldout;
    if (c) out[attack] = { fpr: c.fpr, tpr: c.tpr, auc: metricValue(r, `mia.${attack}`, role) };
  }
  return out;
}

function truthRatiosOf(r: EvalResults, role: 'unlearned' | 'oracle' | 'target'): number[] {
  const m = r.metrics['tofu.forget.truthRatio']?.[role];
  if (!m || !('value' in m) || !m.perItem) return [];
  const series = Object.values(m.perItem)[0];
  return series ? series.values.filter((v): v is number => v !== null) : [];
}

function curvesOf(dir: string): RunRow['curves'] {
  const path = join(dir, 'unlearn-log.jsonl');
  const curves: RunRow['curves'] = { step: [], loss: [], forgetLoss: [], retainLoss: [] };
  if (!existsSync(path)) return curves;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as Record<string, number>;
    curves.step.push(e.step);
    curves.loss.push(e.loss);
    const f = e.forgetNll ?? e.npo ?? e.simnpo ?? e.idkNll ?? e.forgetMse ?? e.dpo;
    const rt = e.retainNll ?? e.retainKl ?? e.retainMse;
    if (f !== undefined) curves.forgetLoss!.push(f);
    if (rt !== undefined) curves.retainLoss!.push(rt);
  }
  if (curves.forgetLoss!.length !== curves.step.length) delete curves.forgetLoss;
  if (curves.retainLoss!.length !== curves.step.length) delete curves.retainLoss;
  return curves;
}

/** Greedy answers of a model folder to the first n forget and retain questions. */
async function examplesOf(dir: string, task: Task, n: number): Promise<RunRow['examples']> {
  if (n === 0) return [];
  const { model, tokenizer } = await loadPretrained(dir);
  const transformPath = join(dir, 'transform.json');
  const { loadTransform, promptedGenerate } = await import('../unlearn/prompted.ts');
  const transform = existsSync(transformPath) ? loadTransform(transformPath) : null;
  const picks = (['forget', 'retain'] as const).flatMap((split) =>
    task.splits[split].qa.slice(0, n).map((q) => ({ split, q })),
  );
  const prompts = picks.map(({ q }) => qaPrompt(q.question));
  const out = transform
    ? promptedGenerate(model, tokenizer, transform, prompts, { maxNewTokens: 32 }).texts
    : generate(
        model,
        picks.map((_, i) => tokenizer.encode(prompts[i], { addSpecialTokens: true })),
        {
          maxNewTokens: 32,
          eosTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
          stopStrings: ['\nQuestion:'],
          decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
        },
      ).texts!;
  return picks.map(({ split, q }, i) => ({
    split,
    question: q.question,
    answer: q.answer,
    generated: out[i].trim(),
  }));
}

function referenceRow(
  id: 'target' | 'oracle',
  r: EvalResults,
  examples: RunRow['examples'],
  seed: number,
  seconds: number,
): RunRow {
  const { metrics, notes } = leaderboardMetrics(r, id);
  metrics.seconds = seconds;
  metrics.peakRssMb = null;
  return {
    id,
    method: id,
    kind: 'reference',
    label: id === 'target' ? 'target (trained on forget ∪ retain)' : 'oracle (retrained on retain only)',
    args: {},
    seed,
    metrics,
    notes,
    curves: { step: [], loss: [] },
    roc: rocOf(r, id),
    truthRatios: truthRatiosOf(r, id),
    examples,
    trainableParameters: 0,
    timings: { seconds, peakRssMb: 0 },
  };
}

/**
 * Each unlearning run gets its own process, so the peak memory in its manifest is its own and a
 * crash in one run cannot take the study down with it.
 */
async function unlearnInChild(
  study: Study,
  run: PlannedRun,
  p: Prepared,
  out: string,
  base: string,
): Promise<Manifest> {
  const cli = fileURLToPath(new URL('../../bin/lethe.js', import.meta.url));
  const args = [
    cli,
    'unlearn',
    '--task',
    study.task,
    '--method',
    run.method,
    '--seed',
    String(run.seed),
    '--model',
    p.target,
    '--out',
    out,
  ];
  for (const [k, v] of Object.entries(run.args)) args.push('--arg', `${k}=${JSON.stringify(v)}`);
  if (study.dataDir) args.push('--data-dir', study.dataDir);
  args.push('--prepared', JSON.stringify({ key: p.key, oracle: p.oracle, target: p.target }));
  const code = await new Promise<number | null>((done) => {
    const child = spawn(process.execPath, args, { cwd: base, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (c) => done(c));
  });
  const manifest = readManifest(out);
  if (code !== 0 || !manifest) {
    throw new LetheError(`unlearning run ${run.id} failed (exit code ${code})`, {
      where: out,
      hint: `rerun it alone: node bin/lethe.js ${args.slice(1).join(' ')}`,
    });
  }
  return manifest;
}

export interface StudyResult {
  dir: string;
  summary: Summary;
}

export async function runStudy(
  study: Study,
  opts: { progress?: boolean; baseDir?: string } = {},
): Promise<StudyResult> {
  const base = opts.baseDir ?? process.cwd();
  const dir = resolve(base, study.out, study.name);
  const say = (m: string) => opts.progress !== false && process.stderr.write(`bench: ${m}\n`);
  await mkdir(join(dir, 'runs'), { recursive: true });
  const task = await resolveTask(study.task, study.dataDir);
  const plan = planRuns(study);
  say(`${study.name}: ${plan.length} runs of ${study.methods.length} methods on ${task.name}`);
  const suite = study.suites.length === 1 ? study.suites[0] : undefined;
  const metricNames = async () => {
    const { suiteMetrics } = await import('../eval/index.ts');
    return [...new Set([...study.suites.flatMap((s) => suiteMetrics(s)), ...study.metrics])];
  };
  const names = suite ? study.metrics : await metricNames();
  const rows: RunRow[] = [];
  let references: Summary['references'] | null = null;
  const resultsLines: string[] = [];
  for (const seed of study.seeds) {
    const p = await prepare({
      task,
      recipe: study.recipe,
      seed,
      cacheDir: resolve(base, study.cache),
      progress: opts.progress,
    });
    say(`seed ${seed}: target and oracle ${p.reused ? 'reused' : 'trained'} (${p.key})`);
    for (const planned of plan.filter((r) => r.seed === seed)) {
      const runDir = join(dir, 'runs', planned.id);
      // A searched entry runs (and is graded on) the setting its oracle-free search selected.
      const run = planned.search
        ? {
            ...planned,
            args: await searchedArgs({
              ...planned,
              spec: planned.search,
              runDir,
              targetDir: p.target,
              oracleDir: p.oracle,
              task,
              log: (m) => say(`search: ${m}`),
            }),
          }
        : planned;
      const resultsPath = join(runDir, 'results.json');
      let results: EvalResults | null = null;
      if (existsSync(resultsPath)) {
        try {
          results = readResults(resultsPath);
          say(`${run.id}: done earlier, reusing`);
        } catch {
          results = null; // torn or foreign file: redo the run
        }
      }
      let manifest: Manifest | null = readManifest(join(runDir, 'model'));
      if (!results) {
        if (!manifest) {
          say(`${run.id}: unlearning (${run.label})`);
          manifest = await unlearnInChild(study, run, p, join(runDir, 'model'), base);
        }
        say(`${run.id}: evaluating`);
        results = await evaluate({
          task,
          taskSpec: study.task,
          suite,
          metrics: names,
          model: { dir: join(runDir, 'model') },
          oracle: { dir: p.oracle },
          target: { dir: p.target },
          options: { seed, progress: false },
        });
        await writeResults(resultsPath, results);
      }
      manifest ??= readManifest(join(runDir, 'model'));
      const { metrics, notes } = leaderboardMetrics(results, 'unlearned');
      metrics.seconds = manifest?.timings.seconds ?? null;
      metrics.peakRssMb = manifest?.timings.peakRssMb ?? null;
      const method = getMethod(run.method);
      rows.push({
        id: run.id,
        method: run.method,
        kind: method.kind,
        label: run.label,
        args: run.args,
        seed,
        metrics,
        notes,
        curves: curvesOf(join(runDir, 'model')),
        roc: rocOf(results, 'unlearned'),
        truthRatios: truthRatiosOf(results, 'unlearned'),
        examples: await examplesOf(join(runDir, 'model'), task, study.examples),
        trainableParameters: manifest?.trainableParameters ?? 0,
        timings: { seconds: manifest?.timings.seconds ?? 0, peakRssMb: manifest?.timings.peakRssMb ?? 0 },
      });
      resultsLines.push(
        JSON.stringify({ id: run.id, method: run.method, args: run.args, seed, metrics, notes }),
      );
      if (!references) {
        references = {
          target: referenceRow(
            'target',
            results,
            await examplesOf(p.target, task, study.examples),
            seed,
            p.info.target.seconds,
          ),
          oracle: referenceRow(
            'oracle',
            results,
            await examplesOf(p.oracle, task, study.examples),
            seed,
            p.info.oracle.seconds,
          ),
        };
      }
    }
  }
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const summary: Summary = SummarySchema.parse({
    format: 'lethe-study/1',
    study: {
      name: study.name,
      task: { spec: study.task, name: task.name, hash: taskHash(task) },
      suites: study.suites,
      seeds: study.seeds,
      lethe: pkg.version,
      node: process.version,
      ...(study.description ? { description: study.description } : {}),
    },
    columns: LEADERBOARD,
    references: references!,
    runs: rows,
  });
  await writeFileAtomic(join(dir, 'results.jsonl'), `${resultsLines.join('\n')}\n`);
  await writeJsonAtomic(join(dir, 'summary.json'), summary);
  return { dir, summary };
}

export function readStudy(path: string): Study {
  const study = readConfigFile(StudySchema, path);
  if (study.methods.length === 0) throw new ConfigError('a study needs at least one method', { where: path });
  return study;
}
