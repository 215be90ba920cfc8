/**
 * `lethe worker --queue redis://…`: takes study runs from the queue and executes each exactly as
 * the local runner does — `lethe bench --config <study> --only <run>` in a child process, which
 * unlearns (in its own grandchild) and evaluates into the shared runs folder. The worker itself
 * only waits, so it keeps renewing its job locks while a run trains.
 *
 * Faults: a worker killed mid-run stops renewing its lock, BullMQ's stalled-job check hands the
 * run to another worker, and the run is redone from the start (a run folder without results is
 * redone, giving the same bytes). The child dies with its worker (it watches the worker's pid), so
 * an orphan never writes beside the retry. A run that fails by itself is reported once, as an
 * UnrecoverableError, not retried.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { LetheError } from '../../errors.ts';
import { PARENT_PID_ENV } from '../child.ts';
import { modelHash } from '../identity.ts';
import { parseRedisUrl, QUEUE_NAME, type RunJob, RunJobSchema } from './jobs.ts';

export interface WorkerOptions {
  queue: string;
  /** Shown to the coordinator as who ran what; default host:pid. */
  name?: string;
  /** Runs at once on this machine (each is a process with its own threads). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal; a dead worker's run is retried after it. */
  lockMs?: number;
  log?: (line: string) => void;
}

const CLI = fileURLToPath(new URL('../../../bin/lethe.js', import.meta.url));

const seen = new Map<string, { stamp: string; hash: string }>();

/** modelHash of a folder, remembered while its files keep their sizes and times (checked per run). */
function rememberedModelHash(dir: string): string {
  if (!existsSync(dir)) {
    throw new LetheError('model folder not found', {
      where: dir,
      hint: 'the coordinator and every worker must see the same cache folder (shared storage)',
    });
  }
  const st = statSync(dir);
  const weights = join(dir, 'model.safetensors');
  const stamp = `${st.mtimeMs}:${existsSync(weights) ? `${statSync(weights).size}:${statSync(weights).mtimeMs}` : ''}`;
  const hit = seen.get(dir);
  if (hit?.stamp === stamp) return hit.hash;
  const hash = modelHash(dir);
  seen.set(dir, { stamp, hash });
  return hash;
}

/** Proves this machine sees the coordinator's study and models, or says what differs. */
async function checkSharedStorage(job: RunJob): Promise<void> {
  if (!existsSync(job.config)) {
    throw new LetheError(`worker cannot see the study config of ${job.run}`, {
      where: job.config,
      hint: 'workers need the coordinator’s runs and cache folders at the same paths (shared storage)',
    });
  }
  for (const role of ['target', 'oracle'] as const) {
    const { dir, hash } = job.models[role];
    const found = rememberedModelHash(dir);
    if (found !== hash) {
      throw new LetheError(`worker sees a different ${role} model than the coordinator`, {
        where: dir,
        expected: `model hash ${hash}`,
        found,
        hint: 'every machine must mount the same cache folder',
      });
    }
  }
}

function runChild(job: RunJob, log: (line: string) => void): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, 'bench', '--config', job.config, '--only', job.run], {
      cwd: job.baseDir,
      // The child watches this pid and ends itself when the worker dies (see study/child.ts).
      env: { ...process.env, [PARENT_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const tail: string[] = [];
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        log(`${job.run}: ${line}`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => {
      if (code === 0) return done();
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      const message = `run ${job.run} failed (${why})\n${tail.join('\n')}`;
      // Killed from outside (this worker shutting down): let another worker take it. Otherwise the
      // run failed by itself and would fail again.
      fail(signal ? new Error(message) : new UnrecoverableError(message));
    });
  });
}

export interface RunningWorker {
  name: string;
  close(): Promise<void>;
}

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const connection = parseRedisUrl(o.queue);
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const log = o.log ?? ((line: string) => process.stderr.write(`worker ${name}: ${line}\n`));
  const lockDuration = o.lockMs ?? 30_000;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const parsed = RunJobSchema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`job ${job.id} is not a lethe run job: ${parsed.error.message}`);
      }
      const data = parsed.data;
      try {
        await checkSharedStorage(data);
      } catch (e) {
        throw new UnrecoverableError((e as Error).message);
      }
      log(`${data.run}: started (${data.label})`);
      await runChild(data, log);
      log(`${data.run}: done`);
      return { run: data.run, worker: name };
    },
    {
      connection,
      name,
      concurrency: o.concurrency ?? 1,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      // A run may stall twice (two workers died under it) before it counts as failed.
      maxStalledCount: 2,
    },
  );
  worker.on('error', (e) => log(`queue error: ${e.message}`));
  await worker.waitUntilReady();
  log(`waiting for runs on ${o.queue}`);
  return {
    name,
    close: () => worker.close(true),
  };
}
