/**
 * `lethe bench --config study.json`: a whole unlearning study. For each seed it prepares (or
 * reuses) the target and the oracle, runs every method × hyper-parameter combination of the grid,
 * evaluates each run with the chosen suites against the oracle and the target, and writes
 * runs/<study>/ — one folder per run (model, manifest.json, results.json), results.jsonl,
 * summary.json (the CLI renders the report from it with src/report).
 *
 * The whole study is checked before any work (study-config.ts). Work is keyed by everything
 * that changes its result (identity.ts): an unlearned model by the task data, the target's model
 * hash, the method, its resolved arguments, the seed and the code version (recorded in its
 * manifest); a run's results by that, the oracle's and target's hashes, the metric names and the
 * evaluation options (evaluation.json beside results.json). Change any and the affected work is
 * redone — only the evaluation when only the metrics changed. The target and oracle are evaluated
 * once per study (reference-eval.ts, cached on disk) and every run reuses that; the oracle stays
 * loaded so its scoring is shared by every run's oracle-relative metrics.
 *
 * Resumable: a run killed midway has no manifest or no evaluation.json and is redone from the
 * start, which gives the same bytes as an uninterrupted run. Every output path stays inside the
 * study folder.
 *
 * Concurrent (`jobs`, docs/study.md): the target and oracle train at once in two children; runs
 * search, unlearn and are graded in children, several at once (slots.ts), unlearning children
 * with the cores shared out as threads. No result depends on `jobs`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backend } from '../backend/index.ts';
import { taskHash } from '../data/index.ts';
import { ConfigError, LetheError } from '../errors.ts';
import { type EvalResults, evaluate, ModelEval, readResults, writeResults } from '../eval/index.ts';
import { readModelTransform, readUnlearnManifest } from '../eval/manifest.ts';
import { EvalOptionsSchema } from '../eval/options.ts';
import type { ReusedRole } from '../eval/runner.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { loadPretrained } from '../text/pretrained.ts';
import { getMethod } from '../unlearn/registry.ts';
import { resolveArgs } from '../unlearn/runner.ts';
import { adoptTrial } from './adopt-trial.ts';
import { childMainArgs, spawnTied, type TiedOptions } from './child.ts';
import type { EvalJob } from './eval-job.ts';
import { codeVersion, type EvalIdentity, evalKey, LETHE_VERSION, runKey } from './identity.ts';
import { type Prepared, prepare, preparedHashes } from './prepare.ts';
import { type ReferenceRole, readReferenceEval, writeReferenceEval } from './reference-eval.ts';
import { costVsOracle, readRunSearch, runTrainingFlops } from './run-extras.ts';
import {
  curvesOf,
  examplesOf,
  leaderboardMetrics,
  referenceRow,
  rocOf,
  truthRatiosOf,
  warningsOf,
} from './run-row.ts';
import { type SearchJob, type SearchResult, type SearchSpec, TRIALS_DIR, validationSplit } from './search.ts';
import { Slots } from './slots.ts';
import { type CheckedStudy, checkStudy, inside, type PlannedRun, type Study } from './study-config.ts';
import {
  LEADERBOARD,
  type ReferenceSet,
  type RunRow,
  type Summary,
  SummarySchema,
  type WallTime,
} from './study-schema.ts';
import { type Manifest, readManifest } from './unlearn-job.ts';

export {
  type CheckedStudy,
  checkStudy,
  type PlannedRun,
  planRuns,
  readStudy,
  type Study,
  StudySchema,
} from './study-config.ts';

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
  key: string,
  tied: TiedOptions,
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
    '--force', // the run folder is the study's own: it has decided to unlearn into it again
  ];
  for (const [k, v] of Object.entries(run.args)) args.push('--arg', `${k}=${JSON.stringify(v)}`);
  if (study.dataDir) args.push('--data-dir', study.dataDir);
  args.push('--prepared', JSON.stringify({ key: p.key, oracle: p.oracle, target: p.target, runKey: key }));
  const code = await spawnTied(args, base, tied);
  const manifest = readManifest(out);
  if (code !== 0 || !manifest || manifest.extra.runKey !== key) {
    throw new LetheError(`unlearning run ${run.id} failed (exit code ${code})`, {
      where: out,
      hint: `rerun it alone: node bin/lethe.js ${args.slice(1).join(' ')}`,
    });
  }
  return manifest;
}

/** Where a study's evaluation of a run records what it was computed from (written after results.json). */
const EVALUATION_FILE = 'evaluation.json';

