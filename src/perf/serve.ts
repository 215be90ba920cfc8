/**
 * `npm run bench -- serve [--tiny] [--model DIR --task SPEC] [--policy FILE]`: the forget-request
 * service under load. Starts `lethe serve` as its own process on a fresh ledger and measures
 *  (1) time from submission to verified for one 10-item request (unlearn + verify + publish), and
 *  (2) 1,000 submissions from 50 concurrent keep-alive loopback clients while a batch is
 *      processing: throughput, p50/p99 latency, and that every submission got its own id — once
 *      cold (the first 1,000 after the service started listening, i.e. after only its start-up
 *      warm-up, src/serve/warmup.ts, reported as `warmUp`) and once in steady state (after 3,000
 *      more, when the JIT has seen the request path thousands of times over real connections).
 * Default model: the demo target (synthetic:demo, demo recipe; prepared or reused from
 * .lethe-cache like `bench -- eval`), with the walkthrough's policy (configs/serve-demo-policy.json)
 * and request (examples/serve/request-anselm-gallardo.json). `--model DIR --task SPEC`: the first
 * 10 forget QA items of that task. `--tiny`: the 2-layer test model of the unit tests (seconds).
 * Prints one JSON object; progress on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyTask, tinyWorld } from '../../test/helpers/unlearn-world.ts';
import { resolveTask } from '../data/resolve-task.ts';
import { writeTask } from '../data/task.ts';
import { ConfigError } from '../errors.ts';
import { Ledger } from '../serve/ledger.ts';
import { quantileOf, submitLoad } from '../serve/load.ts';
import { hashToken, newToken } from '../serve/server.ts';
import { prepare } from '../study/prepare.ts';
import { savePretrained } from '../text/pretrained.ts';

const CLI = fileURLToPath(new URL('../../bin/lethe.js', import.meta.url));
/** Submissions between the cold and the steady-state measurement (the JIT's warm-up). */
const WARMUP = 3000;
const say = (m: string) => process.stderr.write(`bench serve: ${m}\n`);

/** The tiny world's policy (as the serve tests use it). */
const TINY_POLICY = {
  batchSize: 1,
  maxWaitMs: 0,
  method: 'grad-diff',
  settings: { epochs: 8, lr: 3e-3, alpha: 4, batchSize: 4 },
  escalation: [{ epochs: 16 }],
  forgetting: { maxAuc: 0.75, maxLeakRate: 0, maxNewTokens: 12 },
  utility: { metrics: ['retain.prob'], minFraction: 0.7 },
};

