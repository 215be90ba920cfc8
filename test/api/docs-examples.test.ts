/**
 * Every ```ts example in docs/api.md runs, in order, in one empty folder, importing `lethe` the
 * way a user does (the package's own name, resolved through its exports map with the
 * lethe-source condition to the TypeScript sources). Each must exit 0 and print what it says:
 * the checks below are on each example's stdout.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'api.md'), 'utf8');
const examples = [...doc.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
// The examples must sit inside the package for `import 'lethe'` to resolve to it (self-reference).
const srcDir = join(root, '.cache', `api-examples-${process.pid}`);
const cwd = mkdtempSync(join(tmpdir(), 'lethe-api-'));
const tsx = import.meta.resolve('tsx');

/** What each example's output must show, by its position in docs/api.md. */
const expected: RegExp[] = [
  /^20 steps, final loss \d/m,
  /^gpt2, \d+ parameters, \d+ tokens$/m,
  /^target .*target\noracle .*oracle\nreused (true|false)$/m,
  /^npo: \d+ steps, \d+ trainable$/m,
  /^mia\.loss: unlearned \d\.\d{3}, oracle \d\.\d{3}, target \d\.\d{3}$/m,
  /report: .*report\.html$/m,
  /^lethe \d+\.\d+\.\d+ on (native|js), \d+ threads$/m,
];

test('docs/api.md examples run and print what they promise', { timeout: 600_000 }, () => {
  assert.equal(examples.length, expected.length, 'one expectation per example');
  mkdirSync(srcDir, { recursive: true });
  try {
    examples.forEach((code, i) => {
      const file = join(srcDir, `example-${i + 1}.ts`);
      writeFileSync(file, code);
      const r = spawnSync(process.execPath, ['--conditions=lethe-source', '--import', tsx, file], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, LETHE_CACHE_DIR: '' },
      });
      assert.equal(r.status, 0, `example ${i + 1} failed:\n${r.stderr}`);
      assert.match(r.stdout, expected[i], `example ${i + 1} printed:\n${r.stdout}`);
    });
  } finally {
    rmSync(srcDir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
});
