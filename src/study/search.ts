/**
 * Tuning an unlearning method without the oracle. A real user has the forget set, a holdout set
 * from the same distribution and retain/utility data — never a model retrained without the forget
 * data — so the search chooses settings with those alone:
 *
 *  - a validation part of retain (whole subjects, seeded) is kept away from the method, which sees
 *    the task without it;
 *  - each setting is scored with cheap metrics (forward passes only, no generation): utility =
 *    the worse of (retain-validation answer probability ÷ the target's) and (the target's
 *    perplexity on general text ÷ this model's), and the LOSS membership AUC of forget vs holdout;
 *  - the rule: among settings whose utility is ≥ `utilityFloor` (default 95%) of the target's, the
 *    one whose AUC is closest to 0.5 (forget looks like never-seen data); when none qualifies, the
 *    one with the highest utility, flagged.
 *
 * Strategies: `grid` (every combination of listed values), `random` (`budget` settings drawn from
 * ranges or lists, seeded) and `halving` (successive halving: `budget` random settings at
 * `minSteps` steps, the best 1/eta go on with eta× the steps, until one is left). The full suites
 * and the oracle grade only the selected setting (src/study/study.ts). A study runs each search in
 * a child process (`runSearchJob`, started by study.ts), so it overlaps the study's other work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { taskHash } from '../data/index.ts';
import { resolveTask } from '../data/resolve-task.ts';
import type { Task } from '../data/task.ts';
import { ConfigError, LetheError } from '../errors.ts';
import { UNLEARN_LOG_FILE } from '../eval/manifest.ts';
import { EvalOptionsSchema } from '../eval/options.ts';
import { rocAuc } from '../eval/stats/auc.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { cloneModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { scoreInBlocks } from '../text/blocks.ts';
import { qaExample, splitExamples } from '../text/format.ts';
import { loadPretrained } from '../text/pretrained.ts';
import { scoreSequences } from '../text/score.ts';
import { applyPromptFormat } from '../text/template.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { planUnlearn, subjectOf, unlearn } from '../unlearn/runner.ts';
import { type RunIdentity, runKey } from './identity.ts';
import { writeUnlearnOutput } from './unlearn-job.ts';

const Range = z.strictObject({
  min: z.number(),
  max: z.number(),
  /** Draw uniformly in log space (learning rates, weights spanning decades). */
  log: z.boolean().default(false),
  /** Round to an integer (steps). */
  int: z.boolean().default(false),
});

export const SearchSpecSchema = z
  .strictObject({
    strategy: z.enum(['grid', 'random', 'halving']).default('grid'),
    /** Argument → list of values (any strategy) or a range (random and halving). */
    space: z.record(z.string(), z.union([z.array(z.unknown()).min(1), Range])),
    /** Settings drawn (random) or started (halving). */
    budget: z.number().int().positive().default(8),
    /** Halving: steps of the first rung, and the keep/grow factor between rungs. */
    minSteps: z.number().int().positive().default(5),
    eta: z.number().int().min(2).default(3),
    /** Share of the target's utility a setting must keep to be eligible. */
    utilityFloor: z.number().gt(0).max(1).default(0.95),
    /** Share of retain subjects held out as the validation part. */
    validation: z.number().gt(0).lt(1).default(0.2),
    seed: z.number().int().default(0),
  })
  .superRefine((s, ctx) => {
    for (const [key, v] of Object.entries(s.space)) {
      if (!Array.isArray(v) && s.strategy === 'grid') {
        ctx.addIssue({
          code: 'custom',
          path: ['space', key],
          message: 'a grid search needs a list of values',
        });
      }
      if (!Array.isArray(v) && !(v.min <= v.max && (!v.log || v.min > 0))) {
        ctx.addIssue({
          code: 'custom',
          path: ['space', key],
          message: 'a range needs min ≤ max (and min > 0 in log space)',
        });
      }
    }
  });
export type SearchSpec = z.infer<typeof SearchSpecSchema>;

