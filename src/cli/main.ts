/** The `lethe` command line: parse → validated options → library call (see program.ts). */
import { buildProgram, reportError } from './program.ts';

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
    process.exitCode = reportError(err, debug);
  }
}

await main();
