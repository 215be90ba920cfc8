/** Test helper: run a function with a fresh temporary folder, removed afterwards (even on failure). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Run `fn` with a fresh temporary folder named `<prefix>XXXXXX`, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>, prefix = 'lethe-test-'): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
