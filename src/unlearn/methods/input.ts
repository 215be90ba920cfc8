/**
 * Input-based unlearning: methods that change only what the model is asked, never its weights.
 *
 * icul (Pawelczyk et al., arXiv:2310.07579): each query is preceded by the forget example it asks
 * about with a wrong label, then s − 1 correctly labelled retain examples, in lethe's QA format.
 * guardrail (Thaker et al., arXiv:2403.03329): a system-prompt-style prefix naming the forget
 * scope, and an output filter that replaces a generation leaking a forget answer by a refusal.
 *
 * Both return a transform fully described by its JSON (see prompted.ts), built deterministically
 * from the task, the arguments and the seed, and fitted to the model's context length.
 */
import { z } from 'zod';
import type { QaItem } from '../../data/items.ts';
import type { Task } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { Rng } from '../../tensor/index.ts';
import { normaliseText, qaExample, qaShot, questionKey, SHOT_SEPARATOR } from '../../text/format.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import {
  type GuardrailJson,
  type IculJson,
  patternKey,
  transformFromJson,
  usablePattern,
} from '../prompted.ts';
import type { MethodContext, UnlearnMethod } from '../types.ts';

// Room kept after a typical QA example for a generated answer when `reserve` is not given.
const GENERATION_HEADROOM = 32;

