/**
 * The task-spec resolver: where built-in specs find data (--data-dir, then LETHE_DATA_DIR, then
 * ../shared/datasets only inside a git checkout), specs made absolute for manifests, a folder
 * holding task.json, unknown specs, and TOFU's snake_case field names accepted in task files.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { writeLines } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError, DataError } from '../errors.ts';
import { writeTofuRelease } from './release-fixtures.ts';
import { absoluteTaskSpec, defaultDataDir, resolveTask } from './resolve-task.ts';

test('data folder: --data-dir, then LETHE_DATA_DIR, then ../shared/datasets inside the checkout', () => {
  assert.equal(defaultDataDir('rel/x', { LETHE_DATA_DIR: '/env' }), resolve('rel/x'));
  assert.equal(defaultDataDir(undefined, { LETHE_DATA_DIR: '/env' }), '/env');
  // This test runs from a git checkout (a worktree's .git is a file, a clone's a folder).
  const repo = resolve(import.meta.dirname, '..', '..');
  assert.equal(defaultDataDir(undefined, {}), resolve(repo, '..', 'shared', 'datasets'));
});

test('tofu and tofu:forgetNN read <data dir>/tofu; tofu:DIR[:split] reads DIR', async () => {
  await withTempDir(async (dir) => {
    await writeTofuRelease(join(dir, 'tofu'));
    const a = await resolveTask('tofu:forget01', dir);
    const b = await resolveTask(`tofu:${join(dir, 'tofu')}:forget01`);
    assert.deepEqual(a.splits, b.splits);
    const saved = process.env.LETHE_DATA_DIR;
    process.env.LETHE_DATA_DIR = dir;
    try {
      assert.deepEqual((await resolveTask('tofu')).splits, b.splits);
    } finally {
      if (saved === undefined) delete process.env.LETHE_DATA_DIR;
      else process.env.LETHE_DATA_DIR = saved;
    }
    await rejectsWith(resolveTask('tofu:forget01', join(dir, 'none')), ConfigError, 'needs data at');
  });
});

test('absoluteTaskSpec makes folders and task files absolute and leaves built-in specs alone', () => {
  assert.equal(absoluteTaskSpec('tofu:data/t:forget05', '/w'), 'tofu:/w/data/t:forget05');
  assert.equal(absoluteTaskSpec('tofu:data/t', '/w'), 'tofu:/w/data/t');
  assert.equal(absoluteTaskSpec('muse:m', '/w'), 'muse:/w/m');
  assert.equal(absoluteTaskSpec('wmdp:w:bio,cyber', '/w'), 'wmdp:/w/w:bio,cyber');
  assert.equal(absoluteTaskSpec('enron-pii:e:5', '/w'), 'enron-pii:/w/e:5');
  assert.equal(absoluteTaskSpec('my/task.json', '/w'), '/w/my/task.json');
  for (const s of [
    'synthetic',
    'synthetic:tiny:3',
    'tofu:forget10',
    'tofu',
    'extraction:8',
    '/abs/task.json',
  ])
    assert.equal(absoluteTaskSpec(s, '/w'), s);
});

test('a folder with task.json is a spec; unknown specs list what is accepted', async () => {
  await withTempDir(async (dir) => {
    await writeLines(join(dir, 'f.jsonl'), [{ question: 'Q?', answer: 'A.' }]);
    await writeFile(
      join(dir, 'task.json'),
      JSON.stringify({ name: 't', format: 'qa', splits: { forget: 'f.jsonl' } }),
    );
    assert.equal((await resolveTask(dir)).name, 't');
    await rejectsWith(resolveTask('nonsense'), ConfigError, 'unknown task "nonsense"', 'muse:DIR');
    await rejectsWith(resolveTask('muse:'), ConfigError, 'names no folder');
    await rejectsWith(resolveTask('synthetic:huge'), ConfigError, 'unknown synthetic size');
  });
});

test("task files accept TOFU's snake_case names; giving both spellings is an error", async () => {
  await withTempDir(async (dir) => {
    await mkdir(join(dir, 'd'));
    const row = {
      question: 'Q?',
      answer: 'A.',
      paraphrased_question: 'Q2?',
      paraphrased_answer: 'A2.',
      perturbed_answer: ['B.'],
    };
    await writeLines(join(dir, 'd', 'f.jsonl'), [row]);
    await writeFile(
      join(dir, 'task.json'),
      JSON.stringify({ name: 't', format: 'qa', splits: { forget: 'd/f.jsonl' } }),
    );
    const task = await resolveTask(join(dir, 'task.json'));
    assert.deepEqual(task.splits.forget.qa[0], {
      id: 'forget-qa-0',
      question: 'Q?',
      answer: 'A.',
      paraphrasedQuestion: 'Q2?',
      paraphrasedAnswer: 'A2.',
      perturbedAnswers: ['B.'],
    });
    await writeLines(join(dir, 'd', 'f.jsonl'), [{ ...row, perturbedAnswers: ['C.'] }]);
    await rejectsWith(
      resolveTask(join(dir, 'task.json')),
      DataError,
      'f.jsonl:1',
      'field perturbed_answer',
      'not both',
    );
  });
});
