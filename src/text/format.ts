/**
 * How lethe turns benchmark items into token sequences — one format everywhere (target and
 * oracle training, unlearning, evaluation), so a model is always asked the way it was taught.
 * QA: the active prompt format's prompt (template.ts; by default "Question: {q}\nAnswer:") then
 * its answer (by default " {a}") and EOS, with the loss on the answer only.
 */
import type { QaItem, TextItem, TokenItem } from '../data/items.ts';
import type { Split } from '../data/task.ts';
import type { Example } from './batch.ts';
import { formatQaAnswer, formatQaPrompt } from './template.ts';
import type { Tokenizer } from './tokenizer/tokenizer.ts';

export const qaPrompt = (question: string): string => formatQaPrompt(question);
export const qaAnswer = (answer: string): string => formatQaAnswer(answer);

/** Prompt + answer as an example scored on the answer (and EOS, when the tokenizer has one). */
export function qaExample(tok: Tokenizer, question: string, answer: string, withEos = true): Example {
  const prompt = tok.encode(qaPrompt(question), { addSpecialTokens: true });
  const ans = tok.encode(qaAnswer(answer), { addSpecialTokens: false });
  const eos = withEos && tok.eosId !== undefined ? [tok.eosId] : [];
  return { ids: [...prompt, ...ans, ...eos], start: prompt.length };
}

export function textExample(tok: Tokenizer, item: TextItem, maxLen: number): Example {
  const eos = tok.eosId !== undefined ? [tok.eosId] : [];
  return { ids: [...tok.encode(item.text, { addSpecialTokens: true }), ...eos].slice(0, maxLen), start: 1 };
}

export const tokenExample = (item: TokenItem, maxLen: number): Example => ({
  ids: item.tokens.slice(0, maxLen),
  start: 1,
});

/** Every item of a split as a training example (QA, then text, then tokens), cut to maxLen tokens. */
export function splitExamples(tok: Tokenizer, split: Split, maxLen: number): Example[] {
  return [
    ...split.qa.map((q: QaItem) => qaExample(tok, q.question, q.answer)),
    ...split.text.map((t) => textExample(tok, t, maxLen)),
    ...split.tokens.map((t) => tokenExample(t, maxLen)),
  ].map((e) =>
    e.ids.length > maxLen ? { ids: e.ids.slice(0, maxLen), start: Math.min(e.start, maxLen - 1) } : e,
  );
}
