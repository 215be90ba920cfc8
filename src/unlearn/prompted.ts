/**
 * Applying an input transform (input-based unlearning: icul, guardrail) where a model is scored
 * or asked to generate, and saving it as JSON beside the unchanged model.
 *
 * Promises:
 * - scoring requests keep the scored span exactly as without the transform: the prefix is encoded
 *   on its own (with the tokenizer's special tokens), the prompt and answer as in qaExample, so
 *   the answer (and EOS) ids and their count are the same and only they are scored; with no
 *   transform the request equals qaExample's;
 * - generation applies the prefix, then the output filter (a generation containing a blocked
 *   string is replaced by the refusal);
 * - the JSON of a transform determines it fully: transformFromJson(t.toJSON()) gives the same
 *   prefix for every prompt and the same filter; a malformed file is a ConfigError naming the key.
 */
import { z } from 'zod';
import { parseConfig, readConfigFile } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { normaliseText, qaAnswer, qaShot, questionKey, SHOT_SEPARATOR } from '../text/format.ts';
import { type FinishReason, type GenerateOptions, generate } from '../text/generate.ts';
import type { ScoreRequest } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { InputTransform } from './types.ts';

/** File name of a saved transform inside an unlearning output folder. */
export const TRANSFORM_FILE = 'transform.json';

// ---------------------------------------------------------------------------------------------
// Text matching

const QA_PROMPT = /^\s*Question:\s*([\s\S]*?)\s*\nAnswer:\s*$/;

/** The question inside a lethe QA prompt ("Question: q\nAnswer:"), or the whole text otherwise. */
export const questionOf = (prompt: string): string => QA_PROMPT.exec(prompt)?.[1] ?? prompt;

/** FNV-1a over UTF-16 code units: a stable, seedless choice per query. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

// Patterns this short ("No", "4") would match ordinary text and block most generations.
const MIN_PATTERN_CHARS = 4;

/** A blocked string in matching form (trailing punctuation dropped, so a cut-off answer still matches). */
export const patternKey = (p: string): string => normaliseText(p).replace(/[\s.!?;:,]+$/, '');

/** Whether a pattern is long enough to be used by the output filter. */
export const usablePattern = (p: string): boolean => patternKey(p).length >= MIN_PATTERN_CHARS;

// ---------------------------------------------------------------------------------------------
// JSON form

const text = z.string().min(1, 'must be a non-empty string');
const Shot = z.strictObject({ question: text, answer: text });

export const IculJson = z
  .strictObject({
    kind: z.literal('icul'),
    version: z.literal(1),
    /** s as asked: one flipped forget example and s − 1 correct ones. */
    shots: z.int().positive(),
    /** Correct examples actually placed per query (s − 1, fewer when the context length forced it). */
    retainShots: z.int().nonnegative(),
    /** What a query matching no forget item gets: the retain examples only, or also a flipped forget one. */
    unmatched: z.enum(['retain', 'forget']),
    /** Forget items: the questions that select one (question, paraphrase) and its wrong label. */
    forget: z
      .array(z.strictObject({ match: z.array(text).min(1), question: text, answer: text }))
      .min(1, 'must hold at least one forget item'),
    /** Correct examples in order; one more than retainShots is a spare for a query that is one of them. */
    retain: z.array(Shot),
  })
  .superRefine((v, ctx) => {
    if (v.retainShots > v.shots - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['retainShots'],
        message: `must be at most shots − 1 = ${v.shots - 1}`,
      });
    if (v.retain.length > v.retainShots + 1)
      ctx.addIssue({
        code: 'custom',
        path: ['retain'],
        message: `must hold at most retainShots + 1 = ${v.retainShots + 1} examples`,
      });
  });
export type IculJson = z.infer<typeof IculJson>;

export const GuardrailJson = z.strictObject({
  kind: z.literal('guardrail'),
  version: z.literal(1),
  /** The whole system-prompt text placed before every prompt (ends with the separator). */
  prefix: z.string(),
  /** The forget scope the prefix names (recorded for reports; the prefix is what is used). */
  scope: z.array(text),
  /** Where the scope came from. */
  scopeSource: z.enum(['names', 'topics', 'explicit']),
  /** Output filter strings; empty when the filter is off. */
  blockPatterns: z.array(text),
  refusal: text,
});
export type GuardrailJson = z.infer<typeof GuardrailJson>;

export const InputTransformJson = z.discriminatedUnion('kind', [IculJson, GuardrailJson], {
  error: 'kind must be "icul" or "guardrail"',
});
export type InputTransformJson = z.infer<typeof InputTransformJson>;

