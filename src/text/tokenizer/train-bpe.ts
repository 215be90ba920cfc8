/**
 * Byte-level BPE training, for models lethe builds from scratch. Promises:
 * - the result is a GPT-2-layout tokenizer (ByteLevel pre-tokenizer/decoder, special tokens first,
 *   then the 256 byte symbols in byte order, then one token per merge) that any HF reader loads;
 * - training is deterministic: each step merges the most frequent adjacent pair, ties going to
 *   the smallest (left id, right id), ids being in creation order (so earlier tokens win);
 * - it stops at `vocabSize` tokens or when no pair occurs `minFrequency` times;
 * - pair counts are updated incrementally (only words containing the merged pair are touched),
 *   with a lazily refreshed max-heap, so one merge costs about the size of the words it changes.
 */
import { ConfigError, DataError } from '../../errors.ts';
import { AddedTokenMatcher } from './added-tokens.ts';
import { BYTE_TO_CHAR, gpt2Split, toByteLevel } from './byte-level.ts';
import type { TokenizerJson } from './schema.ts';
import { Tokenizer } from './tokenizer.ts';

export interface TrainBpeOptions {
  /** Total tokens wanted: special tokens + 256 bytes + merges. */
  vocabSize: number;
  /** A pair is merged only if it occurs at least this often in the corpus. Default 2. */
  minFrequency?: number;
  /** Added as special tokens with ids 0, 1, ... and never split; they are cut out of the corpus. */
  specialTokens?: readonly string[];
}

const ID_LIMIT = 1 << 21; // pair keys are left * 2^21 + right, exact in a double
const key = (a: number, b: number) => a * ID_LIMIT + b;

