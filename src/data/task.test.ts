/**
 * Task files: loading every item kind, ids filled in, strict validation with errors that name
 * file, line and field (or task-file key), cross-split id clashes, the content hash, and
 * writeTask -> loadTask round trips. Exact comparisons throughout (no numeric tolerance).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeLines } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError, DataError } from '../errors.ts';
import { canonicalJson, contentHash } from './hash.ts';
import {
  emptyEval,
  emptySplit,
  loadTask,
  splitHash,
  type Task,
  taskHash,
  validateTask,
  writeTask,
} from './task.ts';

const QA = [
  {
    id: 'q1',
    question: 'Who?',
    answer: 'Ada.',
    paraphrasedAnswer: 'It is Ada.',
    perturbedAnswers: ['It is Bo.', 'It is Cy.'],
  },
  { question: 'Where?', answer: 'Here.' },
];

async function writeBasicTask(dir: string, overrides: Record<string, unknown> = {}): Promise<string> {
  await writeLines(join(dir, 'forget.jsonl'), QA);
  await writeLines(join(dir, 'retain.jsonl'), [{ id: 'r1', question: 'When?', answer: 'Now.' }]);
  await writeLines(join(dir, 'holdout-text.jsonl'), [
    '"a bare string document"',
    { text: 'an object document' },
  ]);
  await writeLines(join(dir, 'mcq.jsonl'), [
    { question: 'Pick', choices: ['a', 'b', 'c', 'd'], answer: 'C' },
    { question: 'Pick again', choices: ['x', 'y'], answer: 1 },
  ]);
  await writeLines(join(dir, 'verbatim.jsonl'), [{ prompt: 'Once upon', continuation: ' a time.' }]);
  await writeLines(join(dir, 'pii.jsonl'), [
    { person: 'Ada', field: 'email', value: 'a@b.example', prompts: ['Ada:'] },
  ]);
  await writeLines(join(dir, 'tokens.jsonl'), [{ tokens: [5, 6, 7], prefixLength: 2 }]);
  await writeFile(join(dir, 'idk.txt'), "I don't know.\n\nNo idea.\n");
  const file = {
    name: 'unit',
    format: 'qa',
    splits: {
      forget: 'forget.jsonl',
      retain: { qa: 'retain.jsonl' },
      holdout: { text: 'holdout-text.jsonl' },
    },
    eval: {
      mcq: { forget: 'mcq.jsonl' },
      verbatim: { forget: 'verbatim.jsonl' },
      pii: { forget: 'pii.jsonl' },
      tokens: { probe: 'tokens.jsonl' },
    },
    idk: 'idk.txt',
    meta: { note: 'unit test', n: 1 },
    ...overrides,
  };
  const path = join(dir, 'task.json');
  await writeFile(path, JSON.stringify(file));
  return path;
}

test('loadTask reads every kind, fills ids, normalises MCQ letters and bare text lines', async () => {
  await withTempDir(async (dir) => {
    const task = await loadTask(await writeBasicTask(dir));
    assert.equal(task.name, 'unit');
    assert.deepEqual(task.splits.forget.qa, [QA[0], { id: 'forget-qa-1', ...QA[1] }]);
    assert.deepEqual(
      task.splits.retain.qa.map((q) => q.id),
      ['r1'],
    );
    assert.deepEqual(task.splits.holdout.text, [
      { id: 'holdout-text-0', text: 'a bare string document' },
      { id: 'holdout-text-1', text: 'an object document' },
    ]);
    assert.deepEqual(
      task.eval.mcq.forget.map((m) => m.answer),
      [2, 1],
    );
    assert.deepEqual(task.eval.verbatim.forget, [
      { id: 'verbatim-forget-0', prompt: 'Once upon', continuation: ' a time.' },
    ]);
    assert.deepEqual(task.eval.tokens.probe, [{ id: 'tokens-probe-0', tokens: [5, 6, 7], prefixLength: 2 }]);
    assert.equal(task.eval.pii.forget[0].value, 'a@b.example');
    assert.deepEqual(task.idk, ["I don't know.", 'No idea.']);
    assert.deepEqual(task.meta, { note: 'unit test', n: 1 });
    validateTask(task);
  });
});

test('task-file errors are ConfigErrors naming the file and key', async () => {
  await withTempDir(async (dir) => {
    const path = await writeBasicTask(dir, { colour: 'red' });
    await rejectsWith(loadTask(path), ConfigError, 'unknown key colour', 'task.json');
    await writeBasicTask(dir, { splits: { forget: 'forget.jsonl', extra: 'x.jsonl' } });
    await rejectsWith(loadTask(path), ConfigError, 'unknown key extra', 'splits');
    await writeBasicTask(dir, { format: 'images' });
    await rejectsWith(loadTask(path), ConfigError, 'format');
    await writeBasicTask(dir, { splits: { forget: 'missing.jsonl' } });
    await rejectsWith(loadTask(path), ConfigError, 'splits.forget', 'missing.jsonl');
    await writeBasicTask(dir, { eval: { qa: { 'bad name': 'forget.jsonl' } } });
    await rejectsWith(loadTask(path), ConfigError, 'eval.qa');
    await writeFile(path, '{"name": ');
    await rejectsWith(loadTask(path), ConfigError, 'not valid JSON', 'task.json');
  });
});

test('data-line errors are DataErrors naming file, line and field', async () => {
  await withTempDir(async (dir) => {
    const path = await writeBasicTask(dir);
    const forget = join(dir, 'forget.jsonl');
    const cases: [unknown[], string[]][] = [
      [
        [QA[0], { question: 'Where?' }],
        ['forget.jsonl:2', 'field answer'],
      ],
      [
        [QA[0], { question: 'Where?', answer: 'x', colour: 1 }],
        ['forget.jsonl:2', 'field colour', 'unknown key'],
      ],
      [[{ question: 'Q', answer: 'A', perturbedAnswers: [] }], ['forget.jsonl:1', 'field perturbedAnswers']],
      [
        [{ question: 'Q', answer: 'A', perturbedAnswers: ['ok', 3] }],
        ['forget.jsonl:1', 'field perturbedAnswers[1]'],
      ],
      [[{ question: '', answer: 'A' }], ['forget.jsonl:1', 'field question']],
      [
        [QA[0], QA[0]],
        ['forget.jsonl:2', 'field id', 'duplicate id "q1"'],
      ],
      [
        [QA[0], '{"question": "Q", '],
        ['forget.jsonl:2', 'bad JSON'],
      ],
      [
        [{ id: 'r1', question: 'Q', answer: 'A' }],
        ['forget.jsonl:1', 'field id', 'two splits', 'retain.jsonl:1'],
      ],
    ];
    for (const [lines, parts] of cases) {
      await writeLines(forget, lines);
      await rejectsWith(loadTask(path), DataError, ...parts);
    }
    await writeLines(forget, QA);
    await writeLines(join(dir, 'mcq.jsonl'), [{ question: 'Q', choices: ['a', 'b', 'c', 'd'], answer: 'E' }]);
    await rejectsWith(loadTask(path), DataError, 'mcq.jsonl:1', 'field answer', 'A-D');
    await writeLines(join(dir, 'mcq.jsonl'), [{ question: 'Q', choices: ['a', 'b'], answer: 2 }]);
    await rejectsWith(loadTask(path), DataError, 'mcq.jsonl:1', 'field answer');
    await writeLines(join(dir, 'mcq.jsonl'), [{ question: 'Q', choices: ['a', 'b'], answer: 0 }]);
    await writeLines(join(dir, 'tokens.jsonl'), [{ tokens: [1, 2], prefixLength: 3 }]);
    await rejectsWith(loadTask(path), DataError, 'tokens.jsonl:1', 'field prefixLength');
    await writeLines(join(dir, 'tokens.jsonl'), [{ tokens: [1, -2], prefixLength: 1 }]);
    await rejectsWith(loadTask(path), DataError, 'tokens.jsonl:1', 'field tokens[1]');
  });
});

test('an empty forget split and an empty eval file are errors', async () => {
  await withTempDir(async (dir) => {
    const path = await writeBasicTask(dir);
    await writeFile(join(dir, 'forget.jsonl'), '\n');
    await rejectsWith(loadTask(path), ConfigError, 'empty forget split');
    await writeLines(join(dir, 'forget.jsonl'), QA);
    await writeFile(join(dir, 'pii.jsonl'), '');
    await rejectsWith(loadTask(path), DataError, 'no records', 'pii.jsonl');
  });
});

function smallTask(): Task {
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  splits.forget.qa = [{ id: 'a', question: 'Q?', answer: 'A.' }];
  splits.retain.text = [{ id: 'b', text: 'Some text.' }];
  const ev = emptyEval();
  ev.mcq.x = [{ id: 'm', question: 'Q', choices: ['1', '2'], answer: 1 }];
  return { name: 't', format: 'qa', splits, eval: ev, idk: ['No.'], meta: {} };
}

test('taskHash depends on the data only: not on key order, name, description or meta', () => {
  const a = smallTask();
  const b = smallTask();
  b.name = 'other';
  b.description = 'described';
  b.meta = { anything: true };
  b.splits.forget.qa = [{ answer: 'A.', question: 'Q?', id: 'a' }];
  assert.equal(taskHash(a), taskHash(b));
  assert.match(taskHash(a), /^[0-9a-f]{64}$/);
  b.splits.forget.qa[0].answer = 'A!';
  assert.notEqual(taskHash(a), taskHash(b));
  assert.equal(splitHash(a.splits.retain), splitHash(b.splits.retain));
  assert.notEqual(splitHash(a.splits.forget), splitHash(b.splits.forget));
  assert.equal(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] }), '{"a":[1,{"c":"x"}],"b":1}');
  assert.notEqual(contentHash(1, 'tag-a'), contentHash(1, 'tag-b'));
});

test('writeTask -> loadTask is exact, and writing twice gives identical bytes', async () => {
  await withTempDir(async (dir) => {
    const task = await loadTask(await writeBasicTask(dir));
    task.description = 'round trip';
    const out1 = join(dir, 'out1');
    const out2 = join(dir, 'out2');
    const path = await writeTask(out1, task);
    await writeTask(out2, task);
    const again = await loadTask(path);
    assert.deepEqual(again, task);
    assert.equal(taskHash(again), taskHash(task));
    for (const f of ['task.json', 'forget.qa.jsonl', 'eval/mcq.forget.jsonl', 'idk.txt']) {
      assert.deepEqual(await readFile(join(out1, f)), await readFile(join(out2, f)), f);
    }
  });
});

test('validateTask rejects duplicate ids, ids shared by splits, bad items and bad refusal strings', () => {
  const dup = smallTask();
  dup.splits.forget.qa.push({ id: 'a', question: 'Q2', answer: 'A2' });
  assert.throws(
    () => validateTask(dup),
    (e: unknown) => e instanceof DataError && /duplicate id "a"/.test(e.message),
  );
  const shared = smallTask();
  shared.splits.holdout.qa = [{ id: 'a', question: 'Q3', answer: 'A3' }];
  assert.throws(
    () => validateTask(shared),
    (e: unknown) => e instanceof DataError && /two splits/.test(e.message),
  );
  const bad = smallTask();
  bad.eval.mcq.x[0].answer = 5;
  assert.throws(
    () => validateTask(bad),
    (e: unknown) => e instanceof DataError && /eval\.mcq\.x\[0\], field answer/.test(e.message),
  );
  const idk = smallTask();
  idk.idk = ['two\nlines'];
  assert.throws(() => validateTask(idk), DataError);
  const empty = smallTask();
  empty.splits.forget.qa = [];
  assert.throws(() => validateTask(empty), ConfigError);
});