/** The correct examples a query gets: the first n, skipping one whose question is the query's own. */
function retainFor(spec: IculJson, key: string): IculJson['retain'] {
  return spec.retain.filter((r) => questionKey(r.question) !== key).slice(0, spec.retainShots);
}

/** The icul context for the query `prompt` (empty string when there is nothing to place). */
function iculPrefix(spec: IculJson, byKey: Map<string, IculJson['forget'][number]>, prompt: string): string {
  const key = questionKey(questionOf(prompt));
  let flipped = byKey.get(key) ?? null;
  if (!flipped && spec.unmatched === 'forget') flipped = spec.forget[hash32(key) % spec.forget.length];
  const shots = [...(flipped ? [flipped] : []), ...retainFor(spec, key)];
  return shots.length === 0 ? '' : shots.map((s) => qaShot(s.question, s.answer) + SHOT_SEPARATOR).join('');
}

/** Build a transform from its JSON (validated). `where` names the source in errors. */
export function transformFromJson(value: unknown, where = 'input transform'): InputTransform {
  const spec = parseConfig(InputTransformJson, value, where);
  const json = () => structuredClone(spec);
  if (spec.kind === 'icul') {
    const byKey = new Map<string, IculJson['forget'][number]>();
    // The first forget item claiming a question wins, as in the order the method wrote them.
    for (const f of spec.forget)
      for (const m of f.match) if (!byKey.has(questionKey(m))) byKey.set(questionKey(m), f);
    return { kind: 'icul', prefix: (p) => iculPrefix(spec, byKey, p), toJSON: json };
  }
  const t: InputTransform = {
    kind: 'guardrail',
    prefix: () => spec.prefix,
    refusal: spec.refusal,
    toJSON: json,
  };
  if (spec.blockPatterns.length > 0) t.blockPatterns = [...spec.blockPatterns];
  return t;
}

export const transformToJson = (t: InputTransform): InputTransformJson =>
  parseConfig(InputTransformJson, t.toJSON(), `${t.kind} transform`);

export async function saveTransform(path: string, t: InputTransform): Promise<void> {
  await writeJsonAtomic(path, transformToJson(t));
}

/** Read a saved transform; a missing, non-JSON or malformed file is a ConfigError naming file and key. */
export function loadTransform(path: string): InputTransform {
  return transformFromJson(readConfigFile(InputTransformJson, path), path);
}

// ---------------------------------------------------------------------------------------------
// Scoring and generation

export interface PromptedItem {
  /** The prompt text as the model is asked without the transform (e.g. qaPrompt(question)). */
  prompt: string;
  /** Scored continuation, written as lethe's QA answer (qaAnswer: one leading space). */
  answer: string;
}

export interface PromptedOptions {
  /** Score the EOS after the answer too (as qaExample does). Default true. */
  eos?: boolean;
  /**
   * Longest request in tokens (pass the model's maxPositions). When the prefix makes a request
   * longer, the prefix is shortened (whole examples nearest the query first, then tokens from its
   * start); the prompt and answer are never cut.
   */
  maxLen?: number;
}

/** The in-context examples of a prefix, each with its trailing separator. */
const prefixPieces = (prefix: string): string[] => prefix.split(/(?<=\n\n)(?=Question:)/);

/**
 * Prefix ids (with the tokenizer's leading special tokens) in at most `room` tokens. Too long, it
 * loses whole examples nearest the query first (icul keeps its flipped forget example, which
 * comes first); a single remaining piece keeps its end.
 */
function prefixIds(tok: Tokenizer, prefix: string, room: number): number[] {
  let ids = tok.encode(prefix, { addSpecialTokens: true });
  if (ids.length <= room) return ids;
  const pieces = prefixPieces(prefix);
  while (pieces.length > 1) {
    pieces.pop();
    ids = tok.encode(pieces.join(''), { addSpecialTokens: true });
    if (ids.length <= room) return ids;
  }
  let lead = 0;
  while (lead < ids.length && tok.isSpecialId(ids[lead])) lead++;
  // The leading special tokens (BOS) stay: the model never saw text without them.
  const tail = Math.max(0, room - lead);
  return [...ids.slice(0, lead), ...ids.slice(ids.length - tail)];
}

/** Token ids of `prompt` with the transform's prefix before it (prompt ids as without it). */
function promptIds(tok: Tokenizer, t: InputTransform | null, prompt: string, room: number): number[] {
  if (!t) return tok.encode(prompt, { addSpecialTokens: true });
  const body = tok.encode(prompt, { addSpecialTokens: false });
  return [...prefixIds(tok, t.prefix(prompt), Math.max(0, room - body.length)), ...body];
}

