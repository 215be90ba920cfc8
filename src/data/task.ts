/**
 * The task model: what an unlearning benchmark is, as data. A Task names three training splits —
 * `forget` (to remove), `retain` (to keep) and `holdout` (never trained on, same distribution as
 * forget; the non-members of membership inference) — plus named evaluation sets, refusal strings
 * and free-form provenance. Every loader (TOFU, extraction, MUSE, the synthetic generator and the
 * task-file reader here) returns this one type.
 *
 * Promises: `loadTask` validates the task file strictly (unknown keys are a ConfigError naming
 * file and key) and every data line (a DataError naming file, line and field); ids are unique
 * within each list and never shared between forget, retain and holdout; forget is non-empty.
 * `writeTask` writes files that `loadTask` reads back to an equal Task with the same hash, and the
 * same Task always gives byte-identical files. `taskHash` depends on the data only (not on name,
 * description, meta or paths).
 *
 * Well-known eval set names (consumers look them up by these; a task may add its own):
 *   qa.retainPerturbed  retain QA with paraphrased/perturbed answers (TOFU retain_perturbed)
 *   qa.realAuthors, qa.worldFacts, qa.neighbours
 *                       out-of-scope knowledge that must survive (answer + perturbedAnswers)
 *   qa.knowmemForget, qa.knowmemRetain, qa.knowmemIcl
 *                       MUSE KnowMem QA about the forget / retain texts, and few-shot examples
 *   text.utility        general text never trained on (perplexity)
 *   verbatim.forget / .retain / .holdout      VerbMem prompt + continuation
 *   mcq.forget / .retain / .realAuthors / .worldFacts / .utility    multiple choice
 *   pii.forget / .retain / .holdout           PII records for the extraction attack
 *   tokens.*            token sequences (extraction benchmark)
 * The forget split's QA items carry their own paraphrased/perturbed answers when the benchmark
 * has them, so the forget truth ratio needs no separate set.
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { readConfigFile } from '../config/load.ts';
import { ConfigError, DataError } from '../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.ts';
import { contentHash } from './hash.ts';
import {
  ITEM_KINDS,
  type ItemKind,
  type ItemKinds,
  LINE_SCHEMAS,
  type QaItem,
  type TextItem,
  type TokenItem,
} from './items.ts';
import { type Located, readLines, readRecords, validateRecord } from './records.ts';

export type SplitName = 'forget' | 'retain' | 'holdout';
export const SPLIT_NAMES: readonly SplitName[] = ['forget', 'retain', 'holdout'];

/** The item kinds a training split may hold. */
export type SplitPart = 'qa' | 'text' | 'tokens';
export const SPLIT_PARTS: readonly SplitPart[] = ['qa', 'text', 'tokens'];

/** The kind of a task's primary items; a split given as a bare path in a task file holds this kind. */
export type TaskFormat = SplitPart;

/** One training split: QA pairs (loss on the answer), documents (loss on all), token sequences. */
export interface Split {
  qa: QaItem[];
  text: TextItem[];
  tokens: TokenItem[];
}

/** Named evaluation sets of each item kind. */
export type EvalSets = { [K in ItemKind]: Record<string, ItemKinds[K][]> };

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface Task {
  name: string;
  format: TaskFormat;
  description?: string;
  splits: Record<SplitName, Split>;
  eval: EvalSets;
  /** Refusal strings ("I don't know") for IDK-style methods; may be empty. */
  idk: string[];
  /** Provenance (loader, options, generator parameters); not part of the hash. */
  meta: Record<string, JsonValue>;
  /**
   * How the task's QA items are asked: `qa` is a template with {question} (default, when absent:
   * "Question: {question}\nAnswer:"; see src/text/template.ts). Part of the hash when present.
   */
  prompt?: { qa: string };
  /** What a loader skipped or could not find (e.g. empty texts); shown by `lethe task show`, not hashed. */
  warnings?: string[];
}

export function emptySplit(): Split {
  return { qa: [], text: [], tokens: [] };
}

export function emptyEval(): EvalSets {
  return { qa: {}, text: {}, verbatim: {}, mcq: {}, pii: {}, tokens: {} };
}

/** sha256 of a task's data (splits, eval sets, refusal strings). */
export function taskHash(task: Task): string {
  // The prompt template changes what is trained, so it counts; tasks without one keep their hash.
  const data = { splits: task.splits, eval: task.eval, idk: task.idk };
  return contentHash(task.prompt ? { ...data, prompt: task.prompt } : data, 'lethe-task-v1');
}

/** sha256 of one split, e.g. to cache an oracle by its retain data alone. */
export function splitHash(split: Split): string {
  return contentHash(split, 'lethe-split-v1');
}

