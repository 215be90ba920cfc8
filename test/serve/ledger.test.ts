/**
 * The ledger and certificates without a model: migrations (a fresh ledger reaches the current
 * schema, reopening changes nothing, a newer schema is refused), idempotent inserts, batches that
 * never hold a request twice, erasure of raw items (no trace left in the file), and certificates
 * (intact → ok; any changed field → named; wrong key → signature).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { checkCertificate, itemHash, signCertificate } from '../../src/serve/certificate.ts';
import { BACKSTOP_PAGES, startCheckpointer } from '../../src/serve/checkpointer.ts';
import { Ledger, SCHEMA_VERSION } from '../../src/serve/ledger.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-ledger-'));

function add(l: Ledger, tokenId: number, n: number, key: string | null = null, secret = 'x') {
  const items = [{ question: `q${n}`, answer: secret }];
  return l.insertRequest({
    id: `r${n}`,
    tokenId,
    subject: `s${n}`,
    kind: 'privacy',
    idempotencyKey: key,
    bodyHash: `h${n}`,
    items,
    itemHashes: items.map(itemHash),
  });
}

test('migrations: fresh ledger at the current schema in WAL mode; reopen keeps data; newer schema refused', () => {
  const path = join(dir, 'm.sqlite');
  const l = new Ledger(path);
  assert.equal(l.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(l.db.pragma('journal_mode', { simple: true }), 'wal');
  const tok = l.addToken('hash1', 'submitter', null);
  add(l, tok, 1);
  l.close();
  const again = new Ledger(path);
  assert.equal(again.request('r1')?.subject, 's1');
  again.close();
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => new Ledger(path), /newer lethe/);
});

test('idempotency keys are per token; batches take each queued request once; requeue after a crash', () => {
  const l = new Ledger(join(dir, 'i.sqlite'));
  const a = l.addToken('ha', 'submitter', null);
  const b = l.addToken('hb', 'submitter', null);
  assert.equal(add(l, a, 1, 'k').created, true);
  const dup = add(l, a, 2, 'k');
  assert.equal(dup.created, false);
  assert.equal(dup.row.id, 'r1');
  assert.equal(add(l, b, 3, 'k').created, true, 'another token may reuse the key');
  l.insertVersionZero('/m', 'h0');
  const b1 = l.startBatch(1, 0)!;
  const b2 = l.startBatch(5, 0)!;
  assert.deepEqual(b1.requests, ['r1']);
  assert.deepEqual(b2.requests, ['r3']);
  assert.equal(l.startBatch(5, 0), null);
  assert.equal(l.requeueRunning('interrupted'), 2);
  assert.deepEqual(l.startBatch(5, 0)!.requests, ['r1', 'r3']);
  l.close();
});

test('raw items are erased from the file once a batch is published or rejected', () => {
  const path = join(dir, 'e.sqlite');
  const l = new Ledger(path);
  const t = l.addToken('h', 'submitter', null);
  l.insertVersionZero('/m', 'h0');
  add(l, t, 1, null, 'SECRET-PUBLISHED-7731');
  add(l, t, 2, null, 'SECRET-REJECTED-5512');
  const b1 = l.startBatch(1, 0)!;
  l.publish(
    {
      version: 1,
      parent: 0,
      dir: '/m1',
      hash: 'h1',
      batchId: b1.id,
      method: 'ga',
      settings: {},
      metrics: [],
      requests: ['r1'],
    },
    new Map([['r1', { ok: 1 }]]),
    b1.id,
  );
  const b2 = l.startBatch(1, 1)!;
  l.reject(b2.id, 'needs-retraining', 'failed');
  assert.equal(l.request('r1')!.items, null);
  assert.equal(l.request('r1')!.status, 'verified');
  assert.equal(l.request('r2')!.items, null);
  assert.equal(l.request('r2')!.status, 'needs-retraining');
  assert.equal(l.request('r2')!.itemHashes.length, 1);
  l.db.pragma('wal_checkpoint(TRUNCATE)');
  l.close();
  const bytes = readFileSync(path).toString('latin1');
  assert.ok(!bytes.includes('SECRET-PUBLISHED'), 'published item left in the ledger file');
  assert.ok(!bytes.includes('SECRET-REJECTED'), 'rejected item left in the ledger file');
});

test('an error after a batch was published does not relabel it (the worker rejects on any error)', () => {
  const l = new Ledger(join(dir, 'p.sqlite'));
  const t = l.addToken('h', 'submitter', null);
  l.insertVersionZero('/m', 'h0');
  add(l, t, 1);
  const b = l.startBatch(1, 0)!;
  l.publish(
    {
      version: 1,
      parent: 0,
      dir: '/m1',
      hash: 'h1',
      batchId: b.id,
      method: 'ga',
      settings: {},
      metrics: [],
      requests: ['r1'],
    },
    new Map([['r1', { ok: 1 }]]),
    b.id,
  );
  l.reject(b.id, 'failed', 'internal error while processing the batch');
  assert.equal(l.batch(b.id)!.status, 'published');
  assert.equal(l.request('r1')!.status, 'verified');
  l.close();
});

test('the checkpoint thread moves the WAL into the ledger file; erasure still truncates the WAL', async () => {
  const path = join(dir, 'c.sqlite');
  const l = new Ledger(path);
  l.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  const t = l.addToken('h', 'submitter', null);
  l.insertVersionZero('/m', 'h0');
  l.db.pragma('wal_checkpoint(TRUNCATE)');
  add(l, t, 1, null, 'MARKER-WAL-ONLY-4417');
  assert.ok(!readFileSync(path).includes('MARKER-WAL-ONLY-4417'), 'committed to the WAL only');
  const cp = startCheckpointer(path, 2);
  try {
    const until = Date.now() + 10_000;
    while (!readFileSync(path).includes('MARKER-WAL-ONLY-4417')) {
      assert.ok(Date.now() < until, 'the checkpoint thread did not copy the WAL into the ledger file');
      await new Promise((r) => setTimeout(r, 10));
    }
    // Erasure while the thread keeps checkpointing: the WAL is truncated every time.
    for (let n = 2; n < 40; n++) {
      add(l, t, n, null, `SECRET-${n}-9906`);
      const b = l.startBatch(100, 0)!;
      l.reject(b.id, 'needs-retraining', 'failed');
      assert.equal(statSync(`${path}-wal`).size, 0, `WAL left after erasing batch ${b.id}`);
    }
  } finally {
    await cp.stop();
  }
  l.close();
  assert.ok(!readFileSync(path).toString('latin1').includes('-9906'), 'an erased item left in the file');
});

test('certificates: intact passes; a changed field is named; another key fails the signature', () => {
  const key = Buffer.alloc(32, 7);
  const cert = signCertificate(key, {
    requestId: 'r1',
    subject: 'Ada',
    kind: 'privacy',
    itemHashes: ['aa'],
    modelBefore: { version: 0, hash: 'h0' },
    modelAfter: { version: 1, hash: 'h1' },
    method: 'grad-diff',
    settings: { lr: 0.001 },
    verification: [
      { name: 'forget.membershipAuc', value: 0.5, threshold: 0.7, comparison: '<=', passed: true },
    ],
    issuedAt: '2026-01-01T00:00:00.000Z',
  });
  const stored = JSON.parse(JSON.stringify(cert));
  assert.equal(checkCertificate(key, cert, stored).ok, true);
  const tampered = JSON.parse(JSON.stringify(cert));
  tampered.verification[0].value = 0.1;
  const r = checkCertificate(key, tampered, stored);
  assert.equal(r.ok, false);
  assert.deepEqual(r.changed, ['verification.0.value']);
  const other = checkCertificate(Buffer.alloc(32, 8), cert, stored);
  assert.equal(other.ok, false);
  assert.deepEqual(other.changed, ['signature']);
  assert.equal(checkCertificate(key, { ...cert, requestId: 'nope' }, null).changed[0], 'requestId');
});