/** The settings a search tries first (for halving: the first rung), seeded. */
export function candidateSettings(spec: SearchSpec): Record<string, unknown>[] {
  const entries = Object.entries(spec.space);
  if (spec.strategy === 'grid') {
    let combos: Record<string, unknown>[] = [{}];
    for (const [key, values] of entries)
      combos = combos.flatMap((c) => (values as unknown[]).map((v) => ({ ...c, [key]: v })));
    return combos;
  }
  const rng = new Rng(spec.seed + 4099);
  return Array.from({ length: spec.budget }, () =>
    Object.fromEntries(
      entries.map(([key, v]) => {
        if (Array.isArray(v)) return [key, v[rng.int(0, v.length)]];
        const u = rng.uniform();
        let x = v.log
          ? Math.exp(Math.log(v.min) + u * (Math.log(v.max) - Math.log(v.min)))
          : v.min + u * (v.max - v.min);
        x = v.int ? Math.round(x) : Number(x.toPrecision(3));
        return [key, x];
      }),
    ),
  );
}

/** The task the method sees during the search (retain without its validation part) and that part. */
export function validationSplit(
  task: Task,
  share: number,
  seed: number,
): { task: Task; validation: Task['splits']['retain']['qa'] } {
  const subjects = [...new Set(task.splits.retain.qa.map((q) => subjectOf(q.id)))];
  const held = new Set(
    new Rng(seed + 8191).shuffle(subjects).slice(0, Math.max(1, Math.round(share * subjects.length))),
  );
  const inVal = (id: string) => held.has(subjectOf(id));
  const validation = task.splits.retain.qa.filter((q) => inVal(q.id));
  if (validation.length === 0 || validation.length === task.splits.retain.qa.length) {
    throw new ConfigError('search: the retain QA cannot be split into a validation part and the rest', {
      where: `task ${task.name}`,
      found: `${task.splits.retain.qa.length} retain QA items`,
    });
  }
  const retain = {
    ...task.splits.retain,
    qa: task.splits.retain.qa.filter((q) => !inVal(q.id)),
    text: task.splits.retain.text.filter((t) => !inVal(t.id)),
  };
  return { task: { ...task, splits: { ...task.splits, retain } }, validation };
}

export interface CheapMetrics {
  /** Mean answer probability exp(−ℓ̄) on the retain validation QA. */
  retainProb: number;
  /** Perplexity on the task's general text (eval.text.utility), NaN when it has none. */
  perplexity: number;
  /** LOSS membership AUC, forget vs holdout (0.5 = indistinguishable). */
  miaAuc: number;
}

const meanNlls = (model: CausalLM, ex: readonly Example[]) =>
  scoreInBlocks(ex, model.maxPositions, (spans) => scoreSequences(model, spans)).map((s) =>
    s.tokens > 0 ? s.nll / s.tokens : Number.NaN,
  );

/** The split part membership is measured on: the task's format where forget and holdout have it. */
function miaExamples(tok: Tokenizer, task: Task, split: 'forget' | 'holdout', maxLen: number): Example[] {
  const parts = ['qa', 'text', 'tokens'] as const;
  const has = (p: (typeof parts)[number]) =>
    task.splits.forget[p].length > 0 && task.splits.holdout[p].length > 0;
  const part = has(task.format as (typeof parts)[number]) ? task.format : parts.find(has);
  if (!part)
    throw new ConfigError('search: forget and holdout share no item kind to compare', { where: task.name });
  const s = task.splits[split];
  const only = { qa: [], text: [], tokens: [], [part]: s[part as 'qa'] };
  return splitExamples(tok, { ...s, ...only } as typeof s, maxLen, { warn: () => {} });
}

export function cheapMetrics(
  model: CausalLM,
  tok: Tokenizer,
  task: Task,
  validation: Task['splits']['retain']['qa'],
): CheapMetrics {
  const L = model.maxPositions;
  const probs = meanNlls(
    model,
    validation.map((q) => qaExample(tok, q.question, q.answer)),
  ).map((n) => Math.exp(-n));
  const general = task.eval.text.utility ?? [];
  let perplexity = Number.NaN;
  if (general.length > 0) {
    const ex = splitExamples(tok, { qa: [], text: general, tokens: [] }, L);
    const s = scoreSequences(model, ex);
    perplexity = Math.exp(s.reduce((a, r) => a + r.nll, 0) / s.reduce((a, r) => a + r.tokens, 0));
  }
  const f = meanNlls(model, miaExamples(tok, task, 'forget', L));
  const h = meanNlls(model, miaExamples(tok, task, 'holdout', L));
  // Members have the lower loss: score = −loss, so AUC > 0.5 means forget still looks trained.
  const miaAuc = rocAuc(
    f.map((x) => -x),
    h.map((x) => -x),
  );
  return { retainProb: probs.reduce((a, b) => a + b, 0) / probs.length, perplexity, miaAuc };
}

