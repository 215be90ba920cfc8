/**
 * MUSE (Shi et al. 2024, arXiv 2407.06460) from its released layout, unchanged (Hugging Face
 * datasets muse-bench/MUSE-News and muse-bench/MUSE-Books; each file one JSON array):
 *
 *   raw/forget.json, raw/retain1.json + raw/retain2.json (or raw/retain.json), raw/holdout.json
 *                                       strings            -> splits.forget / retain / holdout text
 *   verbmem/forget.json                 {prompt, gt}       -> eval.verbatim.forget
 *   knowmem/forget_qa.json              {question, answer} -> eval.qa.knowmemForget
 *   knowmem/retain_qa.json (or retain2_qa.json)           -> eval.qa.knowmemRetain
 *   knowmem/forget_qa_icl.json, retain_qa_icl.json        -> eval.qa.knowmemForgetIcl / knowmemRetainIcl;
 *                                       knowmemIcl (the few-shot pool KnowMem uses) = retain_qa_icl,
 *                                       else forget_qa_icl
 *   privleak/forget.json, retain.json (or retain2.json), holdout.json
 *                                       strings            -> eval.text.privleakForget / Retain / Holdout
 *
 * Which texts train and which the privacy attack sees: the target trains on raw/forget ∪ the raw
 * retain files, the oracle on the raw retain files; nothing in privleak/ is trained on. The
 * holdout split (never trained; the non-members of the membership-inference metrics, which
 * compare splits.forget with splits.holdout) is privleak/holdout.json when present — the
 * non-members MUSE's PrivLeak uses — else raw/holdout.json.
 *
 * Promises: raw/forget.json is required, every other file optional. Records are validated with
 * a DataError naming file, index and field; empty or whitespace-only strings (present in the real
 * raw files) are skipped and counted in a warning, never fatal. A folder without raw/ falls back
 * to lethe's flat MUSE-style folder (muse.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { QaItem, TextItem, VerbatimItem } from './items.ts';
import { loadMuse } from './muse.ts';
import { readRecords } from './records.ts';
import { emptyEval, emptySplit, type Task, validateTask } from './task.ts';

const RawText = z.union([z.string(), z.looseObject({ text: z.string() })], {
  error: 'must be a string or an object with a "text" string',
});
const Verbmem = z.looseObject({ prompt: z.string(), gt: z.string() });
const Knowmem = z.looseObject({ question: z.string(), answer: z.string() });

const blank = (s: string): boolean => s.trim() === '';

/** The first of `names` that exists under dir/sub, or undefined. */
function first(dir: string, sub: string, names: string[]): string | undefined {
  return names.map((n) => join(dir, sub, n)).find((p) => existsSync(p));
}

