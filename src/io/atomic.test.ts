/**
 * Atomic writes: the target is either the old file or the complete new one. A failure at any
 * step (while writing, between fsync and rename) leaves the old target and no temporary file; a
 * process killed between write and rename leaves the old target (and only a hidden temp file).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { assertNoTempFiles } from '../../test/helpers/safetensors-files.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import {
  isAtomicTempName,
  tempPathFor,
  writeAll,
  writeAtomic,
  writeFileAtomic,
  writeJsonAtomic,
} from './atomic.ts';

test('writeFileAtomic creates and replaces files, leaving no temp files', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'out.txt');
    await writeFileAtomic(path, 'first');
    assert.equal(await readFile(path, 'utf8'), 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(await readFile(path, 'utf8'), 'hi');
    assert.deepEqual(await readdir(dir), ['out.txt']);
  });
});

test('writeJsonAtomic writes indented JSON with a trailing newline', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'v.json');
    await writeJsonAtomic(path, { a: [1, 2], b: 'x' });
    const text = await readFile(path, 'utf8');
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(JSON.parse(text), { a: [1, 2], b: 'x' });
    await assert.rejects(writeJsonAtomic(path, undefined), TypeError);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { a: [1, 2], b: 'x' });
    await assertNoTempFiles(dir);
  });
});

test('failure between write and rename keeps the old target and removes the temp file', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'config.json');
    await writeFile(path, 'old');
    let seenTemp = '';
    await assert.rejects(
      writeFileAtomic(path, 'new contents', {
        beforeRename: async (temp) => {
          seenTemp = temp;
          // The new data is complete on disk under the temporary name, beside the untouched target.
          assert.equal(await readFile(temp, 'utf8'), 'new contents');
          assert.equal(await readFile(path, 'utf8'), 'old');
          throw new Error('simulated failure before rename');
        },
      }),
      /simulated failure/,
    );
    assert.ok(isAtomicTempName(seenTemp.slice(dir.length + 1)), seenTemp);
    assert.equal(await readFile(path, 'utf8'), 'old');
    await assertNoTempFiles(dir);
  });
});

test('failure while writing (partial data) never reaches the target', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'weights.bin');
    await writeFile(path, 'old');
    await assert.rejects(
      writeAtomic(path, async (handle) => {
        await writeAll(handle, new Uint8Array(1000).fill(7));
        throw new Error('disk full (simulated)');
      }),
      /disk full/,
    );
    assert.equal(await readFile(path, 'utf8'), 'old');
    await assertNoTempFiles(dir);
  });
});

test('a process killed between write and rename leaves the old target intact', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'old');
    const atomicUrl = pathToFileURL(join(fileURLToPath(new URL('.', import.meta.url)), 'atomic.ts')).href;
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(atomicUrl)};
      await writeFileAtomic(${JSON.stringify(path)}, 'new', {
        beforeRename: () => process.kill(process.pid, 'SIGKILL'),
      });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(child.signal, 'SIGKILL', child.stderr);
    assert.equal(await readFile(path, 'utf8'), 'old');
    // Only the crash leaves a temporary file, and it is recognisable as one.
    const others = (await readdir(dir)).filter((n) => n !== 'model.safetensors');
    assert.equal(others.length, 1);
    assert.ok(isAtomicTempName(others[0]), others[0]);
  });
});

test('temp names are hidden, unique and in the target folder', () => {
  const a = tempPathFor('/x/y/model.safetensors');
  const b = tempPathFor('/x/y/model.safetensors');
  assert.notEqual(a, b);
  assert.ok(a.startsWith('/x/y/.model.safetensors.'));
  assert.ok(a.includes(`.${process.pid}.`));
  assert.ok(isAtomicTempName(a.slice('/x/y/'.length)));
  assert.ok(!isAtomicTempName('model.safetensors'));
});
