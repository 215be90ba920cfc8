/**
 * `lethe serve`: the forget-request service, and its helpers —
 *   lethe serve --model DIR --db ledger.sqlite [--task SPEC] [--policy policy.json] [--port N]
 *   lethe serve token add --db ledger.sqlite --role submitter|auditor|admin   (prints the token once)
 *   lethe serve verify --db ledger.sqlite CERT.json   (exit 0 intact, 1 naming the changed field)
 *   lethe serve batch-job JOB.json   (internal: one batch attempt, run by the worker in a child)
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.ts';
import { runBatchJob } from '../../serve/batch-job.ts';
import { checkCertificate } from '../../serve/certificate.ts';
import { Ledger, ROLES, type Role } from '../../serve/ledger.ts';
import { loadPolicy } from '../../serve/policy.ts';
import { hashToken, newToken } from '../../serve/server.ts';
import { startService } from '../../serve/service.ts';
import { intOption } from '../options.ts';

interface ServeFlags {
  model?: string;
  db?: string;
  task: string;
  policy?: string;
  port: number;
  host: string;
  dataDir?: string;
}

const WATCHDOG = `
const parent = Number(process.env.LETHE_SERVE_PARENT || process.ppid);
if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 250);
`;

/** The subcommand's flags with serve's --db, which must be given. */
function withDb<T>(cmd: Command): T & { db: string } {
  const f = cmd.optsWithGlobals() as T & { db?: string };
  if (!f.db) throw new ConfigError(`lethe serve ${cmd.name()} needs --db ledger.sqlite`);
  return f as T & { db: string };
}

export function registerServe(program: Command): void {
  const serve = program
    .command('serve')
    .description('run the forget-request service: HTTP API, SQLite ledger, verified unlearning batches')

    .option('--model <dir>', 'the deployed model folder (version 0)')
    // --db is serve's option, read by the subcommands too (optsWithGlobals): commander hands a
    // parent's known flags to the parent wherever they appear.
    .option('--db <file>', 'the SQLite ledger (created if missing)')
    .option('--task <spec>', 'task whose holdout/retain data verification uses', 'synthetic:demo')
    .option('--policy <file>', 'policy JSON: batching, method and settings, escalation, thresholds')
    .option('--port <n>', 'port to listen on (0 = any free port)', intOption('--port', 0), 8080)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'folder with the staged benchmark data (default ../shared/datasets)')
    .action(async (f: ServeFlags) => {
      if (!f.model || !f.db)
        throw new ConfigError('lethe serve needs --model and --db', {
          hint: 'lethe serve --model DIR --db ledger.sqlite',
        });
      const service = await startService({
        model: f.model,
        db: f.db,
        taskSpec: f.task,
        dataDir: f.dataDir,
        policy: loadPolicy(f.policy),
        port: f.port,
        host: f.host,
      });
      const stop = () => {
        service.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  serve
    .command('token')
    .description('manage API tokens')
    .command('add')
    .description('create a token (printed once; the ledger keeps only its hash)')
    .requiredOption('--role <role>', 'submitter, auditor or admin')
    .option('--label <text>', 'a note on whose token this is')
    .action((_f: unknown, cmd: Command) => {
      const f = withDb<{ role: string; label?: string }>(cmd);
      if (!ROLES.includes(f.role as Role))
        throw new ConfigError('invalid --role', { expected: ROLES.join(', '), found: f.role });
      const ledger = new Ledger(f.db);
      try {
        const token = newToken();
        ledger.addToken(hashToken(token), f.role as Role, f.label ?? null);
        process.stdout.write(`${token}\n`);
      } finally {
        ledger.close();
      }
    });

  serve
    .command('verify <certificate>')
    .description('check a forget certificate against the ledger (exit 0 intact, 1 changed)')
    .action((file: string, _f: unknown, cmd: Command) => {
      const f = withDb<object>(cmd);
      let cert: unknown;
      try {
        cert = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new ConfigError('cannot read the certificate', { where: file, found: (e as Error).message });
      }
      const ledger = new Ledger(f.db);
      try {
        const id = (cert as { requestId?: unknown })?.requestId;
        const stored = typeof id === 'string' ? (ledger.request(id)?.certificate ?? null) : null;
        const r = checkCertificate(ledger.hmacKey(), cert, stored);
        (r.ok ? process.stdout : process.stderr).write(`${r.message}\n`);
        if (!r.ok) process.exitCode = 1;
      } finally {
        ledger.close();
      }
    });

  serve
    .command('batch-job <job>', { hidden: true })
    .description('(internal) run one batch attempt: unlearn and verify')
    .action(async (job: string) => {
      // If the service dies (even by kill -9) this process is re-parented; a watchdog thread sees
      // the parent change and ends it, even while the main thread is busy training, so no orphan
      // keeps computing.
      new Worker(WATCHDOG, { eval: true }).unref();
      await runBatchJob(job);
      process.exit(0);
    });
}
