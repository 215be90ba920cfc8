/**
 * The safetensors header: parsing with full validation, and serialisation for the writer.
 * Layout: u64 little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the
 * data buffer, with offsets relative to its start. Every failure here is a CheckpointError that
 * names the file and, where there is one, the tensor; nothing is trusted before it is checked,
 * because a header is the first thing a corrupt or hostile file controls.
 */

import { CheckpointError } from '../errors.ts';
import { jsonDepth } from './json-depth.ts';

/** Bits per element of every dtype the safetensors format defines. */
export const DTYPE_BITS: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
});

/** The dtypes lethe reads: floats become Float32Array, integers Int32Array. */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16', 'I32', 'I64'] as const;
export type ReadableDType = (typeof READABLE_DTYPES)[number];

/** The reference implementation's cap; a larger header is corruption, not a real checkpoint. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  /** The dtype as stored in the file (any safetensors dtype; read() rejects unsupported ones). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly numel: number;
  /** Absolute byte offset of the tensor's data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface ParsedHeader {
  /** Absolute offset of the data buffer: 8 + header length. */
  readonly dataStart: number;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

function where(file: string, tensor?: string): string {
  return tensor === undefined ? file : `${file}, tensor "${tensor}"`;
}

const MAX_HEADER_DEPTH = 16;

function fail(
  file: string,
  summary: string,
  d: { tensor?: string; expected?: string; found?: string; hint?: string },
) {
  return new CheckpointError(`safetensors: ${summary} in ${file}`, {
    where: where(file, d.tensor),
    expected: d.expected,
    found: d.found,
    hint: d.hint,
  });
}

function describe(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    return Array.isArray(v) ? 'an array' : typeof v; // too deep to print
  }
  if (s === undefined) return String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Read and check the 8-byte length prefix; returns the header length N. */
export function parseHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw fail(file, 'file too short for a header length', {
      expected: 'at least 8 bytes (u64 header length)',
      found: `${fileSize} bytes`,
      hint: 'the file is truncated or not a safetensors file',
    });
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw fail(file, 'absurd header length', {
      expected: `at most ${MAX_HEADER_BYTES} bytes`,
      found: `${n} bytes`,
      hint: 'the file is corrupt or not a safetensors file',
    });
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw fail(file, 'header length beyond the end of the file', {
      expected: `8 + ${len} <= file size`,
      found: `file size ${fileSize} bytes`,
      hint: 'the file is truncated or not a safetensors file',
    });
  }
  return len;
}

function checkShape(file: string, name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw fail(file, 'bad shape', { tensor: name, expected: 'an array of dims', found: describe(shape) });
  }
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw fail(file, 'bad shape', {
        tensor: name,
        expected: 'non-negative integer dims',
        found: describe(shape),
      });
    }
  }
  return shape as number[];
}

function numelOf(file: string, name: string, shape: number[], bits: number): number {
  let numel = 1;
  for (const d of shape) numel *= d;
  // Checked after the loop: a zero dim makes any product exact, and a product past 2^53 is
  // already too large however it was rounded.
  if (!Number.isSafeInteger(numel) || !Number.isSafeInteger(numel * Math.max(1, bits / 8))) {
    throw fail(file, 'shape too large', {
      tensor: name,
      expected: `a shape whose byte size fits in ${Number.MAX_SAFE_INTEGER}`,
      found: `shape [${shape.join(', ')}]`,
    });
  }
  return numel;
}

function checkOffsets(file: string, name: string, offsets: unknown, dataSize: number): [number, number] {
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw fail(file, 'bad data_offsets', {
      tensor: name,
      expected: '[begin, end] with non-negative integers',
      found: describe(offsets),
    });
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw fail(file, 'bad data_offsets', {
      tensor: name,
      expected: 'begin <= end',
      found: describe(offsets),
    });
  }
  if (end > dataSize) {
    throw fail(file, 'data_offsets out of range', {
      tensor: name,
      expected: `end <= ${dataSize} (size of the data buffer)`,
      found: `[${begin}, ${end}]`,
      hint: 'the file is truncated, or its header is corrupt',
    });
  }
  return [begin, end];
}

