/**
 * Lines of `lethe train` / `lethe score` files: each shape is accepted, {question, answer} is
 * asked through the QA prompt format exactly as task QA is trained, and a mismatch names file,
 * line and the accepted shapes (the old union failure said only "expected: Invalid input").
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeLines } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { toRequest } from '../cli/commands/score.ts';
import { DataError } from '../errors.ts';
import { readJsonl } from '../io/jsonl.ts';
import { qaExample } from '../text/format.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { openTrainingData } from '../train/text-data.ts';
import { exampleLineSchema } from './example-lines.ts';

const schema = exampleLineSchema(['text', 'prompt', 'question']);

test('example lines: every shape parses; a wrong key names line, field and the accepted shapes', async () => {
  await withTempDir(async (dir) => {
    const ok = join(dir, 'ok.jsonl');
    await writeLines(ok, [{ text: 'a' }, { prompt: 'p', answer: 'a' }, { question: 'q?', answer: 'a' }]);
    assert.deepEqual(await readJsonl(ok, { schema }), [
      { text: 'a' },
      { prompt: 'p', answer: 'a' },
      { question: 'q?', answer: 'a' },
    ]);
    const wrong = join(dir, 'wrong.jsonl');
    await writeLines(wrong, [{ text: 'a' }, { query: 'q?', reply: 'a' }]);
    await rejectsWith(
      readJsonl(wrong, { schema }),
      DataError,
      `${wrong}:2`,
      '{"text"}, {"prompt","answer"}, {"question","answer"}',
      'keys ["query","reply"]',
    );
    const extra = join(dir, 'extra.jsonl');
    await writeLines(extra, [{ question: 'q?', answer: 'a', source: 'x' }]);
    await rejectsWith(
      readJsonl(extra, { schema }),
      DataError,
      `${extra}:1`,
      'field source',
      '{"question","answer"}',
    );
    const missing = join(dir, 'missing.jsonl');
    await writeLines(missing, [{ question: 'q?' }]);
    await rejectsWith(readJsonl(missing, { schema }), DataError, `${missing}:1`, 'field answer');
  });
});

test('train and score: a {question, answer} line gives exactly the ids a task QA item trains on', async () => {
  const tok = trainByteLevelBpe(['Who is Ada? A poet. Question: Answer:'], {
    vocabSize: 300,
    specialTokens: ['<|endoftext|>'],
  });
  await withTempDir(async (dir) => {
    const file = join(dir, 'qa.jsonl');
    await writeLines(file, [{ question: 'Who is Ada?', answer: 'A poet.' }]);
    const store = await (await openTrainingData(file)).tokenize(tok, 256, join(dir, 'tokens'));
    const ex = store.get(0);
    store.close();
    assert.deepEqual(ex, qaExample(tok, 'Who is Ada?', 'A poet.'));
    const req = toRequest({ question: 'Who is Ada?', answer: 'A poet.' }, tok, 'x');
    const noEos = qaExample(tok, 'Who is Ada?', 'A poet.', false);
    assert.deepEqual(req, { ids: noEos.ids, start: noEos.start });
  });
});