/** User + system CPU time of a process so far (ms), from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function startServe(args: string[]): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [CLI, 'serve', ...args, '--port', '0'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) ok({ child, url: m[1], log: () => err });
    });
    child.on('exit', (code) => fail(new Error(`lethe serve exited with ${code}: ${err}`)));
  });
}

async function getJson(url: string, token: string | null): Promise<Record<string, unknown>> {
  const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return (await r.json()) as Record<string, unknown>;
}

export async function run(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-bench-serve-'));
  let model = flag(args, '--model');
  let taskSpec = flag(args, '--task');
  let policyPath = flag(args, '--policy');
  let items: unknown[];
  if (args.includes('--tiny')) {
    const w = await tinyWorld();
    model = join(dir, 'model');
    await savePretrained(model, w.model, w.tokenizer);
    const task = tinyTask();
    taskSpec = await writeTask(join(dir, 'task'), task);
    policyPath = policyPath ?? join(dir, 'policy.json');
    writeFileSync(policyPath, JSON.stringify(TINY_POLICY));
    // 10 items about the 4 forget people: their QA, the QA with the short answer, and 2 statements.
    const qa = task.splits.forget.qa;
    items = [
      ...qa.map((q) => ({ question: q.question, answer: q.answer })),
      ...qa.map((q) => ({ question: q.question, answer: q.paraphrasedAnswer! })),
      ...qa.slice(0, 2).map((q) => ({ text: q.answer })),
    ];
  } else if (!model) {
    // The demo target with the walkthrough's policy and request (docs/serve.md): one person's
    // personal data, 10 items (questions, biography, directory entries).
    const demo = JSON.parse(readFileSync(new URL('../../configs/demo.json', import.meta.url), 'utf8'));
    taskSpec = demo.task as string;
    const p = await prepare({
      task: await resolveTask(taskSpec),
      recipe: demo.recipe,
      seed: 0,
      cacheDir: resolve(demo.cache),
    });
    model = p.target;
    policyPath =
      policyPath ?? fileURLToPath(new URL('../../configs/serve-demo-policy.json', import.meta.url));
    const request = new URL('../../examples/serve/request-anselm-gallardo.json', import.meta.url);
    items = (JSON.parse(readFileSync(request, 'utf8')) as { items: unknown[] }).items;
  } else {
    if (!taskSpec) throw new ConfigError('--model needs --task (the task the model was trained on)');
    const task = await resolveTask(taskSpec);
    items = task.splits.forget.qa.slice(0, 10).map((q) => ({ question: q.question, answer: q.answer }));
    if (items.length < 10) throw new ConfigError(`task ${taskSpec} has fewer than 10 forget QA items`);
  }
  const db = join(dir, 'ledger.sqlite');
  const ledger = new Ledger(db);
  const token = newToken();
  ledger.addToken(hashToken(token), 'submitter', 'bench');
  ledger.close();
  const serveArgs = [
    '--model',
    model!,
    '--db',
    db,
    '--task',
    taskSpec!,
    ...(policyPath ? ['--policy', policyPath] : []),
  ];
  const { child, url, log } = await startServe(serveArgs);
  // What the service did before listening (its log line), so the cold figures say what they follow.
  const w =
    /warmed up the submission path: (\d+) scratch submissions in (\d+) ms(?:[^;\n]*; stopped early: ([^\n]*))?/.exec(
      log(),
    );
  const warmUp = w
    ? { submissions: Number(w[1]), ms: Number(w[2]), ...(w[3] ? { stoppedEarly: w[3] } : {}) }
    : null;
  try {
    // (1) One 10-item request, submission to verified.
    const t0 = performance.now();
    const sub = await fetch(`${url}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'bench subject', kind: 'privacy', items }),
    });
    const { id } = (await sub.json()) as { id: string };
    let status = 'queued';
    while (!['verified', 'rejected', 'needs-retraining', 'failed'].includes(status)) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await getJson(`${url}/v1/requests/${id}`, token)).status as string;
    }
    const toVerified = (performance.now() - t0) / 1000;
    say(`10-item request ${status} after ${toVerified.toFixed(1)} s`);

    // (2) Load while a batch runs.
    await fetch(`${url}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'bench batch', kind: 'privacy', items }),
    });
    while ((await getJson(`${url}/healthz`, null)).worker !== 'processing')
      await new Promise((r) => setTimeout(r, 50));
    const body = (i: number) => ({
      subject: `load ${i}`,
      kind: 'privacy',
      items: [{ text: `bench item ${i}` }],
    });
    const measure = async (first: number, n: number) => {
      const cpu0 = cpuMs(child.pid!);
      const r = await submitLoad({
        url,
        token,
        total: n,
        clients: 50,
        body: (i) => body(first + i),
        key: (i) => `bench-${first + i}`,
      });
      const serverCpuMs = cpuMs(child.pid!) - cpu0;
      return {
        submissions: n,
        clients: 50,
        accepted: [...r.statuses.values()].filter((s) => s === 202).length,
        distinctIds: new Set(r.ids.values()).size,
        seconds: Number(r.seconds.toFixed(3)),
        perSecond: Math.round(n / r.seconds),
        p50Ms: Number(quantileOf(r.latencies, 0.5).toFixed(2)),
        p99Ms: Number(quantileOf(r.latencies, 0.99).toFixed(2)),
        maxMs: Number(r.latencies[r.latencies.length - 1].toFixed(2)),
        /** CPU the service process spent per submission (independent of how busy the machine is). */
        serverCpuMsPerSubmission: Number((serverCpuMs / n).toFixed(3)),
        ids: r.ids,
      };
    };
    // The first 1,000 submissions the service process handles (its code not yet optimised by the
    // JIT), then WARMUP more, then the measured 1,000 of a service in steady state; all of them
    // while the batch runs.
    const cold = await measure(0, 1000);
    await submitLoad({ url, token, total: WARMUP, clients: 50, body: (i) => body(1000 + i) });
    const load1 = loadavg()[0];
    const steady = await measure(1000 + WARMUP, 1000);
    const processing = (await getJson(`${url}/healthz`, null)).worker === 'processing';
    const allIds = [...cold.ids.values(), ...steady.ids.values()];
    const { ids: _c, ...coldOut } = cold;
    const { ids: _s, ...steadyOut } = steady;
    const out = {
      suite: 'serve',
      machine: {
        cpu: cpus()[0]?.model,
        cores: availableParallelism(),
        node: process.version,
        loadAverage: load1,
      },
      model,
      task: taskSpec,
      toVerified: { items: items.length, status, seconds: Number(toVerified.toFixed(2)) },
      /** Steady state: after the cold 1,000 and WARMUP more submissions. */
      load: { ...steadyOut, batchProcessingThroughout: processing, after: 1000 + WARMUP },
      /** The first 1,000 submissions after the service started listening. */
      cold: coldOut,
      /** The start-up warm-up the service ran before listening (scratch ledger; null: none). */
      warmUp,
      /** Every measured submission got its own id (cold and steady, 2,000 ids). */
      allDistinct: new Set(allIds).size === 2000,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    // A clean stop ends the unlearning child too (an orphan would load the next run's machine).
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
