/**
 * The `lethe` command line: parse → validated options → library call. Errors a user can cause
 * print their message and exit 1; anything else is reported as a bug. --debug shows stacks.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { LetheError } from '../errors.ts';
import { registerBench } from './commands/bench.ts';
import { registerEval } from './commands/eval.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerMethods } from './commands/methods.ts';
import { registerPrepare } from './commands/prepare.ts';
import { registerScore } from './commands/score.ts';
import { registerServe } from './commands/serve.ts';
import { registerTrain } from './commands/train.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('lethe')
    .description(
      'Machine unlearning for language models: train, unlearn, and grade against a retrained oracle.',
    )
    .version(pkg.version)
    .option('--debug', 'print stack traces for errors')
    .showHelpAfterError('(run with --help for usage)');
  registerTrain(program);
  registerGenerate(program);
  registerScore(program);
  registerInspect(program);
  registerPrepare(program);
  registerEval(program);
  registerBench(program);
  registerMethods(program);
  registerServe(program);
  return program;
}

async function main(): Promise<void> {
  // Output piped into `head` and closed early is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const debug = process.argv.includes('--debug');
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof LetheError) {
      process.stderr.write(`error: ${err.message}\n`);
      if (debug) process.stderr.write(`${err.stack}\n`);
    } else {
      process.stderr.write(`internal error: ${(err as Error)?.message ?? err}\n`);
      process.stderr.write(
        debug ? `${(err as Error)?.stack}\n` : 'this is a bug in lethe; rerun with --debug for details\n',
      );
    }
    process.exitCode = 1;
  }
}

await main();
