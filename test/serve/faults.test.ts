/**
 * Faults and load against `lethe serve` as a real process.
 *  - kill -9 at every step of a batch (fault points injected with LETHE_SERVE_CRASH_AT: batch
 *    taken, child finished, folder renamed, ledger committed) and once from outside while the
 *    unlearning child runs: after each restart interrupted batches run again, and at the end every
 *    request is verified exactly once, the versions form one chain, the current folder matches its
 *    published hash, no work folder or orphaned child is left, idempotency keys still hold.
 *  - 1,000 submissions from 50 concurrent loopback clients while a batch is processing: none lost
 *    or duplicated (retries with the same Idempotency-Key return the same id). The latency is
 *    printed, not asserted: it is a benchmark figure (`npm run bench -- serve`).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { canonicalJson } from '../../src/data/hash.ts';
import { itemHash } from '../../src/serve/certificate.ts';
import { Ledger } from '../../src/serve/ledger.ts';
import { quantileOf, submitLoad } from '../../src/serve/load.ts';
import { folderHash, storeDirOf } from '../../src/serve/model-store.ts';
import { hashToken } from '../../src/serve/server.ts';
import {
  addToken,
  api,
  forgetRequests,
  makeWorld,
  type Proc,
  startServe,
  TINY_POLICY,
  waitFor,
} from './world.ts';

const exited = (p: Proc) =>
  new Promise<NodeJS.Signals | number | null>((ok) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) ok(p.child.signalCode ?? p.child.exitCode);
    else p.child.on('exit', (code, sig) => ok(sig ?? code));
  });

/** Live processes whose command line mentions `needle` (our own children: the batch jobs), from /proc. */
function processesWith(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) continue;
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) out.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

