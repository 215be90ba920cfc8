/**
 * The BPE model: turns one pre-tokenized word into vocabulary ids by applying ranked merges, the
 * way Hugging Face `tokenizers` does (lowest rank first, ties to the leftmost pair; equivalent to
 * GPT-2's "merge every occurrence of the best bigram" loop). Promises: the same ids as the
 * reference for the options it accepts (unk token with fusing, byte fallback to `<0xXX>` tokens,
 * continuing-subword prefix, end-of-word suffix, ignore_merges); merges and their results are
 * checked against the vocabulary at construction; encoding is O(n log n) per word, with a cache of
 * recent words and exact splitting of long words at boundaries no merge can cross.
 */

import { CheckpointError, DataError } from '../../errors.ts';
import { MAX_TOKEN_ID } from './schema.ts';

export interface BpeModelSpec {
  /** token -> id. */
  vocab: ReadonlyMap<string, number>;
  /** Merges in rank order (rank = index). */
  merges: readonly (readonly [string, string])[];
  unkToken?: string | null;
  continuingSubwordPrefix?: string | null;
  endOfWordSuffix?: string | null;
  fuseUnk?: boolean;
  byteFallback?: boolean;
  ignoreMerges?: boolean;
  /** Names the file in error messages. */
  source?: string;
}

/**
 * Open-addressing hash from an id pair to its merge rank. Pair lookups are the inner loop of
 * encoding; a Map keyed by a*2^21+b would hash doubles (keys exceed the small-integer range).
 */
class PairRanks {
  private readonly mask: number;
  private readonly keyA: Int32Array;
  private readonly keyB: Int32Array;
  private readonly rank: Int32Array;

  constructor(expected: number) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.mask = cap - 1;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.rank = new Int32Array(cap);
  }

  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) & this.mask;
  }

  /** Insert unless present; returns false when the pair already had a rank. */
  setIfAbsent(a: number, b: number, r: number): boolean {
    let s = this.slot(a, b);
    while (this.keyA[s] !== -1) {
      if (this.keyA[s] === a && this.keyB[s] === b) return false;
      s = (s + 1) & this.mask;
    }
    this.keyA[s] = a;
    this.keyB[s] = b;
    this.rank[s] = r;
    return true;
  }

  /** The rank of (a, b), or -1. */
  get(a: number, b: number): number {
    let s = this.slot(a, b);
    for (;;) {
      const k = this.keyA[s];
      if (k === -1) return -1;
      if (k === a && this.keyB[s] === b) return this.rank[s];
      s = (s + 1) & this.mask;
    }
  }
}

/** Words up to this length (UTF-16 units) are cached; longer ones are split or merged directly. */
const CACHE_MAX_WORD = 256;
const CACHE_MAX_ENTRIES = 200_000;
/** Below this many symbols a quadratic scan beats the heap. */
const SMALL_WORD = 40;
const POS_SCALE = 4294967296; // heap keys are rank * 2^32 + position

const BYTE_TOKEN = /^<0x([0-9A-F]{2})>$/;

export class BpeModel {
  readonly vocab: ReadonlyMap<string, number>;
  /** id -> token (holes for ids the vocabulary skips). */
  readonly idToTokenTable: readonly (string | undefined)[];
  readonly merges: readonly (readonly [string, string])[];
  readonly unkId: number | undefined;
  readonly unkToken: string | null;
  readonly prefix: string;
  readonly suffix: string;
  readonly fuseUnk: boolean;
  readonly byteFallback: boolean;
  readonly ignoreMerges: boolean;