interface Evaluation {
  key: string;
  identity: EvalIdentity;
  gradedAgainst: ReferenceSet;
}

function readEvaluation(runDir: string): Evaluation | null {
  try {
    return JSON.parse(readFileSync(join(runDir, EVALUATION_FILE), 'utf8')) as Evaluation;
  } catch {
    return null;
  }
}

type Phase = 'training' | 'unlearning' | 'evaluation';

/**
 * Where this invocation's wall time went. With jobs > 1 the phases overlap, so each phase has two
 * numbers: its wall time (the time during which at least one of its tasks ran: the union of their
 * intervals) and its busy time (the sum of its tasks' durations, so two runs unlearning at once
 * for 60 s count 120 s). With jobs = 1 nothing overlaps and both equal the old sequential split.
 */
class PhaseClock {
  private readonly intervals: Record<Phase, [number, number][]> = {
    training: [],
    unlearning: [],
    evaluation: [],
  };
  private readonly started = performance.now();
  async time<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.intervals[phase].push([t0, performance.now()]);
    }
  }
  private union(phase: Phase): number {
    const spans = [...this.intervals[phase]].sort((a, b) => a[0] - b[0]);
    let total = 0;
    let end = -Infinity;
    for (const [a, b] of spans) {
      if (b > end) total += b - Math.max(a, end);
      end = Math.max(end, b);
    }
    return total / 1000;
  }
  private busy(phase: Phase): number {
    return this.intervals[phase].reduce((n, [a, b]) => n + (b - a), 0) / 1000;
  }
  wallTime(jobs: number, threads: number): WallTime {
    const r = (x: number) => Number(x.toFixed(3));
    const phases = ['training', 'unlearning', 'evaluation'] as const;
    return {
      training: r(this.union('training')),
      unlearning: r(this.union('unlearning')),
      evaluation: r(this.union('evaluation')),
      total: r((performance.now() - this.started) / 1000),
      busy: Object.fromEntries(phases.map((p) => [p, r(this.busy(p))])) as WallTime['busy'],
      jobs,
      threads,
    };
  }
}

/** The default `jobs`: one per core, at most 8 (each process also holds a model and its data). */
export const defaultJobs = (): number => Math.max(1, Math.min(availableParallelism(), 8));

export interface StudyResult {
  dir: string;
  summary: Summary;
}

/** Load a prepared model for evaluation, kept for the whole seed so its scoring caches are shared. */
async function loadEvaluator(
  dir: string,
  label: string,
  options: ReturnType<typeof EvalOptionsSchema.parse>,
) {
  const { model, tokenizer } = await loadPretrained(dir);
  const manifest = readUnlearnManifest(dir);
  const transform = readModelTransform(dir, manifest);
  return new ModelEval({ label, model, tokenizer, transform, manifest, dir, options });
}

const roleOf = (
  r: EvalResults,
  role: 'unlearned' | 'oracle',
  examples: RunRow['examples'],
): ReferenceRole => ({
  info: r.models[role]!,
  metrics: Object.fromEntries(r.metricNames.map((n) => [n, r.metrics[n][role] ?? { skipped: 'not run' }])),
  examples,
});

export interface RunStudyOptions {
  progress?: boolean;
  baseDir?: string;
  /**
   * How many processes work at once (unlearning and search children, the target's and oracle's
   * training, and this process's evaluation); 1 = one after another. Default: defaultJobs() (1 for
   * a queue worker's single run). Results do not depend on it (docs/study.md).
   */
  jobs?: number;
}

