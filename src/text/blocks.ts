/**
 * Documents longer than the model's context, as context-sized blocks. A sequence of n tokens
 * scored from `start` becomes blocks of at most `context` tokens; after the first, each block
 * starts `overlap` = context − stride tokens before its first scored token, so every scored token
 * keeps at least that much left context (the last block is moved back to end at the document's
 * end, which only adds context). Every scored token of the document is scored in exactly one
 * block: training on all blocks trains on the whole document, and scoring all blocks and joining
 * their per-token values gives document-level NLL, Min-K% and the like.
 */
import { ConfigError } from '../errors.ts';

export interface Span {
  ids: readonly number[];
  /** First scored position (>= 1). */
  start: number;
}

/** The default stride: half the context (each block after the first sees half a context back). */
export const defaultStride = (context: number): number => Math.max(1, Math.floor(context / 2));

/** The blocks of `span` for a model of `context` positions (the span itself when it fits). */
export function spanBlocks<S extends Span>(
  span: S,
  context: number,
  stride = defaultStride(context),
): Span[] {
  const n = span.ids.length;
  if (n <= context) return [span];
  if (!(Number.isInteger(context) && context >= 2)) {
    throw new ConfigError('a context of at least 2 tokens is needed to split a document into blocks', {
      found: String(context),
    });
  }
  if (!(Number.isInteger(stride) && stride >= 1 && stride < context)) {
    throw new ConfigError('block stride must be an integer in [1, context)', {
      expected: `1 … ${context - 1}`,
      found: String(stride),
    });
  }
  const overlap = context - stride;
  const out: Span[] = [];
  // p: the next token to score. A block [b, b + context) scores tokens p … b + context − 1.
  for (let p = span.start; p < n; ) {
    const b = p < context ? 0 : Math.min(p - overlap, n - context);
    out.push({ ids: span.ids.slice(b, b + context), start: p - b });
    p = b + context;
  }
  return out;
}

type Field = Float32Array | Uint8Array | number | undefined;

/** Join the per-block results of one document: typed arrays concatenated, numbers summed. */
function join<R extends object>(parts: R[]): R {
  if (parts.length === 1) return parts[0];
  const out: Record<string, Field> = {};
  for (const key of Object.keys(parts[0])) {
    const values = parts.map((p) => (p as Record<string, Field>)[key]);
    if (typeof values[0] === 'number') out[key] = values.reduce((s: number, v) => s + (v as number), 0);
    else if (values[0] === undefined) out[key] = undefined;
    else {
      const arrays = values as (Float32Array | Uint8Array)[];
      const Ctor = arrays[0].constructor as new (n: number) => Float32Array | Uint8Array;
      const joined = new Ctor(arrays.reduce((s, a) => s + a.length, 0));
      let o = 0;
      for (const a of arrays) {
        joined.set(a, o);
        o += a.length;
      }
      out[key] = joined;
    }
  }
  return out as R;
}

/**
 * Score requests of any length with a scorer that only takes sequences of at most `context`
 * tokens: long requests are split into blocks, everything is scored in one call, and the blocks of
 * each request are joined back (per-token arrays in order, counts and sums added).
 */
export function scoreInBlocks<R extends object>(
  requests: readonly Span[],
  context: number,
  score: (spans: Span[]) => R[],
  stride = defaultStride(context),
): R[] {
  if (requests.every((r) => r.ids.length <= context)) return score([...requests]);
  const owners: number[] = [];
  const flat: Span[] = [];
  requests.forEach((r, i) => {
    for (const b of spanBlocks(r, context, stride)) {
      flat.push(b);
      owners.push(i);
    }
  });
  const scored = score(flat);
  const per: R[][] = requests.map(() => []);
  scored.forEach((s, k) => per[owners[k]].push(s));
  return per.map((parts) => join(parts));
}
