/**
 * Reading the records of a data file, validated one by one, each remembered with where it came
 * from. Promises: a `.json` file holding a JSON array (MUSE and WMDP ship their lists that way) is
 * read as that array; any other file, including a `.json` whose first character is not `[` (TOFU's
 * released files are JSON Lines despite the name), is read as JSON Lines through src/io. Every problem is a DataError whose `where` names the
 * file, the line (JSONL) or array index (JSON) and the field, including an unknown key by name.
 */
import { open, readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { DataError } from '../errors.ts';
import { formatIssuePath, iterateJsonl } from '../io/jsonl.ts';

export interface Located<T> {
  value: T;
  /** `file:line` for JSONL, `file: [index]` for a JSON array. */
  where: string;
  /** 0-based position of the record in the file. */
  index: number;
}

export interface ReadRecordsOptions {
  /** Accept a file without records (default false). */
  allowEmpty?: boolean;
}

function snippet(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** The field a zod issue is about; for an unknown key, the key itself. */
export function issueField(issue: z.core.$ZodIssue): string {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : undefined;
  const path: PropertyKey[] = [...issue.path];
  if (keys && keys.length > 0) path.push(keys[0]);
  return formatIssuePath(path);
}

/** Validate one parsed record; throw a DataError naming `where` and the field. */
export function validateRecord<T>(schema: z.ZodType<T>, raw: unknown, where: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  const field = issueField(first);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  const message =
    first.code === 'unrecognized_keys' ? `unknown key ${JSON.stringify(first.keys[0])}` : first.message;
  throw new DataError(`invalid record at ${where}, field ${field}`, {
    where: `${where}, field ${field}`,
    expected: first.code === 'unrecognized_keys' ? 'only the documented keys' : message + more,
    found: first.code === 'unrecognized_keys' ? `${message}${more} in ${snippet(raw)}` : snippet(raw),
  });
}

async function readJsonArray(path: string): Promise<unknown[]> {
  let textContent: string;
  try {
    textContent = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}`, {
      where: path,
      found: code === 'ENOENT' ? 'no such file' : (err as Error).message,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(textContent.charCodeAt(0) === 0xfeff ? textContent.slice(1) : textContent);
  } catch (err) {
    throw new DataError(`bad JSON in ${path}`, {
      where: path,
      expected: 'one JSON array',
      found: (err as Error).message,
      hint: 'files ending in .json hold a JSON array; use .jsonl for one record per line',
    });
  }
  if (!Array.isArray(raw)) {
    throw new DataError(`expected a JSON array in ${path}`, {
      where: path,
      expected: 'a JSON array of records',
      found: raw === null ? 'null' : typeof raw,
    });
  }
  return raw;
}

/** Whether a `.json` file holds one JSON array (its first non-blank character is `[`). */
async function holdsJsonArray(path: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}`, {
      where: path,
      found: code === 'ENOENT' ? 'no such file' : (err as Error).message,
    });
  }
  try {
    const buf = Buffer.alloc(4096);
    for (let pos = 0; ; ) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return true; // empty or blank: let the array reader report it
      const head = buf
        .subarray(0, bytesRead)
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trimStart();
      if (head !== '') return head[0] === '[';
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Read and validate every record of a `.jsonl` (one per line) or `.json` (one array) file. */
export async function readRecords<T>(
  path: string,
  schema: z.ZodType<T>,
  options: ReadRecordsOptions = {},
): Promise<Located<T>[]> {
  const out: Located<T>[] = [];
  if (path.toLowerCase().endsWith('.json') && (await holdsJsonArray(path))) {
    const raw = await readJsonArray(path);
    raw.forEach((value, i) => {
      const where = `${path}: [${i}]`;
      out.push({ value: validateRecord(schema, value, where), where, index: i });
    });
  } else {
    for await (const { line, value } of iterateJsonl(path, { allowEmpty: true })) {
      const where = `${path}:${line}`;
      out.push({ value: validateRecord(schema, value, where), where, index: out.length });
    }
  }
  if (out.length === 0 && !options.allowEmpty) {
    throw new DataError(`no records in ${path}`, {
      where: path,
      expected: 'at least one record',
      found: 'an empty file (or an empty array)',
    });
  }
  return out;
}

/** Read a plain-text file as one string per non-blank line (trailing whitespace trimmed). */
export async function readLines(path: string): Promise<string[]> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${path}`, {
      where: path,
      found: code === 'ENOENT' ? 'no such file' : (err as Error).message,
    });
  }
  if (content.charCodeAt(0) === 0xfeff) content = content.slice(1);
  return content
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.length > 0);
}
