/**
 * The HTTP API's contract without running a batch (the worker's policy waits for 1,000 requests):
 * auth (401 missing/unknown token, 403 wrong role, submitters see only their own requests,
 * /healthz open), bad input (unknown fields and wrong types → 400 naming the field path; too
 * many items, too long strings or too large a body → 413; bad JSON → 400), idempotency keys
 * (same key → same request, different body → 409), and generation on the current version.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PolicySchema } from '../../src/serve/policy.ts';
import { hashToken, newToken } from '../../src/serve/server.ts';
import { type Service, startService } from '../../src/serve/service.ts';
import { api, forgetRequests, makeWorld, TINY_POLICY } from './world.ts';

let svc: Service;
const tok: Record<string, string> = {};

before(async () => {
  const w = await makeWorld();
  const policy = PolicySchema.parse({
    ...TINY_POLICY,
    batchSize: 1000,
    maxWaitMs: 3_600_000,
    limits: { maxBodyBytes: 4096, maxItems: 3, maxItemChars: 200 },
  });
  svc = await startService({ model: w.model, db: w.db, taskSpec: w.task, policy, port: 0, log: () => {} });
  for (const role of ['submitter', 'auditor', 'admin'] as const) {
    tok[role] = newToken();
    svc.ledger.addToken(hashToken(tok[role]), role, null);
  }
  tok.other = newToken();
  svc.ledger.addToken(hashToken(tok.other), 'submitter', null);
});
after(() => svc.close());

const good = forgetRequests()[0];

test('auth: /healthz is open; everything else needs a known token; roles are enforced', async () => {
  assert.equal((await api(svc.url, null, 'GET', '/healthz')).status, 200);
  for (const path of ['/', '/v1/models', '/v1/requests/x', '/v1/requests/x/certificate']) {
    assert.equal((await api(svc.url, null, 'GET', path)).status, 401, path);
    assert.equal((await api(svc.url, 'lethe_wrong', 'GET', path)).status, 401, path);
  }
  assert.equal((await api(svc.url, null, 'POST', '/v1/requests', good)).status, 401);
  assert.equal((await api(svc.url, null, 'POST', '/v1/generate', { prompt: 'x' })).status, 401);
  assert.equal((await api(svc.url, tok.auditor, 'POST', '/v1/requests', good)).status, 403);
  assert.equal((await api(svc.url, tok.submitter, 'POST', '/v1/models/0/rollback')).status, 403);
  assert.equal((await api(svc.url, tok.auditor, 'POST', '/v1/models/0/rollback')).status, 403);
  assert.equal((await api(svc.url, tok.admin, 'POST', '/v1/models/7/rollback')).status, 404);
  const mine = await api(svc.url, tok.submitter, 'POST', '/v1/requests', good);
  assert.equal(mine.status, 202);
  assert.deepEqual(Object.keys(mine.body).sort(), ['id', 'status']);
  assert.equal(mine.body.status, 'queued');
  const id = mine.body.id;
  assert.equal((await api(svc.url, tok.submitter, 'GET', `/v1/requests/${id}`)).body.subject, 'Ada');
  assert.equal((await api(svc.url, tok.other, 'GET', `/v1/requests/${id}`)).status, 404);
  assert.equal((await api(svc.url, tok.auditor, 'GET', `/v1/requests/${id}`)).status, 200);
  assert.equal((await api(svc.url, tok.admin, 'GET', `/v1/requests/${id}`)).status, 200);
  assert.equal((await api(svc.url, tok.other, 'GET', '/v1/requests')).body.requests.length, 0);
  assert.ok((await api(svc.url, tok.auditor, 'GET', '/v1/requests')).body.requests.length >= 1);
  const cert = await api(svc.url, tok.submitter, 'GET', `/v1/requests/${id}/certificate`);
  assert.equal(cert.status, 404);
  assert.match(cert.body.error, /no certificate \(status queued\)/);
});

test('bad input: 400 with the field path, 413 over a limit', async () => {
  const post = (body: unknown, headers?: Record<string, string>) =>
    api(svc.url, tok.submitter, 'POST', '/v1/requests', body, headers);
  const cases: [unknown, number, RegExp][] = [
    [{ ...good, extra: 1 }, 400, /^extra$/],
    [{ ...good, kind: 'gossip' }, 400, /^kind$/],
    [{ ...good, subject: 7 }, 400, /^subject$/],
    [{ ...good, items: [{ text: 'a', colour: 'red' }] }, 400, /^items\.0/],
    [{ ...good, items: [{ question: 'q' }] }, 400, /^items\.0/],
    [{ ...good, items: [] }, 400, /^items$/],
    [{ subject: 'a', kind: 'privacy' }, 400, /^items$/],
    [{ ...good, items: [{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }] }, 413, /^items$/],
    [{ ...good, items: [{ text: 'x'.repeat(201) }] }, 413, /^items\.0\.text$/],
  ];
  for (const [body, status, path] of cases) {
    const r = await post(body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.ok(
      r.body.issues.some((i: { path: string }) => path.test(i.path)),
      `${JSON.stringify(r.body.issues)} should name ${path}`,
    );
  }
  const big = await post({ ...good, subject: 'x'.repeat(5000) });
  assert.equal(big.status, 413);
  assert.equal((await post('{"subject": ')).status, 400);
  const gen = await api(svc.url, tok.submitter, 'POST', '/v1/generate', {
    prompt: 'hi',
    maxNewTokens: 'many',
  });
  assert.equal(gen.status, 400);
  assert.equal(gen.body.issues[0].path, 'maxNewTokens');
  const before = svc.ledger.countByStatus().queued ?? 0;
  assert.equal(before, 1, 'no bad request was stored');
});

test('idempotency: the same key never creates two requests; another body under it is 409', async () => {
  const h = { 'idempotency-key': 'abc-123' };
  const a = await api(svc.url, tok.submitter, 'POST', '/v1/requests', forgetRequests()[1], h);
  const b = await api(svc.url, tok.submitter, 'POST', '/v1/requests', forgetRequests()[1], h);
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.equal(a.body.id, b.body.id);
  const c = await api(svc.url, tok.submitter, 'POST', '/v1/requests', forgetRequests()[2], h);
  assert.equal(c.status, 409);
  const all = svc.ledger.requests().filter((r) => r.idempotencyKey === 'abc-123');
  assert.equal(all.length, 1);
});

test('generate answers from the current version; /v1/models lists version 0', async () => {
  const g = await api(svc.url, tok.auditor, 'POST', '/v1/generate', {
    prompt: 'Question: Where does Ada live?\nAnswer:',
    maxNewTokens: 8,
  });
  assert.equal(g.status, 200);
  assert.equal(g.body.modelVersion, 0);
  assert.match(g.body.completion, /Ada lives in Oslo/);
  const m = await api(svc.url, tok.submitter, 'GET', '/v1/models');
  assert.equal(m.body.current, 0);
  assert.equal(m.body.versions[0].parent, null);
  assert.match(m.body.versions[0].hash, /^[0-9a-f]{64}$/);
});