/** Utility as a share of the target's: the worse of retain probability and general perplexity. */
export function utilityShare(m: CheapMetrics, target: CheapMetrics): number {
  const prob = m.retainProb / target.retainProb;
  const ppl =
    Number.isFinite(m.perplexity) && Number.isFinite(target.perplexity)
      ? target.perplexity / m.perplexity
      : Infinity;
  return Math.min(prob, ppl);
}

export interface Trial {
  args: Record<string, unknown>;
  rung: number;
  metrics: CheapMetrics;
  utility: number;
  eligible: boolean;
  seconds: number;
  /** The oracle's grade of this trial (forget quality), recorded after the fact for the report; never used to choose. */
  oracleGrade?: number | null;
}

export interface SearchResult {
  spec: SearchSpec;
  target: CheapMetrics;
  trials: Trial[];
  /** The selected trial's arguments (merged with the entry's fixed arguments). */
  chosen: Record<string, unknown>;
  chosenIndex: number;
  /** False when no setting kept the utility floor (the most useful one was taken). */
  eligible: boolean;
  validationItems: number;
  /**
   * With a grader: the trial the oracle would have chosen (best grade among the finalists that keep
   * the utility floor) and the gap between its grade and the selected trial's.
   */
  oracleChoice?: { index: number; gap: number | null };
}

/** The metric the oracle grades each trial with, for the report's comparison only. */
export const ORACLE_GRADE_METRIC = 'tofu.forgetQuality';

/** The rule's order: eligible before not; then AUC closest to 0.5, else the higher utility. */
export function ruleOrder(a: Trial, b: Trial): number {
  if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
  if (a.eligible) return Math.abs(a.metrics.miaAuc - 0.5) - Math.abs(b.metrics.miaAuc - 0.5);
  return b.utility - a.utility;
}

export interface SearchOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  task: Task;
  method: string;
  /** The entry's fixed arguments (a setting's values override them). */
  args: Record<string, unknown>;
  spec: SearchSpec;
  seed: number;
  log?: (message: string) => void;
  /**
   * Grades a trial's model with the oracle (higher is better), for the report only: it runs after
   * the trial's cheap metrics and its value never enters the rule.
   */
  grade?: (model: CausalLM) => Promise<number | null>;
  /** When given, every trial's model is written as a complete unlearning output (see KeptTrials). */
  keep?: KeptTrials;
}

/**
 * Where a search writes its trials' models: `<dir>/<trial index>`, each a complete unlearning
 * output (model, step log, manifest last) trained on the task the search saw. A study adopts its
 * chosen trial as the run instead of training the same setting again (study.ts).
 */
export interface KeptTrials {
  dir: string;
  /** The model folder the search unlearns from (the manifest's source). */
  source: string;
  /** How the task was named (the manifest's spec). */
  taskSpec: string;
  /** The manifest's extra facts for a trial with these resolved arguments (a study's run key). */
  extra: (args: Record<string, unknown>) => Record<string, unknown>;
}

/** The folder of trial `index`'s model when the trials are kept. */
export const trialDir = (dir: string, index: number): string => join(dir, String(index));