export async function runStudy(
  input: Study | CheckedStudy,
  opts: RunStudyOptions = {},
): Promise<StudyResult> {
  return (await executeStudy(input, opts, null)) as StudyResult;
}

/**
 * Completes part of a study and writes no summary: with run ids, those runs (what a queue worker's
 * child does); with none, only the target and oracle of every seed, prepared and evaluated (what a
 * queue coordinator does before it enqueues the runs).
 */
export async function completeStudyRuns(
  input: Study | CheckedStudy,
  only: string[],
  opts: RunStudyOptions = {},
): Promise<void> {
  await executeStudy(input, opts, only);
}

/** The local runner; `only` (not null) restricts it to those runs and skips the summary. */
async function executeStudy(
  input: Study | CheckedStudy,
  opts: RunStudyOptions,
  only: string[] | null,
): Promise<StudyResult | null> {
  const clock = new PhaseClock();
  const checked = 'runs' in input ? input : await checkStudy(input);
  for (const id of only ?? []) {
    if (!checked.runs.some((r) => r.id === id)) {
      throw new ConfigError(`study ${checked.study.name} has no run ${id}`, {
        hint: 'the study changed after its runs were queued; rerun the coordinator',
      });
    }
  }
  const { study, task, recipe } = checked;
  const base = opts.baseDir ?? process.cwd();
  const runsRoot = resolve(base, study.out);
  const dir = inside(runsRoot, study.name, `study "${study.name}"`);
  const cacheDir = resolve(base, study.cache);
  const shown = (p: string) => relative(base, p) || '.';
  const say = (m: string) => opts.progress !== false && process.stderr.write(`bench: ${m}\n`);
  await mkdir(join(dir, 'runs'), { recursive: true });
  const plan = only ? checked.runs.filter((r) => only.includes(r.id)) : checked.runs;
  const { suite, extra, names } = checked.metrics;
  const code = codeVersion();
  const tHash = taskHash(task);
  say(`${study.name}: ${plan.length} runs of ${study.methods.length} methods on ${task.name}`);
  const rows: RunRow[] = [];
  const referenceSets: ReferenceSet[] = [];
  let references: Summary['references'] | null = null;
  const resultsLines: string[] = [];
  // Concurrency: `jobs` processes at once. The children (unlearning, searches, training) get the
  // cores shared out as native threads; this process keeps its own thread count, which its
  // results.json records, so that results.json is byte for byte the same whatever `jobs` is (the
  // kernels' results do not depend on the thread count either way). A thread count set in
  // LETHE_THREADS is the user's and goes to every process.
  const jobs = opts.jobs ?? (only?.length ? 1 : defaultJobs());
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new ConfigError('jobs must be a positive integer', { found: String(opts.jobs) });
  }
  const cores = availableParallelism();
  const fixedThreads = Boolean(process.env.LETHE_THREADS);
  const share = (n: number) => Math.max(1, Math.floor(cores / n));
  const threads = fixedThreads || jobs === 1 ? backend.getThreads() : share(jobs);
  const tied = (id: string): TiedOptions =>
    jobs > 1
      ? { ...(fixedThreads ? {} : { threads }), ...(opts.progress === false ? {} : { prefix: `[${id}] ` }) }
      : {};
  const slots = new Slots(jobs);
  // Stops the children still running (and those not started) once the study has failed.
  const abort = new AbortController();
  if (jobs > 1) {
    say(
      `${jobs} jobs at once on ${cores} cores: children with ${threads} thread${threads === 1 ? '' : 's'} each, ` +
        `evaluation here with ${backend.getThreads()}`,
    );
  }
  try {
    // A worker's child needs only its runs' seeds; the coordinator's preparation needs every seed.
    const seeds = only?.length
      ? study.seeds.filter((seed) => plan.some((r) => r.seed === seed))
      : study.seeds;
    for (const seed of seeds) {
      const p = await clock.time('training', () =>
        prepare({
          task,
          recipe,
          seed,
          cacheDir,
          progress: opts.progress,
          cwd: base,
          // The two trainings are all there is to do then: the cores are shared between those two.
          jobs: Math.min(jobs, 2),
          ...(jobs > 1 && !fixedThreads ? { threads: share(Math.min(jobs, 2)), growThreads: share(1) } : {}),
        }),
      );
      say(`seed ${seed}: target and oracle ${p.reused ? 'reused' : 'trained'} (${p.key})`);
      const hashes = preparedHashes(p);
      const refSet: ReferenceSet = {
        seed,
        prepareKey: p.key,
        target: { dir: shown(p.target), hash: hashes.target },
        oracle: { dir: shown(p.oracle), hash: hashes.oracle },
      };
      referenceSets.push(refSet);
      // Progress lines of the evaluation go to stderr (not part of any result or identity).
      const options = EvalOptionsSchema.parse({ seed, progress: opts.progress !== false });
      const { progress: _progress, ...recordedOptions } = options;
      const identityOf = (model: string): EvalIdentity => ({
        model,
        oracle: hashes.oracle,
        target: hashes.target,
        task: tHash,
        metrics: names,
        suite: suite ?? null,
        options: recordedOptions,
        code,
      });
      // The oracle is loaded once for the seed, when some evaluation first needs it.
      let oracleEval: ModelEval | null = null;
      const oracle = async () => {
        oracleEval ??= await loadEvaluator(p.oracle, 'oracle', options);
        return oracleEval;
      };
      const refIdentity = { ...identityOf(hashes.target), examples: study.examples };
      const cachedRefs = readReferenceEval(cacheDir, refIdentity);
      if (cachedRefs) say(`seed ${seed}: target and oracle evaluated earlier, reusing`);
      // Asked for first, so with one slot it runs first (as in the sequential runner); with more,
      // the first runs unlearn meanwhile (they need only the target).
      const refsDone = cachedRefs
        ? Promise.resolve(cachedRefs)
        : slots.evaluation(false, () =>
            clock.time('evaluation', async () => {
              say(`seed ${seed}: evaluating the target and the oracle (once for the whole study)`);
              const t0 = performance.now();
              const r = await evaluate({
                task,
                taskSpec: study.task,
                suite,
                metrics: extra,
                model: { dir: p.target },
                oracle: { evaluator: await oracle() },
                // The target in its own role too (loaded once), so derived metrics that read the target's
                // results (closeness, relearn recovery) are computed for both references, as in a run.
                target: { dir: p.target },
                options,
              });
              return writeReferenceEval(cacheDir, refIdentity, {
                target: roleOf(r, 'unlearned', await examplesOf(p.target, task, study.examples)),
                oracle: roleOf(r, 'oracle', await examplesOf(p.oracle, task, study.examples)),
                seconds: (performance.now() - t0) / 1000,
              });
            }),
          );
      refsDone.catch(() => {}); // awaited below; a failure must not be reported as unhandled first

      /**
       * A searched entry runs (and is graded on) the setting its oracle-free search selected, and
       * unlearns on what its trials saw: the task without the search's validation subjects.
       */
      const searchedRun = (planned: PlannedRun & { search: SearchSpec }, runDir: string) => {
        const seen = validationSplit(task, planned.search.validation, planned.search.seed).task;
        const path = join(runDir, 'search.json');
        const saved = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SearchResult) : null;
        const args = saved?.chosen ?? planned.args;
        return {
          run: { ...planned, args, resolvedArgs: resolveArgs(getMethod(planned.method), args) },
          seenHash: taskHash(seen),
          chosenIndex: saved?.chosenIndex ?? null,
        };
      };
      /** Run a search in a child, keeping its trials' models for adoption. */
      const searchInChild = async (
        planned: PlannedRun & { search: SearchSpec },
        runDir: string,
        seenHash: string,
      ) => {
        say(`${planned.id}: searching its arguments (${planned.label})`);
        const job: SearchJob = {
          kind: 'search',
          runDir,
          targetDir: p.target,
          oracleDir: p.oracle,
          taskSpec: study.task,
          ...(study.dataDir ? { dataDir: study.dataDir } : {}),
          taskHash: tHash,
          method: planned.method,
          args: planned.args,
          spec: planned.search,
          seed: planned.seed,
          keep: {
            prepared: { key: p.key, oracle: p.oracle, target: p.target },
            identity: { task: seenHash, target: hashes.target, seed, code },
          },
        };
        const exit = await spawnTied([...childMainArgs(), JSON.stringify(job)], base, {
          ...tied(planned.id),
          signal: abort.signal,
        });
        if (exit !== 0 || !existsSync(join(runDir, 'search.json'))) {
          throw new LetheError(`the search of run ${planned.id} failed (exit code ${exit})`, {
            where: runDir,
          });
        }
      };

      /**
       * A run's first stage (children only, never this process's CPU): its search and its
       * unlearning, unless done earlier; then what its evaluation needs to know.
       */
      const unlearned = async (planned: PlannedRun) => {
        const runDir = inside(join(dir, 'runs'), planned.id, `run ${planned.id}`);
        const modelDir = join(runDir, 'model');
        const resultsPath = join(runDir, 'results.json');
        const searchOf = planned.search ? { ...planned, search: planned.search } : null;
        let searched = searchOf ? searchedRun(searchOf, runDir) : null;
        const keyOf = (run: PlannedRun, taskHashUsed: string) =>
          runKey({
            task: taskHashUsed,
            target: hashes.target,
            method: run.method,
            args: run.resolvedArgs,
            seed,
            code,
          });
        let run = searched?.run ?? planned;
        let key = keyOf(run, searched?.seenHash ?? tHash);
        let manifest: Manifest | null = readManifest(modelDir);
        if (manifest && manifest.extra.runKey !== key) {
          say(`${run.id}: its inputs changed (task, target, arguments or code), unlearning again`);
          manifest = null;
        }
        let results: EvalResults | null = null;
        /** What the run's evaluation needs to know, once this stage is done. */
        const stage = () => ({
          planned,
          run,
          runDir,
          modelDir,
          resultsPath,
          evalIdentity: identityOf(key),
          manifest,
          results,
        });
        const done = readEvaluation(runDir);
        if (manifest && done?.key === evalKey(identityOf(key)) && existsSync(resultsPath)) {
          try {
            results = readResults(resultsPath);
            say(`${run.id}: done earlier, reusing`);
          } catch {
            results = null; // torn or foreign file: evaluate again
          }
        }
        if (!results) {
          await rm(join(runDir, EVALUATION_FILE), { force: true });
          if (!manifest) {
            manifest = await slots.child(() =>
              clock.time('unlearning', async () => {
                if (abort.signal.aborted) throw new LetheError('the study stopped');
                let m: Manifest | null = null;
                if (searchOf && searched) {
                  // The chosen trial is the run: the same setting, data and seed as unlearning it
                  // again would use, so the same bytes, without training them twice. A search
                  // without its trials (older, or its model outdated) is done again.
                  const trials = join(runDir, TRIALS_DIR);
                  m =
                    searched.chosenIndex === null
                      ? null
                      : await adoptTrial(trials, searched.chosenIndex, modelDir, key);
                  if (!m) {
                    await rm(join(runDir, 'search.json'), { force: true });
                    await searchInChild(searchOf, runDir, searched.seenHash);
                    searched = searchedRun(searchOf, runDir);
                    run = searched.run;
                    key = keyOf(run, searched.seenHash);
                    m = await adoptTrial(trials, searched.chosenIndex ?? -1, modelDir, key);
                  }
                  if (!m)
                    throw new LetheError(`run ${run.id}: its search left no model for the chosen setting`, {
                      where: trials,
                    });
                  say(`${run.id}: the search's chosen setting is the run (${JSON.stringify(run.args)})`);
                } else {
                  say(`${run.id}: unlearning (${run.label})`);
                  m = await unlearnInChild(study, run, p, modelDir, base, key, {
                    ...tied(run.id),
                    signal: abort.signal,
                  });
                }
                slots.markReady(); // before this slot is released
                return m;
              }),
            );
            return stage();
          }
          if (done) say(`${run.id}: metrics or references changed, evaluating again (unlearned model kept)`);
        }
        slots.markReady();
        return stage();
      };
      // Every run's first stage starts now and waits for a slot: in plan order with one job; with
      // more, searched runs first (the longest). This process grades each run as soon as it is
      // unlearned, one at a time (the oracle's scoring caches stay shared; no evaluation depends
      // on another), and the rows keep the plan's order.
      const seedRuns = plan.filter((r) => r.seed === seed);
      const startOrder = seedRuns.map((_, i) => i);
      if (jobs > 1)
        startOrder.sort((x, y) => Number(!seedRuns[x].search) - Number(!seedRuns[y].search) || x - y);
      const stages = new Map<number, Promise<{ i: number; stage: Awaited<ReturnType<typeof unlearned>> }>>();
      for (const i of startOrder) {
        const stage = unlearned(seedRuns[i]).then((v) => ({ i, stage: v }));
        stage.catch(() => {}); // awaited below
        stages.set(i, stage);
      }
      const refs = await refsDone;
      const reuse: Record<'oracle' | 'target', ReusedRole> = {
        oracle: { info: refs.oracle.info, metrics: refs.oracle.metrics },
        target: { info: refs.target.info, metrics: refs.target.metrics },
      };
      /** Evaluate a run in a child (jobs > 1): every slot can grade one; the oracle loads there. */
      const evaluateInChild = async (id: string, modelDir: string, resultsPath: string) => {
        if (abort.signal.aborted) throw new LetheError('the study stopped');
        const job: EvalJob = {
          kind: 'evaluate',
          taskSpec: study.task,
          ...(study.dataDir ? { dataDir: study.dataDir } : {}),
          taskHash: tHash,
          ...(suite ? { suite } : {}),
          metrics: extra,
          modelDir,
          oracleDir: p.oracle,
          cacheDir,
          references: refIdentity,
          options: { seed, progress: opts.progress !== false },
          resultsPath,
        };
        // This process's thread count, which results.json records: the same bytes as an evaluation here.
        const exit = await spawnTied([...childMainArgs(), JSON.stringify(job)], base, {
          ...tied(id),
          ...(fixedThreads ? {} : { threads: backend.getThreads() }),
          signal: abort.signal,
        });
        if (exit !== 0 || !existsSync(resultsPath)) {
          throw new LetheError(`evaluating run ${id} failed (exit code ${exit})`, { where: resultsPath });
        }
      };
      const seedRows: { row: RunRow; line: string; results: EvalResults }[] = [];
      const grade = async (i: number, stage: Awaited<ReturnType<typeof unlearned>>) => {
        const { planned, run, runDir, modelDir, resultsPath, evalIdentity, manifest } = stage;
        let results = stage.results;
        if (!manifest) throw new LetheError(`run ${run.id} has no manifest`, { where: modelDir });
        const examples = await slots.evaluation(true, async () => {
          if (!results) {
            // One model's share of the reference evaluation is what a run's evaluation costs, roughly.
            say(`${run.id}: evaluating (about ${Math.max(1, Math.round(refs.seconds / 2))} s)`);
            results = await clock.time('evaluation', async () => {
              if (jobs === 1) {
                return evaluate({
                  task,
                  taskSpec: study.task,
                  suite,
                  metrics: extra,
                  model: { dir: modelDir },
                  oracle: { evaluator: await oracle() },
                  reuse,
                  options,
                });
              }
              await evaluateInChild(run.id, modelDir, resultsPath);
              return readResults(resultsPath);
            });
            if (jobs === 1) await writeResults(resultsPath, results);
            const record: Evaluation = {
              key: evalKey(evalIdentity),
              identity: evalIdentity,
              gradedAgainst: refSet,
            };
            await writeJsonAtomic(join(runDir, EVALUATION_FILE), record);
            if (jobs > 1) say(`${run.id}: evaluated`);
          }
          if (only) return [];
          return clock.time('evaluation', () => examplesOf(modelDir, task, study.examples));
        });
        if (only || !results) return; // rows are the summary's; a partial execution writes none
        const { metrics, notes, intervals, basis } = leaderboardMetrics(results, 'unlearned', {
          'efficiency.seconds': manifest.timings.seconds,
          'efficiency.peakMemoryMb': manifest.timings.peakRssMb,
        });
        const method = getMethod(run.method);
        const search = planned.search ? readRunSearch(runDir) : undefined;
        const steps = manifest.requests.reduce((n, q) => n + q.steps, 0);
        const cost = costVsOracle({
          seconds: manifest.timings.seconds,
          flops: runTrainingFlops(modelDir, results.models.unlearned.parameters, steps),
          oracle: p.info.oracle,
          ...(search ? { searchSeconds: search.seconds } : {}),
        });
        const row: RunRow = {
          id: run.id,
          method: run.method,
          kind: method.kind,
          label: run.label,
          args: run.args,
          seed,
          metrics,
          intervals,
          basis,
          warnings: warningsOf(results),
          notes,
          curves: curvesOf(modelDir),
          roc: rocOf(results, 'unlearned'),
          truthRatios: truthRatiosOf(results, 'unlearned'),
          examples,
          trainableParameters: manifest.trainableParameters,
          timings: { seconds: manifest.timings.seconds, peakRssMb: manifest.timings.peakRssMb },
          gradedAgainst: refSet,
          ...(search ? { search } : {}),
          costVsOracle: cost,
        };
        const line = JSON.stringify({ id: run.id, method: run.method, args: run.args, seed, metrics, notes });
        seedRows[i] = { row, line, results };
      };
      // Each run is graded as soon as it is unlearned (several at once with jobs > 1).
      const grading: Promise<void>[] = [];
      while (stages.size > 0) {
        const { i, stage } = await Promise.race(stages.values());
        stages.delete(i);
        const graded = grade(i, stage);
        graded.catch(() => abort.abort()); // stop the rest at once; the error is thrown below
        grading.push(graded);
      }
      await Promise.all(grading);
      const done = seedRows.filter(Boolean); // in plan order
      rows.push(...done.map((d) => d.row));
      resultsLines.push(...done.map((d) => d.line));
      if (done.length > 0) {
        references ??= {
          target: referenceRow('target', done[0].results, refs.target.examples, seed, p, refSet),
          oracle: referenceRow('oracle', done[0].results, refs.oracle.examples, seed, p, refSet),
        };
      }
    }
  } catch (e) {
    abort.abort();
    throw e;
  }
  if (only) return null;
  const wallTime = clock.wallTime(jobs, threads);
  const phase = (k: 'training' | 'unlearning' | 'evaluation') =>
    `${k} ${wallTime[k].toFixed(1)} s${jobs > 1 ? ` (busy ${wallTime.busy![k].toFixed(1)} s)` : ''}`;
  say(
    `time: ${wallTime.total.toFixed(1)} s in all — ${phase('training')}, ${phase('unlearning')}, ` +
      `${phase('evaluation')}${jobs > 1 ? `; ${jobs} jobs, ${threads} thread${threads === 1 ? '' : 's'} each, phases overlap` : ''}`,
  );
  const summary: Summary = SummarySchema.parse({
    format: 'lethe-study/1',
    study: {
      name: study.name,
      task: { spec: study.task, name: task.name, hash: tHash },
      suites: study.suites,
      seeds: study.seeds,
      lethe: LETHE_VERSION,
      node: process.version,
      ...(study.description ? { description: study.description } : {}),
      metrics: names,
      code,
      references: referenceSets,
      wallTime,
    },
    columns: LEADERBOARD,
    references: references!,
    runs: rows,
  });
  await writeFileAtomic(join(dir, 'results.jsonl'), `${resultsLines.join('\n')}\n`);
  await writeJsonAtomic(join(dir, 'summary.json'), summary);
  return { dir, summary };
}
