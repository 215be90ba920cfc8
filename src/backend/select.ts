/**
 * Backend selection. Native is the default; LETHE_BACKEND=js selects the reference loops and
 * LETHE_BACKEND=native insists on the addon (an error when it is missing). Unset, a missing or
 * unloadable addon (a failed build at install) falls back to js with a one-line warning, so lethe
 * runs anywhere Node does. LETHE_THREADS sets the native thread count (default: all cores).
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { createJsBackend } from './js/js-backend.ts';
import { loadNativeBackend } from './native/native-backend.ts';

export const jsBackend: Backend = createJsBackend();

let native: Backend | null = null;
/** The native backend (loaded on first use). Throws a BackendError if the addon is not built. */
export function nativeBackend(): Backend {
  if (!native) {
    native = loadNativeBackend();
    native.setThreads(threadsFromEnv());
  }
  return native;
}

function threadsFromEnv(): number {
  const raw = process.env.LETHE_THREADS;
  if (raw === undefined || raw === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new ConfigError('LETHE_THREADS is not a positive integer', { where: 'environment', found: raw });
  }
  return n;
}

/** Why the native backend is not in use, when the default choice fell back to js (else null). */
export let nativeFallbackReason: string | null = null;

function fromEnv(): Backend {
  const name = process.env.LETHE_BACKEND || 'auto';
  if (name === 'js') return jsBackend;
  if (name === 'native') return nativeBackend();
  if (name === 'auto') {
    try {
      return nativeBackend();
    } catch (err) {
      if (err instanceof ConfigError) throw err; // a bad LETHE_THREADS is the user's to fix
      nativeFallbackReason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      process.stderr.write(
        `lethe: warning: native backend unavailable (${nativeFallbackReason}); using the slower js backend\n`,
      );
      return jsBackend;
    }
  }
  throw new ConfigError('unknown LETHE_BACKEND', {
    where: 'environment',
    expected: '"native", "js" or unset (native when the addon loads, else js)',
    found: name,
  });
}

/** The backend every op runs on. */
export let backend: Backend = fromEnv();

/** Switch the active backend (tests compare js against native this way). */
export function useBackend(b: Backend): void {
  backend = b;
}
