/**
 * A guard against regular expressions that can backtrack exponentially, for the patterns a
 * tokenizer.json supplies (Replace normalizers, Split pre-tokenizers). JavaScript cannot bound a
 * regex match's work, so risky patterns are refused when the tokenizer is loaded: a repeated
 * group (`*`, `+`, `?`, `{n,}`, `{n,m}` with m > 1) whose body itself repeats something or holds
 * an alternation — `(a+)+`, `(a|a)*`, `((ab)*c)+` — and backreferences. The patterns real
 * tokenizers ship (GPT-2, Llama 3, Qwen 2 splits; Metaspace and whitespace replaces) repeat only
 * single characters and classes, and pass. Polynomial cases (`\s*\s*x`) are not refused: their
 * work stays within a small power of the input length.
 */

interface Frame {
  /** The body repeats something or holds an alternation. */
  risky: boolean;
}

/** Why `pattern` is refused, or null when it is safe to run. */
export function regexRisk(pattern: string): string | null {
  const stack: Frame[] = [{ risky: false }];
  // What the next quantifier applies to: a just-closed group (and whether it was risky), or a plain atom.
  let last: { group: boolean; risky: boolean } | null = null;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return `backreference \\${n} at ${i}`;
      i++;
      // \p{..}, \P{..}, \u{..}, \x.. and \u.... are single atoms: skip their bodies.
      if ((n === 'p' || n === 'P' || n === 'u') && pattern[i + 1] === '{') i = pattern.indexOf('}', i);
      if (i < 0) return null; // unterminated: the RegExp constructor reports it
      last = { group: false, risky: false };
    } else if (c === '[') {
      // A character class is one atom; skip to its closing bracket.
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      last = { group: false, risky: false };
    } else if (c === '(') {
      stack.push({ risky: false });
      last = null;
    } else if (c === ')') {
      const frame = stack.length > 1 ? stack.pop()! : { risky: false };
      last = { group: true, risky: frame.risky };
      // A quantifier or alternation inside makes every enclosing group's body risky too.
      if (frame.risky) stack[stack.length - 1].risky = true;
    } else if (c === '|') {
      stack[stack.length - 1].risky = true;
      last = null;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let repeats = c !== '?';
      if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (!m) {
          last = { group: false, risky: false }; // a literal '{'
          continue;
        }
        repeats = m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1);
        i += m[0].length - 1;
      }
      if (pattern[i + 1] === '?' || pattern[i + 1] === '+') i++; // lazy / possessive marker
      if (last === null) continue; // e.g. the '?' of '(?:' was consumed above; nothing to repeat
      if (last.group && last.risky && (repeats || c === '?')) {
        return `a repeated group that itself repeats or alternates (ending at ${i})`;
      }
      stack[stack.length - 1].risky = true;
      last = null;
    } else {
      last = { group: false, risky: false };
    }
  }
  return null;
}
