/**
 * The `lethe` program: every command registered, the environment help, and how an error is
 * reported. Exit codes: 0 success, 1 a runtime error (bad input files, I/O, a failed run), 2 a
 * usage error (unknown command or flag, a bad flag value, a missing argument, a UsageError such as
 * a non-empty --out folder without --force). Errors a user can
 * cause print one clear message; file-system errors name the operation, path and cause; anything
 * else is reported as a bug. --debug shows stacks.
 */
import { Command, CommanderError } from 'commander';
import { defaultCacheDir, LETHE_VERSION } from '../api/environment.ts';
import { defaultDataDir } from '../data/resolve-task.ts';
import { LetheError } from '../errors.ts';
import { registerBench } from './commands/bench.ts';
import { registerCache } from './commands/cache.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerEval } from './commands/eval.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerInspect } from './commands/inspect.ts';
import { registerMethods } from './commands/methods.ts';
import { registerPrepare } from './commands/prepare.ts';
import { registerScore } from './commands/score.ts';
import { registerServe } from './commands/serve.ts';
import { registerTask } from './commands/task.ts';
import { registerTrain } from './commands/train.ts';
import { registerWorker } from './commands/worker.ts';
import { describeIoError } from './io-errors.ts';
import { UsageError } from './usage-error.ts';

export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/** The environment variables lethe reads, with their defaults (shown under every --help). */
function environmentHelp(): string {
  return [
    '',
    'Environment:',
    '  LETHE_BACKEND       native or js (default: native when the addon is built, else js with a warning)',
    '  LETHE_THREADS       threads of the native backend (default: every core)',
    '  LETHE_MEMORY_LIMIT  bytes a model may take (default: free memory, at most 90% of RAM)',
    `  LETHE_DATA_DIR      staged benchmark data for tofu/muse/extraction tasks (default: ${defaultDataDir()})`,
    `  LETHE_CACHE_DIR     prepared-model cache (default: ${defaultCacheDir()})`,
    '',
    'Exit codes: 0 success, 1 runtime error, 2 usage error. `lethe doctor` shows what is in use.',
  ].join('\n');
}

export function buildProgram(): Command {
  const program = new Command('lethe')
    .description(
      'Machine unlearning for language models: train, unlearn, and grade against a retrained oracle.',
    )
    .version(LETHE_VERSION)
    .option('--debug', 'print stack traces for errors')
    // Subcommands inherit these (commander copies the settings when a command is added).
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('afterAll', environmentHelp);
  registerTrain(program);
  registerGenerate(program);
  registerScore(program);
  registerInspect(program);
  registerPrepare(program);
  registerEval(program);
  registerBench(program);
  registerMethods(program);
  registerTask(program);
  registerWorker(program);
  registerServe(program);
  registerCache(program);
  registerDoctor(program);
  return program;
}

/** Print an error the way the CLI reports it (to stderr unless `write` is given); returns the exit code. */
export function reportError(
  err: unknown,
  debug: boolean,
  write: (text: string) => void = (t) => process.stderr.write(t),
): number {
  if (err instanceof CommanderError) {
    // commander has printed the message (or the help / version text) already.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  const io = err instanceof LetheError ? null : describeIoError(err);
  if (err instanceof LetheError || io) {
    write(`error: ${io ?? (err as Error).message}\n`);
    if (debug) write(`${(err as Error).stack}\n`);
    if (err instanceof UsageError) return EXIT_USAGE;
  } else {
    write(`internal error: ${(err as Error)?.message ?? err}\n`);
    write(debug ? `${(err as Error)?.stack}\n` : 'this is a bug in lethe; rerun with --debug for details\n');
  }
  return EXIT_RUNTIME;
}
