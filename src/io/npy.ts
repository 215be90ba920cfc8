/**
 * NumPy `.npy` reader (format versions 1.0, 2.0 and 3.0). Promises: the header is validated (magic,
 * version, dict with descr / fortran_order / shape), the data length matches the shape, and the
 * result is a freshly allocated, properly aligned typed array in native (little-endian) order —
 * big-endian files are byte-swapped. Fortran-order arrays are returned as stored and flagged, since
 * callers of lethe only ever want C order and must decide what to do. Every problem is a DataError
 * naming the file.
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.ts';

export type NpyDType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export type NpyData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** True when the file stores the array in column-major order (the data is returned as stored). */
  fortranOrder: boolean;
  data: NpyData;
}

interface DTypeInfo {
  dtype: NpyDType;
  size: number;
  make: (buffer: ArrayBuffer) => NpyData;
}

// Keyed by the descr's kind+size (byte order handled separately).
const DTYPES: Record<string, DTypeInfo> = {
  b1: { dtype: 'bool', size: 1, make: (b) => new Uint8Array(b) },
  i1: { dtype: 'int8', size: 1, make: (b) => new Int8Array(b) },
  u1: { dtype: 'uint8', size: 1, make: (b) => new Uint8Array(b) },
  i2: { dtype: 'int16', size: 2, make: (b) => new Int16Array(b) },
  u2: { dtype: 'uint16', size: 2, make: (b) => new Uint16Array(b) },
  i4: { dtype: 'int32', size: 4, make: (b) => new Int32Array(b) },
  u4: { dtype: 'uint32', size: 4, make: (b) => new Uint32Array(b) },
  i8: { dtype: 'int64', size: 8, make: (b) => new BigInt64Array(b) },
  u8: { dtype: 'uint64', size: 8, make: (b) => new BigUint64Array(b) },
  f4: { dtype: 'float32', size: 4, make: (b) => new Float32Array(b) },
  f8: { dtype: 'float64', size: 8, make: (b) => new Float64Array(b) },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Read and parse a `.npy` file. */
export function readNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new DataError('cannot read .npy file', {
      where: path,
      found: (err as Error).message,
    });
  }
  return parseNpy(bytes, path);
}

/** Parse the bytes of a `.npy` file; `source` names it in errors. */
export function parseNpy(bytes: Uint8Array, source = '<buffer>'): NpyArray {
  const fail = (summary: string, expected: string, found: string): never => {
    throw new DataError(`invalid .npy file: ${summary}`, { where: source, expected, found });
  };
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    fail('bad magic', 'the 6 bytes \\x93NUMPY at the start', `${bytes.length} bytes not starting so`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header', 'at least 12 bytes', `${bytes.length}`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail('unsupported format version', 'version 1.x, 2.x or 3.x', `${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length)
    fail('truncated header', `${dataStart} header bytes`, `${bytes.length} bytes`);
  // v1/v2 headers are latin-1 (in practice ASCII); v3 allows UTF-8.
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, dataStart),
  );

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail('header dict lacks a key', "{'descr': ..., 'fortran_order': ..., 'shape': (...)}", header.trim());
  }
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) fail('bad shape', 'non-negative integers', shapeText!);
      return n;
    });

  const order = descr![0];
  const info = DTYPES[descr!.slice(1)];
  if (!info || !'<>|='.includes(order)) {
    fail(
      'unsupported dtype',
      `one of ${Object.keys(DTYPES)
        .map((k) => `<${k}`)
        .join(', ')}`,
      `'${descr}'`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * info.size;
  if (bytes.length - dataStart < byteLength) {
    fail(
      'data shorter than its shape',
      `${byteLength} data bytes for shape (${shape.join(', ')})`,
      `${bytes.length - dataStart}`,
    );
  }
  // Copy into a fresh buffer: the source may be unaligned for the element size (Buffer pools).
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(dataStart, dataStart + byteLength));
  if (order === '>' && info.size > 1) swapBytes(copy, info.size);
  return { dtype: info.dtype, shape, fortranOrder: fortran === 'True', data: info.make(copy.buffer) };
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
