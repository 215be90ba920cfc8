/**
 * The native backend: loads the C++ addon built by node-gyp at install and exposes it as a
 * Backend. Every kernel is forwarded unchanged (same name, same argument order) to the addon.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendError } from '../../errors.ts';
import type { Backend } from '../backend.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// LETHE_NATIVE_ADDON points at another build of the addon (for comparing builds).
const addonPath = process.env.LETHE_NATIVE_ADDON ?? join(root, 'build', 'Release', 'lethe_native.node');

type Addon = Omit<Backend, 'name'>;

export function loadNativeBackend(): Backend {
  if (!existsSync(addonPath)) {
    throw new BackendError('the native addon is not built', {
      expected: addonPath,
      found: 'no such file',
      hint: 'run `npm run build:native` (or `npm ci`), or set LETHE_BACKEND=js for the slow reference backend',
    });
  }
  const addon = createRequire(import.meta.url)(addonPath) as Addon;
  const backend = Object.create(addon) as Backend;
  Object.defineProperty(backend, 'name', { value: 'native' });
  return backend;
}
