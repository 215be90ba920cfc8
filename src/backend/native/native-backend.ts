/**
 * The native backend: loads the C++ addon built by node-gyp at install and exposes it as a
 * Backend. Every kernel is forwarded unchanged (same name, same argument order) to the addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { BackendError } from '../../errors.ts';
import type { Backend } from '../backend.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// LETHE_NATIVE_ADDON points at another build of the addon (for comparing builds).
const addonPath = process.env.LETHE_NATIVE_ADDON ?? join(root, 'build', 'Release', 'lethe_native.node');

/** Where the addon is looked for (build/Release/lethe_native.node, or LETHE_NATIVE_ADDON). */
export const NATIVE_ADDON_PATH = addonPath;

type Addon = Omit<Backend, 'name'>;

/**
 * V8 marks the heap on background threads while JS runs. With every core busy in a kernel, those
 * threads preempt the kernel's pool threads, and a parallel kernel waits for its slowest chunk:
 * the small GPT-2 train step ran ~15% slower on the 2-core dev machines. Marking on the main
 * thread instead costs the same work without the collisions. Process-wide, so it is done once,
 * when the native backend loads; LETHE_CONCURRENT_GC=1 keeps V8's default.
 */
function preferMainThreadMarking(): void {
  if (process.env.LETHE_CONCURRENT_GC === '1') return;
  setFlagsFromString('--no-concurrent-marking');
}

export function loadNativeBackend(): Backend {
  if (!existsSync(addonPath)) {
    throw new BackendError('the native addon is not built', {
      expected: addonPath,
      found: 'no such file',
      hint: 'in a clone run `npm run build:native`; in an installed package `npm rebuild lethe` (npm 11: approve its install script first); or set LETHE_BACKEND=js for the slow reference backend',
    });
  }
  const addon = createRequire(import.meta.url)(addonPath) as Addon;
  preferMainThreadMarking();
  const backend = Object.create(addon) as Backend;
  Object.defineProperty(backend, 'name', { value: 'native' });
  if (typeof (addon as Partial<Addon>).empty !== 'function') {
    // An addon built before the buffer pool: plain arrays (same results, more page faults).
    Object.assign(backend, {
      empty: (n: number) => new Float32Array(n),
      zeros: (n: number) => new Float32Array(n),
      poolStats: () => ({ live: 0, cached: 0, limit: 0, hits: 0, misses: 0, evictions: 0 }),
    });
  }
  return backend;
}
