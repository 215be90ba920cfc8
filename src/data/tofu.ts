/**
 * TOFU (Maini et al. 2024, arXiv 2401.06121) from a folder of its released files, unchanged: the
 * Hugging Face dataset locuslab/TOFU ships forgetNN.json, forgetNN_perturbed.json, retainMM.json,
 * retain_perturbed.json, holdoutNN.json, real_authors(_perturbed).json, world_facts(_perturbed).json
 * — JSON Lines despite the `.json` name — and GitHub locuslab/tofu data/idontknow.jsonl (one refusal
 * per line). Each file may also be named `.jsonl` (as in ../shared/datasets/tofu) and idontknow may
 * be `.txt`. Only forgetNN and retainMM are required; the perturbed files, holdout, the real-world
 * sets and the refusals are used when present (and `lethe task show` warns about what is missing).
 *
 * Promises, for `split` forget01 / forget05 / forget10:
 * - splits.forget.qa = forgetNN, each item carrying paraphrasedQuestion, paraphrasedAnswer and the 5
 *   perturbedAnswers of forgetNN_perturbed (checked to be the same questions in the same order);
 *   splits.retain.qa = retainMM (MM = 100 - NN), the first 400 items carrying retain_perturbed's
 *   perturbations (checked likewise); splits.holdout.qa = holdoutNN (authors never in full.jsonl).
 * - ids follow the row of TOFU's full.jsonl ("tofu-<row>": retain is rows 0..MM, forget the last
 *   rows), so an item keeps its id across forget01/05/10; holdout ids are "tofu-holdout-<i>".
 * - eval.qa.retainPerturbed (400), eval.qa.realAuthors (100) and eval.qa.worldFacts (117) carry
 *   answer + perturbedAnswers (3 for the real-world sets, whose truth ratio uses the original
 *   answer); eval.mcq.realAuthors / worldFacts are the 4-option versions; idk = idontknow.txt.
 * - every file is validated strictly with TOFU's own field names: a DataError names file, line, field.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../errors.ts';
import type { McqItem, QaItem } from './items.ts';
import { mcqFromOptions } from './mcq.ts';
import { type Located, readLines, readRecords } from './records.ts';
import { emptyEval, emptySplit, type Task, validateTask } from './task.ts';

export type TofuSplit = 'forget01' | 'forget05' | 'forget10';
export const TOFU_SPLITS: readonly TofuSplit[] = ['forget01', 'forget05', 'forget10'];

export interface TofuOptions {
  split: TofuSplit;
}

const str = z.string().min(1);
const PlainQa = z.strictObject({ question: str, answer: str });
const PerturbedQa = z.strictObject({
  question: str,
  answer: str,
  paraphrased_answer: str,
  perturbed_answer: z.array(str).min(1),
  paraphrased_question: str,
});
const OptionsQa = z.strictObject({
  question: str,
  option1: str,
  option2: str,
  option3: str,
  option4: str,
  answer: str,
});
const WorldPerturbed = z.strictObject({ question: str, answer: str, perturbed_answer: z.array(str).min(1) });

function withPerturbations(base: QaItem, p: Located<z.infer<typeof PerturbedQa>>, baseWhere: string): QaItem {
  if (p.value.question !== base.question || p.value.answer !== base.answer) {
    const field = p.value.question !== base.question ? 'question' : 'answer';
    throw new DataError('TOFU perturbed file does not match its split', {
      where: `${p.where}, field ${field}`,
      expected: `the same question and answer as ${baseWhere}`,
      found: JSON.stringify(p.value[field]).slice(0, 80),
    });
  }
  return {
    ...base,
    paraphrasedQuestion: p.value.paraphrased_question,
    paraphrasedAnswer: p.value.paraphrased_answer,
    perturbedAnswers: p.value.perturbed_answer,
  };
}

function worldQa(perturbed: Located<z.infer<typeof WorldPerturbed>>[], prefix: string): QaItem[] {
  return perturbed.map((r) => ({
    id: `${prefix}-${r.index}`,
    question: r.value.question,
    answer: r.value.answer,
    perturbedAnswers: r.value.perturbed_answer,
  }));
}

function worldMcq(rows: Located<z.infer<typeof OptionsQa>>[], prefix: string): McqItem[] {
  return rows.map((r) => {
    const v = r.value;
    return mcqFromOptions(
      `${prefix}-${r.index}`,
      v.question,
      [v.option1, v.option2, v.option3, v.option4],
      v.answer,
      r.where,
    );
  });
}

/** The path of `<base>.json` or `<base>.jsonl` (or another listed extension) in dir, or undefined. */
function tofuFile(dir: string, base: string, exts = ['.json', '.jsonl']): string | undefined {
  const found = exts.map((e) => join(dir, base + e)).filter((p) => existsSync(p));
  if (found.length > 1) {
    throw new ConfigError(`two files for TOFU's ${base}`, {
      where: dir,
      expected: 'one of them',
      found: found.join(', '),
    });
  }
  return found[0];
}

/** A refusal file: plain lines, or JSON Lines of strings (idontknow.jsonl as released). */
async function readRefusals(path: string): Promise<string[]> {
  return (await readLines(path)).map((line) => {
    if (!line.startsWith('"')) return line.trim();
    try {
      const v: unknown = JSON.parse(line);
      return typeof v === 'string' ? v.trim() : line.trim();
    } catch {
      return line.trim();
    }
  });
}

