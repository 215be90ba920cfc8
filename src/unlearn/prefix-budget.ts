/**
 * The token budget of an input transform's prefix (icul, guardrail): what the model's context
 * leaves beside a typical query, and the token counts it is computed from.
 */
import type { Task } from '../data/task.ts';
import { ConfigError } from '../errors.ts';
import { qaExample } from '../text/format.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { MethodContext } from './types.ts';

// Room kept after a typical QA example for a generated answer when `reserve` is not given.
const GENERATION_HEADROOM = 32;

/** The value at quantile q of `xs` (the smallest value with at least q of them at or below it). */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/**
 * Tokens a transform's prefix may take: the model's context length minus `reserve`, the room left
 * for the query, its answer and generation. Default reserve: the 90th percentile of `qaLengths`
 * (the task's QA examples in tokens) plus GENERATION_HEADROOM — the longest outliers would starve
 * every query of context; prompted.ts shortens the prefix of the few queries that do not fit.
 * Without QA data, half the context. An explicit reserve must leave room; a default one that does
 * not (a model whose context barely holds a QA pair) still gives a transform, with a warning: its
 * prefix is cut at evaluation, which is the honest result of asking such a model.
 */
export function prefixBudget(
  ctx: Pick<MethodContext<unknown>, 'model' | 'log'>,
  name: string,
  reserve: number | undefined,
  qaLengths: number[],
): number {
  const max = ctx.model.maxPositions;
  if (reserve !== undefined && reserve >= max) {
    throw new ConfigError(`${name}: no room for a prefix in the model's context`, {
      expected: `reserve below the context length ${max}`,
      found: `reserve ${reserve}`,
    });
  }
  const room =
    reserve ?? (qaLengths.length > 0 ? quantile(qaLengths, 0.9) + GENERATION_HEADROOM : Math.floor(max / 2));
  if (room >= max) {
    ctx.log(
      `the model's context (${max} tokens) leaves no room for a prefix beside a typical query ` +
        `(${room} tokens reserved); prefixes will be cut at evaluation`,
    );
  }
  return Math.max(1, max - room);
}

export const encodedLength = (tok: Tokenizer, text: string, special = false) =>
  tok.encode(text, { addSpecialTokens: special }).length;

/** Lengths in tokens of the task's forget and retain QA examples (the queries a transform will meet). */
export const qaLengths = (tok: Tokenizer, task: Task): number[] =>
  [...task.splits.forget.qa, ...task.splits.retain.qa].map(
    (q) => qaExample(tok, q.question, q.answer).ids.length,
  );
