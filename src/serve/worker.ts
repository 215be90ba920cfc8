/**
 * The batch worker: takes queued requests into a batch when the policy says so (batchSize
 * reached, or the oldest has waited maxWaitMs), runs each attempt (the policy's settings, then
 * each escalation) in a child process, and publishes the first candidate whose verification
 * passed — folder renamed into the store, then one ledger transaction marking the version current
 * and the requests verified with signed certificates. If no attempt passes, the requests become
 * needs-retraining (or failed, when the child itself crashed) and nothing is published.
 *
 * Logs name request ids, counts and hashes only; a child's stderr is passed on with every item
 * string replaced by [redacted].
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.ts';
import type { BatchJob, BatchVerdict } from './batch-job.ts';
import { type Certificate, signCertificate } from './certificate.ts';
import type { BatchRow, Ledger, RequestItem } from './ledger.ts';
import { folderHashAsync, type ModelStore } from './model-store.ts';
import type { Policy } from './policy.ts';

export interface WorkerOptions {
  ledger: Ledger;
  store: ModelStore;
  policy: Policy;
  taskSpec: string;
  dataDir?: string;
  /** bin/lethe.js: the child runs `lethe serve batch-job JOB.json`. */
  cli: string;
  log: (line: string) => void;
  /** Poll interval (ms). */
  pollMs?: number;
}

/**
 * Fault-injection points for the crash tests: with LETHE_SERVE_CRASH_AT=<name> the service kills
 * itself with SIGKILL there, exactly as a power cut or kill -9 would.
 */
