/**
 * Storage for op outputs and gradients. `empty(n)` is for an array the kernel overwrites
 * completely (per the contract in backend.ts); `zeros(n)` for one it accumulates into.
 *
 * Large arrays come from the active backend: on native, the addon's buffer pool (memory reused
 * once V8 has freed the previous holder, so no fresh pages to fault in and zero); on js, plain
 * `new Float32Array`. Small arrays are always plain: V8 allocates them faster than a call into
 * the addon. A reused array is never still referenced (the pool only gets memory back from V8's
 * garbage collector), so handing it out is as safe as a fresh one.
 *
 * LETHE_POISON_EMPTY=1 fills every `empty` array with NaN, so a kernel that leaves an element
 * unwritten shows up in the tests instead of reading stale memory.
 */
import { backend } from '../backend/index.ts';

/** Below this many elements (16 KB) arrays are plain `new Float32Array`. */
export const POOL_MIN_ELEMENTS = 4096;

const poison = process.env.LETHE_POISON_EMPTY === '1';

/** A float32 array of n elements with unspecified contents, for a kernel to overwrite. */
export function empty(n: number): Float32Array {
  const a = n < POOL_MIN_ELEMENTS ? new Float32Array(n) : backend.empty(n);
  if (poison) a.fill(Number.NaN);
  return a;
}

/** A float32 array of n zeros. */
export function zeros(n: number): Float32Array {
  return n < POOL_MIN_ELEMENTS ? new Float32Array(n) : backend.zeros(n);
}
