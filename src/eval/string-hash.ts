/**
 * A stable string hash (FNV-1a), used to seed per-item random choices (sampled items, bootstrap
 * resamples, EL prefix positions) independently of the order of the items.
 */

/** A stable 32-bit hash of a string (FNV-1a). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
