/**
 * Extraction-benchmark loader: the seeded row choice (deterministic, forget(N) nested in forget(2N),
 * retain/holdout independent of N and disjoint from forget), `ids` tasks, option errors, shapes and
 * token values on small .npy files written here, and on ../shared/datasets/lm_extraction_benchmark
 * when present (skipped with a message otherwise). Exact comparisons (no tolerance).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { npyUint16 } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { EXTRACTION_DIR, skipUnless } from '../../test/helpers/shared-datasets.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError, DataError } from '../errors.ts';
import { readNpy } from '../io/npy.ts';
import { chooseExtractionRows, EXTRACTION_MAX_FORGET, loadExtraction } from './extraction.ts';
import { taskHash } from './task.ts';

const disjoint = (a: number[], b: number[]): boolean => a.every((x) => !b.includes(x));

test('row choice: deterministic, nested in N, retain/holdout independent of N and disjoint', () => {
  const a = chooseExtractionRows(1000, { n: 16, seed: 3, retain: 50, holdout: 40 });
  assert.deepEqual(chooseExtractionRows(1000, { n: 16, seed: 3, retain: 50, holdout: 40 }), a);
  assert.equal(a.forget.length, 16);
  assert.equal(a.retain.length, 50);
  assert.equal(a.holdout.length, 40);
  assert.ok(disjoint(a.forget, a.retain) && disjoint(a.forget, a.holdout) && disjoint(a.retain, a.holdout));
  const b = chooseExtractionRows(1000, { n: 128, seed: 3, retain: 50, holdout: 40 });
  assert.deepEqual(b.forget.slice(0, 16), a.forget);
  assert.deepEqual(b.retain, a.retain);
  assert.deepEqual(b.holdout, a.holdout);
  assert.ok(disjoint(b.forget, b.holdout) && disjoint(b.forget, b.retain));
  const c = chooseExtractionRows(1000, { n: 16, seed: 4, retain: 50, holdout: 40 });
  assert.notDeepEqual(c.forget, a.forget);
  // ids: the given rows are forgotten and excluded from retain/holdout.
  const d = chooseExtractionRows(1000, { ids: [a.retain[0], 7], seed: 3, retain: 50, holdout: 40 });
  assert.deepEqual(d.forget, [a.retain[0], 7]);
  assert.ok(disjoint(d.forget, d.retain) && disjoint(d.forget, d.holdout));
});

test('row choice: option errors are ConfigErrors', () => {
  assert.throws(() => chooseExtractionRows(1000, { n: 0 }), ConfigError);
  assert.throws(() => chooseExtractionRows(1000, { n: EXTRACTION_MAX_FORGET + 1 }), ConfigError);
  assert.throws(() => chooseExtractionRows(1000, { n: 2, ids: [1, 2, 3] }), ConfigError);
  assert.throws(() => chooseExtractionRows(1000, { ids: [1, 1] }), ConfigError);
  assert.throws(() => chooseExtractionRows(1000, { ids: [1000] }), ConfigError);
  assert.throws(() => chooseExtractionRows(300, { n: 4, retain: 100, holdout: 100 }), ConfigError);
  assert.throws(() => chooseExtractionRows(1000, { n: 4, seed: 1.5 }), ConfigError);
});

async function writeFakeBenchmark(dir: string, rows: number): Promise<void> {
  // Token value encodes (row, column) so every position can be checked exactly.
  await writeFile(
    join(dir, 'train_preprefix.npy'),
    npyUint16(rows, 4, (r, c) => r * 10 + c),
  );
  await writeFile(
    join(dir, 'train_prefix.npy'),
    npyUint16(rows, 3, (r, c) => 10000 + r * 10 + c),
  );
  await writeFile(
    join(dir, 'train_suffix.npy'),
    npyUint16(rows, 2, (r, c) => 20000 + r * 10 + c),
  );
}

test('loadExtraction on small arrays: prefix + suffix sequences, optional pre-prefix, ids', async () => {
  await withTempDir(async (dir) => {
    await writeFakeBenchmark(dir, 300);
    const task = loadExtraction(dir, { n: 5, seed: 1, retain: 10, holdout: 20 });
    assert.equal(task.format, 'tokens');
    assert.deepEqual(
      [task.splits.forget.tokens.length, task.splits.retain.tokens.length, task.splits.holdout.tokens.length],
      [5, 10, 20],
    );
    const rows = chooseExtractionRows(300, { n: 5, seed: 1, retain: 10, holdout: 20 });
    task.splits.forget.tokens.forEach((item, i) => {
      const r = rows.forget[i];
      assert.equal(item.id, `train-${r}`);
      assert.equal(item.prefixLength, 3);
      assert.deepEqual(item.tokens, [
        10000 + r * 10,
        10001 + r * 10,
        10002 + r * 10,
        20000 + r * 10,
        20001 + r * 10,
      ]);
    });
    const full = loadExtraction(dir, { ids: [7], holdout: 0, includePreprefix: true });
    assert.deepEqual(full.splits.forget.tokens, [
      { id: 'train-7', tokens: [70, 71, 72, 73, 10070, 10071, 10072, 20070, 20071], prefixLength: 7 },
    ]);
    assert.equal(taskHash(loadExtraction(dir, { n: 5, seed: 1, retain: 10, holdout: 20 })), taskHash(task));
    // A short suffix file is a DataError naming it.
    await writeFile(
      join(dir, 'train_suffix.npy'),
      npyUint16(299, 2, () => 1),
    );
    await rejectsWith(() => loadExtraction(dir, { n: 5 }), DataError, 'train_suffix.npy', 'rows');
  });
});

const skip = skipUnless(join(EXTRACTION_DIR, 'train_prefix.npy'), join(EXTRACTION_DIR, 'train_suffix.npy'));

test('loadExtraction on the challenge arrays: 100-token sequences, GPT-2 ids, deterministic', {
  skip,
}, () => {
  const task = loadExtraction(EXTRACTION_DIR, { n: 32, seed: 0 });
  assert.equal(task.splits.forget.tokens.length, 32);
  assert.equal(task.splits.holdout.tokens.length, 128);
  assert.equal(task.splits.retain.tokens.length, 0);
  const prefix = readNpy(join(EXTRACTION_DIR, 'train_prefix.npy'));
  const suffix = readNpy(join(EXTRACTION_DIR, 'train_suffix.npy'));
  assert.deepEqual(prefix.shape, [15000, 50]);
  for (const item of [...task.splits.forget.tokens, ...task.splits.holdout.tokens]) {
    assert.equal(item.tokens.length, 100);
    assert.equal(item.prefixLength, 50);
    assert.ok(item.tokens.every((t) => t < 50257));
    const row = Number(item.id.slice('train-'.length));
    assert.deepEqual(
      item.tokens.slice(0, 50),
      Array.from(prefix.data.subarray(row * 50, row * 50 + 50) as Uint16Array),
    );
    assert.deepEqual(
      item.tokens.slice(50),
      Array.from(suffix.data.subarray(row * 50, row * 50 + 50) as Uint16Array),
    );
  }
  assert.deepEqual(loadExtraction(EXTRACTION_DIR, { n: 32, seed: 0 }), task);
  const other = loadExtraction(EXTRACTION_DIR, { n: 32, seed: 1 });
  assert.notDeepEqual(
    other.splits.forget.tokens.map((t) => t.id),
    task.splits.forget.tokens.map((t) => t.id),
  );
  const withPre = loadExtraction(EXTRACTION_DIR, { n: 1, seed: 0, holdout: 0, includePreprefix: true });
  assert.equal(withPre.splits.forget.tokens[0].tokens.length, 200);
  assert.equal(withPre.splits.forget.tokens[0].prefixLength, 150);
  assert.deepEqual(withPre.splits.forget.tokens[0].tokens.slice(100), task.splits.forget.tokens[0].tokens);
  const val = loadExtraction(EXTRACTION_DIR, { n: 8, part: 'val', holdout: 16 });
  assert.ok(val.splits.forget.tokens.every((t) => t.id.startsWith('val-') && Number(t.id.slice(4)) < 1000));
});
