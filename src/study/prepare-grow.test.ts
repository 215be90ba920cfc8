/**
 * A training child of prepare (jobs ≥ 2) takes the cores its sibling freed once that one has
 * finished, and trains the same weights as with its share alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tinyTask } from '../../test/helpers/unlearn-world.ts';
import { backend } from '../backend/index.ts';
import { taskHash, writeTask } from '../data/index.ts';
import { runTrainRoleJob, type TrainRoleJob } from './prepare.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-prepare-grow-'));
const threads = backend.getThreads();
after(() => {
  backend.setThreads(threads);
  rmSync(dir, { recursive: true, force: true });
});

test('the target takes the freed cores once the oracle is done, with the same weights', async () => {
  const task = tinyTask();
  const job: TrainRoleJob = {
    kind: 'train',
    role: 'target',
    work: dir,
    task: await writeTask(join(dir, 'task'), task),
    taskHash: taskHash(task),
    recipe: {
      layers: 1,
      hidden: 32,
      heads: 2,
      vocabSize: 300,
      context: 64,
      steps: 40,
      batchSize: 4,
      lr: 0.01,
    },
    seed: 0,
    base: null,
    progress: false,
  };
  const weights = () => readFileSync(join(dir, 'target', 'model.safetensors'));
  backend.setThreads(1);
  await runTrainRoleJob({ ...job, growThreads: 2 });
  assert.equal(backend.getThreads(), 1, 'the oracle is still training: the share is kept');
  const alone = weights();
  await rm(join(dir, 'target'), { recursive: true });
  writeFileSync(join(dir, 'oracle.json'), '{}');
  await runTrainRoleJob({ ...job, growThreads: 2 });
  assert.equal(backend.getThreads(), 2, 'the oracle is done: its core is taken');
  assert.ok(weights().equals(alone));
});