/** Run a search on copies of `model` and return every trial and the selected setting. */
export async function searchMethod(o: SearchOptions): Promise<SearchResult> {
  const spec = o.spec;
  const log = o.log ?? (() => {});
  const { task: seen, validation } = validationSplit(o.task, spec.validation, spec.seed);
  const target = cheapMetrics(o.model, o.tokenizer, o.task, validation);
  let pool = candidateSettings(spec);
  // Every setting must be valid before anything trains.
  for (const s of pool) planUnlearn(o.method, seen, { ...o.args, ...s });
  const trials: Trial[] = [];
  const keep = o.keep;
  if (keep) await rm(keep.dir, { recursive: true, force: true });
  const tryOne = async (setting: Record<string, unknown>, rung: number): Promise<Trial> => {
    const t0 = performance.now();
    const model = cloneModel(o.model);
    const args = { ...o.args, ...setting };
    const out = keep ? trialDir(keep.dir, trials.length) : null;
    if (out) await mkdir(out, { recursive: true });
    const result = await unlearn({
      model,
      tokenizer: o.tokenizer,
      task: seen,
      method: o.method,
      args,
      seed: o.seed,
      progress: false,
      ...(out ? { logFile: join(out, UNLEARN_LOG_FILE) } : {}),
    });
    if (keep && out) {
      await writeUnlearnOutput({
        out,
        model,
        tokenizer: o.tokenizer,
        result,
        task: seen,
        taskSpec: keep.taskSpec,
        seed: o.seed,
        source: keep.source,
        started: t0,
        extra: keep.extra(result.args),
      });
    }
    const metrics = cheapMetrics(model, o.tokenizer, o.task, validation);
    const utility = utilityShare(metrics, target);
    const trial: Trial = {
      args,
      rung,
      metrics,
      utility,
      eligible: utility >= spec.utilityFloor,
      seconds: (performance.now() - t0) / 1000,
    };
    if (o.grade) trial.oracleGrade = await o.grade(model);
    log(
      `${o.method} ${JSON.stringify(setting)}: utility ${(100 * utility).toFixed(1)}%, MIA AUC ${metrics.miaAuc.toFixed(3)}`,
    );
    trials.push(trial);
    return trial;
  };
  if (spec.strategy !== 'halving') {
    for (const s of pool) await tryOne(s, 0);
  } else {
    let steps = spec.minSteps;
    for (let rung = 0; ; rung++) {
      const results = [];
      for (const s of pool) results.push(await tryOne({ ...s, steps }, rung));
      if (pool.length <= 1) break;
      const keep = Math.max(1, Math.floor(pool.length / spec.eta));
      const order = results.map((r, i) => [r, i] as const).sort(([a], [b]) => ruleOrder(a, b));
      pool = order.slice(0, keep).map(([, i]) => pool[i]);
      steps *= spec.eta;
    }
  }
  // Halving picks among its last rung (the settings trained longest); grid and random among all.
  const lastRung = Math.max(...trials.map((t) => t.rung));
  const finalists = trials.map((t, i) => [t, i] as const).filter(([t]) => t.rung === lastRung);
  const [best, chosenIndex] = finalists.sort(([a], [b]) => ruleOrder(a, b))[0];
  if (!best.eligible)
    log(
      `no setting kept ${(100 * spec.utilityFloor).toFixed(0)}% of the target's utility; taking the most useful`,
    );
  const result: SearchResult = {
    spec,
    target,
    trials,
    chosen: best.args,
    chosenIndex,
    eligible: best.eligible,
    validationItems: validation.length,
  };
  if (o.grade) {
    const graded = finalists.filter(
      ([t]) => typeof t.oracleGrade === 'number' && (t.eligible || !best.eligible),
    );
    if (graded.length > 0) {
      const [top, index] = graded.reduce((a, b) =>
        (b[0].oracleGrade as number) > (a[0].oracleGrade as number) ? b : a,
      );
      const mine = best.oracleGrade;
      result.oracleChoice = {
        index,
        gap: typeof mine === 'number' ? (top.oracleGrade as number) - mine : null,
      };
    }
  }
  return result;
}

/**
 * The searched arguments of a study run, from `<runDir>/search.json` when an earlier search of the
 * same spec left one, else by searching on the target in `targetDir` (the trials are written
 * there for the report). The oracle, when given, only grades the trials afterwards for the report
 * (what it would have chosen, and the gap); the choice never depends on it.
 */