/** Max-heap on (count desc, key asc), stored as parallel arrays. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, k: number): void {
    this.counts.push(count);
    this.keys.push(k);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Remove the top; returns [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const lastC = this.counts.pop()!;
    const lastK = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastC;
      this.keys[0] = lastK;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.counts.length && this.before(l, best)) best = l;
        if (r < this.counts.length && this.before(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

function checkOptions(o: TrainBpeOptions, specials: readonly string[]): number {
  const minVocab = specials.length + 256;
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < minVocab || o.vocabSize > ID_LIMIT) {
    throw new ConfigError('invalid vocabSize for byte-level BPE training', {
      where: 'trainByteLevelBpe options.vocabSize',
      expected: `an integer from ${minVocab} (special tokens + 256 bytes) to ${ID_LIMIT}`,
      found: String(o.vocabSize),
    });
  }
  const minFrequency = o.minFrequency ?? 2;
  if (!Number.isInteger(minFrequency) || minFrequency < 0) {
    throw new ConfigError('invalid minFrequency', {
      where: 'trainByteLevelBpe options.minFrequency',
      expected: 'a non-negative integer',
      found: String(o.minFrequency),
    });
  }
  const seen = new Set<string>();
  for (const s of specials) {
    if (typeof s !== 'string' || s.length === 0 || seen.has(s)) {
      throw new ConfigError('invalid special token', {
        where: 'trainByteLevelBpe options.specialTokens',
        expected: 'distinct non-empty strings',
        found: JSON.stringify(s),
      });
    }
    seen.add(s);
  }
  return Math.max(1, minFrequency);
}

/** Train a byte-level BPE tokenizer on `texts`. */
export function trainByteLevelBpe(texts: Iterable<string>, options: TrainBpeOptions): Tokenizer {
  const specials = options.specialTokens ?? [];
  const minFrequency = checkOptions(options, specials);

  // 1. Count pre-tokenized words (as byte-level strings), with special tokens cut out.
  const matcher = new AddedTokenMatcher(
    specials.map((content, id) => ({
      id,
      content,
      singleWord: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
  );
  const wordCounts = new Map<string, number>();
  let index = 0;
  for (const text of texts) {
    if (typeof text !== 'string') {
      throw new DataError('training text is not a string', {
        where: `trainByteLevelBpe texts[${index}]`,
        expected: 'a string',
        found: typeof text,
      });
    }
    for (const seg of matcher.split(text)) {
      if ('id' in seg) continue;
      for (const w of gpt2Split(seg.text)) {
        const bl = toByteLevel(w);
        wordCounts.set(bl, (wordCounts.get(bl) ?? 0) + 1);
      }
    }
    index++;
  }

  // 2. Initial vocabulary: specials, then the 256 byte symbols in byte order.
  const tokens: string[] = [...specials];
  const idOf = new Map<string, number>();
  for (const [i, s] of specials.entries()) idOf.set(s, i);
  const byteBase = tokens.length;
  for (let b = 0; b < 256; b++) {
    tokens.push(BYTE_TO_CHAR[b]);
    idOf.set(BYTE_TO_CHAR[b], byteBase + b);
  }
  const charId = new Int32Array(0x200).fill(-1);
  for (let b = 0; b < 256; b++) charId[BYTE_TO_CHAR[b].charCodeAt(0)] = byteBase + b;

  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [w, c] of wordCounts) {
    const syms = new Array<number>(w.length);
    for (let i = 0; i < w.length; i++) syms[i] = charId[w.charCodeAt(i)];
    words.push(syms);
    freqs.push(c);
  }

  // 3. Pair counts and, per pair, the words that (may) contain it.
  const pairCount = new Map<number, number>();
  const where = new Map<number, number[]>();
  words.forEach((syms, wi) => {
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = key(syms[i], syms[i + 1]);
      pairCount.set(k, (pairCount.get(k) ?? 0) + freqs[wi]);
      const list = where.get(k);
      if (list === undefined) where.set(k, [wi]);
      else if (list[list.length - 1] !== wi) list.push(wi);
    }
  });
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, k);

  // 4. Merge.
  const merges: [string, string][] = [];
  const stamp = new Int32Array(words.length).fill(-1);
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const [count, k] = heap.pop();
    const current = pairCount.get(k) ?? 0;
    if (count !== current) {
      // Stale: existing pairs only lose occurrences, so re-queue with the true count.
      if (current > 0) heap.push(current, k);
      continue;
    }
    if (count < minFrequency) break;
    const a = Math.floor(k / ID_LIMIT);
    const b = k - a * ID_LIMIT;
    const merged = tokens[a] + tokens[b];
    let x = idOf.get(merged);
    if (x === undefined) {
      x = tokens.length;
      tokens.push(merged);
      idOf.set(merged, x);
    }
    merges.push([tokens[a], tokens[b]]);

    const delta = new Map<number, number>();
    const bump = (kk: number, d: number) => delta.set(kk, (delta.get(kk) ?? 0) + d);
    const step = merges.length;
    for (const wi of where.get(k) ?? []) {
      if (stamp[wi] === step) continue;
      stamp[wi] = step;
      const syms = words[wi];
      if (!containsPair(syms, a, b)) continue; // `where` is never pruned
      const f = freqs[wi];
      for (let i = 0; i + 1 < syms.length; i++) bump(key(syms[i], syms[i + 1]), -f);
      const next = mergePair(syms, a, b, x);
      words[wi] = next;
      for (let i = 0; i + 1 < next.length; i++) {
        const nk = key(next[i], next[i + 1]);
        bump(nk, f);
        if (next[i] === x || next[i + 1] === x) {
          const list = where.get(nk);
          if (list === undefined) where.set(nk, [wi]);
          else if (list[list.length - 1] !== wi) list.push(wi);
        }
      }
    }
    for (const [kk, d] of delta) {
      if (d === 0) continue;
      const c = (pairCount.get(kk) ?? 0) + d;
      if (c > 0) pairCount.set(kk, c);
      else pairCount.delete(kk);
      if (d > 0) heap.push(c, kk); // only pairs with the new token can grow
    }
    where.delete(k);
  }

  return new Tokenizer(buildJson(tokens, merges, specials), '<trained byte-level BPE>');
}

function containsPair(syms: readonly number[], a: number, b: number): boolean {
  for (let i = 0; i + 1 < syms.length; i++) if (syms[i] === a && syms[i + 1] === b) return true;
  return false;
}

/** Replace non-overlapping occurrences of (a, b), left to right, with x. */
function mergePair(syms: readonly number[], a: number, b: number, x: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < syms.length; i++) {
    if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
      out.push(x);
      i++;
    } else {
      out.push(syms[i]);
    }
  }
  return out;
}

function buildJson(
  tokens: readonly string[],
  merges: readonly [string, string][],
  specials: readonly string[],
) {
  // Null prototype: a token such as "__proto__" must become an ordinary key.
  const vocab: Record<string, number> = Object.create(null);
  tokens.forEach((t, i) => {
    vocab[t] = i;
  });
  const byteLevel = {
    type: 'ByteLevel' as const,
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  const json: TokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, add_prefix_space: true, trim_offsets: false },
    decoder: { ...byteLevel, add_prefix_space: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      // Byte-level symbols never contain a space, so the older "a b" form is unambiguous and
      // readable by every version of HF tokenizers.
      merges: merges.map(([l, r]) => `${l} ${r}`),
    },
  };
  return json;
}
