#!/usr/bin/env node
// Package smoke test (CI: .ci/run; alone: npm run test:package). Packs lethe as npm would publish
// it, installs the tarball into an empty folder, and uses it the way an outside user does:
//   - the tarball holds no tests, fixtures or sources, and states its size;
//   - plain Node (no tsx) imports the root API and every subpath;
//   - a TypeScript consumer type-checks against the installed .d.ts files (and a wrong use of
//     the API fails to compile, so the types are real, not `any`);
//   - `npx lethe --version`, `npx lethe methods --json` and `npx lethe doctor --json` run.
// The native build is skipped in the install (LETHE_SKIP_NATIVE=1; it is what `npm ci` already
// exercises), which also checks that lethe falls back to the js backend with a warning.
// The install tries the npm cache only first (--offline) and uses the registry if it must.
// --keep leaves the temporary folder for inspection.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const keep = process.argv.includes('--keep');
const work = mkdtempSync(join(tmpdir(), 'lethe-smoke-'));
const app = join(work, 'app');
const started = Date.now();

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (opts.expectFail) return r;
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
  }
  return r;
}
const step = (m) => console.log(`smoke: ${m} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
const check = (ok, m) => {
  if (!ok) throw new Error(`smoke: FAILED: ${m}`);
};

try {
  // 1. Pack (prepack builds dist/).
  const pack = JSON.parse(
    run('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }).stdout,
  )[0];
  const tarball = join(work, pack.filename);
  const files = pack.files.map((f) => f.path);
  const bad = files.filter((f) =>
    /(\.test\.|fixtures?\/|test-helpers|test-fixture|test-data|^src\/|^test\/)/.test(f),
  );
  check(bad.length === 0, `the tarball carries test or source files: ${bad.join(', ')}`);
  for (const need of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
    'bin/lethe.js',
    'binding.gyp',
  ]) {
    check(files.includes(need), `the tarball lacks ${need}`);
  }
  step(
    `packed ${pack.filename}: ${(statSync(tarball).size / 1024).toFixed(0)} KiB, ` +
      `${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files`,
  );

  // 2. Install into an empty folder.
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const env = { ...process.env, LETHE_SKIP_NATIVE: '1' };
  delete env.LETHE_BACKEND;
  const install = (mode) =>
    run('npm', ['install', mode, '--no-audit', '--no-fund', tarball], { cwd: app, env, expectFail: true });
  let r = install('--offline');
  if (r.status !== 0) {
    step('not everything is in the npm cache; installing with the registry');
    r = install('--prefer-offline');
  }
  check(r.status === 0, `npm install failed:\n${r.stderr}`);
  step('installed the tarball into an empty folder');

  // 3. Plain Node, no tsx.
  const js = `
    import { unlearn, evaluate, runStudy, prepare, trainFromRecipe, loadPretrained, savePretrained,
      renderReport, listMethods, LetheError } from 'lethe';
    import { tensor, matmul } from 'lethe/tensor';
    import { buildModel } from 'lethe/models';
    import { getMethod } from 'lethe/unlearn';
    import { SUITE_NAMES } from 'lethe/eval';
    import { defineStudy } from 'lethe/study';
    for (const f of [unlearn, evaluate, runStudy, prepare, trainFromRecipe, loadPretrained,
      savePretrained, renderReport, buildModel, getMethod, defineStudy])
      if (typeof f !== 'function') throw new Error('not a function');
    const y = matmul(tensor([[1, 2]]), tensor([[3], [4]]));
    if (y.item() !== 11) throw new Error('matmul');
    if (!listMethods().includes('npo') || getMethod('npo').name !== 'npo') throw new Error('methods');
    if (!SUITE_NAMES.includes('tofu')) throw new Error('suites');
    console.log(JSON.stringify({ methods: listMethods().length, isError: new LetheError('x') instanceof Error }));
  `;
  writeFileSync(join(app, 'use.mjs'), js);
  const node = run(process.execPath, ['use.mjs'], { cwd: app, env });
  check(JSON.parse(node.stdout).methods > 10, 'plain Node import');
  check(/js backend/.test(node.stderr), 'no warning about the js fallback without the addon');
  step('plain Node imports lethe and its subpaths (js backend, with the one-line warning)');

  // 4. A TypeScript consumer.
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'node_modules', '@types')],
    },
    include: ['*.ts'],
  };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  const ts = `
    import { type EvalResults, evaluate, type Study, defineStudy, runStudy, unlearn, type UnlearnResult } from 'lethe';
    import { type Tensor, tensor } from 'lethe/tensor';
    import type { CausalLM } from 'lethe/models';
    const study: Study = defineStudy({ name: 'x', methods: [{ method: 'ga' }] });
    const t: Tensor = tensor([1, 2, 3]);
    export async function go(model: CausalLM): Promise<[EvalResults, UnlearnResult] | null> {
      void study; void t; void runStudy; void model;
      return null;
    }
    export const fns = [evaluate, unlearn];
  `;
  writeFileSync(join(app, 'consumer.ts'), ts);
  run(process.execPath, [tsc, '-p', '.'], { cwd: app });
  writeFileSync(
    join(app, 'wrong.ts'),
    `import { listMethods } from 'lethe';\nexport const n: number = listMethods();\n`,
  );
  const wrong = run(process.execPath, [tsc, '-p', '.'], { cwd: app, expectFail: true });
  check(wrong.status !== 0 && /wrong\.ts/.test(wrong.stdout), 'a type error against lethe went unnoticed');
  rmSync(join(app, 'wrong.ts'));
  step('a TypeScript consumer type-checks against the installed types (and a wrong use fails)');

  // 5. The command.
  const version = run('npx', ['--no-install', 'lethe', '--version'], { cwd: app, env }).stdout.trim();
  check(
    version === JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    `version ${version}`,
  );
  const methods = JSON.parse(
    run('npx', ['--no-install', 'lethe', 'methods', '--json'], { cwd: app, env }).stdout,
  );
  check(methods.methods.length > 10, 'lethe methods');
  const doctor = JSON.parse(
    run('npx', ['--no-install', 'lethe', 'doctor', '--json'], { cwd: app, env }).stdout,
  );
  check(doctor.backend.active === 'js' && doctor.backend.fallback !== null, 'doctor reports the js fallback');
  const usage = run('npx', ['--no-install', 'lethe', 'no-such-command'], { cwd: app, env, expectFail: true });
  check(usage.status === 2, `a usage error exits 2 (got ${usage.status})`);
  step(`npx lethe --version (${version}), methods, doctor; a usage error exits 2`);
  console.log(`smoke: ok; tarball ${pack.filename} is ${statSync(tarball).size} bytes`);
} finally {
  if (keep) console.log(`smoke: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
