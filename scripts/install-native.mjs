#!/usr/bin/env node
// Builds the native addon (build/Release/lethe_native.node) with node-gyp; run by `npm install`.
//
// Headers: node-gyp needs Node's C headers. When the running Node's own headers are installed
// (a distribution's nodejs package puts them in <prefix>/include/node, e.g. /usr on Debian) they
// are used through --nodedir, so no download is needed; otherwise node-gyp does what it always
// does (its header cache, or a download from nodejs.org). Nothing is hard-coded to one machine.
//
// A failed build does not fail the install: lethe then runs on its js backend (correct, slower)
// and says so in one line when it starts; `lethe doctor` shows which backend is active. With
// --required (npm run build:native) or LETHE_NATIVE_REQUIRED=1 (CI) a failure is an error.
// LETHE_SKIP_NATIVE=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const required = process.argv.includes('--required') || process.env.LETHE_NATIVE_REQUIRED === '1';

/** A folder whose include/node holds headers of this Node's major version, or null. */
export function systemNodeDir() {
  const major = Number(process.versions.node.split('.')[0]);
  const prefixes = [
    process.config.variables.node_prefix,
    dirname(dirname(process.execPath)),
    '/usr',
    '/usr/local',
  ].filter((p) => typeof p === 'string' && p !== '');
  for (const prefix of new Set(prefixes)) {
    const inc = join(prefix, 'include', 'node');
    try {
      if (!existsSync(join(inc, 'node_api.h'))) continue;
      const m = /#define NODE_MAJOR_VERSION (\d+)/.exec(readFileSync(join(inc, 'node_version.h'), 'utf8'));
      if (m && Number(m[1]) === major) return prefix;
    } catch {
      // unreadable: try the next candidate
    }
  }
  return null;
}

function main() {
  if (process.env.LETHE_SKIP_NATIVE === '1') {
    console.warn('lethe: LETHE_SKIP_NATIVE=1, the native addon is not built (the js backend will be used)');
    return 0;
  }
  let gyp;
  try {
    gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return fail('node-gyp is not installed');
  }
  const nodedir = systemNodeDir();
  const args = [gyp, 'rebuild', `--jobs=${Math.max(1, Math.min(availableParallelism(), 8))}`];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status === 0) return 0;
  return fail(r.error ? r.error.message : `node-gyp exited with code ${r.status}`);
}

function fail(why) {
  if (required) {
    console.error(`lethe: building the native addon failed: ${why}`);
    return 1;
  }
  console.warn(
    `lethe: warning: the native addon could not be built (${why}); lethe will run on its slower js backend (see \`lethe doctor\`)`,
  );
  return 0;
}

const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) process.exitCode = main();
