/**
 * WAL checkpoints off the request path. A checkpoint copies the WAL back into the database file and
 * fsyncs both; SQLite's automatic checkpoint runs it inside whichever commit crosses the threshold,
 * which on the service's one event loop stalls every request in flight. The service turns the
 * automatic checkpoint into a distant backstop and runs passive checkpoints from a worker thread
 * with its own connection instead: WAL readers and writers do not wait for a passive checkpoint, so
 * submissions never pay for it (on the dev machine, 5,000 inserts in group commits of 5: the
 * commits over 2 ms added up to 280–560 ms before, 100–130 ms after; docs/serve.md).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Pages of WAL after which the service's own connection checkpoints anyway (if the thread stalls). */
export const BACKSTOP_PAGES = 10_000;

// Plain CommonJS so it runs the same from the TypeScript sources and from dist/.
const CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or transient: the next tick tries again, and the backstop bounds the WAL meanwhile
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** Checkpoint the ledger at `path` every `everyMs` from a worker thread. */
export function startCheckpointer(path: string, everyMs = 250): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(CODE, { eval: true, workerData: { module, path, everyMs } });
  worker.unref();
  const exited = new Promise<void>((done) => worker.once('exit', () => done()));
  return {
    async stop() {
      worker.ref(); // keep the process alive until the thread has closed its connection
      worker.postMessage('stop');
      await exited;
    },
  };
}