function parseMetadata(file: string, raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(file, 'bad __metadata__', { expected: 'an object of string values', found: describe(raw) });
  }
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') {
      throw fail(file, 'bad __metadata__', {
        expected: 'string values only',
        found: `${JSON.stringify(k)}: ${describe(v)}`,
      });
    }
    out[k] = v;
  }
  return out;
}

/**
 * Parse and validate the JSON header (`json` is the N header bytes). Checks every entry's dtype,
 * shape, offsets and size, and that no two tensors share bytes. Gaps and trailing bytes are
 * allowed (they hold no tensor); the reference writer never produces them.
 */
export function parseHeaderJson(file: string, json: Uint8Array, fileSize: number): ParsedHeader {
  const dataStart = 8 + json.byteLength;
  const dataSize = fileSize - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
  } catch {
    throw fail(file, 'header is not valid UTF-8', { expected: 'a UTF-8 JSON header' });
  }
  // The header is three levels deep ({name: {shape: [...]}}); far deeper nesting is hostile.
  const depth = jsonDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH) {
    throw fail(file, 'header nests too deeply', {
      expected: `JSON nested at most ${MAX_HEADER_DEPTH} levels`,
      found: `more than ${MAX_HEADER_DEPTH} levels`,
      hint: 'the file is corrupt or not a safetensors file',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(file, 'header is not valid JSON', {
      expected: 'a JSON object',
      found: `${(err as Error).message}; header starts ${describe(text.slice(0, 60))}`,
      hint: 'the file is corrupt or not a safetensors file',
    });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(file, 'header is not a JSON object', { expected: 'a JSON object', found: describe(raw) });
  }

  let metadata: Record<string, string> = Object.create(null);
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(raw)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, entry);
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw fail(file, 'bad tensor entry', {
        tensor: name,
        expected: '{dtype, shape, data_offsets}',
        found: describe(entry),
      });
    }
    const e = entry as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BITS, dtype)) {
      throw fail(file, 'unknown dtype', {
        tensor: name,
        expected: `one of ${Object.keys(DTYPE_BITS).join(', ')}`,
        found: describe(dtype),
      });
    }
    const bits = DTYPE_BITS[dtype];
    const shape = checkShape(file, name, e.shape);
    const numel = numelOf(file, name, shape, bits);
    const [begin, end] = checkOffsets(file, name, e.data_offsets, dataSize);
    const bytes = (numel * bits) / 8;
    if (end - begin !== bytes) {
      throw fail(file, 'data size does not match shape', {
        tensor: name,
        expected: `${bytes} bytes (${numel} x ${dtype} for shape [${shape.join(', ')}])`,
        found: `${end - begin} bytes (data_offsets [${begin}, ${end}])`,
      });
    }
    tensors.set(name, { name, dtype, shape, numel, offset: dataStart + begin, byteLength: end - begin });
  }

  // Overlap check on the sorted ranges; empty tensors occupy no bytes and cannot overlap.
  const ranges = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (cur.offset < prev.offset + prev.byteLength) {
      const span = (t: TensorInfo) => `[${t.offset - dataStart}, ${t.offset - dataStart + t.byteLength})`;
      throw fail(file, 'overlapping data_offsets', {
        tensor: cur.name,
        expected: 'disjoint byte ranges',
        found: `"${prev.name}" ${span(prev)} overlaps "${cur.name}" ${span(cur)}`,
      });
    }
  }
  return { dataStart, tensors, metadata };
}

export interface HeaderEntry {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/**
 * The header bytes for a writer: `__metadata__` first, then tensors in sorted key order, padded
 * with spaces so the data buffer starts at an 8-byte aligned offset (as the reference does),
 * which keeps every float32 tensor 4-byte aligned for zero-copy reads.
 */
export function serializeHeader(
  entries: readonly HeaderEntry[],
  metadata?: Record<string, string>,
): Uint8Array {
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const keys = Object.keys(metadata).sort();
    const meta = keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',');
    parts.push(`"__metadata__":{${meta}}`);
  }
  // Keys are emitted by hand: a JS object would reorder integer-like tensor names.
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of sorted) {
    const value = { dtype: t.dtype, shape: t.shape, data_offsets: [t.begin, t.end] };
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify(value)}`);
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil((8 + json.byteLength) / 8) * 8 - 8;
  const out = Buffer.alloc(8 + padded, 0x20);
  new DataView(out.buffer, out.byteOffset, 8).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}
