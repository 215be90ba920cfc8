/**
 * Cross-process locks: a lock whose owner is gone — exited, a zombie, its pid reused by another
 * process, or dead before it wrote its owner — is taken over at once, without "waiting"; a live
 * owner's lock (and one from another host) is waited for; abandoned `*.partial` folders are
 * removed while live builders' are kept.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentOwner, lockIsStale, processAlive, removeAbandonedPartials, withLock } from './lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-lock-'));
const deadPid = () =>
  Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
      .stdout,
  );

async function takenAtOnce(path: string): Promise<void> {
  let waited = false;
  const got = await withLock(path, async () => JSON.parse(readFileSync(path, 'utf8')), {
    timeoutMs: 2000,
    onWait: () => {
      waited = true;
    },
  });
  assert.equal(waited, false, `${path}: waited for a dead owner`);
  assert.equal(got.pid, process.pid);
  assert.equal(got.host, hostname());
  assert.ok(!existsSync(path), 'released afterwards');
}

test('locks of gone owners are taken over without waiting', async () => {
  const host = hostname();
  const lock = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  };
  await takenAtOnce(lock('exited.lock', JSON.stringify({ pid: deadPid(), host, started: null })));
  await takenAtOnce(lock('bare-pid.lock', String(deadPid()))); // written by older versions
  // Our own pid with another start time: the pid was reused by a different process.
  const me = currentOwner();
  if (me.started !== null) {
    await takenAtOnce(lock('reused.lock', JSON.stringify({ ...me, started: me.started + 1 })));
  }
  // An owner killed between creating and writing the file leaves it empty.
  const empty = lock('empty.lock', '');
  assert.equal(lockIsStale(empty), false, 'a fresh empty lock may still be being written');
  utimesSync(empty, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  await takenAtOnce(empty);
});

test('a zombie owner counts as dead', { skip: !existsSync('/proc/self/stat') && 'needs /proc' }, async () => {
  // `sleep 0` exits but its parent (the exec'd `sleep 5`) never reaps it: a zombie for 5 s.
  const sh = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = Number(await new Promise<string>((r) => sh.stdout!.once('data', (d) => r(String(d)))));
  await new Promise((r) => setTimeout(r, 300));
  assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'the child is a zombie');
  assert.equal(processAlive(pid), false);
  const p = join(dir, 'zombie.lock');
  writeFileSync(p, JSON.stringify({ pid, host: hostname(), started: null }));
  await takenAtOnce(p);
  sh.kill();
});

test('a live owner, or one on another host, is waited for', async () => {
  const live = join(dir, 'live.lock');
  writeFileSync(live, JSON.stringify(currentOwner()));
  let waited = false;
  await assert.rejects(
    withLock(live, async () => 1, {
      timeoutMs: 600,
      onWait: () => {
        waited = true;
      },
    }),
    /timed out waiting for a lock/,
  );
  assert.ok(waited);
  const remote = join(dir, 'remote.lock');
  writeFileSync(remote, JSON.stringify({ pid: deadPid(), host: `not-${hostname()}`, started: null }));
  assert.equal(lockIsStale(remote), false);
});

test('abandoned .partial folders are removed; a live builder’s and the kept one stay', () => {
  const models = join(dir, 'models');
  mkdirSync(models);
  for (const k of ['dead', 'nolock', 'live', 'mine']) mkdirSync(join(models, `${k}.partial`));
  writeFileSync(
    join(models, 'dead.lock'),
    JSON.stringify({ pid: deadPid(), host: hostname(), started: null }),
  );
  writeFileSync(join(models, 'live.lock'), JSON.stringify(currentOwner()));
  const removed = removeAbandonedPartials(models, 'mine.partial').sort();
  assert.deepEqual(removed, ['dead.partial', 'nolock.partial']);
  assert.ok(existsSync(join(models, 'live.partial')) && existsSync(join(models, 'live.lock')));
  assert.ok(existsSync(join(models, 'mine.partial')));
  assert.ok(!existsSync(join(models, 'dead.lock')) && !existsSync(join(models, 'nolock.lock')));
});
