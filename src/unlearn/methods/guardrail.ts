/**
 * guardrail (Thaker et al., arXiv:2403.03329): an input-based method that changes only what the
 * model is asked, never its weights — a system-prompt-style prefix naming the forget scope, and an
 * output filter that replaces a generation leaking a forget answer by a refusal. It returns a
 * transform fully described by its JSON (see prompted.ts), built deterministically from the task
 * and the arguments, and fitted to the model's context length (prefix-budget.ts).
 */
import { z } from 'zod';
import type { Task } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { normaliseText, SHOT_SEPARATOR } from '../../text/format.ts';
import { inputMethod } from '../define.ts';
import { encodedLength, prefixBudget, qaLengths } from '../prefix-budget.ts';
import { type GuardrailJson, patternKey, transformFromJson, usablePattern } from '../prompted.ts';

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

export const guardrail = inputMethod({
  name: 'guardrail',
  summary:
    'Prompt-based guardrail: a system-prompt prefix naming the forget scope ("do not reveal …") and an output filter replacing generations that leak a forget answer with a refusal; no weight changes.',
  paper: 'Thaker et al. 2024, arXiv:2403.03329',
  needs: {},
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
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const guardrailMethods = [guardrail];
