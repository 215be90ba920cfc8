/**
 * `npm run bench -- <suite> [args…]`: runs one benchmark suite. A suite is a module exporting
 * `run(args)`, which prints one JSON object to stdout and progress to stderr. Suites are loaded
 * lazily, so adding one is one line in SUITES. An unknown or missing name lists the known ones
 * and exits non-zero.
 */
import { ConfigError } from '../errors.ts';

export interface BenchSuite {
  run(args: string[]): Promise<void>;
}

const SUITES: Record<string, () => Promise<BenchSuite>> = {
  engine: () => import('./engine.ts'),
  train: () => import('./train.ts'),
  eval: () => import('./eval.ts'),
  distributed: () => import('./distributed.ts'),
  serve: () => import('./serve.ts'),
  study: () => import('./study.ts'),
};

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const load = name === undefined ? undefined : SUITES[name];
  if (!load) {
    const known = Object.keys(SUITES).join(', ');
    throw new ConfigError(
      name === undefined ? 'no benchmark suite given' : `unknown benchmark suite "${name}"`,
      {
        expected: `one of: ${known}`,
        found: name ?? 'nothing',
        hint: 'usage: npm run bench -- <suite>',
      },
    );
  }
  const suite = await load();
  await suite.run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const debug = process.argv.includes('--debug');
  console.error(err instanceof Error ? (debug ? err.stack : err.message) : String(err));
  process.exitCode = 1;
});
