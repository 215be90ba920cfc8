/**
 * JSONL reader and appender: records with their line numbers, every error a DataError naming the
 * file and line (bad JSON, invalid UTF-8, schema violations with the field path, empty files),
 * and appends that only ever produce whole lines.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { DataError } from '../errors.ts';
import { appendJsonl, formatIssuePath, iterateJsonl, JsonlAppender, readJsonl } from './jsonl.ts';

async function expectDataError(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected DataError, got ${err}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message lacks "${p}":\n${err.message}`);
    return true;
  });
}

test('reads records with line numbers; skips blank lines; accepts CRLF, BOM, no final newline', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.jsonl');
    await writeFile(path, '\ufeff{"a":1}\r\n\n  \n[2,"é"]\n"three"\n{"q":"tab\\tnew\\nline"}');
    const records = [];
    for await (const r of iterateJsonl(path)) records.push(r);
    assert.deepEqual(records, [
      { line: 1, value: { a: 1 } },
      { line: 4, value: [2, 'é'] },
      { line: 5, value: 'three' },
      { line: 6, value: { q: 'tab\tnew\nline' } },
    ]);
  });
});

test('streams lines longer than one read chunk', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'long.jsonl');
    const big = 'x'.repeat(200_000);
    await writeFile(path, `${JSON.stringify({ big })}\n${JSON.stringify({ n: 2 })}\n`);
    const values = await readJsonl<{ big?: string; n?: number }>(path);
    assert.equal(values[0].big, big);
    assert.equal(values[1].n, 2);
    await expectDataError(readJsonl(path, { maxLineBytes: 1000 }), 'line too long', `${path}:1`);
  });
});

test('bad JSON names the file and line', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, '{"a":1}\n{"a":2}\n{"a":3,}\n{"a":4}\n');
    await expectDataError(readJsonl(path), 'bad JSON', 'bad.jsonl', 'line 3', `${path}:3`);
  });
});

test('invalid UTF-8 names the line (fatal decoding, no silent U+FFFD)', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'latin1.jsonl');
    const good = Buffer.from('{"a":"ok"}\n');
    const bad = Buffer.concat([Buffer.from('{"a":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    await writeFile(path, Buffer.concat([good, bad]));
    await expectDataError(readJsonl(path), 'invalid UTF-8', 'latin1.jsonl', 'line 2');
  });
});

test('empty files are errors unless allowed', async () => {
  await withTempDir(async (dir) => {
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    await expectDataError(readJsonl(empty), 'no records', 'empty.jsonl');
    const blank = join(dir, 'blank.jsonl');
    await writeFile(blank, '\n \n\n');
    await expectDataError(readJsonl(blank), 'no records', 'blank.jsonl');
    assert.deepEqual(await readJsonl(empty, { allowEmpty: true }), []);
  });
});

test('missing file is a DataError naming it', async () => {
  await withTempDir(async (dir) => {
    await expectDataError(readJsonl(join(dir, 'nope.jsonl')), 'nope.jsonl', 'no such file');
  });
});

test('schema validation reports line and field path; returns parsed output', async () => {
  await withTempDir(async (dir) => {
    const schema = z.object({
      id: z.number().int(),
      tags: z.array(z.string()),
      meta: z.object({ 'k-1': z.string() }).optional(),
    });
    const path = join(dir, 's.jsonl');
    await writeFile(path, '{"id":1,"tags":["a"]}\n{"id":2,"tags":["b",5]}\n');
    await expectDataError(readJsonl(path, { schema }), 's.jsonl', 'line 2', 'field tags[1]');
    await writeFile(path, '{"id":1,"tags":[],"meta":{"k-1":3}}\n');
    await expectDataError(readJsonl(path, { schema }), 'line 1', 'field meta["k-1"]');
    await writeFile(path, '{"id":1,"tags":["x"]}\n');
    const rows = await readJsonl(path, { schema });
    assert.deepEqual(rows, [{ id: 1, tags: ['x'] }]);
  });
});

test('formatIssuePath', () => {
  assert.equal(formatIssuePath([]), '(root)');
  assert.equal(formatIssuePath(['a', 0, 'b']), 'a[0].b');
  assert.equal(formatIssuePath(['weird key', 2]), '["weird key"][2]');
});

test('appender writes whole lines, in call order, readable back', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'log.jsonl');
    const app = await JsonlAppender.open(path);
    assert.equal(app.repaired, 'none');
    await Promise.all(Array.from({ length: 50 }, (_, i) => app.append({ i, text: `line\n${i}` })));
    await app.sync();
    await app.close();
    await appendJsonl(path, { i: 50 });
    const values = await readJsonl<{ i: number }>(path);
    assert.deepEqual(
      values.map((v) => v.i),
      Array.from({ length: 51 }, (_, i) => i),
    );
    const text = await readFile(path, 'utf8');
    assert.equal(text.split('\n').length, 52, 'one line per record plus the final empty split');
    await expectDataError(
      (async () => {
        const a = await JsonlAppender.open(path);
        try {
          await a.append(undefined);
        } finally {
          await a.close();
        }
      })(),
      'cannot be written as JSON',
    );
    await expectDataError(app.append({ late: true }), 'closed');
  });
});

test('appender repairs a torn last line (crash) and terminates a complete one', async () => {
  await withTempDir(async (dir) => {
    const torn = join(dir, 'torn.jsonl');
    await writeFile(torn, '{"a":1}\n{"b":');
    const app = await JsonlAppender.open(torn);
    assert.equal(app.repaired, 'truncated');
    await app.append({ c: 3 });
    await app.close();
    assert.deepEqual(await readJsonl(torn), [{ a: 1 }, { c: 3 }]);

    const open = join(dir, 'open.jsonl');
    await writeFile(open, '{"a":1}\n{"b":2}');
    const app2 = await JsonlAppender.open(open);
    assert.equal(app2.repaired, 'terminated');
    await app2.append({ c: 3 });
    await app2.close();
    assert.deepEqual(await readJsonl(open), [{ a: 1 }, { b: 2 }, { c: 3 }]);
  });
});
