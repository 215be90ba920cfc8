/**
 * Test helpers for src/data: temporary folders, where the shared datasets live (../shared/datasets
 * beside the repository, resolved from this file, never copied into the repo), skip messages when
 * they are absent, assertions on lethe errors, and a writer of small `.npy` files. Tests only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skipUnlessPresent } from '../../test/reliability/must-run.ts';

/** <repo>/../shared/datasets (this file is <repo>/src/data/test-helpers.ts). */
export const DATASETS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets');
export const TOFU_DIR = join(DATASETS, 'tofu');
export const EXTRACTION_DIR = join(DATASETS, 'lm_extraction_benchmark');

/** `false` when every path exists, else a skip message naming the first missing one (CI: throws). */
export function skipUnless(...paths: string[]): false | string {
  return skipUnlessPresent('shared dataset', paths, 'expected ../shared/datasets beside the repo');
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lethe-data-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Write records (values, or raw strings taken as-is) one per line. */
export async function writeLines(path: string, lines: unknown[]): Promise<void> {
  await writeFile(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
}

/** Assert that `promise` rejects with an error of class `type` whose message contains every part. */
export async function rejectsWith(
  promise: Promise<unknown> | (() => unknown),
  type: new (...args: never[]) => Error,
  ...parts: string[]
): Promise<void> {
  const p = typeof promise === 'function' ? Promise.resolve().then(promise) : promise;
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${(err as Error)?.constructor?.name}: ${err}`);
    for (const part of parts)
      assert.ok(err.message.includes(part), `message lacks "${part}":\n${err.message}`);
    return true;
  });
}

/** Bytes of a NumPy v1.0 C-order little-endian uint16 array. */
export function npyUint16(rows: number, cols: number, value: (r: number, c: number) => number): Uint8Array {
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + rows * cols * 2);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const data = new DataView(out.buffer, 10 + header.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) data.setUint16((r * cols + c) * 2, value(r, c), true);
  return out;
}
