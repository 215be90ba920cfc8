#!/usr/bin/env node
// The `lethe` command: registers the TypeScript loader, then runs the CLI. Errors raised while
// loading (e.g. a missing native addon) are reported like any other user-facing error.
import { register } from 'tsx/esm/api';

register();
try {
  await import('../src/cli/main.ts');
} catch (err) {
  process.stderr.write(`error: ${err?.message ?? err}\n`);
  if (process.argv.includes('--debug')) process.stderr.write(`${err?.stack}\n`);
  process.exitCode = 1;
}
