/**
 * Content hashes of data, for caching models by what they were trained and evaluated on.
 * Promises: the hash is sha256 (hex) over a canonical JSON form — object keys sorted, keys whose
 * value is undefined dropped, arrays in order, strings exactly as stored (no Unicode or whitespace
 * folding: a different string may tokenise differently) — so it depends only on the data, never
 * on key order, file layout, paths or how the task was loaded. Non-finite numbers are rejected.
 */
import { createHash, type Hash } from 'node:crypto';

/** Append the canonical JSON of `value` to `out` (chunks, to keep large tasks out of one string). */
function writeCanonical(value: unknown, out: (chunk: string) => void): void {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    out(JSON.stringify(value));
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot hash the non-finite number ${value}`);
    out(JSON.stringify(value));
  } else if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.isArray(value) ? value : Array.from(value as unknown as ArrayLike<number>);
    out('[');
    items.forEach((item, i) => {
      if (i > 0) out(',');
      writeCanonical(item === undefined ? null : item, out);
    });
    out(']');
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    out('{');
    keys.forEach((k, i) => {
      if (i > 0) out(',');
      out(JSON.stringify(k));
      out(':');
      writeCanonical(obj[k], out);
    });
    out('}');
  } else {
    throw new TypeError(`cannot hash a value of type ${typeof value}`);
  }
}

/** The canonical JSON text of a value (sorted keys, no undefined, no whitespace). */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonical(value, (c) => parts.push(c));
  return parts.join('');
}

/** sha256 (hex) of the canonical JSON of `value`, prefixed by a domain tag so unrelated hashes differ. */
export function contentHash(value: unknown, tag = 'lethe-data-v1'): string {
  const hash: Hash = createHash('sha256');
  hash.update(tag);
  hash.update('\n');
  // Buffer small chunks: one update per leaf would be slow on large tasks.
  let pending = '';
  writeCanonical(value, (chunk) => {
    pending += chunk;
    if (pending.length >= 1 << 16) {
      hash.update(pending);
      pending = '';
    }
  });
  hash.update(pending);
  return hash.digest('hex');
}
