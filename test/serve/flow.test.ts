/**
 * The service end to end as a user runs it (`lethe serve` in its own process, tiny memorised
 * model): four forget requests form one batch; the policy's first settings fail verification, the
 * escalation passes and v1 is published; requests are verified with certificates that
 * `lethe serve verify` accepts (and rejects, naming the field, once changed); /v1/generate no
 * longer tells the forgotten answers; the ledger keeps no raw item and the log names none; the
 * ledger page renders in Chromium; an admin rollback makes v0 current again. A policy nothing can
 * pass ends in needs-retraining with nothing published.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { itemHash } from '../../src/serve/certificate.ts';
import { Ledger } from '../../src/serve/ledger.ts';
import { folderHash, storeDirOf } from '../../src/serve/model-store.ts';
import { PolicySchema } from '../../src/serve/policy.ts';
import { hashToken, newToken } from '../../src/serve/server.ts';
import { startService } from '../../src/serve/service.ts';
import { addToken, api, CLI, forgetRequests, makeWorld, startServe, TINY_POLICY, waitFor } from './world.ts';

const CHROMIUM = '/usr/bin/chromium';
const TERMINAL = ['verified', 'rejected', 'needs-retraining', 'failed'];

test('submit → batch → escalation → verified v1 with certificates; generate forgets; ledger page; rollback', {
  timeout: 240_000,
}, async () => {
  const w = await makeWorld();
  const sub = addToken(w.db, 'submitter'); // through the CLI; the others directly (faster)
  const tokens = new Ledger(w.db);
  const aud = newToken();
  const adm = newToken();
  tokens.addToken(hashToken(aud), 'auditor', null);
  tokens.addToken(hashToken(adm), 'admin', null);
  tokens.close();
  const p = await startServe(w);
  try {
    const reqs = forgetRequests();
    const ids: string[] = [];
    for (const r of reqs) {
      const res = await api(p.url, sub, 'POST', '/v1/requests', r);
      assert.equal(res.status, 202);
      ids.push(res.body.id);
    }
    const final = await waitFor('the batch to finish', 200_000, async () => {
      const all = await Promise.all(ids.map((id) => api(p.url, sub, 'GET', `/v1/requests/${id}`)));
      return all.every((a) => TERMINAL.includes(a.body.status)) ? all.map((a) => a.body) : undefined;
    });
    assert.deepEqual(
      final.map((f) => f.status),
      ['verified', 'verified', 'verified', 'verified'],
      p.stderr(),
    );
    assert.ok(final.every((f) => f.modelVersion === 1));

    // Escalation: the first settings failed verification, the stronger ones passed.
    const ledger = new Ledger(w.db);
    const batch = ledger.batches()[0];
    assert.equal(batch.status, 'published');
    assert.equal(batch.attempts.length, 2);
    assert.equal((batch.attempts[0] as { passed: boolean }).passed, false);
    assert.equal((batch.attempts[1] as { passed: boolean }).passed, true);

    // Lineage.
    const models = (await api(p.url, aud, 'GET', '/v1/models')).body;
    assert.equal(models.current, 1);
    const v1 = models.versions[1];
    assert.equal(v1.parent, 0);
    assert.equal(v1.method, 'grad-diff');
    assert.equal(v1.settings.epochs, 16);
    assert.deepEqual([...v1.requests].sort(), [...ids].sort());
    const v1Dir = join(storeDirOf(w.db), 'v1');
    assert.equal(v1.hash, folderHash(v1Dir));
    assert.ok(v1.metrics.every((c: { passed: boolean }) => c.passed));

    // The certificate: hashes not items, versions with hashes, checks with thresholds; signed.
    const cert = (await api(p.url, sub, 'GET', `/v1/requests/${ids[0]}/certificate`)).body;
    assert.equal(cert.requestId, ids[0]);
    assert.equal(cert.subject, 'Ada');
    assert.deepEqual(cert.itemHashes, reqs[0].items.map(itemHash));
    assert.deepEqual(cert.modelBefore, { version: 0, hash: models.versions[0].hash });
    assert.deepEqual(cert.modelAfter, { version: 1, hash: v1.hash });
    assert.deepEqual(
      cert.verification.map((c: { name: string }) => c.name),
      ['forget.membershipAuc', 'forget.leakRate', 'utility.retain.prob'],
    );
    assert.ok(cert.verification.every((c: { threshold: number }) => Number.isFinite(c.threshold)));
    assert.ok(!JSON.stringify(cert).includes('lives in'), 'the certificate holds no item text');
    const html = await api(p.url, sub, 'GET', `/v1/requests/${ids[0]}/certificate`, undefined, {
      accept: 'text/html',
    });
    assert.match(html.text, /<h1>Forget certificate<\/h1>/);
    assert.match(html.text, /forget\.membershipAuc/);

    const certFile = join(w.dir, 'cert.json');
    writeFileSync(certFile, JSON.stringify(cert, null, 2));
    const ok = spawnSync(process.execPath, [CLI, 'serve', 'verify', '--db', w.db, certFile], {
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    writeFileSync(certFile, JSON.stringify({ ...cert, modelAfter: { ...cert.modelAfter, version: 2 } }));
    const bad = spawnSync(process.execPath, [CLI, 'serve', 'verify', '--db', w.db, certFile], {
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /modelAfter\.version/);

    // The deployed model no longer tells the forgotten answers.
    for (const r of reqs) {
      const g = await api(p.url, sub, 'POST', '/v1/generate', {
        prompt: `Question: ${r.items[0].question}\nAnswer:`,
        maxNewTokens: 12,
      });
      assert.equal(g.body.modelVersion, 1);
      assert.ok(!g.body.completion.includes(r.items[0].answer.replace(/\.$/, '')), g.body.completion);
    }

    // Privacy: no raw item left in the ledger files, none in the log, none in the store.
    for (const f of [w.db, `${w.db}-wal`]) {
      if (!existsSync(f)) continue;
      const bytes = readFileSync(f).toString('latin1');
      for (const r of reqs)
        assert.ok(!bytes.includes(r.items[0].answer), `${r.items[0].answer} left in ${f}`);
    }
    for (const r of reqs) assert.ok(!p.stderr().includes(r.items[0].answer), 'the log names an item');
    assert.deepEqual(readdirSync(storeDirOf(w.db)).sort(), ['v1']);

    // The ledger page in a real browser.
    if (process.env.CI === 'true' || existsSync(CHROMIUM)) {
      const profile = await mkdtemp(join(tmpdir(), 'lethe-serve-chromium-'));
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        extraHTTPHeaders: { authorization: `Bearer ${aud}` },
      });
      try {
        const page = await ctx.newPage();
        const requested: string[] = [];
        page.on('request', (r) => requested.push(r.url()));
        await page.goto(`${p.url}/`);
        assert.equal(await page.locator('#current').textContent(), 'v1');
        assert.equal(await page.locator('#requests tbody tr').count(), 4);
        assert.equal(await page.locator('#requests td.status.verified').count(), 4);
        assert.equal(await page.locator('#versions tbody tr').count(), 2);
        assert.ok(
          requested.every((u) => u.startsWith(p.url)),
          'the page fetches nothing outside',
        );
        await page.locator('#requests a', { hasText: 'certificate' }).first().click();
        await page.waitForSelector('h1');
        assert.equal(await page.locator('h1').textContent(), 'Forget certificate');
        assert.equal(await page.locator('#checks tr').count(), 4);
      } finally {
        await ctx.close();
      }
    } else process.stderr.write(`flow.test.ts: ${CHROMIUM} missing; ledger page not checked in a browser\n`);

    // Rollback (admin only): v0 current again, v1's requests need retraining.
    assert.equal((await api(p.url, aud, 'POST', '/v1/models/0/rollback')).status, 403);
    const rb = await api(p.url, adm, 'POST', '/v1/models/0/rollback');
    assert.equal(rb.status, 200);
    assert.deepEqual(rb.body.rolledBack, [1]);
    assert.equal((await api(p.url, sub, 'GET', `/v1/requests/${ids[0]}`)).body.status, 'needs-retraining');
    const g0 = await api(p.url, sub, 'POST', '/v1/generate', {
      prompt: `Question: ${reqs[0].items[0].question}\nAnswer:`,
      maxNewTokens: 12,
    });
    assert.equal(g0.body.modelVersion, 0);
    assert.equal((await api(p.url, aud, 'GET', '/v1/models')).body.versions[1].rolledBack, true);
    ledger.close();
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('a batch no setting can verify ends in needs-retraining and publishes nothing', {
  timeout: 120_000,
}, async () => {
  const w = await makeWorld();
  const policy = PolicySchema.parse({
    ...TINY_POLICY,
    batchSize: 1,
    settings: { epochs: 1, lr: 1e-4, batchSize: 4 },
    escalation: [{ epochs: 2 }],
  });
  const lines: string[] = [];
  const svc = await startService({
    model: w.model,
    db: w.db,
    taskSpec: w.task,
    policy,
    port: 0,
    log: (l) => lines.push(l),
  });
  try {
    const t = newToken();
    svc.ledger.addToken(hashToken(t), 'submitter', null);
    const r = await api(svc.url, t, 'POST', '/v1/requests', forgetRequests()[1]);
    const row = await waitFor('rejection', 100_000, async () => {
      const x = svc.ledger.request(r.body.id)!;
      return TERMINAL.includes(x.status) ? x : undefined;
    });
    assert.equal(row.status, 'needs-retraining', lines.join('\n'));
    assert.equal(row.items, null);
    assert.equal(svc.ledger.currentVersion(), 0);
    assert.equal(svc.ledger.versions().length, 1);
    assert.equal(svc.ledger.batches()[0].attempts.length, 2);
    assert.deepEqual(readdirSync(storeDirOf(w.db)), []);
  } finally {
    await svc.close();
  }
});