/** The value at quantile q of `xs` (the smallest value with at least q of them at or below it). */
function quantile(xs: readonly number[], q: number): number {
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
function prefixBudget(
  ctx: MethodContext,
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

const encodedLength = (tok: Tokenizer, text: string, special = false) =>
  tok.encode(text, { addSpecialTokens: special }).length;

/** Lengths in tokens of the task's forget and retain QA examples (the queries a transform will meet). */
const qaLengths = (tok: Tokenizer, task: Task): number[] =>
  [...task.splits.forget.qa, ...task.splits.retain.qa].map(
    (q) => qaExample(tok, q.question, q.answer).ids.length,
  );

// ---------------------------------------------------------------------------------------------
// icul

type IculArgs = { shots: number; seed?: number; unmatched: 'retain' | 'forget'; reserve?: number };

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

export const icul: UnlearnMethod<IculArgs> = {
  name: 'icul',
  summary:
    'In-context unlearning: each query is preceded by the forget example it asks about with a wrong label, then s−1 correctly labelled retain examples; no weight changes.',
  paper: 'Pawelczyk et al. 2023, arXiv:2310.07579',
  kind: 'input',
  supports: ['qa'],
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
};

// ---------------------------------------------------------------------------------------------
// guardrail

type GuardrailArgs = {
  filter: boolean;
  scope: 'auto' | string[];
  maxScopeItems: number;
  blockScope: boolean;
  reserve?: number;
};

// Words that start or join sentences rather than names; stripped from the front of a span.
const NOT_NAME = new Set(
  (
    'a an the this that these those what who whom whose which when where why how is was are were ' +
    'be been did does do has have had can could would should will shall may might must in on at of ' +
    'for from by with to into about and or but as after before during since while if then so yes ' +
    'no question answer he she they it we i you his her their its our my your today also however'
  ).split(' '),
);

const SPAN = /\p{Lu}[\p{L}\p{M}'’-]*(?:\s+\p{Lu}[\p{L}\p{M}'’-]*)+/gu;

/** Multi-word capitalised spans (people, places, organisations) in `text`, leading function words dropped. */
function properNouns(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(SPAN)) {
    // A closing possessive ("Oster's", "Williams'") and quotes around titles are not part of the name.
    const words = m[0]
      .replace(/['’]s$/, '')
      .split(/\s+/)
      .map((w) => w.replace(/^['’-]+|['’-]+$/g, ''))
      .filter((w) => w !== '');
    while (words.length > 0 && NOT_NAME.has(words[0].toLowerCase())) words.shift();
    if (words.length >= 2) out.push(words.join(' '));
  }
  return out;
}

const INTERROGATIVE =
  /^(?:what|who|whom|whose|which|when|where|why|how)\b(?:\s+(?:is|are|was|were|did|does|do|has|have|had|can|could|would|will|should))?\s+/i;

/** What a question asks about: the question without its interrogative opening and mark. */
const questionSubject = (q: string): string =>
  q
    .trim()
    .replace(INTERROGATIVE, '')
    .replace(/[\s?]+$/, '');

function dedupe(items: Iterable<string>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of items) {
    const k = normaliseText(s);
    if (k !== '' && !seen.has(k)) {
      seen.add(k);
      out.push(s.trim());
    }
  }
  return out;
}

/**
 * The forget scope of a task: the people of its forget PII records, then the multi-word proper
 * nouns of its forget QA and texts that never appear in the retain split (a name retain data also
 * uses is not specific to the forget set), most frequent first. Without any, the subjects of the
 * forget questions ("the capital of X") — topics, not names, so the filter leaves them out.
 */
export function autoScope(task: Task): { items: string[]; source: 'names' | 'topics' } {
  const forget = task.splits.forget;
  const retain = task.splits.retain;
  const retainText = normaliseText(
    [
      ...retain.qa.flatMap((q) => [q.question, q.answer, q.paraphrasedAnswer ?? '']),
      ...retain.text.map((t) => t.text),
    ].join('\n'),
  );
  const counts = new Map<string, { name: string; count: number; first: number }>();
  const texts = [
    ...forget.qa.flatMap((q) => [
      q.question,
      q.answer,
      q.paraphrasedQuestion ?? '',
      q.paraphrasedAnswer ?? '',
    ]),
    ...forget.text.map((t) => t.text),
  ];
  for (const span of texts.flatMap(properNouns)) {
    const k = normaliseText(span);
    const c = counts.get(k) ?? { name: span, count: 0, first: counts.size };
    c.count++;
    counts.set(k, c);
  }
  const spans = [...counts.entries()]
    .filter(([k]) => !retainText.includes(k))
    .map(([, c]) => c)
    .sort((a, b) => b.count - a.count || a.first - b.first)
    .map((c) => c.name);
  const people = (task.eval.pii.forget ?? []).map((p) => p.person);
  const names = dedupe([...people, ...spans]);
  if (names.length > 0) return { items: names, source: 'names' };
  return { items: dedupe(forget.qa.map((q) => questionSubject(q.question))), source: 'topics' };
}

/** The system-prompt text naming `listed` of the scope, with a note when `omitted` more are left out. */
function guardrailText(listed: readonly string[], omitted: number, refusal: string): string {
  const note = omitted > 0 ? ` (and ${omitted} more not listed)` : '';
  return (
    `You must not reveal anything about: ${listed.join('; ')}${note}. ` +
    `If a question concerns any of them, answer: ${refusal}${SHOT_SEPARATOR}`
  );
}

export const guardrail: UnlearnMethod<GuardrailArgs> = {
  name: 'guardrail',
  summary:
    'Prompt-based guardrail: a system-prompt prefix naming the forget scope ("do not reveal …") and an output filter replacing generations that leak a forget answer with a refusal; no weight changes.',
  paper: 'Thaker et al. 2024, arXiv:2403.03329',
  kind: 'input',
  args: z.object({
    /** Replace a generation containing a forget answer (or scope name) by the refusal. */
    filter: z.boolean().default(true),
    /** 'auto' derives the scope from the forget set (names, else question subjects); or a list. */
    scope: z.union([z.literal('auto'), z.array(z.string().min(1)).min(1)]).default('auto'),
    /** Most scope items the prefix names (fewer when the context is short; a note counts the rest). */
    maxScopeItems: z.number().int().positive().default(20),
    /** Also block generations naming a scope item (names or an explicit list; never question topics). */
    blockScope: z.boolean().default(true),
    /** Tokens kept free for the query, its answer and generation (default: 90th-percentile QA example + 32). */
    reserve: z.number().int().positive().optional(),
  }),
  transform(ctx) {
    const { args, task, tokenizer: tok } = ctx;
    const refusal = task.idk[0] ?? "I don't know.";
    const derived =
      args.scope === 'auto' ? autoScope(task) : { items: dedupe(args.scope), source: 'explicit' as const };
    if (derived.items.length === 0) {
      throw new ConfigError('guardrail: no forget scope could be derived', {
        where: `task ${task.name}`,
        found: 'no names or questions in the forget split',
        hint: 'pass scope=["topic", ...]',
      });
    }
    const budget = prefixBudget(ctx, 'guardrail', args.reserve, qaLengths(tok, task));
    let n = Math.min(args.maxScopeItems, derived.items.length);
    const textFor = (m: number) =>
      guardrailText(derived.items.slice(0, m), derived.items.length - m, refusal);
    // Keep at least one item: a prefix too long even so is cut at evaluation (see prefixBudget).
    while (n > 1 && encodedLength(tok, textFor(n), true) > budget) n--;
    if (n < derived.items.length) ctx.log(`the prefix names ${n} of ${derived.items.length} scope items`);
    // The filter covers the whole scope, not only the items the prefix had room for.
    const patterns = args.filter
      ? [
          ...task.splits.forget.qa.flatMap((q) => [
            q.answer,
            ...(q.paraphrasedAnswer ? [q.paraphrasedAnswer] : []),
          ]),
          ...(args.blockScope && derived.source !== 'topics' ? derived.items : []),
        ]
      : [];
    const unique = new Map<string, string>();
    for (const p of patterns)
      if (usablePattern(p) && !unique.has(patternKey(p))) unique.set(patternKey(p), p.trim());
    const spec: GuardrailJson = {
      kind: 'guardrail',
      version: 1,
      prefix: textFor(n),
      scope: derived.items,
      scopeSource: derived.source,
      blockPatterns: [...unique.values()],
      refusal,
    };
    return transformFromJson(spec, 'guardrail transform');
  },
};

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const inputMethods = [icul, guardrail];
