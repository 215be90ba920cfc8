/**
 * JSON Lines: a streaming reader that reports every problem as a DataError naming the file, the
 * line number and what was wrong (invalid UTF-8, bad JSON, a schema violation with its field
 * path, an empty file), and an appender that only ever writes whole lines.
 *
 * Lines are split on bytes and each line is decoded with a fatal UTF-8 decoder, so invalid bytes
 * are reported on the line that holds them instead of turning silently into U+FFFD. Blank lines
 * are skipped; CRLF endings and a leading byte-order mark are accepted.
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { z } from 'zod';
import { DataError } from '../errors.ts';

export interface JsonlReadOptions<T> {
  /** Validate each parsed line; the yielded value is the schema's output. */
  schema?: z.ZodType<T>;
  /** Accept a file without records (default false: an empty data file is usually a mistake). */
  allowEmpty?: boolean;
  /** Longest line accepted, in bytes (default 256 MiB), so a file without newlines fails clearly. */
  maxLineBytes?: number;
}

export interface JsonlRecord<T> {
  /** 1-based line number in the file. */
  line: number;
  value: T;
}

function snippet(text: string): string {
  const s = JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
  return s;
}

/** A zod issue path as `a.b[2].c`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const k = String(key);
      out += /^[A-Za-z_$][\w$]*$/.test(k) ? (out === '' ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    }
  }
  return out;
}

/** Split a byte stream into lines (without the terminator); yields [lineNumber, bytes]. */
async function* byteLines(path: string, maxLineBytes: number): AsyncGenerator<[number, Buffer]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 1;
  let stream: AsyncIterable<Buffer>;
  try {
    stream = createReadStream(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}`, { where: path, found: String((err as Error).message) });
  }
  try {
    for await (const chunk of stream) {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
        pending = [];
        pendingBytes = 0;
        yield [line++, bytes];
        start = nl + 1;
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxLineBytes) {
          throw new DataError(`line too long in ${path}`, {
            where: `${path}:${line}`,
            expected: `lines of at most ${maxLineBytes} bytes`,
            found: `more than ${pendingBytes} bytes without a newline`,
            hint: 'is this a JSON Lines file (one JSON value per line)?',
          });
        }
      }
    }
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}`, {
      where: path,
      found: code === 'ENOENT' ? 'no such file' : String((err as Error).message),
    });
  }
  if (pending.length > 0) yield [line, Buffer.concat(pending)];
}

/** Stream the records of a JSONL file, validated line by line. */
export async function* iterateJsonl<T = unknown>(
  path: string,
  options: JsonlReadOptions<T> = {},
): AsyncGenerator<JsonlRecord<T>> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let count = 0;
  for await (const [line, bytes] of byteLines(path, options.maxLineBytes ?? 256 * 1024 * 1024)) {
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new DataError(`invalid UTF-8 in ${path} at line ${line}`, {
        where: `${path}:${line}`,
        expected: 'UTF-8 text',
        found: `invalid byte sequence in ${bytes.length} bytes`,
        hint: 'convert the file to UTF-8',
      });
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') continue;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new DataError(`bad JSON in ${path} at line ${line}`, {
        where: `${path}:${line}`,
        expected: 'one JSON value per line',
        found: `${(err as Error).message}; line starts ${snippet(text)}`,
      });
    }
    let value = raw as T;
    if (options.schema) {
      const result = options.schema.safeParse(raw);
      if (!result.success) {
        const issues = result.error.issues;
        const first = issues[0];
        const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
        throw new DataError(
          `invalid record in ${path} at line ${line}, field ${formatIssuePath(first.path)}`,
          {
            where: `${path}:${line}, field ${formatIssuePath(first.path)}`,
            expected: first.message + more,
            found: snippet(text),
          },
        );
      }
      value = result.data;
    }
    count++;
    yield { line, value };
  }
  if (count === 0 && !options.allowEmpty) {
    throw new DataError(`no records in ${path}`, {
      where: path,
      expected: 'at least one JSON line',
      found: 'an empty file (or only blank lines)',
    });
  }
}

/** Read every record of a JSONL file into an array of values. */
export async function readJsonl<T = unknown>(path: string, options: JsonlReadOptions<T> = {}): Promise<T[]> {
  const out: T[] = [];
  for await (const { value } of iterateJsonl(path, options)) out.push(value);
  return out;
}

function toLine(path: string, value: unknown): Buffer {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new DataError(`value cannot be written as JSON to ${path}`, {
      where: path,
      found: typeof value,
    });
  }
  // JSON.stringify escapes control characters, so the text never contains a newline itself.
  return Buffer.from(`${text}\n`, 'utf8');
}

/**
 * Appends records to a JSONL file, one write per line so concurrent readers and a crash see
 * whole lines (at worst a torn last line, which open() repairs). Appends are serialised.
 */
export class JsonlAppender {
  readonly path: string;
  /** What open() did to a torn or unterminated last line, if anything. */
  readonly repaired: 'none' | 'terminated' | 'truncated';
  private handle: FileHandle | null;
  private queue: Promise<void> = Promise.resolve();

  private constructor(path: string, handle: FileHandle, repaired: JsonlAppender['repaired']) {
    this.path = path;
    this.handle = handle;
    this.repaired = repaired;
  }

  /**
   * Open (creating if needed) for appending. If the file does not end in a newline, its last line
   * is either complete JSON missing its newline (one is added) or a line torn by a crash (it is
   * cut off), so the next append starts on a line of its own.
   */
  static async open(path: string): Promise<JsonlAppender> {
    const handle = await open(path, 'a+');
    try {
      const repaired = await JsonlAppender.repairTail(handle);
      return new JsonlAppender(path, handle, repaired);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  private static async repairTail(handle: FileHandle): Promise<JsonlAppender['repaired']> {
    const { size } = await handle.stat();
    if (size === 0) return 'none';
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return 'none';
    // Scan back for the previous newline in blocks.
    const block = 1 << 16;
    let lineStart = 0;
    for (let end = size; end > 0 && lineStart === 0; end -= block) {
      const start = Math.max(0, end - block);
      const buf = Buffer.alloc(end - start);
      await handle.read(buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(0x0a);
      if (nl !== -1) lineStart = start + nl + 1;
    }
    const tail = Buffer.alloc(size - lineStart);
    await handle.read(tail, 0, tail.length, lineStart);
    try {
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(tail));
      await handle.write(Buffer.from('\n'));
      return 'terminated';
    } catch {
      await handle.truncate(lineStart);
      return 'truncated';
    }
  }

  /** Append one record as one line. */
  append(value: unknown): Promise<void> {
    const bytes = toLine(this.path, value);
    return this.enqueue(async (handle) => {
      // With O_APPEND each write lands at the end; a short write continues the same line.
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
    });
  }

  /** Flush appended lines to disk. */
  sync(): Promise<void> {
    return this.enqueue((handle) => handle.sync());
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  private enqueue(op: (handle: FileHandle) => Promise<void>): Promise<void> {
    const run = this.queue.then(() => {
      if (this.handle === null)
        throw new DataError(`JSONL appender for ${this.path} is closed`, { where: this.path });
      return op(this.handle);
    });
    // Keep the chain alive after a failure; the caller still sees the rejection through `run`.
    this.queue = run.catch(() => {});
    return run;
  }
}

/** Append one record to a JSONL file (open, append, fsync, close). */
export async function appendJsonl(path: string, value: unknown): Promise<void> {
  const appender = await JsonlAppender.open(path);
  try {
    await appender.append(value);
    await appender.sync();
  } finally {
    await appender.close();
  }
}
