/**
 * How lethe turns benchmark items into token sequences — one format everywhere (target and
 * oracle training, unlearning, evaluation), so a model is always asked the way it was taught.
 * QA: the active prompt format's prompt (template.ts; by default "Question: {q}\nAnswer:") then
 * its answer (by default " {a}") and EOS, with the loss on the answer only. Also the few-shot
 * form (qaShot, SHOT_SEPARATOR) used by in-context prompts and the text normalisation questions
 * are matched by (normaliseText, questionKey).
 */
import type { QaItem, TextItem, TokenItem } from '../data/items.ts';
import type { Split } from '../data/task.ts';
import type { Example } from './batch.ts';
import { spanBlocks } from './blocks.ts';
import { formatQaAnswer, formatQaPrompt } from './template.ts';
import type { Tokenizer } from './tokenizer/tokenizer.ts';

export const qaPrompt = (question: string): string => formatQaPrompt(question);
export const qaAnswer = (answer: string): string => formatQaAnswer(answer);

/** One few-shot example in lethe's QA format (what qaExample trains on, minus EOS). */
export const qaShot = (question: string, answer: string): string => qaPrompt(question) + qaAnswer(answer);

/** Separator between in-context examples, and between the context and the query. */
export const SHOT_SEPARATOR = '\n\n';

/** Case-, width- and whitespace-insensitive form used for every match (queries and patterns). */
export const normaliseText = (s: string): string =>
  s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/** The key a question is matched by: normalised, trailing punctuation dropped. */
export const questionKey = (q: string): string => normaliseText(q).replace(/[\s?.!]+$/, '');

/** Prompt + answer as an example scored on the answer (and EOS, when the tokenizer has one). */
export function qaExample(tok: Tokenizer, question: string, answer: string, withEos = true): Example {
  const prompt = tok.encode(qaPrompt(question), { addSpecialTokens: true });
  const ans = tok.encode(qaAnswer(answer), { addSpecialTokens: false });
  const eos = withEos && tok.eosId !== undefined ? [tok.eosId] : [];
  return { ids: [...prompt, ...ans, ...eos], start: prompt.length };
}

/** A document scored on every token after the first (+EOS); split into blocks by splitExamples. */
export function textExample(tok: Tokenizer, item: TextItem): Example {
  const eos = tok.eosId !== undefined ? [tok.eosId] : [];
  return { ids: [...tok.encode(item.text, { addSpecialTokens: true }), ...eos], start: 1 };
}

export const tokenExample = (item: TokenItem): Example => ({ ids: item.tokens, start: 1 });

export interface SplitExampleOptions {
  /** Block stride for documents longer than maxLen (default half of maxLen; see text/blocks.ts). */
  stride?: number;
  /** Where a warning about a shortened QA example goes (default stderr). */
  warn?: (message: string) => void;
}

/**
 * Every item of a split as training examples (QA, then text, then tokens). Texts and token
 * sequences longer than maxLen become context-sized overlapping blocks (every token trained on,
 * see text/blocks.ts); a QA example longer than maxLen keeps its end, with a warning saying how
 * many tokens were cut.
 */
export function splitExamples(
  tok: Tokenizer,
  split: Split,
  maxLen: number,
  opts: SplitExampleOptions = {},
): Example[] {
  let cutItems = 0;
  let cutTokens = 0;
  const qa = split.qa.map((q: QaItem) => {
    const e = qaExample(tok, q.question, q.answer);
    if (e.ids.length <= maxLen) return e;
    cutItems++;
    cutTokens += e.ids.length - maxLen;
    const drop = e.ids.length - maxLen;
    return { ids: e.ids.slice(drop), start: Math.max(1, e.start - drop) };
  });
  if (cutItems > 0) {
    (opts.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(
      `${cutItems} QA example(s) longer than the context (${maxLen} tokens) lost ${cutTokens} token(s) from the front of their prompts`,
    );
  }
  const docs = [...split.text.map((t) => textExample(tok, t)), ...split.tokens.map(tokenExample)];
  return [...qa, ...docs.flatMap((d) => spanBlocks(d, maxLen, opts.stride))];
}
