/**
 * Atomic file writes. A reader of `path` sees either the old file or the complete new one, never
 * a partial write: the data goes to a temporary file in the same folder (so the rename cannot
 * cross file systems), is fsynced, renamed over the target, and the folder is fsynced so the
 * rename itself survives a power cut. On any error the temporary file is removed; only a crash of
 * the process itself can leave one behind, under a name that starts with '.' and ends in '.tmp'.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Test hooks; production callers leave these unset. */
export interface AtomicWriteOptions {
  /** Called after the temporary file is written, fsynced and closed, just before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** The temporary name used for `path`: hidden, unique per process and call, in the same folder. */
export function tempPathFor(path: string): string {
  const suffix = `${process.pid}.${randomBytes(6).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${suffix}.tmp`);
}

/** True for names produced by tempPathFor (so folder scans can ignore leftovers of a crash). */
export function isAtomicTempName(name: string): boolean {
  return /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/.test(name);
}

/**
 * Fsync a folder so a rename or unlink inside it is durable. Some platforms (Windows) cannot
 * open or fsync a directory; there the rename is as durable as the OS makes it, so we go on.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Write `path` atomically, letting `fill` write the contents through a file handle (for outputs
 * too large to build in memory, such as multi-GiB safetensors files).
 */
export async function writeAtomic(
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = tempPathFor(path);
  // 'wx': fail rather than clobber if the random name somehow exists.
  const handle = await open(temp, 'wx');
  let closed = false;
  try {
    await fill(handle);
    await handle.sync();
    await handle.close();
    closed = true;
    if (options.beforeRename) await options.beforeRename(temp);
    await rename(temp, path);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Write every byte of `data` at the handle's current position (a single write may be short). */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  // Chunked so no single write call exceeds what the OS accepts in one go (~2 GiB on Linux).
  const chunk = 1 << 26;
  let offset = 0;
  while (offset < data.byteLength) {
    const length = Math.min(chunk, data.byteLength - offset);
    const { bytesWritten } = await handle.write(data, offset, length);
    offset += bytesWritten;
  }
}

/** Write a string (as UTF-8) or bytes to `path` atomically. */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  await writeAtomic(path, (handle) => writeAll(handle, bytes), options);
}

export interface JsonWriteOptions extends AtomicWriteOptions {
  /** Indentation passed to JSON.stringify; 2 by default, 0 for one line. */
  indent?: number;
}

/** Write `value` as JSON (with a trailing newline) to `path` atomically. */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options: JsonWriteOptions = {},
): Promise<void> {
  const text = JSON.stringify(value, null, options.indent ?? 2);
  if (text === undefined) throw new TypeError(`writeJsonAtomic(${path}): value is not JSON-serialisable`);
  await writeFileAtomic(path, `${text}\n`, options);
}
