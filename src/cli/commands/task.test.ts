/**
 * `lethe task`: the JSON Schema printed is the one generated from the zod schemas (and the copy in
 * examples/task-qa is up to date), the example task loads and is valid against what the schema
 * documents, and `task show --json` prints {name, counts, warnings} with taskCounts' keys for a
 * released-format spec, run as a user runs it (the real CLI, from another working directory).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../../test/helpers/temp-dir.ts';
import { writeMuseRelease } from '../../data/release-fixtures.ts';
import { resolveTask } from '../../data/resolve-task.ts';
import { taskCounts } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { taskJsonSchema, taskSummary } from './task.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const example = join(root, 'examples', 'task-qa');

test('task schema: generated from the zod schemas; examples/task-qa/task.schema.json is current', () => {
  const schema = taskJsonSchema();
  const saved = JSON.parse(readFileSync(join(example, 'task.schema.json'), 'utf8'));
  assert.deepEqual(saved, schema, 'regenerate with: lethe task schema > examples/task-qa/task.schema.json');
  const props = schema.properties as Record<string, unknown>;
  for (const key of ['name', 'format', 'splits', 'eval', 'idk', 'meta']) assert.ok(key in props, key);
  assert.equal(schema.additionalProperties, false);
  const qa = taskJsonSchema('qa');
  const qaProps = qa.properties as Record<string, unknown>;
  for (const key of ['question', 'answer', 'perturbedAnswers', 'perturbed_answer', 'paraphrased_answer'])
    assert.ok(key in qaProps, key);
  assert.deepEqual(qa.required, ['question', 'answer']);
  assert.throws(() => taskJsonSchema('bogus'), ConfigError);
});

test('the example task loads with every kind of split and eval set', async () => {
  const task = await resolveTask(example);
  const c = taskCounts(task);
  assert.equal(c['forget.qa'], 4);
  assert.equal(c['retain.text'], 2);
  assert.equal(c['eval.mcq.forget'], 2);
  assert.equal(task.eval.mcq.forget[0].answer, 1);
  // snake_case and camelCase spellings in the same file give the same fields.
  assert.deepEqual(task.splits.forget.qa[0].perturbedAnswers?.length, 2);
  assert.deepEqual(task.splits.forget.qa[1].perturbedAnswers?.length, 2);
  assert.deepEqual(taskSummary(task).warnings, [
    '2 of 4 forget QA items have no perturbedAnswers: the truth ratio leaves them out',
  ]);
});

test('lethe task show SPEC --json from another folder: one object with taskCounts keys', async () => {
  await withTempDir(async (dir) => {
    await writeMuseRelease(join(dir, 'news'));
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin', 'lethe.js'), 'task', 'show', 'muse:news', '--json'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const task = await resolveTask(`muse:${join(dir, 'news')}`);
    assert.deepEqual(out, {
      name: 'muse-news',
      counts: taskCounts(task),
      warnings: taskSummary(task).warnings,
    });
    assert.equal(out.counts['forget.text'], 3);
    assert.equal(out.counts['eval.text.privleakHoldout'], 2);
    const bad = spawnSync(process.execPath, [join(root, 'bin', 'lethe.js'), 'task', 'show', 'muse:missing'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /needs a MUSE folder at .*missing/);
  });
});
