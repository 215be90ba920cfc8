/**
 * Building blocks shared by the metric files: which items a benchmark role maps to, the scored
 * requests of QA, text and token items (so every metric asks the ModelEval cache the same
 * questions), per-item series, and the greedy answers of QA items.
 */
import type { QaItem } from '../../data/items.ts';
import type { SplitName, Task } from '../../data/task.ts';
import { Rng } from '../../tensor/index.ts';
import { qaPrompt } from '../../text/format.ts';
import type { ScoreRequest } from '../../text/score.ts';
import { meanInterval } from '../intervals.ts';
import type { ModelEval, TextGeneration } from '../model-eval.ts';
import { hashString } from '../string-hash.ts';
import { finiteMean } from '../truth-ratio.ts';
import type { MetricOutput, Series } from '../types.ts';
import { primaryPart } from './registry.ts';

/** Stop a QA answer where the model would start a new question (it was trained to end with EOS). */
export const QA_STOP = ['\nQuestion:'];

export const jsonNumber = (x: number): number | null => (Number.isFinite(x) ? x : null);

export const series = (ids: readonly string[], values: readonly number[]): Series => ({
  ids: [...ids],
  values: values.map(jsonNumber),
});

/**
 * The aggregate of per-item values: their finite mean with its bootstrap interval over the items
 * (intervals.ts), with a count of left-out (NaN) items in extra. No finite value at all gives value null and says why.
 */
export function meanOutput(
  name: string,
  ids: readonly string[],
  values: readonly number[],
  extra: MetricOutput['extra'] = {},
): MetricOutput {
  const m = finiteMean(values);
  const out: MetricOutput = {
    value: jsonNumber(m.mean),
    ci: meanInterval(ids, values),
    perItem: { [name]: series(ids, values) },
    extra: { ...extra, items: m.used },
  };
  if (m.excluded > 0) out.extra!.excludedItems = m.excluded;
  if (m.used === 0) out.extra!.note = 'no item gave a finite value';
  return out;
}

/**
 * Indices 0…count−1, or a sorted subset of `cap` of them drawn from a seeded Rng (seed ⊕ hash(tag)),
 * for metrics that cost a backward pass or many generations per item.
 */
export function sampleIndices(count: number, cap: number, seed: number, tag: string): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (count <= cap) return all;
  return new Rng((seed ^ hashString(tag)) | 0)
    .shuffle(all)
    .slice(0, cap)
    .sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Benchmark roles -> QA sets

export type TofuRole = 'forget' | 'retain' | 'realAuthors' | 'worldFacts';

export interface QaSet {
  /** Where the items came from ('split.forget.qa', 'eval.qa.realAuthors', ...). */
  source: string;
  items: QaItem[];
}

/**
 * TOFU's sets: forget = the forget split's QA (which carries its own paraphrases/perturbations);
 * retain = eval qa.retainPerturbed, else the retain split's QA; real authors / world facts =
 * eval qa.realAuthors / qa.worldFacts. A missing set gives a reason instead.
 */
export function tofuSet(task: Task, role: TofuRole): QaSet | { missing: string } {
  const evalSet = (name: string): QaSet | null => {
    const items = task.eval.qa[name];
    return items && items.length > 0 ? { source: `eval.qa.${name}`, items } : null;
  };
  switch (role) {
    case 'forget':
      return task.splits.forget.qa.length > 0
        ? { source: 'split.forget.qa', items: task.splits.forget.qa }
        : { missing: 'the forget split has no QA items' };
    case 'retain':
      return (
        evalSet('retainPerturbed') ??
        (task.splits.retain.qa.length > 0
          ? { source: 'split.retain.qa', items: task.splits.retain.qa }
          : { missing: 'no eval set qa.retainPerturbed and no retain QA' })
      );
    case 'realAuthors':
      return evalSet('realAuthors') ?? { missing: 'no eval set qa.realAuthors' };
    case 'worldFacts':
      return evalSet('worldFacts') ?? { missing: 'no eval set qa.worldFacts' };
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Answer-scored requests for (question, answer text) pairs in lethe's QA format (with EOS). */
export const qaAnswerRequests = (me: ModelEval, pairs: readonly { question: string; answer: string }[]) =>
  me.qaRequests(pairs.map((p) => ({ prompt: qaPrompt(p.question), answer: p.answer })));

/** Mean NLL per request (NaN for a request with no scored token). */
export function meanNlls(me: ModelEval, requests: readonly ScoreRequest[]): number[] {
  return me.score(requests).map((s) => {
    if (s.logProbs.length === 0) return Number.NaN;
    let t = 0;
    for (const x of s.logProbs) t -= x;
    return t / s.logProbs.length;
  });
}

/** Greedy answers to QA questions (qaMaxNewTokens, stopping at EOS or a new "Question:"), trimmed. */
export function greedyAnswers(me: ModelEval, questions: readonly string[]): TextGeneration[] {
  return me
    .generateText(questions.map(qaPrompt), me.options.qaMaxNewTokens, QA_STOP)
    .map((g) => ({ ...g, text: g.text.trim() }));
}

/**
 * The sequences of a split used for membership inference and memorisation, in the task's own
 * format (else the first non-empty part): QA pairs scored on the answer (+EOS), texts and token
 * sequences on every token after the first. `text` is what the zlib score compresses (the answer,
 * the document, the decoded tokens). `memStart` is where EM/ES start: the answer, the whole text,
 * or the suffix after a token item's prefix.
 */
export interface SplitSequences {
  part: 'qa' | 'text' | 'tokens';
  ids: string[];
  requests: ScoreRequest[];
  texts: string[];
  /** For token items: requests scored from max(1, prefixLength) (the suffix), else = requests. */
  suffixRequests: ScoreRequest[];
}

export function splitSequences(me: ModelEval, task: Task, split: SplitName): SplitSequences | null {
  const part = primaryPart(task, split);
  if (!part) return null;
  const s = task.splits[split];
  if (part === 'qa') {
    const requests = qaAnswerRequests(me, s.qa);
    return {
      part,
      ids: s.qa.map((q) => q.id),
      requests,
      texts: s.qa.map((q) => q.answer),
      suffixRequests: requests,
    };
  }
  if (part === 'text') {
    const requests = me.textRequests(s.text.map((t) => t.text));
    return {
      part,
      ids: s.text.map((t) => t.id),
      requests,
      texts: s.text.map((t) => t.text),
      suffixRequests: requests,
    };
  }
  const requests = me.tokenRequests(s.tokens.map((t) => ({ ids: t.tokens, start: 1 })));
  const suffixRequests = me.tokenRequests(
    s.tokens.map((t) => ({ ids: t.tokens, start: Math.min(Math.max(1, t.prefixLength), t.tokens.length) })),
  );
  return {
    part,
    ids: s.tokens.map((t) => t.id),
    requests,
    texts: s.tokens.map((t) => me.tokenizer.decode(t.tokens, { skipSpecialTokens: true })),
    suffixRequests,
  };
}
