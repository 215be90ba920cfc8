/**
 * The serve tests' world: the tiny memorised task of test/helpers/unlearn-world.ts written as a task
 * folder, its trained 2-layer GPT-2 saved as an HF folder (version 0), a policy that passes on it,
 * and helpers to start `lethe serve` as a real process, make tokens and call the API.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeTask } from '../../src/data/index.ts';
import { savePretrained } from '../../src/text/pretrained.ts';
import { tinyTask, tinyWorld } from '../helpers/unlearn-world.ts';

export const CLI = fileURLToPath(new URL('../../bin/lethe.js', import.meta.url));

/** A policy the tiny model passes with (grad-diff, a few epochs), fast to run. */
export const TINY_POLICY = {
  batchSize: 4,
  maxWaitMs: 300,
  method: 'grad-diff',
  settings: { epochs: 8, lr: 3e-3, alpha: 4, batchSize: 4 },
  escalation: [{ epochs: 16 }],
  forgetting: { maxAuc: 0.75, maxLeakRate: 0, maxNewTokens: 12 },
  utility: { metrics: ['retain.prob'], minFraction: 0.7 },
};

export interface World {
  dir: string;
  model: string;
  task: string;
  policy: string;
  db: string;
}

export async function makeWorld(policy: Record<string, unknown> = TINY_POLICY): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-serve-'));
  const { model, tokenizer } = await tinyWorld();
  await savePretrained(join(dir, 'model'), model, tokenizer);
  const task = await writeTask(join(dir, 'task'), tinyTask());
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  return {
    dir,
    model: join(dir, 'model'),
    task,
    policy: join(dir, 'policy.json'),
    db: join(dir, 'ledger.sqlite'),
  };
}

/** `lethe serve token add`: the printed token. */
export function addToken(db: string, role: string): string {
  return execFileSync(process.execPath, [CLI, 'serve', 'token', 'add', '--db', db, '--role', role], {
    encoding: 'utf8',
  }).trim();
}

/** The tiny task's forget people as request items: one request per person. */
export function forgetRequests() {
  return tinyTask().splits.forget.qa.map((q) => ({
    subject: q.question.replace(/^Where does (\w+) live\?$/, '$1'),
    kind: 'privacy' as const,
    items: [{ question: q.question, answer: q.answer }],
  }));
}

export interface Proc {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** Every service a test started: killed when the test file ends, so a failed test never leaves one
 * running (its open pipes would keep the test file, and the suite, from exiting). */
const started = new Set<ChildProcess>();
after(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Start `lethe serve` on a free port; resolves once it listens. */
export function startServe(w: World, extra: string[] = [], env: Record<string, string> = {}): Promise<Proc> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--model',
        w.model,
        '--db',
        w.db,
        '--task',
        w.task,
        '--policy',
        w.policy,
        '--port',
        '0',
        ...extra,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
    );
    started.add(child);
    let err = '';
    let done = false;
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m && !done) {
        done = true;
        ok({ child, url: m[1], stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      if (!done) {
        done = true;
        fail(new Error(`lethe serve exited with ${code}: ${err}`));
      }
    });
  });
}

export async function api(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: test code reads arbitrary JSON responses
): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // HTML or empty
  }
  return { status: res.status, body: parsed, text };
}

/** Poll until `check` returns a value (not undefined), or throw after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
