/**
 * The evaluation runner: load the model (and, when given, the oracle and the target), run a
 * suite's metrics on each, and assemble the results — per-item values and aggregates side by
 * side, the closeness-to-oracle summary, notes, and timings kept apart.
 *
 * Promises: each model's work is shared between metrics (ModelEval caches), and the oracle's cache
 * is the one every model's oracle-relative metrics read; results (everything but `timings`) are
 * byte-identical across runs with the same inputs, options (seed) and thread count; a metric the
 * data cannot feed is recorded as skipped with its reason, one that throws as failed — the run
 * itself goes on. Input transforms found in a model folder are applied to all its prompts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { backend } from '../backend/index.ts';
import { type Task, taskHash } from '../data/task.ts';
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { loadPretrained } from '../text/pretrained.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { transformToJson } from '../unlearn/prompted.ts';
import type { InputTransform } from '../unlearn/types.ts';
import { readModelTransform, readUnlearnManifest, type UnlearnManifest } from './manifest.ts';
import { getMetric, isDerived, metricInputs, metricNames, robustnessMetricNames } from './metrics/index.ts';
import { ModelEval } from './model-eval.ts';
import { type EvalOptions, type EvalOptionsInput, EvalOptionsSchema } from './options.ts';
import { evalProgress } from './progress.ts';
import {
  type EvalResults,
  type MetricEntry,
  type ModelInfo,
  RESULTS_FORMAT,
  writeResults,
} from './results.ts';
import { runMetric } from './run-metric.ts';
import { suiteMetrics } from './suites.ts';
import type { ModelRole } from './types.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** A model to evaluate: a folder to load, or a model already in memory. */
export type ModelSource =
  | { dir: string }
  | {
      model: CausalLM;
      tokenizer: Tokenizer;
      transform?: InputTransform | null;
      manifest?: UnlearnManifest | null;
      dir?: string | null;
    }
  /** A model already loaded for evaluation; its caches are kept (a study passes one oracle to every run). */
  | { evaluator: ModelEval };

/** A role's results computed earlier for the same models, task, metrics and options (a study's cache). */
export interface ReusedRole {
  info: ModelInfo;
  metrics: Record<string, MetricEntry['unlearned']>;
}

export interface EvaluateRequest {
  task: Task;
  /** How the task was named (recorded; defaults to its name). */
  taskSpec?: string;
  /** A suite name (tofu, muse, privacy, extraction, mcq, utility, efficiency, robustness, all). */
  suite?: string;
  /** Explicit metric names instead of (or, with a suite, after) the suite's. */
  metrics?: string[];
  model: ModelSource;
  oracle?: ModelSource | null;
  target?: ModelSource | null;
  options?: EvalOptionsInput;
  /**
   * Oracle or target results to reuse instead of running that role's metrics again. A reused
   * target need not be given at all; a reused oracle is still loaded when given, since the other
   * models' oracle-relative metrics read it.
   */
  reuse?: Partial<Record<'oracle' | 'target', ReusedRole>>;
}

const EVAL_FLOPS_FORMULA = '2·N·forwardTokens + 6·N·backwardTokens';

/**
 * The oracle and target named by an unlearned folder's manifest: extra.oracle, and extra.target
 * or else `source` (the model it was unlearned from). Relative paths are taken from the current
 * folder when they exist there, else from the model folder.
 */
export function companionsFromManifest(dir: string): { oracle?: string; target?: string } {
  const m = readUnlearnManifest(dir);
  if (!m) return {};
  const place = (p: unknown): string | undefined => {
    if (typeof p !== 'string' || p === '') return undefined;
    if (isAbsolute(p) || existsSync(p)) return resolve(p);
    return resolve(dir, p);
  };
  const out: { oracle?: string; target?: string } = {};
  const oracle = place(m.extra.oracle);
  const target = place(m.extra.target) ?? place(m.source);
  if (oracle) out.oracle = oracle;
  if (target) out.target = target;
  return out;
}

async function load(src: ModelSource, label: string, options: EvalOptions): Promise<ModelEval> {
  if ('evaluator' in src) return src.evaluator;
  if ('model' in src) {
    return new ModelEval({ label, options, ...src });
  }
  if (!existsSync(src.dir)) {
    throw new ConfigError(`model folder not found: ${src.dir}`, { where: label });
  }
  const { model, tokenizer } = await loadPretrained(src.dir);
  const manifest = readUnlearnManifest(src.dir);
  const transform = readModelTransform(src.dir, manifest);
  return new ModelEval({ label, model, tokenizer, transform, manifest, dir: src.dir, options });
}

/**
 * Warnings about the model that change what its numbers mean, beside the fitted-input counts: an
 * icul transform that the context length forced to fewer correct examples than asked.
 */
export function transformWarnings(transform: InputTransform | null): Record<string, number> {
  if (!transform) return {};
  const spec = transformToJson(transform);
  if (spec.kind === 'icul' && spec.retainShots < spec.shots - 1) {
    return {
      [`icul: context length allows ${spec.retainShots} of ${spec.shots - 1} correct examples per query (the rest were dropped)`]: 1,
    };
  }
  return {};
}

