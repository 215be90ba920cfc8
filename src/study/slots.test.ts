/**
 * The study scheduler on simulated work (timers, no processes), driven as study.ts drives it
 * (each run graded as soon as it is unlearned): with one slot it gives the sequential order
 * (unlearn a run, evaluate it, next run); with two, never more than two tasks run at once, the
 * first run unlearns beside the reference evaluation, and a ready run's evaluation goes before
 * waiting unlearning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from './slots.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A study of `runs` runs: children unlearn (unlearnMs), the parent evaluates in completion order. */
async function simulate(n: number, runs: number, unlearnMs: number, evalMs: number) {
  const slots = new Slots(n);
  const log: string[] = [];
  let running = 0;
  let most = 0;
  const task = async (name: string, ms: number) => {
    running++;
    most = Math.max(most, running);
    log.push(`${name}+`);
    await tick(ms);
    log.push(`${name}-`);
    running--;
  };
  const refs = slots.evaluation(false, () => task('R', evalMs));
  const stages = new Map<number, Promise<number>>();
  for (let i = 1; i <= runs; i++) {
    stages.set(
      i,
      slots.child(async () => {
        await task(`U${i}`, unlearnMs);
        slots.markReady();
        return i;
      }),
    );
  }
  await refs;
  const grading: Promise<void>[] = [];
  while (stages.size > 0) {
    const i = await Promise.race(stages.values());
    stages.delete(i);
    grading.push(slots.evaluation(true, () => task(`E${i}`, evalMs)));
  }
  await Promise.all(grading);
  return { log, most };
}

test('one slot: reference evaluation, then unlearn and evaluate each run in turn', async () => {
  const { log, most } = await simulate(1, 3, 5, 5);
  assert.equal(most, 1);
  assert.deepEqual(
    log.filter((e) => e.endsWith('+')),
    ['R+', 'U1+', 'E1+', 'U2+', 'E2+', 'U3+', 'E3+'],
  );
});

test('two slots: children unlearn beside the evaluation, at most two at once, evaluation first', async () => {
  const { log, most } = await simulate(2, 4, 20, 20);
  assert.equal(most, 2);
  const starts = log.filter((e) => e.endsWith('+'));
  // The first run unlearns while the target and oracle are evaluated.
  assert.deepEqual(starts.slice(0, 2), ['R+', 'U1+']);
  // A run's evaluation goes first: no unlearning starts between a run's end and its evaluation.
  const order = log.join(' ');
  for (const i of [1, 2, 3, 4]) {
    const between = log.slice(log.indexOf(`U${i}-`), log.indexOf(`E${i}+`));
    assert.ok(!between.some((e) => /^U\d\+$/.test(e)), `E${i} first: ${order}`);
  }
  assert.equal(starts.length, 9, order);
});