/** Score requests for prompt/answer pairs with the transform applied; only answer (+EOS) tokens are scored. */
export function promptedScoreRequests(
  transform: InputTransform | null,
  tok: Tokenizer,
  items: readonly PromptedItem[],
  opts: PromptedOptions = {},
): ScoreRequest[] {
  const eos = (opts.eos ?? true) && tok.eosId !== undefined ? [tok.eosId] : [];
  return items.map(({ prompt, answer }) => {
    const ans = [...tok.encode(qaAnswer(answer), { addSpecialTokens: false }), ...eos];
    const head = promptIds(tok, transform, prompt, (opts.maxLen ?? Infinity) - ans.length);
    return { ids: [...head, ...ans], start: head.length };
  });
}

/**
 * Score requests for raw texts (MIA, perplexity) with the prefix before them. The scored tokens
 * are those textExample scores: every text token after the first position of its own encoding
 * (with a BOS that is all of them; without one, all but the first).
 */
export function promptedTextRequests(
  transform: InputTransform | null,
  tok: Tokenizer,
  texts: readonly string[],
  opts: PromptedOptions = {},
): ScoreRequest[] {
  const eos = (opts.eos ?? true) && tok.eosId !== undefined ? [tok.eosId] : [];
  return texts.map((t) => {
    const own = tok.encode(t, { addSpecialTokens: true });
    if (!transform) return { ids: [...own, ...eos], start: 1 };
    const plain = tok.encode(t, { addSpecialTokens: false });
    const skip = Math.max(0, 1 - (own.length - plain.length));
    const body = [...plain, ...eos];
    const head = prefixIds(tok, transform.prefix(t), (opts.maxLen ?? Infinity) - body.length);
    return { ids: [...head, ...body], start: head.length + skip };
  });
}

/** The output filter: the refusal when `text` contains a blocked string, else `text`. */
export function filterOutput(t: InputTransform | null, text: string): { text: string; blocked: boolean } {
  const patterns = (t?.blockPatterns ?? []).filter(usablePattern).map(patternKey);
  if (patterns.length === 0) return { text, blocked: false };
  const seen = normaliseText(text);
  return patterns.some((p) => seen.includes(p))
    ? { text: t?.refusal ?? "I don't know.", blocked: true }
    : { text, blocked: false };
}

export interface PromptedGeneration {
  /** What the deployed system answers: the generation, or the refusal where the filter fired. */
  texts: string[];
  /** The model's own generations before the filter. */
  raw: string[];
  blocked: boolean[];
  /** New token ids (before the filter). */
  tokens: number[][];
  finishReasons: FinishReason[];
}

export interface PromptedGenerateOptions extends Omit<GenerateOptions, 'decode'> {
  /** Longest prompt + generation; default the model's maxPositions (the prefix is cut to fit). */
  maxLen?: number;
}

/**
 * Generate from prompt texts with the transform's prefix, then apply its output filter. Texts are
 * decoded without special tokens; EOS defaults to the tokenizer's.
 */
export function promptedGenerate(
  model: CausalLM,
  tok: Tokenizer,
  transform: InputTransform | null,
  prompts: readonly string[],
  opts: PromptedGenerateOptions,
): PromptedGeneration {
  const { maxLen = model.maxPositions, ...gen } = opts;
  const room = maxLen - gen.maxNewTokens;
  const ids = prompts.map((p) => promptIds(tok, transform, p, room));
  const tooLong = ids.findIndex((x) => x.length > room);
  if (transform && tooLong >= 0) {
    throw new ConfigError(`prompt ${tooLong} does not fit the model with ${gen.maxNewTokens} new tokens`, {
      expected: `at most ${room} prompt tokens (maxLen ${maxLen})`,
      found: `${ids[tooLong].length} tokens without any prefix`,
    });
  }
  const out = generate(model, ids, {
    ...gen,
    eosTokenIds: gen.eosTokenIds ?? (tok.eosId === undefined ? [] : [tok.eosId]),
    decode: (x) => tok.decode(x, { skipSpecialTokens: true }),
  });
  const raw = out.texts!;
  const filtered = raw.map((r) => filterOutput(transform, r));
  return {
    texts: filtered.map((f) => f.text),
    raw,
    blocked: filtered.map((f) => f.blocked),
    tokens: out.tokens,
    finishReasons: out.finishReasons,
  };
}