function modelInfo(me: ModelEval): ModelInfo {
  const n = me.model.numParameters();
  return {
    dir: me.dir,
    transform: me.transform?.kind ?? null,
    method: me.manifest?.method ?? null,
    parameters: n,
    warnings: { ...transformWarnings(me.transform), ...me.warnings() },
    cost: {
      forwardTokens: me.forwardTokens,
      backwardTokens: me.backwardTokens,
      generatedTokens: me.generatedTokens,
      flops: 2 * n * me.forwardTokens + 6 * n * me.backwardTokens,
      formula: EVAL_FLOPS_FORMULA,
    },
  };
}

/** The metric names a request asks for (suite first, then explicit names), without repeats. */
export function requestedMetrics(req: Pick<EvaluateRequest, 'suite' | 'metrics'>): string[] {
  if (req.suite === undefined && (req.metrics === undefined || req.metrics.length === 0)) {
    throw new ConfigError('nothing to evaluate', { hint: 'name a suite (e.g. tofu) or metrics' });
  }
  const out: string[] = [];
  // A derived metric's inputs go in before it (added when not asked for), so it can read them.
  const add = (n: string, path: readonly string[]) => {
    if (out.includes(n)) return;
    if (path.includes(n))
      throw new ConfigError(`metric ${n} depends on itself (${[...path, n].join(' → ')})`);
    for (const input of metricInputs(getMetric(n))) if (input !== '*') add(input, [...path, n]);
    out.push(n);
  };
  for (const n of [...(req.suite ? suiteMetrics(req.suite) : []), ...(req.metrics ?? [])]) add(n, []);
  return out;
}

/** Metrics that score with vocabulary statistics (Min-K%++ moments). */
const STATS_METRICS = ['mia.minKpp'];

/** The metric that gives results.closeness. */
const CLOSENESS_METRIC = 'closeness.gapLeft';

/**
 * The metric list with every registered derived metric appended whose inputs were all asked for
 * and whose oracle/target requirements the given models meet: a derived number (relearn recovery,
 * closeness) is computed once, by its registered metric, and stored with the others.
 */
export function withDerived(
  names: readonly string[],
  models: { oracle: boolean; target: boolean },
): string[] {
  const out = [...names];
  for (const name of metricNames()) {
    const m = getMetric(name);
    if (!isDerived(m) || out.includes(name)) continue;
    const inputs = metricInputs(m);
    const fed = inputs.every((i) =>
      i === '*' ? out.some((n) => !isDerived(getMetric(n))) : out.includes(i),
    );
    const req = m.requires ?? [];
    if (fed && (models.oracle || !req.includes('oracle')) && (models.target || !req.includes('target')))
      out.push(name);
  }
  return out;
}