/** Item counts per split part and eval set, for logs and manifests. */
export function taskCounts(task: Task): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of SPLIT_NAMES) for (const p of SPLIT_PARTS) out[`${s}.${p}`] = task.splits[s][p].length;
  for (const k of ITEM_KINDS)
    for (const [name, items] of Object.entries(task.eval[k])) out[`eval.${k}.${name}`] = items.length;
  out.idk = task.idk.length;
  return out;
}

/**
 * A loader's warnings, then what the data itself leaves unmeasurable: no retain split (the oracle
 * learns nothing), no holdout (membership inference has no non-members), forget QA without
 * perturbed answers (no truth ratio for them).
 */
export function taskWarnings(task: Task): string[] {
  const out = [...(task.warnings ?? [])];
  const size = (s: Split) => s.qa.length + s.text.length + s.tokens.length;
  if (size(task.splits.retain) === 0)
    out.push('the retain split is empty: the oracle has nothing to learn and retain utility is unmeasured');
  if (size(task.splits.holdout) === 0)
    out.push('the holdout split is empty: membership-inference metrics have no non-members');
  const qa = task.splits.forget.qa;
  const bare = qa.filter((q) => !q.perturbedAnswers).length;
  if (bare > 0)
    out.push(
      `${bare} of ${qa.length} forget QA items have no perturbedAnswers: the truth ratio leaves them out`,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Task files

const relPath = z.string().min(1, 'must be a non-empty path');
const setName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'eval set names are letters, digits, _ and -, starting with a letter');
const SplitRef = z.union(
  [relPath, z.strictObject({ qa: relPath.optional(), text: relPath.optional(), tokens: relPath.optional() })],
  { error: 'must be a path, or an object {"qa"?, "text"?, "tokens"?} of paths' },
);
const evalGroup = z
  .record(setName, relPath, {
    error: 'eval sets map names (letters, digits, _ and -, starting with a letter) to paths',
  })
  .optional();

/** The JSON of a task file; paths are relative to the file's folder and must stay inside it. */
export const TaskFileSchema = z.strictObject({
  $schema: z.string().optional().describe('the JSON Schema for editors (`lethe task schema`); ignored'),
  version: z.literal(1).optional(),
  name: z.string().min(1),
  format: z.enum(['qa', 'text', 'tokens']),
  description: z.string().optional(),
  splits: z.strictObject({ forget: SplitRef, retain: SplitRef.optional(), holdout: SplitRef.optional() }),
  eval: z
    .strictObject({
      qa: evalGroup,
      text: evalGroup,
      verbatim: evalGroup,
      mcq: evalGroup,
      pii: evalGroup,
      tokens: evalGroup,
    })
    .optional(),
  idk: relPath.optional(),
  prompt: z
    .strictObject({
      qa: z
        .string()
        .includes('{question}', { error: 'must contain {question}, e.g. "Question: {question}\nAnswer:"' })
        .describe(
          'QA prompt template; {question} stands for the question, the answer follows after one space',
        ),
    })
    .optional(),
  meta: z.record(z.string(), z.json()).optional(),
});
export type TaskFile = z.infer<typeof TaskFileSchema>;

function resolveData(taskPath: string, rel: string, key: string): string {
  const folder = resolve(dirname(taskPath));
  const abs = resolve(folder, rel);
  // Containment first (lexically, then after symlinks), and without reading the target: a task
  // file must not make lethe read, or echo lines of, files elsewhere on the machine.
  const inside = (p: string, root: string) => p.startsWith(root.endsWith(sep) ? root : root + sep);
  const outside = () =>
    new ConfigError(`data file named by ${key} is outside the task's folder`, {
      where: `${taskPath}: ${key}`,
      expected: `a path inside ${folder}`,
      found: JSON.stringify(rel),
    });
  if (!inside(abs, folder)) throw outside();
  if (!existsSync(abs)) {
    throw new ConfigError(`data file named by ${key} not found`, {
      where: `${taskPath}: ${key}`,
      expected: 'a path (relative to the task file) to an existing file',
      found: `no such file: ${abs}`,
    });
  }
  if (!inside(realpathSync(abs), realpathSync(folder))) throw outside();
  return abs;
}

function fillIds<T extends { id?: string }>(
  records: Located<T>[],
  label: string,
): Located<T & { id: string }>[] {
  return records.map((r) => ({
    ...r,
    value: { ...r.value, id: r.value.id ?? `${label}-${r.index}` } as T & { id: string },
  }));
}

/** Throw a DataError at the second record of a list that repeats an id. */
function checkUniqueIds(records: Located<{ id: string }>[], what: string): void {
  const seen = new Map<string, string>();
  for (const r of records) {
    const before = seen.get(r.value.id);
    if (before !== undefined) {
      throw new DataError(`duplicate id ${JSON.stringify(r.value.id)} in ${what}`, {
        where: `${r.where}, field id`,
        expected: 'ids unique within a data file',
        found: `the same id at ${before}`,
      });
    }
    seen.set(r.value.id, r.where);
  }
}

async function readPart<K extends ItemKind>(
  taskPath: string,
  kind: K,
  rel: string,
  key: string,
  label: string,
  allowEmpty: boolean,
): Promise<Located<ItemKinds[K]>[]> {
  const abs = resolveData(taskPath, rel, key);
  const schema = LINE_SCHEMAS[kind] as z.ZodType<Omit<ItemKinds[K], 'id'> & { id?: string }>;
  const records = fillIds(await readRecords(abs, schema, { allowEmpty }), label) as Located<ItemKinds[K]>[];
  checkUniqueIds(records, key);
  return records;
}

/** Load a task file and every data file it names, validated. */
export async function loadTask(path: string): Promise<Task> {
  const file = readConfigFile(TaskFileSchema, path);
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  // Remember where each id came from so a cross-split clash can name both places.
  const origins: Record<SplitPart, Map<string, string>> = {
    qa: new Map(),
    text: new Map(),
    tokens: new Map(),
  };
  for (const s of SPLIT_NAMES) {
    const ref = file.splits[s];
    if (ref === undefined) continue;
    const parts: Partial<Record<SplitPart, string>> = typeof ref === 'string' ? { [file.format]: ref } : ref;
    for (const p of SPLIT_PARTS) {
      const rel = parts[p];
      if (rel === undefined) continue;
      const key = typeof ref === 'string' ? `splits.${s}` : `splits.${s}.${p}`;
      const records = await readPart(path, p, rel, key, `${s}-${p}`, true);
      for (const r of records) {
        const other = origins[p].get(r.value.id);
        if (other !== undefined) {
          throw new DataError(`id ${JSON.stringify(r.value.id)} is in two splits`, {
            where: `${r.where}, field id`,
            expected: 'forget, retain and holdout to share no item',
            found: `the same id at ${other}`,
          });
        }
        origins[p].set(r.value.id, r.where);
      }
      (splits[s][p] as unknown[]) = records.map((r) => r.value);
    }
  }
  const evalSets = emptyEval();
  for (const k of ITEM_KINDS) {
    const group = file.eval?.[k];
    if (!group) continue;
    for (const [name, rel] of Object.entries(group)) {
      const records = await readPart(path, k, rel, `eval.${k}.${name}`, `${k}-${name}`, false);
      (evalSets[k] as Record<string, unknown[]>)[name] = records.map((r) => r.value);
    }
  }
  const idk = file.idk === undefined ? [] : await readLines(resolveData(path, file.idk, 'idk'));
  const task: Task = {
    name: file.name,
    format: file.format,
    splits,
    eval: evalSets,
    idk,
    meta: (file.meta ?? {}) as Record<string, JsonValue>,
  };
  if (file.description !== undefined) task.description = file.description;
  if (file.prompt !== undefined) task.prompt = { qa: file.prompt.qa };
  requireForget(task, path);
  return task;
}

function requireForget(task: Task, where: string): void {
  const f = task.splits.forget;
  if (f.qa.length + f.text.length + f.tokens.length === 0) {
    throw new ConfigError(`task ${task.name} has an empty forget split`, {
      where,
      expected: 'at least one forget item',
      found: 'no qa, text or tokens items',
    });
  }
}

/**
 * Check an in-memory task as loadTask checks files: every item valid for its kind, ids unique per
 * list and across forget/retain/holdout, forget non-empty, refusal strings writable one per line.
 * Loaders that build tasks in code call this before returning.
 */
export function validateTask(task: Task, options: { allowEmptyForget?: boolean } = {}): void {
  const origins: Record<SplitPart, Map<string, string>> = {
    qa: new Map(),
    text: new Map(),
    tokens: new Map(),
  };
  const check = (kind: ItemKind, items: { id: string }[], what: string, crossSplit?: SplitPart): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const where = `${task.name}: ${what}[${i}]`;
      validateRecord(LINE_SCHEMAS[kind] as z.ZodType<unknown>, item, where);
      if (typeof item.id !== 'string' || item.id === '') {
        throw new DataError(`item without an id in ${what}`, {
          where: `${where}, field id`,
          expected: 'a non-empty id',
        });
      }
      if (seen.has(item.id)) {
        throw new DataError(`duplicate id ${JSON.stringify(item.id)} in ${what}`, {
          where: `${where}, field id`,
          expected: 'ids unique within a list',
        });
      }
      seen.add(item.id);
      if (crossSplit) {
        const other = origins[crossSplit].get(item.id);
        if (other !== undefined && other !== what) {
          throw new DataError(`id ${JSON.stringify(item.id)} is in two splits`, {
            where: `${where}, field id`,
            expected: 'forget, retain and holdout to share no item',
            found: `the same id in ${other}`,
          });
        }
        origins[crossSplit].set(item.id, what);
      }
    });
  };
  for (const s of SPLIT_NAMES)
    for (const p of SPLIT_PARTS) check(p, task.splits[s][p], `splits.${s}.${p}`, p);
  for (const k of ITEM_KINDS)
    for (const [name, items] of Object.entries(task.eval[k])) check(k, items, `eval.${k}.${name}`);
  task.idk.forEach((line, i) => {
    if (line === '' || /\n|\r/.test(line) || line !== line.trim()) {
      throw new DataError('refusal strings must be single non-blank lines without outer whitespace', {
        where: `${task.name}: idk[${i}]`,
        found: JSON.stringify(line),
      });
    }
  });
  if (task.prompt !== undefined && !task.prompt.qa.includes('{question}')) {
    throw new ConfigError('a QA prompt template must contain {question}', {
      where: `${task.name}: prompt.qa`,
      found: JSON.stringify(task.prompt.qa),
    });
  }
  if (!options.allowEmptyForget) requireForget(task, task.name);
}

