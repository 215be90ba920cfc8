/**
 * Added (and special) tokens: found in the text before any BPE, so `<s>` or `<|endoftext|>` in the
 * input become their single id. Promises: leftmost-longest matching (as HF's Aho-Corasick search),
 * with HF's per-token options: `lstrip` / `rstrip` absorb neighbouring whitespace into the token,
 * `single_word` only matches when not inside a word.
 */

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  /** Matched against the normalized text (true) or the raw input (false). */
  normalized: boolean;
  special: boolean;
}

/** A run of ordinary text (`start` = its offset in the string that was split) or an added token. */
export type Segment = { text: string; start: number } | { id: number; start: number };

const WORD_CHAR = /[\p{L}\p{N}_]/u;
const WHITESPACE = /\p{White_Space}/u;

export class AddedTokenMatcher {
  private readonly re: RegExp | null;
  private readonly byContent = new Map<string, AddedToken>();

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) this.byContent.set(t.content, t);
    // Longest first: a regex alternation takes the first alternative that matches, so this gives
    // the longest token at the leftmost position.
    const contents = [...this.byContent.keys()].sort(
      (a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0),
    );
    this.re =
      contents.length === 0
        ? null
        : new RegExp(contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'gu');
  }

  get isEmpty(): boolean {
    return this.re === null;
  }

  /** Cut `text` into ordinary runs and added tokens (empty runs are dropped). */
  split(text: string): Segment[] {
    if (this.re === null) return text.length > 0 ? [{ text, start: 0 }] : [];
    const out: Segment[] = [];
    let done = 0; // text before this offset has been emitted
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      const token = this.byContent.get(m[0])!;
      let start = m.index;
      let end = start + m[0].length;
      if (token.singleWord) {
        const before = start > 0 ? text[start - 1] : '';
        const after = end < text.length ? text[end] : '';
        if ((before && WORD_CHAR.test(before)) || (after && WORD_CHAR.test(after))) continue;
      }
      if (token.lstrip) while (start > done && WHITESPACE.test(text[start - 1])) start--;
      if (token.rstrip) {
        while (end < text.length && WHITESPACE.test(text[end])) end++;
        this.re.lastIndex = end;
      }
      if (start > done) out.push({ text: text.slice(done, start), start: done });
      out.push({ id: token.id, start });
      done = end;
    }
    if (done < text.length) out.push({ text: text.slice(done), start: done });
    return out;
  }
}
