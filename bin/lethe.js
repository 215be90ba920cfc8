#!/usr/bin/env node
// The `lethe` command. An installed package runs the compiled JavaScript in dist/. A clone of the
// repository (src/ present and tsx installed) runs the TypeScript sources through tsx, so in-repo
// work needs no build step and never runs a stale dist/; LETHE_DIST=1 runs dist/ there too.
// Errors raised while loading are reported like any other user-facing error.
import { existsSync } from 'node:fs';

const here = new URL('../', import.meta.url);
const source = new URL('src/cli/main.ts', here);
const compiled = new URL('dist/cli/main.js', here);

async function tsxLoader() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return null; // no dev dependencies: run the compiled code
  }
}

try {
  const tsx = process.env.LETHE_DIST !== '1' && existsSync(source) ? await tsxLoader() : null;
  if (tsx) {
    tsx.register();
    await import(source.href);
  } else if (existsSync(compiled)) {
    await import(compiled.href);
  } else {
    throw new Error(
      'lethe is not built: dist/cli/main.js is missing (run `npm run build`, or `npm install` for tsx in a clone)',
    );
  }
} catch (err) {
  process.stderr.write(`error: ${err?.message ?? err}\n`);
  if (process.argv.includes('--debug')) process.stderr.write(`${err?.stack}\n`);
  process.exitCode = 1;
}