/**
 * Throw unless the task has forget data to train and unlearn on (an evaluation-only task, e.g.
 * WMDP without its corpora, loads but cannot be prepared); the error lists the task's warnings.
 */
export function requireForgetData(task: Task, command: string): void {
  const f = task.splits.forget;
  if (f.qa.length + f.text.length + f.tokens.length > 0) return;
  throw new ConfigError(`${command} needs forget data, and task ${task.name} has none`, {
    expected: 'a task whose forget split holds items',
    found: task.warnings?.length ? task.warnings.join('; ') : 'an empty forget split',
    hint: 'this task can still be evaluated: lethe eval --model DIR --task SPEC',
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Field order of each kind in written files, so equal items give equal bytes. */
const FIELD_ORDER: { [K in ItemKind]: (keyof ItemKinds[K])[] } = {
  qa: ['id', 'question', 'answer', 'paraphrasedQuestion', 'paraphrasedAnswer', 'perturbedAnswers'],
  text: ['id', 'text'],
  verbatim: ['id', 'prompt', 'continuation'],
  mcq: ['id', 'question', 'choices', 'answer'],
  pii: ['id', 'person', 'field', 'value', 'prompts'],
  tokens: ['id', 'tokens', 'prefixLength'],
};

function jsonlText<K extends ItemKind>(kind: K, items: ItemKinds[K][]): string {
  const order = FIELD_ORDER[kind];
  let out = '';
  for (const item of items) {
    const ordered: Record<string, unknown> = {};
    for (const key of order) if (item[key] !== undefined) ordered[key as string] = item[key];
    out += `${JSON.stringify(ordered)}\n`;
  }
  return out;
}

/**
 * Write a task as a folder: `task.json`, `<split>.<part>.jsonl`, `eval/<kind>.<name>.jsonl` and
 * `idk.txt`; empty parts and sets are left out. task.json is written last, so an interrupted
 * write never leaves a task file naming missing data. Returns the task file's path.
 */
export async function writeTask(dir: string, task: Task): Promise<string> {
  validateTask(task);
  await mkdir(dir, { recursive: true });
  const splits: Record<string, Record<string, string>> = {};
  for (const s of SPLIT_NAMES) {
    for (const p of SPLIT_PARTS) {
      const items = task.splits[s][p];
      if (items.length === 0) continue;
      const rel = `${s}.${p}.jsonl`;
      await writeFileAtomic(join(dir, rel), jsonlText(p, items));
      splits[s] ??= {};
      splits[s][p] = rel;
    }
  }
  const evalRefs: Record<string, Record<string, string>> = {};
  for (const k of ITEM_KINDS) {
    for (const name of Object.keys(task.eval[k]).sort()) {
      const items = task.eval[k][name];
      if (items.length === 0) continue;
      await mkdir(join(dir, 'eval'), { recursive: true });
      const rel = `eval/${k}.${name}.jsonl`;
      await writeFileAtomic(join(dir, rel), jsonlText(k, items as ItemKinds[typeof k][]));
      evalRefs[k] ??= {};
      evalRefs[k][name] = rel;
    }
  }
  const file: Record<string, unknown> = { version: 1, name: task.name, format: task.format };
  if (task.description !== undefined) file.description = task.description;
  file.splits = splits;
  if (Object.keys(evalRefs).length > 0) file.eval = evalRefs;
  if (task.idk.length > 0) {
    await writeFileAtomic(join(dir, 'idk.txt'), `${task.idk.join('\n')}\n`);
    file.idk = 'idk.txt';
  }
  if (task.prompt !== undefined) file.prompt = { qa: task.prompt.qa };
  if (Object.keys(task.meta).length > 0) file.meta = task.meta;
  const path = join(dir, 'task.json');
  await writeJsonAtomic(path, file);
  return path;
}