  private readonly ranks: PairRanks;
  /** mergeResult[rank] = id of the merged token. */
  private readonly mergeResult: Int32Array;
  /** byteIds[b] = id of `<0xBB>`, or -1. */
  private readonly byteIds = new Int32Array(256).fill(-1);
  /** Code-point bigrams (left*0x110000+right) that some merge joins; null disables splitting. */
  private readonly junctions: Set<number> | null;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(spec: BpeModelSpec) {
    const source = spec.source ?? '<tokenizer>';
    this.vocab = spec.vocab;
    this.merges = spec.merges;
    this.prefix = spec.continuingSubwordPrefix ?? '';
    this.suffix = spec.endOfWordSuffix ?? '';
    this.fuseUnk = spec.fuseUnk ?? false;
    this.byteFallback = spec.byteFallback ?? false;
    this.ignoreMerges = spec.ignoreMerges ?? false;
    this.unkToken = spec.unkToken ?? null;

    let maxId = -1;
    for (const [token, id] of spec.vocab) {
      if (!Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
        throw new CheckpointError('invalid vocabulary id', {
          where: `${source}: model.vocab[${JSON.stringify(token)}]`,
          expected: `an integer from 0 to ${MAX_TOKEN_ID}`,
          found: String(id),
        });
      }
      if (id > maxId) maxId = id;
    }
    const table = new Array<string | undefined>(maxId + 1);
    for (const [token, id] of spec.vocab) {
      if (!Number.isInteger(id) || id < 0) {
        throw new CheckpointError('invalid vocabulary id', {
          where: `${source}: model.vocab[${JSON.stringify(token)}]`,
          expected: 'a non-negative integer',
          found: String(id),
        });
      }
      if (table[id] !== undefined) {
        throw new CheckpointError('two vocabulary entries share an id', {
          where: `${source}: model.vocab`,
          expected: 'distinct ids',
          found: `${JSON.stringify(table[id])} and ${JSON.stringify(token)} both have id ${id}`,
        });
      }
      table[id] = token;
      const m = BYTE_TOKEN.exec(token);
      if (m) this.byteIds[Number.parseInt(m[1], 16)] = id;
    }
    this.idToTokenTable = table;

    if (this.unkToken !== null) {
      this.unkId = spec.vocab.get(this.unkToken);
      if (this.unkId === undefined) {
        throw new CheckpointError('unk_token is not in the vocabulary', {
          where: `${source}: model.unk_token`,
          expected: 'a token of model.vocab',
          found: JSON.stringify(this.unkToken),
        });
      }
    }

    this.ranks = new PairRanks(spec.merges.length);
    this.mergeResult = new Int32Array(spec.merges.length);
    let splittable = this.prefix === '' && this.suffix === '' && !this.ignoreMerges;
    const junctions = new Set<number>();
    spec.merges.forEach(([a, b], rank) => {
      const where = `${source}: model.merges[${rank}]`;
      const ia = spec.vocab.get(a);
      const ib = spec.vocab.get(b);
      const merged = a + (this.prefix && b.startsWith(this.prefix) ? b.slice(this.prefix.length) : b);
      const im = spec.vocab.get(merged);
      if (ia === undefined || ib === undefined || im === undefined) {
        const missing = [
          ia === undefined ? a : null,
          ib === undefined ? b : null,
          im === undefined ? merged : null,
        ]
          .filter((t) => t !== null)
          .map((t) => JSON.stringify(t));
        throw new CheckpointError('merge refers to a token that is not in the vocabulary', {
          where,
          expected: 'both parts and their concatenation in model.vocab',
          found: `merge ${JSON.stringify(`${a} ${b}`)}: missing ${missing.join(', ')}`,
          hint: 'the merges and vocab must come from the same tokenizer',
        });
      }
      // Like a HashMap built from the list, a duplicate pair keeps one rank; we keep the first.
      if (this.ranks.setIfAbsent(ia, ib, rank)) this.mergeResult[rank] = im;
      // Cuts are decided on the text's characters; a merge of byte-fallback or unk symbols would
      // join characters the junction set cannot see, so such vocabularies are never cut.
      if (BYTE_TOKEN.test(a) || BYTE_TOKEN.test(b) || a === this.unkToken || b === this.unkToken)
        splittable = false;
      if (a.length > 0 && b.length > 0) {
        junctions.add(
          a.codePointAt(a.length - (isLowSurrogate(a, a.length - 1) ? 2 : 1))! * 0x110000 + b.codePointAt(0)!,
        );
      }
    });
    this.junctions = splittable ? junctions : null;
  }

  get size(): number {
    return this.idToTokenTable.length;
  }

