/**
 * Unlearning runs as child processes of `lethe bench`, tied to their parent's life: the parent
 * forwards SIGINT/SIGTERM to the running child, and the child watches its parent — when the parent
 * disappears (even killed with SIGKILL, which nothing can forward) the child kills itself. The
 * watch runs in a worker thread polling the parent pid, so it works while the child's main thread
 * is busy in a long synchronous computation.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
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

/**
 * Run `node args...` as a child tied to this process; resolves with its exit code. While it runs,
 * SIGINT and SIGTERM sent to this process go to the child, and once it has ended this process
 * ends by the same signal.
 */
export async function spawnTied(args: string[], cwd: string): Promise<number | null> {
  const child = spawn(process.execPath, args, {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
  });
  let stopping: NodeJS.Signals | null = null;
  const forward = (signal: NodeJS.Signals) => {
    stopping = signal;
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number | null>((done, fail) => {
      child.on('error', (e) =>
        fail(new LetheError('cannot start the unlearning process', { found: e.message })),
      );
      child.on('exit', (code) => done(code));
    });
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    if (stopping) {
      // Re-raise with the default action now that the child is gone.
      process.exitCode = 128 + (constants.signals[stopping] ?? 0);
      process.kill(process.pid, stopping);
    }
  }
}
