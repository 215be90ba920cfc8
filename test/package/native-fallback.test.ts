/**
 * lethe installs and runs where the native addon cannot be built: the install script turns a
 * failed node-gyp build into one warning line and exit 0 (exit 1 with --required, as CI asks);
 * it finds this Node's own headers without a hard-coded path; at run time a missing addon means
 * the js backend with one warning line, unless LETHE_BACKEND=native insists. `lethe doctor`
 * reports backend, SIMD kernels, threads, versions and the data and cache folders.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'lethe.js');
const script = join(root, 'scripts', 'install-native.mjs');

function run(args: string[], env: Record<string, string> = {}, cwd = root) {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('LETHE_BACKEND' in env)) delete e.LETHE_BACKEND;
  return spawnSync(process.execPath, args, { encoding: 'utf8', cwd, env: e });
}

test('a failed native build warns in one line and the install succeeds (fails with --required)', () => {
  const empty = mkdtempSync(join(tmpdir(), 'lethe-install-')); // no binding.gyp: node-gyp fails
  const soft = run([script], { LETHE_NATIVE_REQUIRED: '' }, empty);
  assert.equal(soft.status, 0, soft.stderr);
  const warnings = soft.stderr.split('\n').filter((l) => l.startsWith('lethe:'));
  assert.deepEqual(warnings.length, 1, soft.stderr);
  assert.match(warnings[0], /native addon could not be built .*js backend/);
  const hard = run([script, '--required'], {}, empty);
  assert.equal(hard.status, 1);
  assert.match(hard.stderr, /building the native addon failed/);
});

test("the install script uses this Node's own headers when they are installed", async () => {
  const { systemNodeDir } = (await import(script)) as { systemNodeDir(): string | null };
  const dir = systemNodeDir();
  if (dir === null) return; // no headers here: node-gyp's default (download or cache) applies
  assert.ok(existsSync(join(dir, 'include', 'node', 'node_api.h')));
});

test('without the addon lethe runs on js with one warning; LETHE_BACKEND=native refuses', () => {
  const missing = { LETHE_NATIVE_ADDON: join(tmpdir(), 'no-such-addon.node') };
  const r = run([bin, 'doctor', '--json'], missing);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.backend.active, 'js');
  assert.match(info.backend.fallback, /native addon is not built/);
  assert.equal(info.backend.simd, null);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^lethe: warning: native backend unavailable .*js backend/);
  const strict = run([bin, 'doctor'], { ...missing, LETHE_BACKEND: 'native' });
  assert.equal(strict.status, 1);
  assert.match(strict.stderr, /native addon is not built/);
});

test('lethe doctor: backend, SIMD kernels, threads, versions, data and cache folders', () => {
  const env = { LETHE_THREADS: '1', LETHE_DATA_DIR: '/srv/data', LETHE_CACHE_DIR: '/srv/cache' };
  const j = run([bin, 'doctor', '--json'], env);
  assert.equal(j.status, 0, j.stderr);
  const info = JSON.parse(j.stdout);
  assert.equal(info.node, process.version);
  assert.equal(info.threads, 1);
  assert.equal(info.dataDir, '/srv/data');
  assert.equal(info.cacheDir, '/srv/cache');
  if (info.backend.active === 'native') assert.match(info.backend.simd.gemm, /^(avx512|avx2|generic)$/);
  const text = run([bin, 'doctor'], env).stdout;
  for (const k of ['lethe', 'node', 'backend', 'simd', 'threads', 'data', 'cache']) {
    assert.match(text, new RegExp(`^${k} +\\S`, 'm'), `doctor prints ${k}`);
  }
  assert.match(text, /^threads +1 of \d+ cores \(LETHE_THREADS\)$/m);
});