  /** Append the ids of one word to `out`. */
  encodeWordInto(word: string, out: number[]): void {
    if (word.length === 0) return;
    if (word.length <= CACHE_MAX_WORD) {
      for (const id of this.cachedWord(word)) out.push(id);
      return;
    }
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) {
        out.push(id);
        return;
      }
    }
    if (this.junctions === null) {
      this.pushIds(this.mergeWord(word), out);
      return;
    }
    // Long word: cut where no merge can ever join the two sides; the pieces then merge
    // independently, so the result is the same as merging the whole word.
    const start = out.length;
    let pieceStart = 0;
    let prevCp = -1;
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      if (prevCp >= 0 && !this.junctions.has(prevCp * 0x110000 + cp)) {
        this.encodePiece(word.slice(pieceStart, i), out);
        pieceStart = i;
      }
      prevCp = cp;
      i += w;
    }
    this.encodePiece(word.slice(pieceStart), out);
    if (this.fuseUnk && this.unkId !== undefined) fuseRuns(out, start, this.unkId);
  }

  /** Ids of one word (convenience wrapper over encodeWordInto). */
  encodeWord(word: string): number[] {
    const out: number[] = [];
    this.encodeWordInto(word, out);
    return out;
  }

  private encodePiece(piece: string, out: number[]): void {
    if (piece.length <= CACHE_MAX_WORD) {
      for (const id of this.cachedWord(piece)) out.push(id);
    } else {
      this.pushIds(this.mergeWord(piece), out);
    }
  }

  private pushIds(ids: ArrayLike<number>, out: number[]): void {
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }

  private cachedWord(word: string): readonly number[] {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      if (this.ignoreMerges) {
        const id = this.vocab.get(word);
        if (id !== undefined) ids = [id];
      }
      ids ??= this.mergeWord(word);
      // Dropping everything is crude but keeps memory bounded and the common words come back fast.
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(word, ids);
    }
    return ids;
  }

  /** The initial symbols of `word` (characters, byte fallback, unk), then merged. */
  private mergeWord(word: string): number[] {
    const syms: number[] = [];
    let lastWasUnk = false;
    for (let i = 0; i < word.length; ) {
      const cp = word.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      i += ch.length;
      let s = ch;
      if (this.prefix && syms.length > 0) s = this.prefix + s;
      if (this.suffix && i >= word.length) s += this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        syms.push(id);
        lastWasUnk = false;
        continue;
      }
      if (this.byteFallback) {
        const bytes = Buffer.from(ch, 'utf8');
        let ok = true;
        for (const b of bytes) if (this.byteIds[b] < 0) ok = false;
        if (ok) {
          for (const b of bytes) syms.push(this.byteIds[b]);
          lastWasUnk = false;
          continue;
        }
      }
      if (this.unkId === undefined) {
        throw new DataError('character not in the tokenizer vocabulary', {
          where: `word ${JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word)}`,
          expected: 'a character the vocabulary covers, an unk token or byte fallback',
          found: `${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`,
          hint: 'this tokenizer has neither unk_token nor byte_fallback; check the input text or tokenizer',
        });
      }
      if (!(this.fuseUnk && lastWasUnk)) syms.push(this.unkId);
      lastWasUnk = true;
    }
    if (syms.length < 2) return syms;
    return syms.length <= SMALL_WORD ? this.mergeSmall(syms) : this.mergeHeap(syms);
  }

  /** Repeatedly merge the lowest-rank (then leftmost) pair; quadratic, for short words. */
  private mergeSmall(syms: number[]): number[] {
    for (;;) {
      let best = 0x7fffffff;
      let at = -1;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(syms[i], syms[i + 1]);
        if (r >= 0 && r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) return syms;
      syms[at] = this.mergeResult[best];
      syms.splice(at + 1, 1);
    }
  }

  /** The same order as mergeSmall via a min-heap of (rank, position) over a linked list. */
  private mergeHeap(initial: number[]): number[] {
    const n = initial.length;
    const sym = Int32Array.from(initial);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap(n);
    for (let i = 0; i + 1 < n; i++) {
      const r = this.ranks.get(sym[i], sym[i + 1]);
      if (r >= 0) heap.push(r * POS_SCALE + i);
    }
    while (heap.size > 0) {
      const key = heap.pop();
      const rank = Math.floor(key / POS_SCALE);
      const pos = key - rank * POS_SCALE;
      if (sym[pos] < 0) continue;
      const nx = next[pos];
      if (nx < 0 || this.ranks.get(sym[pos], sym[nx]) !== rank) continue; // stale entry
      sym[pos] = this.mergeResult[rank];
      sym[nx] = -1;
      const after = next[nx];
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos];
      if (before >= 0) {
        const r = this.ranks.get(sym[before], sym[pos]);
        if (r >= 0) heap.push(r * POS_SCALE + before);
      }
      if (after >= 0) {
        const r = this.ranks.get(sym[pos], sym[after]);
        if (r >= 0) heap.push(r * POS_SCALE + pos);
      }
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]) out.push(sym[i]);
    return out;
  }
}

function isLowSurrogate(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff && i > 0;
}

/** Collapse runs of `id` in out[start..] to one (fuse_unk across split pieces). */
function fuseRuns(out: number[], start: number, id: number): void {
  let w = start;
  for (let r = start; r < out.length; r++) {
    if (out[r] === id && w > start && out[w - 1] === id) continue;
    out[w++] = out[r];
  }
  out.length = w;
}

/** Binary min-heap of non-negative numbers (exact integers below 2^53). */
class MinHeap {
  private data: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(Math.max(16, capacity));
  }

  push(v: number): void {
    if (this.size === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const d = this.data;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p] <= v) break;
      d[i] = d[p];
      i = p;
    }
    d[i] = v;
  }

  pop(): number {
    const d = this.data;
    const top = d[0];
    const last = d[--this.size];
    let i = 0;
    const n = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && d[c + 1] < d[c]) c++;
      if (d[c] >= last) break;
      d[i] = d[c];
      i = c;
    }
    d[i] = last;
    return top;
  }
}
