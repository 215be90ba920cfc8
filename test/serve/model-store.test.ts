/**
 * The model store's folder hash: the streamed version the worker uses while the API runs gives
 * the same hash as the one-piece version used at start-up, and any changed byte or name changes it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { folderHash, folderHashAsync } from '../../src/serve/model-store.ts';

test('folderHashAsync equals folderHash; a changed byte or file name changes both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-store-'));
  writeFileSync(join(dir, 'config.json'), '{"model_type":"gpt2"}');
  // Bigger than one 256 KiB read, so the streamed hash spans several pieces.
  const weights = Buffer.alloc(700_000);
  for (let i = 0; i < weights.length; i++) weights[i] = (i * 7919) % 251;
  writeFileSync(join(dir, 'model.safetensors'), weights);
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'tokenizer.json'), '{}');
  const h = folderHash(dir);
  assert.match(h, /^[0-9a-f]{64}$/);
  assert.equal(await folderHashAsync(dir), h);
  weights[654_321] ^= 1;
  writeFileSync(join(dir, 'model.safetensors'), weights);
  const changed = folderHash(dir);
  assert.notEqual(changed, h);
  assert.equal(await folderHashAsync(dir), changed);
  renameSync(join(dir, 'sub', 'tokenizer.json'), join(dir, 'sub', 'tokenizer2.json'));
  assert.notEqual(await folderHashAsync(dir), changed);
  assert.equal(await folderHashAsync(dir), folderHash(dir));
});
