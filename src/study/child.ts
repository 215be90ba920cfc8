/**
 * The study's child processes (unlearning runs, target/oracle training, searches), tied to their
 * parent's life: the parent forwards SIGINT/SIGTERM to every running child, and each child watches
 * its parent — when the parent disappears (even killed with SIGKILL, which nothing can forward) the
 * child kills itself. The watch runs in a worker thread polling the parent pid, so it works while
 * the child's main thread is busy in a long synchronous computation.
 *
 * Several children may run at once (`jobs`, study.ts): each gets its own LETHE_THREADS, and with a
 * `prefix` its stderr is relayed line by line behind that prefix (its run id), so the progress
 * lines of overlapping work stay readable.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LetheError } from '../errors.ts';

/** Environment variable naming the pid the child must outlive no longer than. */
export const PARENT_PID_ENV = 'LETHE_PARENT_PID';

const WATCH = `
const { workerData } = require('node:worker_threads');
const check = () => {
  if (process.ppid !== workerData.parent) process.kill(process.pid, 'SIGKILL');
};
check();
setInterval(check, workerData.everyMs);
`;

let watching = false;

/**
 * In a child started by `spawnTied`, end this process as soon as its parent is gone. A no-op
 * when the environment names no parent.
 */
export function watchParent(everyMs = 200): void {
  const parent = Number(process.env[PARENT_PID_ENV]);
  if (watching || !Number.isInteger(parent) || parent <= 0) return;
  watching = true;
  const worker = new Worker(WATCH, { eval: true, workerData: { parent, everyMs } });
  worker.unref();
}

export interface TiedOptions {
  /** LETHE_THREADS of the child (unset: inherited from this process's environment). */
  threads?: number;
  /** Relay the child's stderr line by line, each line behind this prefix. */
  prefix?: string;
  /** Aborting it stops the child (SIGTERM): the study failed elsewhere. */
  signal?: AbortSignal;
}

/** Write a child's stderr to ours line by line behind `prefix` (a progress bar's \r ends a line too). */
function relayLines(stream: NodeJS.ReadableStream, prefix: string): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (pending + chunk).split(/\r?\n|\r/);
    pending = parts.pop() ?? '';
    const lines = parts.filter((l) => l.trim() !== ''); // a pipe: no TTY escapes to strip
    if (lines.length > 0) process.stderr.write(lines.map((l) => `${prefix}${l}\n`).join(''));
  });
  stream.on('end', () => {
    if (pending.trim() !== '') process.stderr.write(`${prefix}${pending}\n`);
  });
}

/**
 * Run `node args...` as a child tied to this process; resolves with its exit code. While it runs,
 * SIGINT and SIGTERM sent to this process go to the child, and once it has ended this process
 * ends by the same signal (with several children, once the last of them has ended).
 */
export async function spawnTied(args: string[], cwd: string, o: TiedOptions = {}): Promise<number | null> {
  const env: NodeJS.ProcessEnv = { ...process.env, [PARENT_PID_ENV]: String(process.pid) };
  if (o.threads !== undefined) env.LETHE_THREADS = String(o.threads);
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: ['ignore', 'ignore', o.prefix === undefined ? 'inherit' : 'pipe'],
    env,
  });
  if (o.prefix !== undefined && child.stderr) relayLines(child.stderr, o.prefix);
  const stop = () => child.kill('SIGTERM');
  if (o.signal?.aborted) stop();
  o.signal?.addEventListener('abort', stop, { once: true });
  let stopping: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals) => {
    stopping = signal;
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number | null>((done, fail) => {
      child.on('error', (e) => fail(new LetheError('cannot start a study process', { found: e.message })));
      // 'close' (not 'exit'): the relayed stderr has been written out by then.
      child.on('close', (code) => done(code));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    o.signal?.removeEventListener('abort', stop);
    if (stopping) {
      // Re-raise now that the child is gone: the default action once no other child's forwarder
      // is listening, else those forwarders again (harmless: their children are stopping already).
      process.exitCode = 128 + (constants.signals[stopping] ?? 0);
      process.kill(process.pid, stopping);
    }
  }
}

/**
 * The node arguments that run a module of this package as a child's main script: the compiled
 * .js as is, a TypeScript source through tsx (resolved from here, so any working directory works).
 */
export function moduleArgs(module: URL): string[] {
  const path = fileURLToPath(module);
  return path.endsWith('.ts') ? ['--import', import.meta.resolve('tsx'), path] : [path];
}

/** The node arguments that start child-main (a study child: training one model, or a search). */
export function childMainArgs(): string[] {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return moduleArgs(new URL(`./child-main${ext}`, import.meta.url));
}