export async function searchedArgs(o: {
  runDir: string;
  targetDir: string;
  task: Task;
  method: string;
  args: Record<string, unknown>;
  spec: SearchSpec;
  seed: number;
  log: (message: string) => void;
  /** When given, each trial is also graded by the oracle's forget quality — recorded, never used to choose. */
  oracleDir?: string;
  keep?: KeptTrials;
}): Promise<Record<string, unknown>> {
  const path = join(o.runDir, 'search.json');
  if (existsSync(path)) {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as SearchResult;
    return saved.chosen;
  }
  const { model, tokenizer } = await loadPretrained(o.targetDir);
  const oracleDir = o.oracleDir;
  // The oracle is loaded once and kept, so its scoring (the same items for every trial) is shared.
  let oracle: import('../eval/index.ts').ModelEval | null = null;
  const grade = oracleDir
    ? async (m: CausalLM) => {
        const { evaluate, ModelEval } = await import('../eval/index.ts');
        const options = { seed: o.seed, progress: false };
        if (!oracle) {
          const loaded = await loadPretrained(oracleDir);
          oracle = new ModelEval({
            label: 'oracle',
            model: loaded.model,
            tokenizer: loaded.tokenizer,
            transform: null,
            manifest: null,
            dir: oracleDir,
            options: EvalOptionsSchema.parse(options),
          });
        }
        const r = await evaluate({
          task: o.task,
          metrics: [ORACLE_GRADE_METRIC],
          model: { model: m, tokenizer },
          oracle: { evaluator: oracle },
          options,
        });
        const v = r.metrics[ORACLE_GRADE_METRIC]?.unlearned;
        return v && 'value' in v ? v.value : null;
      }
    : undefined;
  const r = await searchMethod({
    model,
    tokenizer,
    task: o.task,
    method: o.method,
    args: o.args,
    spec: o.spec,
    seed: o.seed,
    log: o.log,
    grade,
    ...(o.keep ? { keep: o.keep } : {}),
  });
  await mkdir(o.runDir, { recursive: true });
  await writeJsonAtomic(path, r, { indent: 2 });
  return r.chosen;
}

/** What a search child is asked to do (child-main.ts): `searchedArgs` of one study run. */
export interface SearchJob {
  kind: 'search';
  runDir: string;
  targetDir: string;
  oracleDir?: string;
  /** The study's task spec and data folder (resolved in the child, from the study's folder). */
  taskSpec: string;
  dataDir?: string;
  /** The hash the resolved task must have: the parent's. */
  taskHash: string;
  method: string;
  args: Record<string, unknown>;
  spec: SearchSpec;
  seed: number;
  /**
   * Keep every trial's model in `<runDir>/trials` for the study to adopt the chosen one: what its
   * manifest records (as `lethe unlearn --prepared` would), and the run identity but for the
   * method's arguments, from which each trial's run key is computed.
   */
  keep?: { prepared: Record<string, unknown>; identity: Omit<RunIdentity, 'method' | 'args'> };
}

/** The folder of a study run's kept trials. */
export const TRIALS_DIR = 'trials';

/** A search child's work: the search, its trials written to `<runDir>/search.json`. */
export async function runSearchJob(job: SearchJob): Promise<void> {
  const task = await resolveTask(job.taskSpec, job.dataDir);
  if (taskHash(task) !== job.taskHash) {
    throw new LetheError("the task a search child resolved differs from its parent's", {
      where: job.taskSpec,
      found: `task hash ${taskHash(task)}`,
      expected: `task hash ${job.taskHash}`,
    });
  }
  // Asked as `lethe unlearn` asks, so a kept trial is the model that command would write.
  applyPromptFormat({ qaTemplate: task.prompt?.qa, modelDir: job.targetDir });
  const kept = job.keep;
  await searchedArgs({
    ...(kept
      ? {
          keep: {
            dir: join(job.runDir, TRIALS_DIR),
            source: job.targetDir,
            taskSpec: job.taskSpec,
            extra: (args) => ({
              ...kept.prepared,
              runKey: runKey({ ...kept.identity, method: job.method, args }),
            }),
          },
        }
      : {}),
    runDir: job.runDir,
    targetDir: job.targetDir,
    oracleDir: job.oracleDir,
    task,
    method: job.method,
    args: job.args,
    spec: job.spec,
    seed: job.seed,
    log: (m) => process.stderr.write(`search: ${m}\n`),
  });
}
