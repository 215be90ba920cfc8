/**
 * GPT-2 byte-level helpers: the reversible byte <-> printable-character table, the GPT-2 word-split
 * regex, and conversion of text to its byte-level string and back. Promises: every byte sequence
 * maps to a string of 1 character per byte and back exactly; decoding fuses bytes and replaces
 * invalid UTF-8 with U+FFFD (like Python's errors='replace').
 */

/**
 * GPT-2's table: printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68
 * bytes (controls, space, ...) are shifted to U+0100 onwards in byte order, so no BPE symbol is a
 * whitespace or control character.
 */
function buildByteToChar(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(printable(b) ? b : 256 + next++);
  }
  return table;
}

/** BYTE_TO_CHAR[b] is the byte-level character of byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** Character code (UTF-16 unit, all < 0x200) -> byte, or -1 for characters outside the table. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(0x200).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => {
    t[c.charCodeAt(0)] = b;
  });
  return t;
})();

/** The 256 byte-level characters in byte order (the initial alphabet of a byte-level BPE). */
export function byteLevelAlphabet(): string[] {
  return [...BYTE_TO_CHAR];
}

/**
 * GPT-2's pre-tokenisation pattern. `\p{White_Space}` instead of `\s`: JavaScript's `\s` also
 * matches U+FEFF and misses U+0085, while the reference implementations (Python `regex`,
 * Oniguruma in HF tokenizers) use the Unicode White_Space property.
 */
export const GPT2_SPLIT_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\p{White_Space}\\p{L}\\p{N}]+|\\p{White_Space}+(?!\\P{White_Space})|\\p{White_Space}+";

/** Split `text` into GPT-2 pre-tokens (the pattern covers every character, so nothing is dropped). */
export function gpt2Split(text: string): string[] {
  return text.match(new RegExp(GPT2_SPLIT_PATTERN, 'gu')) ?? [];
}

/**
 * The byte-level string of `text`: its UTF-8 bytes, each shown as its table character. Written out
 * by hand rather than via TextEncoder because pre-tokens are short and the per-call cost dominates.
 * Lone surrogates become U+FFFD's bytes, as TextEncoder would do.
 */
export function toByteLevel(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out += BYTE_TO_CHAR[c];
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd;
    }
    if (c < 0x800) {
      out += BYTE_TO_CHAR[0xc0 | (c >> 6)] + BYTE_TO_CHAR[0x80 | (c & 63)];
    } else if (c < 0x10000) {
      out +=
        BYTE_TO_CHAR[0xe0 | (c >> 12)] + BYTE_TO_CHAR[0x80 | ((c >> 6) & 63)] + BYTE_TO_CHAR[0x80 | (c & 63)];
    } else {
      out +=
        BYTE_TO_CHAR[0xf0 | (c >> 18)] +
        BYTE_TO_CHAR[0x80 | ((c >> 12) & 63)] +
        BYTE_TO_CHAR[0x80 | ((c >> 6) & 63)] +
        BYTE_TO_CHAR[0x80 | (c & 63)];
    }
  }
  return out;
}

// ignoreBOM: a leading U+FEFF is text to keep, not a byte-order mark to strip.
const utf8Lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Inverse of toByteLevel over a token sequence: byte-level characters become their bytes;
 * characters outside the table (e.g. in added tokens such as '<|im start|>') keep their own UTF-8
 * bytes, so such tokens survive decoding unchanged.
 */
export function fromByteLevel(tokens: readonly string[]): string {
  const bytes: number[] = [];
  for (const token of tokens) {
    for (let i = 0; i < token.length; i++) {
      const code = token.charCodeAt(i);
      const b = code < 0x200 ? CHAR_TO_BYTE[code] : -1;
      if (b >= 0) {
        bytes.push(b);
      } else {
        const cp = token.codePointAt(i)!;
        if (cp > 0xffff) i++;
        for (const x of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(x);
      }
    }
  }
  return utf8Lossy.decode(Uint8Array.from(bytes));
}
