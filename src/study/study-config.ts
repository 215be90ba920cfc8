/**
 * A study file (`lethe bench --config study.json`): its schema, the plan of runs it asks for, and
 * the up-front check of everything in it. `checkStudy` validates the whole study before any
 * training — method names, every argument and grid value against the method's schema (unknown
 * keys, types, ranges; defaults applied), suites, metric names, the task spec and the recipe — and
 * fails in seconds with an error naming the file, the method and the key.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../config/load.ts';
import { type TrainRecipe, TrainRecipeOverrides, TrainRecipeSchema } from '../config/train-config.ts';
import { contentHash, type Task } from '../data/index.ts';
import { resolveTask } from '../data/resolve-task.ts';
import { ConfigError, LetheError } from '../errors.ts';
import { getMetric } from '../eval/metrics/index.ts';
import { suiteMetrics } from '../eval/suites.ts';
import { getMethod } from '../unlearn/registry.ts';
import { resolveArgs } from '../unlearn/runner.ts';
import { DEFAULT_PREPARE_RECIPE } from './prepare.ts';
import { type SearchSpec, SearchSpecSchema } from './search.ts';

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

/** A study name is one folder name: no separators, not "." or "..". */
export const STUDY_NAME = /^(?!\.+$)[A-Za-z0-9_.-]+$/;