/** Run the evaluation and return the results (nothing is written). */
export async function evaluate(req: EvaluateRequest): Promise<EvalResults> {
  const started = performance.now();
  const options = EvalOptionsSchema.parse(req.options ?? {});
  const asked = requestedMetrics(req);
  const say = (m: string) => options.progress && process.stderr.write(`eval: ${m}\n`);
  const notes: string[] = [];
  const timings: EvalResults['timings'] = { seconds: 0, models: {} };

  const loaded: Partial<Record<ModelRole, ModelEval>> = {};
  const sources: [ModelRole, ModelSource | null | undefined][] = [
    ['unlearned', req.model],
    ['oracle', req.oracle],
    ['target', req.target],
  ];
  for (const [role, src] of sources) {
    if (!src) continue;
    const t0 = performance.now();
    // The same folder (or in-memory model) in two roles is loaded once and shares its caches.
    const same = (Object.entries(loaded) as [ModelRole, ModelEval][]).find(([, me]) =>
      'evaluator' in src
        ? me === src.evaluator
        : 'model' in src
          ? me.model === src.model
          : me.dir !== null && resolve(me.dir) === resolve(src.dir),
    );
    if (same) {
      notes.push(`the ${role} model is the ${same[0]} model (${same[1].dir ?? 'in memory'})`);
      loaded[role] = same[1];
    } else {
      if (!('evaluator' in src))
        say(`loading the ${role} model${'dir' in src && src.dir ? ` from ${src.dir}` : ''}`);
      loaded[role] = await load(src, role === 'unlearned' ? 'model' : role, options);
    }
    timings.models[role] = { loadSeconds: (performance.now() - t0) / 1000, metrics: {} };
  }
  const oracle = loaded.oracle ?? null;
  if (!oracle) notes.push('no oracle given: metrics that need it are skipped and closeness is not computed');
  // A reused target counts: derived metrics read its results, not the model.
  const names = withDerived(asked, {
    oracle: oracle !== null,
    target: loaded.target !== undefined || req.reuse?.target !== undefined,
  });
  const hash = taskHash(req.task);
  for (const [role, me] of Object.entries(loaded)) {
    const h = me.manifest?.task?.hash;
    if (h && h !== hash) {
      notes.push(
        `the ${role} model's manifest names task hash ${h.slice(0, 12)}…, not this task's ${hash.slice(0, 12)}…`,
      );
    }
  }
  const wantsRobustness = req.suite === 'robustness' || req.suite === 'all';
  if (wantsRobustness && robustnessMetricNames().length === 0) {
    notes.push(
      'no robustness checks are registered (src/eval/metrics/catalog.ts registers those of src/eval/robustness/checks.ts)',
    );
  }

  const metrics: Record<string, MetricEntry> = {};
  for (const name of names) {
    const m = getMetric(name);
    metrics[name] = {
      label: m.label,
      direction: m.direction,
      format: m.format,
      summary: m.summary,
      unlearned: { skipped: 'not run' },
    };
  }
  for (const [role, reused] of Object.entries(req.reuse ?? {}) as ['oracle' | 'target', ReusedRole][]) {
    for (const name of names)
      metrics[name][role] = reused.metrics[name] ?? { skipped: 'not in the reused results' };
  }
  // A reused role keeps its results; it is still loaded when given (oracle-relative metrics read it).
  const roles = (Object.entries(loaded) as [ModelRole, ModelEval][]).filter(
    ([role]) => role === 'unlearned' || !req.reuse?.[role],
  );
  // One scoring pass per sequence: with Min-K%++ in the evaluation every score carries the
  // vocabulary statistics it needs, so no sequence is scored twice.
  if (names.some((n) => STATS_METRICS.includes(n))) for (const [, me] of roles) me.statsByDefault = true;
  const results = (name: string, role: ModelRole) => metrics[name]?.[role];
  const ctxOf = (role: ModelRole, me: ModelEval) => ({
    task: req.task,
    role,
    model: me,
    oracle: role === 'oracle' ? me : oracle,
    target: loaded.target ?? null,
    targetResults: loaded.target !== undefined || req.reuse?.target !== undefined,
    options,
    log: (msg: string) => me.log(msg),
    results,
    names,
    metric: getMetric,
  });
  // Ordinary metrics model by model (each model's caches stay warm), then the derived ones, which
  // read every model's results.
  const base = names.filter((n) => !isDerived(getMetric(n)));
  const derived = names.filter((n) => isDerived(getMetric(n)));
  const progress = evalProgress(options.progress, roles.length * names.length);
  const run = async (role: ModelRole, me: ModelEval, name: string) => {
    progress.tick(`${role} ${name}`);
    const { result, seconds } = await runMetric(getMetric(name), ctxOf(role, me));
    metrics[name][role] = result;
    timings.models[role]!.metrics[name] = seconds;
  };
  try {
    for (const [role, me] of roles) for (const name of base) await run(role, me, name);
    for (const name of derived) for (const [role, me] of roles) await run(role, me, name);
  } finally {
    progress.stop();
  }

  // results.closeness is the closeness metric's result for the unlearned model, in its own field.
  let close: EvalResults['closeness'];
  const hasTarget = loaded.target !== undefined || req.reuse?.target !== undefined;
  if (!oracle || !hasTarget) {
    close = {
      skipped: `needs both the oracle and the target (missing: ${[!oracle && 'oracle', !hasTarget && 'target'].filter(Boolean).join(', ')})`,
    };
  } else {
    const r = metrics[CLOSENESS_METRIC].unlearned;
    if ('value' in r) {
      const x = r.extra as unknown as Omit<Extract<EvalResults['closeness'], { mean: unknown }>, 'mean'>;
      close = {
        definition: x.definition,
        mean: r.value,
        median: x.median,
        included: x.included,
        considered: x.considered,
        metrics: x.metrics,
      };
    } else close = { skipped: 'skipped' in r ? r.skipped : r.failed };
  }

  const { progress: _progress, ...recorded } = options;
  const models = Object.fromEntries(
    (Object.entries(loaded) as [ModelRole, ModelEval][]).map(([role, me]) => [role, modelInfo(me)]),
  ) as EvalResults['models'];
  for (const [role, reused] of Object.entries(req.reuse ?? {}) as ['oracle' | 'target', ReusedRole][]) {
    models[role] = reused.info;
  }
  timings.seconds = (performance.now() - started) / 1000;
  return {
    format: RESULTS_FORMAT,
    lethe: pkg.version,
    environment: { backend: backend.name, threads: backend.getThreads() },
    task: { spec: req.taskSpec ?? req.task.name, name: req.task.name, hash },
    suite: req.suite ?? 'custom',
    metricNames: names,
    options: recorded,
    models,
    metrics,
    closeness: close,
    notes,
    timings,
  };
}

/** Evaluate and write the results file atomically. */
export async function runEval(req: EvaluateRequest & { out: string }): Promise<EvalResults> {
  const results = await evaluate(req);
  await writeResults(req.out, results);
  return results;
}
