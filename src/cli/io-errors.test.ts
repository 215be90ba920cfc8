/**
 * File-system errors reach the user as one line naming the operation, the path and the cause
 * (not "internal error … a bug in lethe"), exit 1: real EEXIST, ENOTDIR, ENOENT (plain and
 * through a dangling symbolic link) and, where the tests do not run as root, EACCES; ENOSPC and a
 * root-proof EACCES as the error objects Node raises. Usage errors exit 2, other errors 1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CommanderError } from 'commander';
import { ConfigError } from '../errors.ts';
import { describeIoError } from './io-errors.ts';
import { EXIT_RUNTIME, EXIT_USAGE, reportError } from './program.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-ioerr-'));
const file = join(dir, 'a-file');
writeFileSync(file, 'x');
const dangling = join(dir, 'dangling');
symlinkSync(join(dir, 'nothing-here'), dangling);

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

/** A Node-style errno error, for causes a test cannot provoke (a full disk; EACCES as root). */
function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

test('EEXIST and ENOTDIR name the operation, the path and the cause', () => {
  const exists = describeIoError(caught(() => mkdirSync(dir)));
  assert.equal(
    exists,
    `cannot create the folder ${dir}: it already exists (EEXIST)\n  hint: remove it or choose another name`,
  );
  const notDir = describeIoError(caught(() => mkdirSync(join(file, 'sub'))));
  assert.match(
    notDir ?? '',
    new RegExp(`^cannot create the folder ${file}/sub: a part of the path is a file`),
  );
  assert.match(notDir ?? '', /\(ENOTDIR\)\n {2}hint: a file stands where a folder is expected/);
});

test('ENOENT says when the path is a symbolic link to nothing', () => {
  const plain = describeIoError(caught(() => readFileSync(join(dir, 'missing.json'))));
  assert.equal(plain, `cannot open ${join(dir, 'missing.json')}: no such file or folder (ENOENT)`);
  const viaLink = describeIoError(caught(() => readFileSync(dangling)));
  assert.equal(
    viaLink,
    `cannot open ${dangling}: ${dangling} is a symbolic link to ${join(dir, 'nothing-here')}, which does not exist (ENOENT)\n  hint: create the target, or remove the link`,
  );
  const below = describeIoError(caught(() => mkdirSync(join(dangling, 'out'), { recursive: true })));
  assert.match(below ?? '', /is a symbolic link to .*nothing-here, which does not exist/);
});

test('EACCES and ENOSPC: permission and space, with a hint', () => {
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o000);
    const real = describeIoError(caught(() => readdirSync(locked)));
    chmodSync(locked, 0o700);
    assert.match(real ?? '', /^cannot list the folder .*locked: permission denied \(EACCES\)/);
  }
  assert.equal(
    describeIoError(errno('EACCES', 'open', '/srv/models/config.json')),
    'cannot open /srv/models/config.json: permission denied (EACCES)\n  hint: check the permissions of the file and its folder, or choose another location',
  );
  const full = describeIoError(errno('ENOSPC', 'write', '/srv/out/model.safetensors.tmp'));
  assert.match(
    full ?? '',
    /^cannot write \/srv\/out\/model\.safetensors\.tmp: no space left on the device \(ENOSPC\)/,
  );
  assert.match(full ?? '', /lethe cache prune --all/);
  // Wrapped in another error's cause, still found; other errors are not I/O errors.
  assert.match(
    describeIoError(new Error('save failed', { cause: errno('ENOSPC', 'write', '/x') })) ?? '',
    /ENOSPC/,
  );
  assert.equal(describeIoError(new TypeError('x is not a function')), null);
});

test('exit codes: usage 2, runtime 1; I/O errors are not reported as bugs', () => {
  const out: string[] = [];
  const w = (t: string) => out.push(t);
  assert.equal(
    reportError(new CommanderError(1, 'commander.unknownCommand', 'unknown command'), false, w),
    EXIT_USAGE,
  );
  assert.equal(reportError(new CommanderError(0, 'commander.version', '0.1.0'), false, w), 0);
  assert.deepEqual(out, []); // commander printed those itself
  assert.equal(reportError(new ConfigError('bad key', { where: 'x.json' }), false, w), EXIT_RUNTIME);
  assert.equal(
    reportError(
      caught(() => readFileSync(dangling)),
      false,
      w,
    ),
    EXIT_RUNTIME,
  );
  assert.match(out.join(''), /^error: bad key[\s\S]*error: cannot open .*symbolic link/);
  assert.doesNotMatch(out.join(''), /bug in lethe/);
  out.length = 0;
  assert.equal(reportError(new TypeError('undefined is not a function'), false, w), EXIT_RUNTIME);
  assert.match(out.join(''), /^internal error: undefined is not a function\nthis is a bug in lethe/);
});

test('the command: an output folder through a dangling link is a clear error, exit 1; bad usage exits 2', () => {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'lethe.js');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  const r = run(
    'unlearn',
    '--task',
    'synthetic:tiny',
    '--method',
    'ga',
    '--model',
    'nowhere',
    '--out',
    'dangling/out',
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(
    r.stderr,
    /^error: cannot create the folder .*dangling: .*is a symbolic link to .*nothing-here/,
  );
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.equal(run('frobnicate').status, 2);
  const bad = run('train', '--data', 'x', '--out', 'y', '--steps', 'many');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--steps expects an integer >= 1/);
});