/** Load a MUSE folder: the released layout when it has raw/, else the flat MUSE-style folder. */
export async function loadMuseRelease(dir: string): Promise<Task> {
  if (!existsSync(join(dir, 'raw'))) {
    if (existsSync(join(dir, 'forget.json')) || existsSync(join(dir, 'forget.jsonl'))) return loadMuse(dir);
    throw new ConfigError('not a MUSE folder', {
      where: dir,
      expected: 'the released layout (raw/forget.json, verbmem/, knowmem/, privleak/)',
      found: existsSync(dir) ? 'no raw/ folder' : 'no such folder',
      hint: 'download muse-bench/MUSE-News or MUSE-Books from Hugging Face and name its folder',
    });
  }
  const warnings: string[] = [];
  const name =
    dir
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() || 'muse';

  const texts = async (path: string, prefix: string): Promise<TextItem[]> => {
    const records = await readRecords(path, RawText, { allowEmpty: true });
    const out: TextItem[] = [];
    let skipped = 0;
    for (const r of records) {
      const t = typeof r.value === 'string' ? r.value : r.value.text;
      if (blank(t)) skipped++;
      else out.push({ id: `${prefix}-${r.index}`, text: t });
    }
    if (skipped > 0)
      warnings.push(`${path}: skipped ${skipped} empty or whitespace-only texts of ${records.length}`);
    return out;
  };
  const qa = async (path: string | undefined, prefix: string): Promise<QaItem[] | undefined> => {
    if (path === undefined) return undefined;
    const records = await readRecords(path, Knowmem);
    const out = records
      .filter((r) => !blank(r.value.question) && !blank(r.value.answer))
      .map((r) => ({ id: `${prefix}-${r.index}`, question: r.value.question, answer: r.value.answer }));
    if (out.length < records.length)
      warnings.push(
        `${path}: skipped ${records.length - out.length} QA pairs with an empty question or answer`,
      );
    return out;
  };

  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  const forgetPath = first(dir, 'raw', ['forget.json']);
  if (forgetPath === undefined) {
    throw new ConfigError('MUSE folder without raw/forget.json', { where: join(dir, 'raw') });
  }
  splits.forget.text = await texts(forgetPath, 'raw-forget');
  const retainFiles = ['retain1.json', 'retain2.json'].map((n) => join(dir, 'raw', n)).filter(existsSync);
  if (retainFiles.length === 0 && existsSync(join(dir, 'raw', 'retain.json')))
    retainFiles.push(join(dir, 'raw', 'retain.json'));
  for (const path of retainFiles) {
    const base = path.split(/[\\/]/).pop()!.replace('.json', '');
    splits.retain.text.push(...(await texts(path, `raw-${base}`)));
  }
  if (retainFiles.length === 0)
    warnings.push('no raw/retain1.json, retain2.json or retain.json: no retain split');

  const evalSets = emptyEval();
  const privleak: [string[], string][] = [
    [['forget.json'], 'privleakForget'],
    [['retain.json', 'retain2.json'], 'privleakRetain'],
    [['holdout.json'], 'privleakHoldout'],
  ];
  for (const [names, set] of privleak) {
    const path = first(dir, 'privleak', names);
    if (path !== undefined) {
      const items = await texts(path, `privleak-${names[0].replace('.json', '')}`);
      if (items.length > 0) evalSets.text[set] = items;
    }
  }
  const rawHoldout = first(dir, 'raw', ['holdout.json']);
  if (evalSets.text.privleakHoldout) splits.holdout.text = evalSets.text.privleakHoldout;
  else if (rawHoldout) splits.holdout.text = await texts(rawHoldout, 'raw-holdout');

  const verbmem = first(dir, 'verbmem', ['forget.json']);
  if (verbmem !== undefined) {
    const records = await readRecords(verbmem, Verbmem);
    const items: VerbatimItem[] = records
      .filter((r) => !blank(r.value.prompt) && !blank(r.value.gt))
      .map((r) => ({ id: `verbmem-${r.index}`, prompt: r.value.prompt, continuation: r.value.gt }));
    if (items.length < records.length)
      warnings.push(`${verbmem}: skipped ${records.length - items.length} items with an empty prompt or gt`);
    if (items.length > 0) evalSets.verbatim.forget = items;
  }
  const knowmem: [string[], string][] = [
    [['forget_qa.json'], 'knowmemForget'],
    [['retain_qa.json', 'retain2_qa.json'], 'knowmemRetain'],
    [['forget_qa_icl.json'], 'knowmemForgetIcl'],
    [['retain_qa_icl.json', 'retain2_qa_icl.json'], 'knowmemRetainIcl'],
  ];
  for (const [names, set] of knowmem) {
    const items = await qa(first(dir, 'knowmem', names), set);
    if (items && items.length > 0) evalSets.qa[set] = items;
  }
  const icl = evalSets.qa.knowmemRetainIcl ?? evalSets.qa.knowmemForgetIcl;
  if (icl) evalSets.qa.knowmemIcl = icl;

  const task: Task = {
    name: `muse-${name}`,
    format: 'text',
    description: `MUSE (${name}): ${splits.forget.text.length} forget, ${splits.retain.text.length} retain, ${splits.holdout.text.length} holdout texts`,
    splits,
    eval: evalSets,
    idk: [],
    meta: {
      source: 'muse',
      layout: 'released',
      holdout: evalSets.text.privleakHoldout
        ? 'privleak/holdout.json'
        : rawHoldout
          ? 'raw/holdout.json'
          : null,
    },
  };
  if (warnings.length > 0) task.warnings = warnings;
  validateTask(task);
  return task;
}