test('kill -9 at any point: no request lost or included twice; current version complete and verified', {
  timeout: 300_000,
}, async () => {
  const w = await makeWorld({ ...TINY_POLICY, batchSize: 1, maxWaitMs: 0, escalation: [] });
  const tok = addToken(w.db, 'submitter');
  const store = storeDirOf(w.db);
  const [ada, ben] = forgetRequests();
  const key = { 'idempotency-key': 'ada-1' };

  // Two requests already queued (as if the service had died right after accepting them).
  const seeded = new Ledger(w.db);
  const tokenId = seeded.tokenByHash(hashToken(tok))!.id;
  const ids = [ada, ben].map(
    (r, i) =>
      seeded.insertRequest({
        id: `req_seed${i}`,
        tokenId,
        subject: r.subject,
        kind: r.kind,
        idempotencyKey: i === 0 ? 'ada-1' : null,
        bodyHash: createHash('sha256').update(canonicalJson(r)).digest('hex'),
        items: r.items,
        itemHashes: r.items.map(itemHash),
      }).row.id,
  );
  seeded.close();
  let p: Proc;

  for (const point of ['batch-started', 'after-child', 'after-rename', 'after-commit']) {
    p = await startServe(w, [], { LETHE_SERVE_CRASH_AT: point });
    assert.equal(await exited(p), 'SIGKILL', `${point}: ${p.stderr()}`);
  }
  // From outside, while the second request's unlearning child is running.
  p = await startServe(w);
  await waitFor('a batch to be processing', 60_000, async () => {
    const h = await api(p.url, null, 'GET', '/healthz');
    return h.body.worker === 'processing' ? true : undefined;
  });
  // Kill the service while the batch's unlearning child is running (polled, not a fixed sleep).
  await waitFor('the unlearning child to start', 60_000, async () =>
    processesWith(`${store}/.work-`).length > 0 ? true : undefined,
  );
  p.child.kill('SIGKILL');
  await exited(p);
  await waitFor('the orphaned child to exit', 30_000, async () =>
    processesWith(`${store}/.work-`).length === 0 ? true : undefined,
  );

  p = await startServe(w);
  try {
    const again = await api(p.url, tok, 'POST', '/v1/requests', ada, key);
    assert.equal(again.body.id, ids[0], 'the idempotency key survives restarts');
    const rows = await waitFor('both requests to finish', 120_000, async () => {
      const r = await Promise.all(ids.map((id) => api(p.url, tok, 'GET', `/v1/requests/${id}`)));
      return r.every((x) => ['verified', 'needs-retraining', 'failed'].includes(x.body.status))
        ? r.map((x) => x.body)
        : undefined;
    });
    assert.deepEqual(
      rows.map((r) => r.status),
      ['verified', 'verified'],
      p.stderr(),
    );
    const ledger = new Ledger(w.db);
    const versions = ledger.versions();
    assert.deepEqual(
      versions.map((v) => [v.version, v.parent]),
      [
        [0, null],
        [1, 0],
        [2, 1],
      ],
    );
    const included = versions.flatMap((v) => v.requests).sort();
    assert.deepEqual(included, [...ids].sort(), 'each request in exactly one version');
    assert.equal(ledger.requests().length, 2);
    const cur = ledger.version(ledger.currentVersion()!)!;
    assert.equal(cur.version, 2);
    assert.equal(folderHash(cur.dir), cur.hash);
    assert.deepEqual(readdirSync(store).sort(), ['v1', 'v2']);
    const statuses = ledger.batches().map((b) => b.status);
    assert.ok(statuses.includes('interrupted'), statuses.join(','));
    assert.equal(statuses.filter((s) => s === 'published').length, 2);
    ledger.close();
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('1,000 submissions from 50 concurrent clients while a batch runs: none lost or duplicated', {
  timeout: 180_000,
}, async () => {
  const w = await makeWorld({
    ...TINY_POLICY,
    batchSize: 1,
    maxWaitMs: 0,
    settings: { ...TINY_POLICY.settings, epochs: 200 },
    escalation: [],
  });
  const tok = addToken(w.db, 'submitter');
  const p = await startServe(w);
  try {
    await api(p.url, tok, 'POST', '/v1/requests', forgetRequests()[0]);
    await waitFor('the batch to start', 30_000, async () =>
      (await api(p.url, null, 'GET', '/healthz')).body.worker === 'processing' ? true : undefined,
    );
    const item = (i: number) => ({
      subject: `load-${i}`,
      kind: 'privacy',
      items: [{ text: `load test item ${i}` }],
    });
    // Warm-up (JIT, connection pool) outside the measurement.
    await submitLoad({ url: p.url, token: tok, total: 100, clients: 50, body: (i) => item(-1 - i) });
    const load = await submitLoad({
      url: p.url,
      token: tok,
      total: 1000,
      clients: 50,
      body: item,
      key: (i) => `load-${i}`,
    });
    const ids = load.ids;
    assert.ok([...load.statuses.values()].every((s) => s === 202));
    assert.equal(
      (await api(p.url, null, 'GET', '/healthz')).body.worker,
      'processing',
      'the batch ran throughout',
    );
    // Retries with the same keys: the same ids, nothing new.
    for (const i of [0, 499, 999]) {
      const r = await api(p.url, tok, 'POST', '/v1/requests', item(i), { 'idempotency-key': `load-${i}` });
      assert.equal(r.body.id, ids.get(i));
    }
    const p50 = quantileOf(load.latencies, 0.5);
    const p99 = quantileOf(load.latencies, 0.99);
    process.stderr.write(
      `load: ${load.latencies.length} submissions in ${load.seconds.toFixed(2)} s, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms\n`,
    );
    assert.equal(new Set(ids.values()).size, 1000);
    const ledger = new Ledger(w.db);
    const stored = ledger
      .requests({ limit: 5000 })
      .filter((r) => r.subject.startsWith('load-') && !r.subject.startsWith('load--'));
    assert.equal(stored.length, 1000);
    assert.deepEqual(new Set(stored.map((r) => r.id)), new Set(ids.values()));
    ledger.close();
    // Latency is a figure, not a pass/fail check (it measures the machine as much as the service):
    // printed above, and measured on an idle machine by `npm run bench -- serve` (README).
  } finally {
    p.child.kill('SIGKILL');
  }
});
