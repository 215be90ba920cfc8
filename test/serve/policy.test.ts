/**
 * The policy file: defaults, strict keys (an unknown key names file and key), and method +
 * settings taken from an unlearning run's manifest (what a study selected), with the policy's
 * own settings merged over them and a conflicting method refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPolicy } from '../../src/serve/policy.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-policy-'));
const write = (name: string, v: unknown) => {
  writeFileSync(join(dir, name), JSON.stringify(v));
  return join(dir, name);
};

test('defaults, and unknown keys name the file and key', () => {
  const p = loadPolicy();
  assert.equal(p.method, 'grad-diff');
  assert.equal(p.forgetting.maxAuc, 0.7);
  assert.throws(
    () => loadPolicy(write('bad.json', { forgetting: { maxAuc: 0.5, maxAcu: 1 } })),
    (e: Error) => /bad\.json/.test(e.message) && /maxAcu/.test(e.message),
  );
  assert.throws(() => loadPolicy(write('bad2.json', { batchSize: 0 })), /batchSize/);
});

test('method and settings from a run manifest, policy settings merged over them', () => {
  write('manifest.json', {
    format: 'lethe-unlearn/1',
    method: 'npo-rt',
    args: { beta: 0.1, lr: 1e-4, epochs: 5 },
  });
  const p = loadPolicy(write('from.json', { fromManifest: 'manifest.json', settings: { epochs: 9 } }));
  assert.equal(p.method, 'npo-rt');
  assert.deepEqual(p.settings, { beta: 0.1, lr: 1e-4, epochs: 9 });
  assert.throws(
    () => loadPolicy(write('clash.json', { fromManifest: 'manifest.json', method: 'ga' })),
    /names a method and a manifest/,
  );
});
