/**
 * The start-up warm-up (src/serve/warmup.ts) leaves no trace: thousands of scratch submissions go
 * through the service's own server before it listens, yet its ledger holds no request, batch,
 * event or token from them, its log has one line saying the warm-up happened (no ids, no items),
 * the scratch token is unknown afterwards, and only then does the service listen. Also: the
 * warm-up's port answers nothing but submissions, a policy that rejects the warm-up's bodies ends
 * it early without stopping the start, and the token cache never remembers an unknown token.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ledger } from '../../src/serve/ledger.ts';
import { PolicySchema } from '../../src/serve/policy.ts';
import { buildServerHandle, hashToken, newToken } from '../../src/serve/server.ts';
import { startService } from '../../src/serve/service.ts';
import { warmUp } from '../../src/serve/warmup.ts';
import { api, forgetRequests, makeWorld, TINY_POLICY } from './world.ts';

/** Every row of every table of the ledger (what a warm-up must not change). */
function snapshot(db: string): Record<string, unknown[]> {
  const l = new Ledger(db);
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of ['tokens', 'settings', 'requests', 'batches', 'versions', 'events'])
      out[t] = l.db.prepare(`SELECT * FROM ${t}`).all();
    return out;
  } finally {
    l.close();
  }
}

test('the start-up warm-up leaves the ledger and the log untouched, and happens before listening', async () => {
  const w = await makeWorld();
  const policy = PolicySchema.parse({ ...TINY_POLICY, batchSize: 1000, maxWaitMs: 3_600_000 });
  // A ledger as a first start leaves it, with one submitter token.
  const l = new Ledger(w.db);
  const token = newToken();
  l.addToken(hashToken(token), 'submitter', 'test');
  l.close();
  const lines: string[] = [];
  const svc = await startService({
    model: w.model,
    db: w.db,
    taskSpec: w.task,
    policy,
    port: 0,
    log: (line) => lines.push(line),
    warmUp: { submissions: 1500, maxMs: 60_000 },
  });
  try {
    const before = snapshot(w.db);
    // Only the start's own rows: version 0, its settings, the 'start' event, the test's token.
    assert.equal(before.requests.length, 0);
    assert.equal(before.batches.length, 0);
    assert.equal(before.tokens.length, 1);
    assert.deepEqual(
      before.events.map((e) => (e as { kind: string }).kind),
      ['start'],
    );
    // One log line for the warm-up, before the one that says the service listens.
    const warm = lines.findIndex((x) => x.startsWith('warmed up the submission path:'));
    const listening = lines.findIndex((x) => x.startsWith('listening on '));
    assert.ok(warm >= 0 && listening > warm, lines.join('\n'));
    assert.match(lines[warm], /: 1500 scratch submissions in \d+ ms \(in-memory ledger, discarded\)$/);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.ok(!lines.some((x) => /warm-up (item|question|answer)|req_/.test(x)), lines.join('\n'));

    // The service works on its own ledger afterwards, and only there.
    assert.equal((await api(svc.url, null, 'GET', '/healthz')).status, 200);
    const r = await api(svc.url, token, 'POST', '/v1/requests', forgetRequests()[0]);
    assert.equal(r.status, 202);
    const after = snapshot(w.db);
    assert.deepEqual(
      after.requests.map((x) => (x as { id: string }).id),
      [r.body.id],
    );
    assert.deepEqual(after.tokens, before.tokens);
    assert.deepEqual(after.events, before.events);
  } finally {
    await svc.close();
  }
});

test('warm-up: only scratch submissions on its port, the scratch ledger is dropped, the routes return to the service ledger', async () => {
  const w = await makeWorld();
  const policy = PolicySchema.parse({ ...TINY_POLICY, batchSize: 1000, maxWaitMs: 3_600_000 });
  const ledger = new Ledger(w.db);
  const token = newToken();
  ledger.addToken(hashToken(token), 'submitter', null);
  const server = buildServerHandle({ ledger, policy, health: () => ({}) });
  try {
    // While a scratch ledger is in use, the routes see it (and not the service's tokens), and
    // nothing but POST /v1/requests is served.
    const scratch = new Ledger(':memory:');
    const scratchToken = newToken();
    scratch.addToken(hashToken(scratchToken), 'submitter', null);
    server.useScratchLedger(scratch);
    const inject = (tok: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
      server.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' },
        ...(payload ? { payload: JSON.stringify(payload) } : {}),
      });
    const body = forgetRequests()[0];
    assert.equal((await inject(scratchToken, 'POST', '/v1/requests', body)).statusCode, 202);
    assert.equal((await inject(token, 'POST', '/v1/requests', body)).statusCode, 401);
    assert.equal((await inject(scratchToken, 'GET', '/healthz')).statusCode, 503);
    assert.equal((await inject(scratchToken, 'GET', '/v1/requests')).statusCode, 503);
    assert.equal(scratch.requests().length, 1);
    server.useScratchLedger(null);
    scratch.close();
    assert.equal(ledger.requests().length, 0);

    // The warm-up itself: its submissions reach neither ledger it does not own.
    const res = await warmUp(server, { submissions: 600, maxMs: 60_000 });
    assert.equal(res.stopped, null);
    assert.equal(res.submissions, 600);
    assert.equal(ledger.requests().length, 0);
    assert.equal(server.app.server.listening, false);
    // Afterwards the routes use the service's ledger: its token works, the scratch one does not.
    const ok = await inject(token, 'POST', '/v1/requests', body);
    assert.equal(ok.statusCode, 202);
    assert.match(JSON.parse(ok.body).id, /^req_[0-9a-f]{20}$/);
    assert.equal(ledger.requests().length, 1);
    assert.equal((await inject(scratchToken, 'POST', '/v1/requests', body)).statusCode, 401);

    // The token cache keeps only tokens the ledger knows: one added after a 401 works at once.
    const late = newToken();
    assert.equal((await inject(late, 'GET', '/v1/requests')).statusCode, 401);
    ledger.addToken(hashToken(late), 'auditor', null);
    assert.equal((await inject(late, 'GET', '/v1/requests')).statusCode, 200);
  } finally {
    await server.app.close();
    ledger.close();
  }
});

test('a policy that rejects the warm-up bodies ends the warm-up early; the service still starts', async () => {
  const w = await makeWorld();
  const policy = PolicySchema.parse({
    ...TINY_POLICY,
    batchSize: 1000,
    maxWaitMs: 3_600_000,
    limits: { maxItemChars: 5 },
  });
  const lines: string[] = [];
  const svc = await startService({
    model: w.model,
    db: w.db,
    taskSpec: w.task,
    policy,
    port: 0,
    log: (line) => lines.push(line),
  });
  try {
    assert.match(
      lines.join('\n'),
      /warmed up the submission path: 1 scratch submissions .*stopped early: a scratch submission got 413/,
    );
    assert.equal((await api(svc.url, null, 'GET', '/healthz')).status, 200);
    assert.equal(svc.ledger.requests().length, 0);
  } finally {
    await svc.close();
  }
});
