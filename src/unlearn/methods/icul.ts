/**
 * icul, in-context unlearning (Pawelczyk et al., arXiv:2310.07579): an input-based method that
 * changes only what the model is asked, never its weights. Each query is preceded by the forget
 * example it asks about with a wrong label, then s − 1 correctly labelled retain examples, in
 * lethe's QA format. It returns a transform fully described by its JSON (see prompted.ts), built
 * deterministically from the task, the arguments and the seed, and fitted to the model's context
 * length (prefix-budget.ts).
 */
import { z } from 'zod';
import type { QaItem } from '../../data/items.ts';
import { ConfigError } from '../../errors.ts';
import { Rng } from '../../tensor/index.ts';
import { normaliseText, qaShot, questionKey, SHOT_SEPARATOR } from '../../text/format.ts';
import { inputMethod } from '../define.ts';
import { encodedLength, prefixBudget, qaLengths, quantile } from '../prefix-budget.ts';
import { type IculJson, transformFromJson } from '../prompted.ts';

/** A wrong answer for `item`: one of its perturbed answers, else another item's answer. */
function wrongLabel(item: QaItem, pool: readonly string[], rng: Rng): string {
  const perturbed = item.perturbedAnswers ?? [];
  if (perturbed.length > 0) return perturbed[rng.int(0, perturbed.length)];
  const others = pool.filter((a) => normaliseText(a) !== normaliseText(item.answer));
  // A task whose every answer is this one has no wrong label to give; say so plainly.
  if (others.length === 0) {
    throw new ConfigError('icul: no wrong answer available for a forget item', {
      where: `forget item ${item.id}`,
      hint: 'give forget items perturbedAnswers, or add items with other answers',
    });
  }
  return others[rng.int(0, others.length)];
}

/**
 * How many correct examples fit beside a flipped forget example of `forgetPiece` tokens: the
 * largest k ≤ wanted with forget + (the worst k of the first k + 1 retain examples: a query that
 * is one of them gets the spare instead) within `budget`; −1 when none does. Pieces are counted
 * one by one, plus one token per piece for merges across their boundaries and the prefix's
 * special tokens, so the count never falls short.
 */
function fitRetainShots(
  forgetPiece: number,
  retainPieces: number[],
  wanted: number,
  special: number,
  budget: number,
): number {
  for (let k = Math.min(wanted, retainPieces.length); k >= 0; k--) {
    const used = retainPieces.slice(0, k + 1);
    const total = used.reduce((s, n) => s + n, 0);
    const worst = used.length > k ? total - Math.min(...used) : total;
    if (forgetPiece + worst + (k + 1) + special <= budget) return k;
  }
  return -1;
}

export const icul = inputMethod({
  name: 'icul',
  summary:
    'In-context unlearning: each query is preceded by the forget example it asks about with a wrong label, then s−1 correctly labelled retain examples; no weight changes.',
  paper: 'Pawelczyk et al. 2023, arXiv:2310.07579',
  supports: ['qa'],
  needs: {},
  args: z.object({
    /** s: context examples per query (one flipped forget example + s − 1 correct ones). */
    shots: z.number().int().positive().default(4),
    /** Seed of the wrong-label and retain-example choice (default: the run's seed). */
    seed: z.number().int().optional(),
    /**
     * Context of a query that matches no forget question: 'retain' (default) gives only the s − 1
     * correct examples, so retain and holdout answers are judged with a plain few-shot prompt and
     * utility loss measures the method, not a mislabelled example; 'forget' adds a flipped forget
     * example chosen by the query's hash, as a deployment that cannot route queries would.
     */
    unmatched: z.enum(['retain', 'forget']).default('retain'),
    /** Tokens kept free for the query, its answer and generation (default: 90th-percentile QA example + 32). */
    reserve: z.number().int().positive().optional(),
  }),
  transform(ctx) {
    const { args, task, tokenizer: tok } = ctx;
    const forgetQa = task.splits.forget.qa;
    if (forgetQa.length === 0) {
      throw new ConfigError('icul needs question–answer forget items', {
        where: `task ${task.name}`,
        found: 'a forget split without QA items',
        hint: 'use a QA task, or guardrail for text forget sets',
      });
    }
    const rng = new Rng(args.seed ?? ctx.seed);
    const pool = [...forgetQa, ...task.splits.retain.qa].map((q) => q.answer);
    const forget: IculJson['forget'] = forgetQa.map((f) => ({
      match: [f.question, ...(f.paraphrasedQuestion ? [f.paraphrasedQuestion] : [])],
      question: f.question,
      answer: wrongLabel(f, pool, rng),
    }));
    // s − 1 correct examples plus one spare, fixed for every query (the JSON stores them), never
    // one that reads as a forget question.
    const forgetKeys = new Set(forget.flatMap((f) => f.match.map(questionKey)));
    const candidates = task.splits.retain.qa.filter((r) => !forgetKeys.has(questionKey(r.question)));
    const order = rng.shuffle(candidates.map((_, i) => i)).slice(0, args.shots);
    const chosen = order.map((i) => ({ question: candidates[i].question, answer: candidates[i].answer }));
    if (args.shots > 1 && chosen.length < args.shots - 1)
      ctx.log(`only ${chosen.length} retain QA items for ${args.shots - 1} correct examples`);

    const budget = prefixBudget(ctx, 'icul', args.reserve, qaLengths(tok, task));
    const piece = (q: { question: string; answer: string }) =>
      encodedLength(tok, qaShot(q.question, q.answer) + SHOT_SEPARATOR);
    const special = encodedLength(tok, '', true);
    // Fitted for the 90th-percentile flipped example, like the reserve: an outlier forget item
    // should not cost every query its context. Longer ones lose retain examples at evaluation.
    const forgetPieces = forget.map(piece);
    const k = fitRetainShots(quantile(forgetPieces, 0.9), chosen.map(piece), args.shots - 1, special, budget);
    const retainShots = Math.max(0, k);
    if (retainShots < Math.min(args.shots - 1, chosen.length))
      ctx.log(`context length allows ${retainShots} of ${args.shots - 1} correct examples; dropped the rest`);
    const over = forgetPieces.filter((n) => fitRetainShots(n, [], 0, special, budget) < 0).length;
    if (over > 0)
      ctx.log(`${over} flipped forget examples exceed the context budget; they are cut at evaluation`);
    const spec: IculJson = {
      kind: 'icul',
      version: 1,
      shots: args.shots,
      retainShots,
      unmatched: args.unmatched,
      forget,
      // The spare is only needed when there are examples to stand in for.
      retain: chosen.slice(0, retainShots > 0 ? retainShots + 1 : 0),
    };
    return transformFromJson(spec, 'icul transform');
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const iculMethods = [icul];