export const StudySchema = z.strictObject({
  name: z.string().regex(STUDY_NAME, 'letters, digits, _ . - only, not only dots (it names a folder)'),
  description: z.string().optional(),
  task: z.string().default('synthetic'),
  /** Overrides of the target/oracle training recipe (as `lethe prepare --config`). */
  recipe: TrainRecipeOverrides.optional(),
  seeds: z
    .array(z.number().int())
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'each seed once')
    .default([0]),
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

export interface PlannedRun {
  id: string;
  method: string;
  /** The arguments as the study gives them (passed to `lethe unlearn`). */
  args: Record<string, unknown>;
  /** The same with the method's schema defaults applied (what the run's identity hashes). */
  resolvedArgs: Record<string, unknown>;
  seed: number;
  label: string;
  /** An oracle-free search that picks this run's arguments before it unlearns. */
  search?: SearchSpec;
}

/** Resolve a method's arguments, re-raising a bad one as an error naming the file, method and key. */
function checkArgs(
  method: string,
  raw: Record<string, unknown>,
  where: string,
  keyOf: (key: string) => string,
): Record<string, unknown> {
  try {
    return resolveArgs(getMethod(method), raw);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const summary = e.message.split('\n')[0];
    // resolveArgs names the offending key after the last ': ' of `where` ('(root)' for unknown keys).
    const path = e.details.where?.split(': ').pop();
    const key = path && path !== '(root)' ? path : /unknown keys? (.+)$/.exec(summary)?.[1];
    throw new ConfigError(`method "${method}": ${summary}`, {
      where: key ? `${where}: ${keyOf(key)}` : where,
      found: e.details.found,
      hint: e.details.hint,
    });
  }
}

/**
 * Every method × grid combination × seed, with stable ids. Arguments are checked against the
 * method's schema; `file` names the study file in errors.
 */
export function planRuns(study: Study, file = 'study'): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const [i, entry] of study.methods.entries()) {
    const where = `${file}: methods[${i}] (${entry.method})`;
    try {
      getMethod(entry.method);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(e.message.split('\n')[0], { ...e.details, where: `${where}: method` });
    }
    checkArgs(entry.method, entry.args, where, (k) => `args.${k}`);
    // Each grid value alone first, so an error names the value's position.
    for (const [key, values] of Object.entries(entry.grid)) {
      for (const [j, v] of values.entries()) {
        checkArgs(entry.method, { ...entry.args, [key]: v }, where, (k) =>
          k === key ? `grid.${key}[${j}]` : `args.${k}`,
        );
      }
    }
    let combos: Record<string, unknown>[] = [{}];
    for (const [key, values] of Object.entries(entry.grid)) {
      combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
    }
    for (const combo of combos) {
      const args = { ...entry.args, ...combo };
      const resolvedArgs = checkArgs(entry.method, args, where, (k) => `grid.${k}`);
      const shown = Object.entries(combo).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      const search = entry.search;
      const hash = contentHash(
        { method: entry.method, args: resolvedArgs, ...(search ? { search } : {}) },
        'run',
      ).slice(0, 8);
      for (const seed of study.seeds) {
        runs.push({
          id: `${entry.method}-${hash}-s${seed}`,
          method: entry.method,
          args,
          resolvedArgs,
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
  const ids = new Set<string>();
  for (const r of runs) {
    if (ids.has(r.id)) {
      throw new ConfigError(`the study asks for run ${r.id} twice (same method and resolved arguments)`, {
        where: `${file}: methods`,
        hint: 'remove the duplicate entry or grid value',
      });
    }
    ids.add(r.id);
  }
  return runs;
}

/** The target's and oracle's recipe, prepare's defaults applied; errors name the file and key. */
export function checkRecipe(
  overrides: Partial<TrainRecipe> | undefined,
  file = 'study',
  prefix = 'recipe.',
): TrainRecipe {
  const parsed = TrainRecipeSchema.safeParse({ ...DEFAULT_PREPARE_RECIPE, ...overrides });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError('invalid recipe', {
      where: `${file}: ${prefix}${issue.path.join('.')}`,
      found: issue.message,
    });
  }
  const r = parsed.data;
  if (r.hidden % r.heads !== 0) {
    throw new ConfigError('invalid recipe: hidden must be a multiple of heads', {
      where: `${file}: ${prefix}heads`,
      found: `hidden ${r.hidden}, heads ${r.heads}`,
    });
  }
  if (r.kvHeads !== undefined && r.heads % r.kvHeads !== 0) {
    throw new ConfigError('invalid recipe: heads must be a multiple of kvHeads', {
      where: `${file}: ${prefix}kvHeads`,
      found: `heads ${r.heads}, kvHeads ${r.kvHeads}`,
    });
  }
  return r;
}

/** What evaluate() is asked for: one suite name (or none) and the metric names after it. */
export interface StudyMetrics {
  suite: string | undefined;
  extra: string[];
  /** Every metric name evaluated, in order, without repeats. */
  names: string[];
}

export function studyMetrics(study: Study, file = 'study'): StudyMetrics {
  const suiteNames: string[] = [];
  for (const [i, s] of study.suites.entries()) {
    try {
      suiteNames.push(...suiteMetrics(s));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(e.message.split('\n')[0], { ...e.details, where: `${file}: suites[${i}]` });
    }
  }
  for (const [i, n] of study.metrics.entries()) {
    try {
      getMetric(n);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new ConfigError(e.message.split('\n')[0], { ...e.details, where: `${file}: metrics[${i}]` });
    }
  }
  const names = [...new Set([...suiteNames, ...study.metrics])];
  const suite = study.suites.length === 1 ? study.suites[0] : undefined;
  return { suite, extra: suite ? study.metrics : names, names };
}

/** `child` resolved inside `parent`, or a ConfigError: no output path may leave its folder. */
export function inside(parent: string, child: string, what: string): string {
  const p = resolve(parent);
  const c = resolve(p, child);
  const rel = relative(p, c);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new ConfigError(`${what} would be written outside its folder`, {
      where: c,
      expected: `a path inside ${p}`,
    });
  }
  return c;
}

export interface CheckedStudy {
  study: Study;
  file: string;
  task: Task;
  recipe: TrainRecipe;
  runs: PlannedRun[];
  metrics: StudyMetrics;
}

/** Check the whole study before any work; the task is resolved (synthetic tasks generated) here. */
export async function checkStudy(study: Study, file = 'study'): Promise<CheckedStudy> {
  const name = StudySchema.shape.name.safeParse(study.name);
  if (!name.success) {
    throw new ConfigError('invalid study name', {
      where: `${file}: name`,
      found: JSON.stringify(study.name),
    });
  }
  const runs = planRuns(study, file);
  const metrics = studyMetrics(study, file);
  const recipe = checkRecipe(study.recipe, file);
  let task: Task;
  try {
    task = await resolveTask(study.task, study.dataDir);
  } catch (e) {
    if (!(e instanceof LetheError)) throw e;
    throw new ConfigError(`cannot load the study's task "${study.task}"`, {
      where: `${file}: task`,
      found: e.message.split('\n')[0],
      hint: e.details.hint,
    });
  }
  return { study, file, task, recipe, runs, metrics };
}

export function readStudy(path: string): Study {
  return readConfigFile(StudySchema, path);
}
