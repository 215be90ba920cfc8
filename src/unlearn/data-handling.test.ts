/**
 * What each method trains on: unsupported forget kinds are left out and counted (idk, dpo and
 * random-label need questions), random answers never come from the forget set and `k` is
 * honoured, requests group items by subject, append to one log and keep their checkpoints apart,
 * and impossible request counts or layer patterns are refused before any model is touched.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tinyWorld } from '../../test/helpers/unlearn-world.ts';
import type { Task } from '../data/task.ts';
import { ConfigError, DataError } from '../errors.ts';
import { getMethod } from './registry.ts';
import { planUnlearn, randomAnswerExamples, requestsOf, subjectOf, unlearn } from './runner.ts';

const quick = { epochs: 2, lr: 2e-3, batchSize: 4 };

/** The tiny task with a biography per forget person (ids person-like: "p0-bio"). */
function withBios(task: Task): Task {
  const bios = task.splits.forget.qa.map((q) => ({ id: `${q.id}-bio`, text: `${q.answer} A short life.` }));
  return { ...task, splits: { ...task.splits, forget: { ...task.splits.forget, text: bios } } };
}

test('subjects come from item ids: one person’s QA and biography share one', () => {
  assert.equal(subjectOf('person-12-bio'), 'person-12');
  assert.equal(subjectOf('person-12-email'), 'person-12');
  assert.equal(subjectOf('person-120-bio'), 'person-120');
  assert.equal(subjectOf('passage-3-verbatim'), 'passage-3');
  assert.equal(subjectOf('intro'), 'intro');
});

test('QA-only methods leave out text items, count them, and refuse a forget set with none left', async () => {
  const { task } = await tinyWorld();
  const t = withBios(task);
  for (const name of ['idk', 'dpo', 'random-label']) {
    const plan = planUnlearn(name, t);
    assert.deepEqual(plan.leftOut, { text: 4 }, name);
    assert.equal(plan.requests[0].text.length, 0, `${name} trains on no biography`);
    assert.equal(plan.requests[0].qa.length, 4);
  }
  assert.deepEqual(planUnlearn('ga', t).leftOut, {}, 'ga uses text too');
  const textOnly = { ...t, splits: { ...t.splits, forget: { ...t.splits.forget, qa: [] } } };
  assert.throws(
    () => planUnlearn('idk', textOnly),
    (e: Error) => e instanceof DataError && /idk can use none/.test(e.message) && /4 text/.test(String(e)),
  );
});

test('a run records the left-out count (and dpo never sees a zero margin from text)', async () => {
  const w = await tinyWorld();
  const r = await unlearn({ ...w, task: withBios(w.task), method: 'dpo', args: quick, progress: false });
  assert.deepEqual(r.leftOut, { text: 4 });
});

test('random-label: random answers exclude every forget answer; k above 5 is honoured', async () => {
  const { task, tokenizer } = await tinyWorld();
  const forgetAnswers = task.splits.forget.qa.map((q) => q.answer);
  const variants = randomAnswerExamples(tokenizer, task, task.splits.forget.qa, 40, 0);
  assert.equal(variants.length, 40);
  for (const v of variants) {
    for (const ex of v) {
      const answer = tokenizer.decode(ex.ids.slice(ex.start), { skipSpecialTokens: true }).trim();
      assert.ok(!forgetAnswers.includes(answer), `drew forget answer "${answer}"`);
    }
  }
  assert.equal(getMethod('random-label').needs.randomAnswers?.({ k: 8 }), 8);
});

test('requests group by subject and are refused when there are more requests than subjects', async () => {
  const { task } = await tinyWorld();
  const forget = withBios(task).splits.forget;
  const parts = requestsOf(forget, 3);
  assert.equal(parts.length, 3);
  for (const p of parts) {
    assert.ok(p.qa.length > 0);
    assert.deepEqual(
      p.text.map((t) => subjectOf(t.id)),
      p.qa.map((q) => subjectOf(q.id)),
      'each request holds its people’s QA and biographies',
    );
  }
  assert.throws(
    () => planUnlearn('ga', task, { requests: 1_000_000 }),
    (e: Error) => e instanceof ConfigError && /requests=1000000 is more than the 4 subjects/.test(e.message),
  );
  assert.throws(
    () => planUnlearn('ga', task, { layers: '(' }),
    (e: Error) =>
      e instanceof ConfigError && /layers/.test(String(e)) && /regular expression/.test(String(e)),
  );
});

test('requests append to one log and keep their checkpoints apart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-requests-'));
  try {
    const w = await tinyWorld();
    const logFile = join(dir, 'unlearn-log.jsonl');
    const r = await unlearn({
      ...w,
      method: 'ga',
      args: { ...quick, requests: 2 },
      progress: false,
      logFile,
      checkpointDir: join(dir, 'ck'),
    });
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const steps = r.requests.reduce((s, q) => s + q.steps, 0);
    assert.equal(lines.length, steps, 'every step of every request is logged');
    assert.deepEqual([...new Set(lines.map((l) => l.request))], [1, 2]);
    assert.ok(existsSync(join(dir, 'ck', 'request-1')) && existsSync(join(dir, 'ck', 'request-2')));
    assert.ok(!existsSync(`${logFile}.request-1`), 'per-request parts are merged away');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lethe unlearn refuses impossible requests and bad layer patterns before training anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-upfront-'));
  try {
    const root = new URL('../..', import.meta.url).pathname;
    for (const [arg, message] of [
      ['requests=1000000', /requests=1000000 is more than the \d+ subjects/],
      ['layers=(', /regular expression/],
    ] as const) {
      const t0 = performance.now();
      const r = spawnSync(
        process.execPath,
        [
          join(root, 'bin', 'lethe.js'),
          'unlearn',
          '--task',
          'synthetic:tiny',
          '--method',
          'ga',
          '--arg',
          arg,
          '--out',
          join(dir, 'out'),
          '--cache',
          join(dir, 'cache'),
        ],
        { encoding: 'utf8', cwd: root },
      );
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(!existsSync(join(dir, 'cache', 'models')), 'no target was trained');
      assert.ok(performance.now() - t0 < 30_000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
