/**
 * MUSE-style folders and WMDP-style MCQ files: JSONL and JSON-array inputs, bare-string texts,
 * verbmem/knowmem mapping, MCQ letter/index normalisation, and errors naming file, line (or array
 * index) and field. Built in temporary folders; no shared data. Exact comparisons.
 */
import assert from 'node:assert/strict';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeLines } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError, DataError } from '../errors.ts';
import { answerLetter, readMcq } from './mcq.ts';
import { loadMuse } from './muse.ts';

async function writeMuseFolder(dir: string): Promise<void> {
  await writeLines(join(dir, 'forget.jsonl'), [
    { text: 'The first forget document.' },
    { id: 'f-x', text: 'Second.' },
  ]);
  await writeFile(join(dir, 'retain.json'), JSON.stringify(['Retain one.', 'Retain two.', 'Retain three.']));
  await writeLines(join(dir, 'holdout.jsonl'), ['"A bare holdout string."']);
  await writeLines(join(dir, 'verbmem.jsonl'), [{ prompt: 'The first', gt: ' forget document.' }]);
  await writeLines(join(dir, 'knowmem_forget.jsonl'), [
    { question: 'Which document?', answer: 'The first.' },
  ]);
  await writeFile(
    join(dir, 'knowmem_retain.json'),
    JSON.stringify([{ question: 'How many?', answer: 'Three.' }]),
  );
  await writeLines(join(dir, 'mcq_forget.jsonl'), [
    { question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: 'b' },
  ]);
  await writeLines(join(dir, 'idk.txt'), ['I cannot say.']);
}

test('loadMuse maps texts, verbmem, knowmem and MCQ files onto a text task', async () => {
  await withTempDir(async (dir) => {
    await writeMuseFolder(dir);
    const task = await loadMuse(dir, { name: 'news' });
    assert.equal(task.name, 'news');
    assert.equal(task.format, 'text');
    assert.deepEqual(task.splits.forget.text, [
      { id: 'forget-0', text: 'The first forget document.' },
      { id: 'f-x', text: 'Second.' },
    ]);
    assert.deepEqual(
      task.splits.retain.text.map((t) => t.id),
      ['retain-0', 'retain-1', 'retain-2'],
    );
    assert.deepEqual(task.splits.holdout.text, [{ id: 'holdout-0', text: 'A bare holdout string.' }]);
    assert.deepEqual(task.eval.verbatim.forget, [
      { id: 'verbmem-0', prompt: 'The first', continuation: ' forget document.' },
    ]);
    assert.deepEqual(task.eval.qa.knowmemForget, [
      { id: 'knowmem_forget-0', question: 'Which document?', answer: 'The first.' },
    ]);
    assert.equal(task.eval.qa.knowmemRetain[0].answer, 'Three.');
    assert.equal(task.eval.mcq.forget[0].answer, 1);
    assert.deepEqual(task.idk, ['I cannot say.']);
  });
});

test('loadMuse errors: no forget file, two files for one role, bad records', async () => {
  await withTempDir(async (dir) => {
    await rejectsWith(loadMuse(dir), ConfigError, 'forget');
    await writeMuseFolder(dir);
    await writeFile(join(dir, 'forget.json'), '[]');
    await rejectsWith(loadMuse(dir), ConfigError, 'both forget.jsonl and forget.json');
    await unlink(join(dir, 'forget.json'));
    await writeLines(join(dir, 'verbmem.jsonl'), [{ prompt: 'ok', gt: 'fine' }, { prompt: 'missing gt' }]);
    await rejectsWith(loadMuse(dir), DataError, 'verbmem.jsonl:2', 'field gt');
    await writeLines(join(dir, 'verbmem.jsonl'), [{ prompt: 'ok', gt: 'fine' }]);
    await writeFile(join(dir, 'retain.json'), JSON.stringify(['fine', 7]));
    await rejectsWith(loadMuse(dir), DataError, 'retain.json: [1]');
    // A .json that is not an array is read as JSON Lines (TOFU's released files are), so an
    // object of the wrong shape is reported like a bad line.
    await writeFile(join(dir, 'retain.json'), '{"not": "an array"}');
    await rejectsWith(loadMuse(dir), DataError, 'retain.json:1', 'must be a string or {"text"}');
  });
});

test('readMcq: letters (any case) and indices become indices; bad answers name line and field', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'wmdp.jsonl');
    await writeLines(path, [
      { question: 'Q1', choices: ['a', 'b', 'c', 'd'], answer: 'A' },
      { question: 'Q2', choices: ['a', 'b', 'c', 'd'], answer: 'd' },
      { question: 'Q3', choices: ['a', 'b', 'c', 'd'], answer: 2, subject: 'bio' },
      { id: 'own', question: 'Q4', choices: ['a', 'b'], answer: ' B ' },
    ]);
    const items = await readMcq(path);
    assert.deepEqual(
      items.map((i) => i.answer),
      [0, 3, 2, 1],
    );
    assert.deepEqual(
      items.map((i) => i.id),
      ['mcq-0', 'mcq-1', 'mcq-2', 'own'],
    );
    assert.deepEqual(items.map(answerLetter), ['A', 'D', 'C', 'B']);
    assert.deepEqual(items[2], { id: 'mcq-2', question: 'Q3', choices: ['a', 'b', 'c', 'd'], answer: 2 });

    const bad: [unknown, string[]][] = [
      [{ question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: 'E' }, ['field answer', 'A-D']],
      [{ question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: 4 }, ['field answer']],
      [{ question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: -1 }, ['field answer']],
      [{ question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: 'AB' }, ['field answer']],
      [{ question: 'Q', choices: ['a'], answer: 0 }, ['field choices']],
      [{ question: 'Q', choices: ['a', 'b'], answer: 0, hint: 'x' }, ['field hint']],
      [{ question: 'Q', choices: ['a', 'b'] }, ['field answer']],
    ];
    for (const [record, parts] of bad) {
      await writeLines(path, [{ question: 'fine', choices: ['x', 'y'], answer: 0 }, record]);
      await rejectsWith(readMcq(path), DataError, 'wmdp.jsonl:2', ...parts);
    }
    await writeLines(path, [
      { id: 'same', question: 'Q', choices: ['x', 'y'], answer: 0 },
      { id: 'same', question: 'Q', choices: ['x', 'y'], answer: 0 },
    ]);
    await rejectsWith(readMcq(path), DataError, 'duplicate id', 'wmdp.jsonl:2');
  });
});
