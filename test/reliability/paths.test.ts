/**
 * Task files may only name data inside their own folder: `..` paths, absolute paths and symlinks
 * leading out are refused with a ConfigError that names the key and the path as written, without
 * reading the target (before, lethe read it and echoed its first line in the error).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTask, writeTask } from '../../src/data/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { tinyTask } from '../helpers/unlearn-world.ts';

test('task files cannot point outside their folder, and the target is never echoed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-paths-'));
  const secret = join(dir, 'secret.jsonl');
  writeFileSync(secret, 'root:x:0:0:SECRET-LINE\n');
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  const original = JSON.parse(readFileSync(taskPath, 'utf8'));
  symlinkSync(secret, join(dir, 'task', 'link.jsonl'));
  for (const bad of ['../secret.jsonl', secret, 'link.jsonl', 'eval/../../secret.jsonl']) {
    writeFileSync(taskPath, JSON.stringify({ ...original, splits: { ...original.splits, forget: bad } }));
    await assert.rejects(loadTask(taskPath), (e: Error) => {
      assert.ok(e instanceof ConfigError, `${bad}: ${e}`);
      assert.match(e.message, /outside the task's folder/);
      assert.match(e.message, /splits\.forget/);
      assert.doesNotMatch(e.message, /SECRET|root:x/);
      return true;
    });
  }
  // A path that only looks like it leaves (and comes back) is fine.
  writeFileSync(taskPath, JSON.stringify(original));
  await loadTask(taskPath);
});
