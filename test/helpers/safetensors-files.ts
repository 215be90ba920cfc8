/**
 * Test helpers for src/io: hand-built (possibly malformed) safetensors files, float32 bit
 * patterns, and a check that atomic writes left no temporary files. Used by tests only.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes of a safetensors file from a header (object or raw text, padded with spaces to 8) and a
 * data buffer; `headerLength` overrides the length prefix to build inconsistent files.
 */
export function safetensorsBytes(header: unknown, data: Uint8Array, headerLength?: bigint): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  while ((8 + Buffer.byteLength(text)) % 8 !== 0) text += ' ';
  const json = Buffer.from(text, 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Write a hand-built safetensors file and return its path. */
export async function writeRawSafetensors(
  dir: string,
  name: string,
  header: unknown,
  data: Uint8Array,
  headerLength?: bigint,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, safetensorsBytes(header, data, headerLength));
  return path;
}

/** Float32 values as their bit patterns, for bit-exact comparisons (NaN payloads included). */
export function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** Float32Array holding exactly the given bit patterns. */
export function fromBits(bits: readonly number[]): Float32Array {
  return new Float32Array(new Uint32Array(bits).buffer);
}

/** Assert the folder holds no temporary files left by an atomic write. */
export async function assertNoTempFiles(dir: string): Promise<void> {
  const leftovers = (await readdir(dir)).filter((n) => n.endsWith('.tmp'));
  assert.deepEqual(leftovers, [], `temporary files left in ${dir}`);
}
