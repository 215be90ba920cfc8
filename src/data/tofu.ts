/**
 * TOFU (Maini et al. 2024, arXiv 2401.06121) from a folder laid out as ../shared/datasets/tofu:
 * forgetNN(.jsonl, _perturbed.jsonl), retainMM, retain_perturbed, holdoutNN, real_authors(+_perturbed),
 * world_facts(+_perturbed), idontknow.txt. The data is read from that folder at run time.
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

/** Rows of full.jsonl, from which forget (the last rows) and retain (the first rows) are cut. */
const TOFU_FULL_ROWS = 4000;

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

/** Load one TOFU forget split with its retain complement, holdout and evaluation sets. */
export async function loadTofu(dir: string, options: TofuOptions): Promise<Task> {
  const { split } = options;
  if (!TOFU_SPLITS.includes(split)) {
    throw new ConfigError('unknown TOFU split', { expected: TOFU_SPLITS.join(', '), found: String(split) });
  }
  const pct = Number(split.slice(-2));
  const nn = split.slice(-2);
  const mm = String(100 - pct);
  const file = (name: string): string => join(dir, name);

  const forgetRows = await readRecords(file(`forget${nn}.jsonl`), PlainQa);
  const forgetPerturbed = await readRecords(file(`forget${nn}_perturbed.jsonl`), PerturbedQa);
  const retainRows = await readRecords(file(`retain${mm}.jsonl`), PlainQa);
  const retainPerturbed = await readRecords(file('retain_perturbed.jsonl'), PerturbedQa);
  const holdoutRows = await readRecords(file(`holdout${nn}.jsonl`), PlainQa);

  const expectedForget = (TOFU_FULL_ROWS * pct) / 100;
  if (forgetRows.length !== expectedForget || retainRows.length !== TOFU_FULL_ROWS - expectedForget) {
    throw new DataError(`TOFU ${split} has unexpected sizes`, {
      where: dir,
      expected: `${expectedForget} forget and ${TOFU_FULL_ROWS - expectedForget} retain rows`,
      found: `${forgetRows.length} forget and ${retainRows.length} retain rows`,
    });
  }
  if (forgetPerturbed.length !== forgetRows.length) {
    throw new DataError(`forget${nn}_perturbed.jsonl does not match forget${nn}.jsonl`, {
      where: file(`forget${nn}_perturbed.jsonl`),
      expected: `${forgetRows.length} records`,
      found: `${forgetPerturbed.length}`,
    });
  }
  if (retainPerturbed.length > retainRows.length) {
    throw new DataError('retain_perturbed.jsonl is longer than the retain split', {
      where: file('retain_perturbed.jsonl'),
      expected: `at most ${retainRows.length} records`,
      found: `${retainPerturbed.length}`,
    });
  }

  const retainOffset = retainRows.length;
  const forget: QaItem[] = forgetRows.map((r, i) =>
    withPerturbations({ id: `tofu-${retainOffset + i}`, ...r.value }, forgetPerturbed[i], r.where),
  );
  const retain: QaItem[] = retainRows.map((r) => ({ id: `tofu-${r.index}`, ...r.value }));
  for (const p of retainPerturbed)
    retain[p.index] = withPerturbations(retain[p.index], p, retainRows[p.index].where);
  const holdout: QaItem[] = holdoutRows.map((r) => ({ id: `tofu-holdout-${r.index}`, ...r.value }));

  const realAuthors = await readRecords(file('real_authors.jsonl'), OptionsQa);
  const realAuthorsPerturbed = await readRecords(file('real_authors_perturbed.jsonl'), WorldPerturbed);
  const worldFacts = await readRecords(file('world_facts.jsonl'), OptionsQa);
  const worldFactsPerturbed = await readRecords(file('world_facts_perturbed.jsonl'), WorldPerturbed);

  const evalSets = emptyEval();
  evalSets.qa.retainPerturbed = retain.slice(0, retainPerturbed.length);
  evalSets.qa.realAuthors = worldQa(realAuthorsPerturbed, 'tofu-real-authors');
  evalSets.qa.worldFacts = worldQa(worldFactsPerturbed, 'tofu-world-facts');
  evalSets.mcq.realAuthors = worldMcq(realAuthors, 'tofu-real-authors');
  evalSets.mcq.worldFacts = worldMcq(worldFacts, 'tofu-world-facts');

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
    idk: await readLines(file('idontknow.txt')),
    meta: { source: 'tofu', split, license: 'MIT (c) 2024 CMU Locus Lab' },
  };
  validateTask(task);
  return task;
}
