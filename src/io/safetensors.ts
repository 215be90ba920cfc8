/**
 * Reading and writing single safetensors files.
 *
 * Reader: `SafetensorsFile.open` reads and validates only the header; tensors are read lazily,
 * one by one. Files up to `rangedThreshold` bytes (default: Node's 2 GiB read limit) are loaded
 * whole on the first read, and F32/I32 tensors at 4-byte aligned offsets come back as views over
 * that buffer (zero-copy; the views keep the whole file buffer alive). Larger files are read
 * tensor by tensor with positioned reads, so a checkpoint of any size loads with memory for the
 * tensors alone. F16/BF16 are converted to Float32Array, I64 to Int32Array after a range check;
 * other dtypes are rejected when read.
 *
 * Writer: `writeSafetensors` streams the file atomically (temp file, fsync, rename, fsync dir)
 * with sorted header keys and an 8-byte aligned data start; tensors are laid out widest dtype
 * first so every F32/I32 tensor stays 4-byte aligned even when mixed with F16/BF16.
 *
 * Data is little-endian in the file; lethe assumes a little-endian host (every platform Node
 * ships for except s390x) and says so rather than misreading.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { CheckpointError, ShapeError } from '../errors.ts';
import { type AtomicWriteOptions, writeAll, writeAtomic } from './atomic.ts';
import { decodeBf16, decodeF16, encodeBf16, encodeF16 } from './half.ts';
import {
  type HeaderEntry,
  type ParsedHeader,
  parseHeaderJson,
  parseHeaderLength,
  READABLE_DTYPES,
  serializeHeader,
  type TensorInfo,
} from './safetensors-header.ts';

export type { TensorInfo } from './safetensors-header.ts';

/** Largest single read Node allows (fs.readFile and one fs.read are capped at 2^31 - 1 bytes). */
export const NODE_MAX_READ = 2 ** 31 - 1;

/** A tensor as read from a checkpoint. */
export interface LoadedTensor {
  readonly name: string;
  /** The dtype stored in the file (data is Float32Array for floats, Int32Array for integers). */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** Anything data + shape; lethe's Tensor satisfies it. */
export interface TensorLike {
  readonly data: Float32Array | Int32Array;
  readonly shape: readonly number[];
}

export type TensorMap = ReadonlyMap<string, TensorLike> | Readonly<Record<string, TensorLike>>;

/** A name -> tensor collection read lazily: one safetensors file or a sharded checkpoint. */
export interface TensorSource {
  /** Tensor names, sorted. */
  names(): string[];
  has(name: string): boolean;
  /** Dtype, shape and location of a tensor, without reading it. */
  info(name: string): TensorInfo & { readonly file: string };
  read(name: string): Promise<LoadedTensor>;
  readAll(): Promise<Map<string, LoadedTensor>>;
  close(): Promise<void>;
}

export interface ReadOptions {
  /**
   * Files larger than this many bytes are read tensor by tensor with positioned reads instead of
   * being loaded whole. Defaults to NODE_MAX_READ; tests set 0 to exercise the ranged path.
   */
  rangedThreshold?: number;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function requireLittleEndian(file: string): void {
  if (!LITTLE_ENDIAN_HOST) {
    throw new CheckpointError(`safetensors: ${file}: big-endian hosts are not supported`, {
      where: file,
      hint: 'safetensors data is little-endian and lethe maps it directly',
    });
  }
}

/** Read exactly `length` bytes at `position` into `target`, or say the file ended early. */
async function readExactly(
  handle: FileHandle,
  file: string,
  target: Uint8Array,
  position: number,
  what: string,
): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const length = Math.min(target.byteLength - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError(`safetensors: truncated file ${file}`, {
        where: `${file}, ${what}`,
        expected: `${target.byteLength} bytes at offset ${position}`,
        found: `end of file after ${done} bytes`,
        hint: 'the file is shorter than its header says; was it changed while open or copied partially?',
      });
    }
    done += bytesRead;
  }
}

