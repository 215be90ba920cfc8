/**
 * Starting and stopping the forget-request service: open (or create) the ledger, check the policy
 * against the task, register the model folder as version 0 on first start, recover from a crash
 * (running batches go back to the queue, unpublished folders are removed, the current version's
 * hash is checked), then run the worker and the HTTP server.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveTask } from '../data/resolve-task.ts';
import { CheckpointError, ConfigError } from '../errors.ts';
import { getMethod } from '../unlearn/registry.ts';
import { BACKSTOP_PAGES, type Checkpointer, startCheckpointer } from './checkpointer.ts';
import { Ledger } from './ledger.ts';
import { folderHash, ModelStore, storeDirOf } from './model-store.ts';
import type { Policy } from './policy.ts';
import { buildServerHandle } from './server.ts';
import { availableUtility } from './verify.ts';
import { type WarmUpOptions, warmUp } from './warmup.ts';
import { Worker } from './worker.ts';

export interface ServiceOptions {
  model: string;
  db: string;
  taskSpec: string;
  dataDir?: string;
  policy: Policy;
  port?: number;
  host?: string;
  log?: (line: string) => void;
  pollMs?: number;
  /** The start-up warm-up of the submission path (src/serve/warmup.ts); false: none. */
  warmUp?: WarmUpOptions | false;
}

export interface Service {
  url: string;
  port: number;
  ledger: Ledger;
  worker: Worker;
  close(): Promise<void>;
}

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'lethe.js');

async function checkPolicy(o: ServiceOptions): Promise<void> {
  const m = getMethod(o.policy.method);
  if (m.kind === 'input') {
    throw new ConfigError(`method ${m.name} changes only the prompt, not the model`, {
      where: 'policy: method',
      expected: 'a method that changes the weights (gradient or weight-arithmetic)',
    });
  }
  const task = await resolveTask(o.taskSpec, o.dataDir);
  if (task.splits.holdout.qa.length + task.splits.holdout.text.length === 0) {
    throw new ConfigError(`task ${o.taskSpec} has no holdout items`, {
      expected: 'holdout QA or text (the never-seen items forgetting is measured against)',
    });
  }
  const have = availableUtility(task);
  for (const u of o.policy.utility.metrics) {
    if (!have.includes(u))
      throw new ConfigError(`the task cannot feed utility metric ${u}`, {
        where: 'policy: utility.metrics',
        expected: `one of ${have.join(', ') || '(none: the task has no retain data)'}`,
      });
  }
}

export async function startService(o: ServiceOptions): Promise<Service> {
  const log = o.log ?? ((l: string) => process.stderr.write(`serve: ${l}\n`));
  await checkPolicy(o);
  const model = resolve(o.model);
  if (!existsSync(join(model, 'config.json')))
    throw new CheckpointError('--model is not a model folder', {
      where: model,
      expected: 'an HF folder with config.json',
    });
  const db = resolve(o.db);
  const ledger = new Ledger(db);
  let checkpointer: Checkpointer | null = null;
  try {
    // Checkpoints run in a thread of their own, not inside a submission's commit.
    ledger.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    checkpointer = startCheckpointer(db);
    const store = new ModelStore(storeDirOf(db));
    await store.init();
    const v0 = ledger.version(0);
    if (!v0) {
      ledger.insertVersionZero(model, folderHash(model));
      ledger.event('start', { model, version: 0 });
    } else if (v0.dir !== model) {
      throw new ConfigError('this ledger serves another model', {
        where: db,
        expected: v0.dir,
        found: model,
        hint: 'use a new --db for a new model',
      });
    }
    const requeued = ledger.requeueRunning('interrupted');
    const removed = await store.cleanup(new Set(ledger.versions().map((v) => v.dir)));
    if (requeued > 0 || removed.length > 0)
      log(`recovered: ${requeued} interrupted requests requeued, removed ${removed.join(', ') || 'nothing'}`);
    const cur = ledger.version(ledger.currentVersion()!)!;
    if (folderHash(cur.dir) !== cur.hash) {
      throw new CheckpointError(`model version ${cur.version} changed on disk since it was published`, {
        where: cur.dir,
        expected: `content hash ${cur.hash}`,
      });
    }
    const worker = new Worker({
      ledger,
      store,
      policy: o.policy,
      taskSpec: o.taskSpec,
      dataDir: o.dataDir,
      cli: CLI,
      log,
      pollMs: o.pollMs,
    });
    const server = buildServerHandle({
      ledger,
      policy: o.policy,
      health: () => ({ worker: worker.busy ? 'processing' : 'idle', queue: ledger.countByStatus() }),
    });
    const { app } = server;
    if (o.warmUp !== false) {
      // Before listening (and before the worker starts): nothing is served until the JIT has
      // seen the submission path; the warm-up never touches the ledger (src/serve/warmup.ts).
      const w = await warmUp(server, o.warmUp);
      log(
        `warmed up the submission path: ${w.submissions} scratch submissions in ${Math.round(w.ms)} ms` +
          ` (in-memory ledger, discarded)${w.stopped ? `; stopped early: ${w.stopped}` : ''}`,
      );
    }
    await app.listen({ port: o.port ?? 8080, host: o.host ?? '127.0.0.1' });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 8080);
    log(
      `listening on http://${o.host ?? '127.0.0.1'}:${port} · current model v${cur.version} · task ${o.taskSpec}`,
    );
    worker.start();
    return {
      url: `http://${o.host ?? '127.0.0.1'}:${port}`,
      port,
      ledger,
      worker,
      async close() {
        await worker.stop();
        await app.close();
        await checkpointer?.stop();
        ledger.close();
      },
    };
  } catch (e) {
    await checkpointer?.stop();
    ledger.close();
    throw e;
  }
}