/** Load one TOFU forget split with its retain complement, holdout and evaluation sets. */
export async function loadTofu(dir: string, options: TofuOptions): Promise<Task> {
  const { split } = options;
  if (!TOFU_SPLITS.includes(split)) {
    throw new ConfigError('unknown TOFU split', { expected: TOFU_SPLITS.join(', '), found: String(split) });
  }
  const pct = Number(split.slice(-2));
  const nn = split.slice(-2);
  const mm = String(100 - pct);
  const warnings: string[] = [];
  const required = (base: string): string => {
    const path = tofuFile(dir, base);
    if (path === undefined) {
      throw new ConfigError(`TOFU file ${base}.json not found`, {
        where: dir,
        expected: `${base}.json (or ${base}.jsonl) from the released dataset locuslab/TOFU`,
        found: existsSync(dir) ? 'no such file' : 'no such folder',
      });
    }
    return path;
  };
  const optional = async <T>(base: string, schema: z.ZodType<T>, why: string): Promise<Located<T>[]> => {
    const path = tofuFile(dir, base);
    if (path !== undefined) return readRecords(path, schema);
    warnings.push(`no ${base}.json: ${why}`);
    return [];
  };

  const forgetRows = await readRecords(required(`forget${nn}`), PlainQa);
  const forgetPerturbed = await optional(
    `forget${nn}_perturbed`,
    PerturbedQa,
    'forget items have no paraphrased/perturbed answers (no truth ratio)',
  );
  const retainRows = await readRecords(required(`retain${mm}`), PlainQa);
  const retainPerturbed = await optional(
    'retain_perturbed',
    PerturbedQa,
    'retain items have no perturbed answers (no retain truth ratio)',
  );
  const holdoutRows = await optional(`holdout${nn}`, PlainQa, 'no holdout split (no membership inference)');
  const forgetPerturbedPath = tofuFile(dir, `forget${nn}_perturbed`) ?? '';

  if (forgetPerturbed.length > 0 && forgetPerturbed.length !== forgetRows.length) {
    throw new DataError(`forget${nn}_perturbed does not match forget${nn}`, {
      where: forgetPerturbedPath,
      expected: `${forgetRows.length} records`,
      found: `${forgetPerturbed.length}`,
    });
  }
  if (retainPerturbed.length > retainRows.length) {
    throw new DataError('retain_perturbed is longer than the retain split', {
      where: tofuFile(dir, 'retain_perturbed'),
      expected: `at most ${retainRows.length} records`,
      found: `${retainPerturbed.length}`,
    });
  }

  const retainOffset = retainRows.length;
  const forget: QaItem[] = forgetRows.map((r, i) => {
    const item = { id: `tofu-${retainOffset + i}`, ...r.value };
    return forgetPerturbed.length > 0 ? withPerturbations(item, forgetPerturbed[i], r.where) : item;
  });
  const retain: QaItem[] = retainRows.map((r) => ({ id: `tofu-${r.index}`, ...r.value }));
  for (const p of retainPerturbed)
    retain[p.index] = withPerturbations(retain[p.index], p, retainRows[p.index].where);
  const holdout: QaItem[] = holdoutRows.map((r) => ({ id: `tofu-holdout-${r.index}`, ...r.value }));

  const realWhy = 'no real-world control set of this kind';
  const realAuthors = await optional('real_authors', OptionsQa, realWhy);
  const realAuthorsPerturbed = await optional('real_authors_perturbed', WorldPerturbed, realWhy);
  const worldFacts = await optional('world_facts', OptionsQa, realWhy);
  const worldFactsPerturbed = await optional('world_facts_perturbed', WorldPerturbed, realWhy);

  const evalSets = emptyEval();
  const put = <T>(group: Record<string, T[]>, name: string, items: T[]) => {
    if (items.length > 0) group[name] = items;
  };
  put(evalSets.qa, 'retainPerturbed', retain.slice(0, retainPerturbed.length));
  put(evalSets.qa, 'realAuthors', worldQa(realAuthorsPerturbed, 'tofu-real-authors'));
  put(evalSets.qa, 'worldFacts', worldQa(worldFactsPerturbed, 'tofu-world-facts'));
  put(evalSets.mcq, 'realAuthors', worldMcq(realAuthors, 'tofu-real-authors'));
  put(evalSets.mcq, 'worldFacts', worldMcq(worldFacts, 'tofu-world-facts'));
  const idkPath = tofuFile(dir, 'idontknow', ['.jsonl', '.txt']);
  if (idkPath === undefined) warnings.push('no idontknow.jsonl: refusal-based methods (IDK) have no answers');

  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  splits.forget.qa = forget;
  splits.retain.qa = retain;
  splits.holdout.qa = holdout;

  const task: Task = {
    name: `tofu-${split}`,
    format: 'qa',
    description: `TOFU ${split}: forget ${forget.length} QA (${pct}% of 200 fictitious authors), retain ${retain.length}, holdout ${holdout.length}`,
    splits,
    eval: evalSets,
    idk: idkPath === undefined ? [] : await readRefusals(idkPath),
    meta: { source: 'tofu', split, license: 'MIT (c) 2024 CMU Locus Lab' },
  };
  if (warnings.length > 0) task.warnings = warnings;
  validateTask(task);
  return task;
}
