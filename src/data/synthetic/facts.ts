/**
 * One fact rendered as a QA item for the truth ratio: a question and an answer worded by one
 * template each, a paraphrased question and answer worded by *different* templates, and perturbed
 * answers that are the paraphrased answer's template filled with wrong values of the same kind
 * (or, with oneWording, the answer's own template and no paraphrased answer).
 * Promises: the paraphrase templates differ from the main ones; every perturbed value differs from
 * the true value and from each other and satisfies the kind's `is`; the same Rng state gives the
 * same item. The fact keeps its value and perturbed values so tests and MCQ sets can use them.
 */
import type { Rng } from '../../tensor/rng.ts';
import type { McqItem, QaItem } from '../items.ts';
import { KINDS, type KindName } from './kinds.ts';
import { distinctDraws, twoIndices } from './random.ts';

export interface Fact {
  item: QaItem;
  /** What the fact is about (a person's name, a place, a story title). */
  subject: string;
  attribute: string;
  kind: KindName;
  value: string;
  perturbedValues: string[];
}

export interface FactSpec {
  subject: string;
  attribute: string;
  kind: KindName;
  value: string;
  /** At least two wordings of the question. */
  questions: string[];
  /** At least two wordings of the answer, each given the value to state. */
  answers: ((value: string) => string)[];
  /** Draw a wrong value; defaults to the kind's draw. */
  drawWrong?: (rng: Rng) => string;
}

/**
 * `oneWording`: the perturbed answers use the answer's own template and no paraphrased answer is
 * given — for sets scored by the normalised probability of the answer among the options (world
 * facts, as TOFU does), where a different wording would favour or penalise the true answer.
 */
export function renderFact(
  rng: Rng,
  id: string,
  spec: FactSpec,
  perturbed: number,
  opts: { oneWording?: boolean } = {},
): Fact {
  if (spec.questions.length < 2 || spec.answers.length < 2) {
    throw new Error(`fact ${spec.attribute} needs two question and two answer templates`);
  }
  const [q, pq] = twoIndices(rng, spec.questions.length);
  const [a, pa] = twoIndices(rng, spec.answers.length);
  const draw = spec.drawWrong ?? ((r: Rng) => KINDS[spec.kind].draw(r));
  const wrong = distinctDraws(() => draw(rng), perturbed, [spec.value]);
  const item: QaItem = {
    id,
    question: spec.questions[q],
    answer: spec.answers[a](spec.value),
    paraphrasedQuestion: spec.questions[pq],
    ...(opts.oneWording ? {} : { paraphrasedAnswer: spec.answers[pa](spec.value) }),
  };
  const optionTemplate = spec.answers[opts.oneWording ? a : pa];
  if (perturbed > 0) item.perturbedAnswers = wrong.map((w) => optionTemplate(w));
  return {
    item,
    subject: spec.subject,
    attribute: spec.attribute,
    kind: spec.kind,
    value: spec.value,
    perturbedValues: wrong,
  };
}

/** A four-way (or fewer) multiple-choice item from a fact: the value and up to 3 perturbed values. */
export function factMcq(rng: Rng, fact: Fact, id: string): McqItem {
  const choices = [fact.value, ...fact.perturbedValues.slice(0, 3)];
  rng.shuffle(choices);
  return { id, question: fact.item.question, choices, answer: choices.indexOf(fact.value) };
}
