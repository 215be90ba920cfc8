/**
 * MUSE-style tasks (Shi et al. 2024, arXiv 2407.06460) from a folder of user-provided files.
 * Each file may be JSON Lines (`name.jsonl`) or one JSON array (`name.json`, MUSE's own layout);
 * if both exist that is an error, so the folder is never read ambiguously.
 *
 *   forget, retain, holdout      raw texts: `{"text": ...}` (optional "id") or bare strings
 *   verbmem                      `{"prompt", "gt"}`           -> eval.verbatim.forget
 *   knowmem_forget / _retain     `{"question", "answer"}`     -> eval.qa.knowmemForget / knowmemRetain
 *   knowmem_icl                  `{"question", "answer"}`     -> eval.qa.knowmemIcl (few-shot examples)
 *   mcq_forget / mcq_retain / mcq_utility
 *                                WMDP-style MCQ (see mcq.ts) -> eval.mcq.forget / .retain / .utility
 *   idk.txt                      refusal strings, one per line
 *
 * Promises: forget is required; every other file is optional; empty or whitespace-only texts are
 * skipped and counted in a warning. Records are validated strictly
 * (DataError naming file, line or index, and field); ids are "<file>-<position>" unless given.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../errors.ts';
import type { QaItem, TextItem, VerbatimItem } from './items.ts';
import { readMcq } from './mcq.ts';
import { type Located, readLines, readRecords } from './records.ts';
import { emptyEval, emptySplit, type Task, validateTask } from './task.ts';

export interface MuseOptions {
  /** Task name (default 'muse'). */
  name?: string;
}

const str = z.string().min(1, 'must be a non-empty string');
const VerbmemLine = z.strictObject({ id: str.optional(), prompt: str, gt: str });
const KnowmemLine = z.strictObject({ id: str.optional(), question: str, answer: str });
const RawTextLine = z.union([z.string(), z.strictObject({ id: str.optional(), text: z.string() })], {
  error: 'must be a string or {"text"} (with an optional "id")',
});

/** The path of `<base>.jsonl` or `<base>.json` in `dir`, or undefined. */
function findFile(dir: string, base: string): string | undefined {
  const candidates = [`${base}.jsonl`, `${base}.json`].map((n) => join(dir, n)).filter((p) => existsSync(p));
  if (candidates.length > 1) {
    throw new ConfigError(`both ${base}.jsonl and ${base}.json exist`, {
      where: dir,
      expected: 'one file per role',
      found: candidates.join(', '),
    });
  }
  return candidates[0];
}

function withIds<T extends { id?: string }>(records: Located<T>[], prefix: string): (T & { id: string })[] {
  const seen = new Map<string, string>();
  return records.map((r) => {
    const id = r.value.id ?? `${prefix}-${r.index}`;
    const before = seen.get(id);
    if (before !== undefined) {
      throw new DataError(`duplicate id ${JSON.stringify(id)}`, {
        where: `${r.where}, field id`,
        expected: 'ids unique within a file',
        found: `the same id at ${before}`,
      });
    }
    seen.set(id, r.where);
    return { ...r.value, id };
  });
}

/** Raw texts; empty or whitespace-only ones (MUSE's own files have them) are skipped and counted. */
async function readTexts(dir: string, base: string, warnings: string[]): Promise<TextItem[]> {
  const path = findFile(dir, base);
  if (path === undefined) return [];
  const records = await readRecords(path, RawTextLine);
  const kept = records.filter((r) => (typeof r.value === 'string' ? r.value : r.value.text).trim() !== '');
  if (kept.length < records.length)
    warnings.push(
      `${path}: skipped ${records.length - kept.length} empty or whitespace-only texts of ${records.length}`,
    );
  return withIds(
    kept.map((r) => ({ ...r, value: typeof r.value === 'string' ? { text: r.value } : r.value })),
    base,
  );
}

async function readKnowmem(dir: string, base: string): Promise<QaItem[] | undefined> {
  const path = findFile(dir, base);
  if (path === undefined) return undefined;
  return withIds(await readRecords(path, KnowmemLine), base).map((r) => ({
    id: r.id,
    question: r.question,
    answer: r.answer,
  }));
}

/** Load a MUSE-style folder as a text task. */
export async function loadMuse(dir: string, options: MuseOptions = {}): Promise<Task> {
  if (findFile(dir, 'forget') === undefined) {
    throw new ConfigError('a MUSE-style folder needs a forget file', {
      where: dir,
      expected: 'forget.jsonl or forget.json',
      found: existsSync(dir) ? 'neither' : 'no such folder',
    });
  }
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  const warnings: string[] = [];
  splits.forget.text = await readTexts(dir, 'forget', warnings);
  splits.retain.text = await readTexts(dir, 'retain', warnings);
  splits.holdout.text = await readTexts(dir, 'holdout', warnings);

  const evalSets = emptyEval();
  const verbmemPath = findFile(dir, 'verbmem');
  if (verbmemPath !== undefined) {
    evalSets.verbatim.forget = withIds(await readRecords(verbmemPath, VerbmemLine), 'verbmem').map(
      (r): VerbatimItem => ({ id: r.id, prompt: r.prompt, continuation: r.gt }),
    );
  }
  const knowmem: [string, string][] = [
    ['knowmem_forget', 'knowmemForget'],
    ['knowmem_retain', 'knowmemRetain'],
    ['knowmem_icl', 'knowmemIcl'],
  ];
  for (const [base, name] of knowmem) {
    const items = await readKnowmem(dir, base);
    if (items) evalSets.qa[name] = items;
  }
  for (const [base, name] of [
    ['mcq_forget', 'forget'],
    ['mcq_retain', 'retain'],
    ['mcq_utility', 'utility'],
  ]) {
    const path = findFile(dir, base);
    if (path !== undefined) evalSets.mcq[name] = await readMcq(path, { idPrefix: base });
  }
  const idkPath = join(dir, 'idk.txt');
  const task: Task = {
    name: options.name ?? 'muse',
    format: 'text',
    splits,
    eval: evalSets,
    idk: existsSync(idkPath) ? await readLines(idkPath) : [],
    meta: { source: 'muse-style folder' },
  };
  if (warnings.length > 0) task.warnings = warnings;
  validateTask(task);
  return task;
}