/** Allocate an array, turning V8's RangeError for oversized arrays into a CheckpointError. */
function allocate<T>(file: string, info: TensorInfo, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new CheckpointError(`safetensors: tensor too large to hold in one array in ${file}`, {
      where: `${file}, tensor "${info.name}"`,
      found: `${info.numel} elements (${info.byteLength} bytes)`,
      hint: 'JavaScript typed arrays hold at most 2^32 elements',
    });
  }
}

/** `bytes` as a Uint8Array whose start is `align`-byte aligned: itself when it is, else a copy. */
function aligned(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Convert a tensor's raw little-endian bytes to lethe storage. */
export function decodeTensor(file: string, info: TensorInfo, bytes: Uint8Array): LoadedTensor {
  const { name, dtype, shape, numel } = info;
  const done = (data: Float32Array | Int32Array): LoadedTensor => ({ name, dtype, shape, data });
  switch (dtype) {
    case 'F32': {
      const a = aligned(bytes, 4);
      return done(new Float32Array(a.buffer, a.byteOffset, numel));
    }
    case 'I32': {
      const a = aligned(bytes, 4);
      return done(new Int32Array(a.buffer, a.byteOffset, numel));
    }
    case 'F16':
    case 'BF16': {
      const a = aligned(bytes, 2);
      const src = new Uint16Array(a.buffer, a.byteOffset, numel);
      const out = allocate(file, info, () => new Float32Array(numel));
      if (dtype === 'F16') decodeF16(src, out);
      else decodeBf16(src, out);
      return done(out);
    }
    case 'I64': {
      const a = aligned(bytes, 4);
      const words = new Int32Array(a.buffer, a.byteOffset, numel * 2);
      const out = allocate(file, info, () => new Int32Array(numel));
      for (let i = 0; i < numel; i++) {
        const lo = words[2 * i];
        const hi = words[2 * i + 1];
        // In int32 range exactly when the high word is the sign extension of the low word.
        if (hi !== lo >> 31) {
          const value = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
          throw new CheckpointError(`safetensors: I64 value out of int32 range in ${file}`, {
            where: `${file}, tensor "${name}", element ${i}`,
            expected: 'values in [-2147483648, 2147483647]',
            found: `${value}`,
            hint: 'lethe stores integer tensors as int32',
          });
        }
        out[i] = lo;
      }
      return done(out);
    }
    default:
      throw new CheckpointError(`safetensors: unsupported dtype ${dtype} in ${file}`, {
        where: `${file}, tensor "${name}"`,
        expected: `one of ${READABLE_DTYPES.join(', ')}`,
        found: dtype,
        hint: 'convert the checkpoint to float32, float16 or bfloat16 (e.g. with PyTorch) first',
      });
  }
}

/** One safetensors file, opened for lazy reading. Call close() when done. */
export class SafetensorsFile implements TensorSource {
  readonly path: string;
  readonly fileSize: number;
  /** True when tensors are read by range rather than from a whole-file buffer. */
  readonly ranged: boolean;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly header: ParsedHeader;
  private handle: FileHandle | null;
  private whole: Promise<Uint8Array> | null = null;
  private closed = false;

  private constructor(
    path: string,
    handle: FileHandle,
    fileSize: number,
    header: ParsedHeader,
    ranged: boolean,
  ) {
    this.path = path;
    this.handle = handle;
    this.fileSize = fileSize;
    this.header = header;
    this.metadata = header.metadata;
    this.ranged = ranged;
  }

  /** Open `path` and validate its header; no tensor data is read yet. */
  static async open(path: string, options: ReadOptions = {}): Promise<SafetensorsFile> {
    requireLittleEndian(path);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CheckpointError(`safetensors: cannot open ${path}`, {
        where: path,
        found: code === 'ENOENT' ? 'no such file' : String((err as Error).message),
      });
    }
    try {
      const { size } = await handle.stat();
      const prefix = new Uint8Array(8);
      if (size >= 8) await readExactly(handle, path, prefix, 0, 'header length');
      const headerLength = parseHeaderLength(path, prefix, size);
      const json = new Uint8Array(headerLength);
      await readExactly(handle, path, json, 8, 'header');
      const header = parseHeaderJson(path, json, size);
      const ranged = size > (options.rangedThreshold ?? NODE_MAX_READ);
      return new SafetensorsFile(path, handle, size, header, ranged);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  names(): string[] {
    return [...this.header.tensors.keys()].sort();
  }

  has(name: string): boolean {
    return this.header.tensors.has(name);
  }

  info(name: string): TensorInfo & { readonly file: string } {
    const info = this.header.tensors.get(name);
    if (!info) {
      const names = this.names();
      const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
      throw new CheckpointError(`safetensors: no tensor "${name}" in ${this.path}`, {
        where: this.path,
        expected: `a tensor named "${name}"`,
        found: names.length === 0 ? 'no tensors' : shown,
      });
    }
    return { ...info, file: this.path };
  }

  async read(name: string): Promise<LoadedTensor> {
    const info = this.info(name);
    if (this.closed) {
      throw new CheckpointError(`safetensors: ${this.path} is closed`, {
        where: `${this.path}, tensor "${name}"`,
      });
    }
    let bytes: Uint8Array;
    if (this.ranged) {
      // A fresh ArrayBuffer per tensor: aligned, so F32/I32 views over it need no second copy.
      bytes = allocate(this.path, info, () => new Uint8Array(info.byteLength));
      await readExactly(this.handle!, this.path, bytes, info.offset, `tensor "${name}"`);
    } else {
      const all = await this.loadWhole();
      bytes = all.subarray(info.offset, info.offset + info.byteLength);
    }
    return decodeTensor(this.path, info, bytes);
  }

  async readAll(): Promise<Map<string, LoadedTensor>> {
    const out = new Map<string, LoadedTensor>();
    for (const name of this.names()) out.set(name, await this.read(name));
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /** The whole file in one buffer, read once; the file handle is released afterwards. */
  private loadWhole(): Promise<Uint8Array> {
    if (this.whole === null) {
      const load = async () => {
        // allocUnsafeSlow: an unpooled buffer at byteOffset 0, so file offsets keep their alignment.
        const buf = Buffer.allocUnsafeSlow(this.fileSize);
        await readExactly(this.handle!, this.path, buf, 0, 'data');
        const handle = this.handle;
        this.handle = null;
        await handle?.close();
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      };
      this.whole = load();
      // Let a later read retry after a transient failure instead of replaying the rejection.
      this.whole.catch(() => {
        if (this.handle !== null) this.whole = null;
      });
    }
    return this.whole;
  }
}

/** Read every tensor of one safetensors file. */
export async function readSafetensors(
  path: string,
  options: ReadOptions = {},
): Promise<Map<string, LoadedTensor>> {
  const file = await SafetensorsFile.open(path, options);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Float dtypes the writer produces; Int32Array data is always written as I32. */
export type WriteDType = 'F32' | 'F16' | 'BF16';

export interface WriteOptions extends AtomicWriteOptions {
  /** String metadata stored as `__metadata__` (Hugging Face expects {format: 'pt'}). */
  metadata?: Record<string, string>;
  /** Dtype for float tensors, or a function choosing it per tensor name; F32 by default. */
  dtype?: WriteDType | ((name: string) => WriteDType);
}

/** A tensor placed in a file being written. */
export interface PlannedTensor extends HeaderEntry {
  readonly tensor: TensorLike;
}

/** Tensors of a TensorMap as [name, tensor] pairs, checked for names and size/shape agreement. */
export function tensorEntries(tensors: TensorMap, where: string): [string, TensorLike][] {
  const entries: [string, TensorLike][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, TensorLike>);
  for (const [name, t] of entries) {
    if (name === '' || name === '__metadata__') {
      throw new ShapeError(`safetensors: invalid tensor name ${JSON.stringify(name)} for ${where}`, {
        where,
        hint: 'names must be non-empty and not "__metadata__"',
      });
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Int32Array)) {
      throw new ShapeError(`safetensors: tensor "${name}" has unsupported storage for ${where}`, {
        where,
        expected: 'Float32Array or Int32Array data',
      });
    }
    let numel = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new ShapeError(`safetensors: tensor "${name}" has invalid shape [${t.shape.join(', ')}]`, {
          where,
          expected: 'non-negative integer dims',
        });
      }
      numel *= d;
    }
    if (numel !== t.data.length) {
      throw new ShapeError(`safetensors: tensor "${name}" data does not match its shape`, {
        where,
        expected: `${numel} values for shape [${t.shape.join(', ')}]`,
        found: `${t.data.length} values`,
      });
    }
  }
  return entries;
}

function dtypeFor(name: string, t: TensorLike, option: WriteOptions['dtype']): string {
  if (t.data instanceof Int32Array) return 'I32';
  return typeof option === 'function' ? option(name) : (option ?? 'F32');
}

/** Byte layout of a file: widest dtype first, then by name, so 4-byte types stay aligned. */
export function planTensors(entries: [string, TensorLike][], dtype: WriteOptions['dtype']): PlannedTensor[] {
  const withDtype = entries.map(([name, tensor]) => ({ name, tensor, dtype: dtypeFor(name, tensor, dtype) }));
  const width = (d: string) => (d === 'F16' || d === 'BF16' ? 2 : 4);
  withDtype.sort(
    (a, b) => width(b.dtype) - width(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  let offset = 0;
  return withDtype.map(({ name, tensor, dtype: dt }) => {
    const begin = offset;
    offset += tensor.data.length * width(dt);
    return { name, dtype: dt, shape: [...tensor.shape], begin, end: offset, tensor };
  });
}

/** Bytes the planned tensors take in a file (without the header). */
export function plannedBytes(planned: readonly PlannedTensor[]): number {
  return planned.length === 0 ? 0 : planned[planned.length - 1].end;
}

async function writeTensorData(handle: FileHandle, t: PlannedTensor): Promise<void> {
  const data = t.tensor.data;
  if (t.dtype === 'F32' || t.dtype === 'I32') {
    await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return;
  }
  // Narrow in bounded chunks so a large tensor never needs a full-size second copy.
  const src = data as Float32Array;
  const chunk = 1 << 20;
  const out = new Uint16Array(Math.min(chunk, src.length));
  for (let start = 0; start < src.length; start += chunk) {
    const part = src.subarray(start, Math.min(start + chunk, src.length));
    const dst = out.subarray(0, part.length);
    if (t.dtype === 'F16') encodeF16(part, dst);
    else encodeBf16(part, dst);
    await writeAll(handle, new Uint8Array(dst.buffer, 0, dst.byteLength));
  }
}

/** Write planned tensors to `path` atomically. */
export async function writePlanned(
  path: string,
  planned: readonly PlannedTensor[],
  options: Pick<WriteOptions, 'metadata' | 'beforeRename'> = {},
): Promise<void> {
  requireLittleEndian(path);
  if (options.metadata) {
    for (const [k, v] of Object.entries(options.metadata)) {
      if (typeof v !== 'string') {
        throw new CheckpointError(`safetensors: metadata value for "${k}" is not a string`, {
          where: path,
          expected: 'string values (safetensors __metadata__ is string -> string)',
          found: typeof v,
        });
      }
    }
  }
  const header = serializeHeader(planned, options.metadata);
  await writeAtomic(
    path,
    async (handle) => {
      await writeAll(handle, header);
      for (const t of planned) await writeTensorData(handle, t);
    },
    options,
  );
}

/** Write `tensors` to one safetensors file, atomically. */
export async function writeSafetensors(
  path: string,
  tensors: TensorMap,
  options: WriteOptions = {},
): Promise<void> {
  const planned = planTensors(tensorEntries(tensors, path), options.dtype);
  await writePlanned(path, planned, options);
}

/**
 * Throw a CheckpointError at the first NaN or infinite value of a float tensor. Reading keeps
 * such values bit-exact (a file may legitimately hold them); model and checkpoint loaders call
 * this because weights that are not finite make every score NaN and every generation empty.
 */
export function assertFiniteTensors(
  tensors: Iterable<readonly [string, { readonly data: Float32Array | Int32Array }]>,
  file: string,
): void {
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array)) continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      // x - x is 0 for every finite x and NaN for NaN and ±Infinity.
      if (d[i] - d[i] !== 0) {
        throw new CheckpointError('the weights hold a value that is not finite', {
          where: `${file}: tensor ${name}, element ${i}`,
          expected: 'finite numbers',
          found: String(d[i]),
          hint: 'the model diverged during training or the file is corrupt',
        });
      }
    }
  }
}