function crashPoint(name: string): void {
  if (process.env.LETHE_SERVE_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}

function redact(text: string, items: RequestItem[]): string {
  let out = text;
  const secrets = items
    .flatMap((it) => ('question' in it ? [it.question, it.answer] : [it.text]))
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

export class Worker {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private child: ReturnType<typeof spawn> | null = null;
  private stopping = false;
  /** Batches finished since start (for tests and /healthz). */
  finished = 0;

  constructor(private o: WorkerOptions) {}

  start(): void {
    this.stopping = false;
    const tick = () => {
      if (this.stopping) return;
      this.poll();
      this.timer = setTimeout(tick, this.o.pollMs ?? 100);
    };
    tick();
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Stop polling and kill a running child; the batch stays `running` and is re-run on the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.child?.kill('SIGKILL');
    await this.running?.catch(() => {});
  }

  private poll(): void {
    if (this.running) return;
    const { ledger, policy } = this.o;
    const q = ledger.oldestQueued(policy.batchSize);
    if (q.n === 0) return;
    const waited = Date.now() - Date.parse(q.oldest!);
    if (q.n < policy.batchSize && waited < policy.maxWaitMs) return;
    const base = ledger.currentVersion()!;
    const batch = ledger.startBatch(policy.batchSize, base);
    if (!batch) return;
    this.running = this.runBatch(batch)
      .catch((err: unknown) => {
        this.o.log(`batch ${batch.id}: internal error: ${(err as Error).message}`);
        if (!this.stopping) ledger.reject(batch.id, 'failed', 'internal error while processing the batch');
      })
      .finally(() => {
        this.running = null;
        this.finished++;
      });
  }

  private runChild(jobPath: string, items: RequestItem[]): Promise<number | null> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [this.o.cli, 'serve', 'batch-job', jobPath], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: {
          ...process.env,
          LETHE_THREADS: String(this.o.policy.threads),
          LETHE_SERVE_PARENT: String(process.pid),
        },
      });
      this.child = child;
      // Unlearning yields the CPU to the API: submissions stay fast while a batch runs.
      try {
        if (child.pid !== undefined) setPriority(child.pid, 15);
      } catch {
        // not permitted here; the child runs at normal priority
      }
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (err.length < 64 * 1024) err += d.toString();
      });
      child.on('exit', (code) => {
        this.child = null;
        if (code !== 0 && err.trim()) this.o.log(`batch job stderr: ${redact(err.trim(), items)}`);
        done(code);
      });
    });
  }

  private async runBatch(batch: BatchRow): Promise<void> {
    const { ledger, store, policy, log } = this.o;
    const requests = batch.requests.map((id) => ledger.request(id)!);
    const items = requests.flatMap((r) => r.items ?? []);
    const subjects = [...new Set(requests.map((r) => r.subject))];
    const baseRow = ledger.version(batch.baseVersion)!;
    const tries = [policy.settings, ...policy.escalation.map((e) => ({ ...policy.settings, ...e }))];
    log(`batch ${batch.id}: ${requests.length} requests (${items.length} items) from v${baseRow.version}`);
    crashPoint('batch-started');
    let crashes = 0;
    for (const [i, args] of tries.entries()) {
      if (this.stopping) return;
      const work = await store.workDir(batch.id, i);
      const job: BatchJob = {
        taskSpec: this.o.taskSpec,
        dataDir: this.o.dataDir,
        items,
        subjects,
        method: policy.method,
        args,
        seed: policy.seed,
        base: baseRow.dir,
        out: join(work, 'candidate'),
        verdict: join(work, 'verdict.json'),
        forgetting: policy.forgetting,
        utility: policy.utility,
      };
      const jobPath = join(work, 'job.json');
      await writeJsonAtomic(jobPath, job);
      const t0 = performance.now();
      const code = await this.runChild(jobPath, items);
      if (this.stopping) return;
      crashPoint('after-child');
      const verdict = existsSync(job.verdict)
        ? (JSON.parse(readFileSync(job.verdict, 'utf8')) as BatchVerdict)
        : null;
      if (code !== 0 || !verdict) {
        crashes++;
        ledger.recordAttempt(batch.id, { settings: args, error: `unlearning job exited with code ${code}` });
        log(`batch ${batch.id}: attempt ${i + 1} failed (exit code ${code})`);
        await rm(work, { recursive: true, force: true });
        continue;
      }
      const summary = verdict.checks
        .map((c) => `${c.name}=${c.value.toPrecision(3)}${c.passed ? '' : '✗'}`)
        .join(' ');
      ledger.recordAttempt(batch.id, {
        settings: verdict.args,
        checks: verdict.checks,
        passed: verdict.passed,
      });
      log(
        `batch ${batch.id}: attempt ${i + 1}/${tries.length} ${verdict.passed ? 'passed' : 'failed'} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${summary}`,
      );
      if (!verdict.passed) {
        await rm(work, { recursive: true, force: true });
        continue;
      }
      if (ledger.currentVersion() !== batch.baseVersion) {
        // A rollback moved the current version while this batch ran: redo it from the new one.
        ledger.requeueRunning('stale', batch.id);
        await rm(work, { recursive: true, force: true });
        log(`batch ${batch.id}: base version no longer current; requeued`);
        return;
      }
      const version = ledger.nextVersion();
      const dir = await store.publish(job.out, version);
      crashPoint('after-rename');
      const hash = await folderHashAsync(dir);
      const key = ledger.hmacKey();
      const issuedAt = new Date().toISOString();
      const certs = new Map<string, Certificate>();
      for (const r of requests) {
        const cert = signCertificate(
          key,
          JSON.parse(
            JSON.stringify({
              requestId: r.id,
              subject: r.subject,
              kind: r.kind,
              itemHashes: r.itemHashes,
              modelBefore: { version: baseRow.version, hash: baseRow.hash },
              modelAfter: { version, hash },
              method: verdict.method,
              settings: verdict.args,
              verification: verdict.checks,
              issuedAt,
            }),
          ),
        );
        certs.set(r.id, cert);
      }
      ledger.publish(
        {
          version,
          parent: baseRow.version,
          dir,
          hash,
          batchId: batch.id,
          method: verdict.method,
          settings: verdict.args,
          metrics: verdict.checks,
          requests: requests.map((r) => r.id),
        },
        certs,
        batch.id,
      );
      crashPoint('after-commit');
      await rm(work, { recursive: true, force: true });
      log(
        `batch ${batch.id}: published v${version} (${hash.slice(0, 12)}); ${requests.length} requests verified`,
      );
      return;
    }
    const crashed = crashes === tries.length;
    ledger.reject(
      batch.id,
      crashed ? 'failed' : 'needs-retraining',
      crashed
        ? 'the unlearning job failed; see the service log'
        : `verification failed with all ${tries.length} policy settings; nothing was published`,
    );
    log(`batch ${batch.id}: ${crashed ? 'failed' : 'needs retraining'}; nothing published`);
  }
}
