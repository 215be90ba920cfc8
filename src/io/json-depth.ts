/**
 * How deeply a JSON text nests arrays and objects, found by one scan without parsing. Parsed
 * values are later walked by recursive code (JSON.stringify, validators), which a hostile file of
 * 200,000 nested brackets would crash with a stack overflow; readers check the depth first.
 */

/** The deepest nesting of `[`/`{` outside strings (0 for a scalar), stopping once past `limit`. */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}
