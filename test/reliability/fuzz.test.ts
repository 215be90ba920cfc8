/**
 * Fuzzing every parser of outside input with seeded random corruptions (byte flips, truncation,
 * insertions, huge numbers, NaN): each corrupted file either still parses or fails with a
 * LetheError naming the file — never another exception, never a hang (each case is bounded by
 * the test's timeout).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTask, writeTask } from '../../src/data/index.ts';
import { LetheError } from '../../src/errors.ts';
import { readJsonl } from '../../src/io/jsonl.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/load.ts';
import { readStudy } from '../../src/study/study.ts';
import { Rng } from '../../src/tensor/rng.ts';
import { loadTokenizer } from '../../src/text/tokenizer/load.ts';
import { tinyTask } from '../../src/unlearn/test-fixture.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-fuzz-'));
const rng = new Rng(2024);

function corrupt(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes);
  switch (rng.int(0, 5)) {
    case 0: // flip a few bytes
      for (let i = 0; i < rng.int(1, 8); i++) b[rng.int(0, b.length)] = rng.int(0, 256);
      return b;
    case 1: // truncate
      return b.subarray(0, rng.int(0, b.length));
    case 2: // insert junk
      return Buffer.concat([
        b.subarray(0, rng.int(0, b.length)),
        Buffer.from([rng.int(0, 256), 0xff, 0xc3]),
        b.subarray(rng.int(0, b.length)),
      ]);
    case 3: {
      // replace a number by an absurd one
      const text = b.toString('latin1');
      const m = [...text.matchAll(/\d+/g)];
      if (m.length === 0) return b;
      const pick = m[rng.int(0, m.length)];
      const huge = ['99999999999999999999', '-1', 'NaN', '1e308', '0'][rng.int(0, 5)];
      return Buffer.from(
        text.slice(0, pick.index) + huge + text.slice(pick.index! + pick[0].length),
        'latin1',
      );
    }
    default: // duplicate a span
      return Buffer.concat([b, b.subarray(0, rng.int(0, Math.min(64, b.length)))]);
  }
}

async function fuzz(
  name: string,
  original: Uint8Array,
  path: string,
  parse: () => unknown | Promise<unknown>,
  cases = 60,
) {
  let rejected = 0;
  for (let i = 0; i < cases; i++) {
    writeFileSync(path, corrupt(original));
    try {
      await parse();
    } catch (e) {
      assert.ok(
        e instanceof LetheError,
        `${name} case ${i}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`,
      );
      assert.ok(
        (e as Error).message.includes(path) || (e as Error).message.includes(dir),
        `${name} case ${i} does not name the file: ${(e as Error).message}`,
      );
      rejected++;
    }
  }
  assert.ok(rejected > 0, `${name}: no corruption was detected`);
}

test('safetensors files', async () => {
  const src = join(root, 'test', 'fixtures', 'models', 'gpt2', 'model.safetensors');
  await fuzz('safetensors', readFileSync(src), join(dir, 'x.safetensors'), () =>
    readSafetensors(join(dir, 'x.safetensors')),
  );
});

test('model folders: config.json', async () => {
  const folder = join(dir, 'model');
  mkdirSync(folder);
  copyFileSync(
    join(root, 'test', 'fixtures', 'models', 'gpt2', 'model.safetensors'),
    join(folder, 'model.safetensors'),
  );
  const config = readFileSync(join(root, 'test', 'fixtures', 'models', 'gpt2', 'config.json'));
  await fuzz('config.json', config, join(folder, 'config.json'), () => loadModel(folder));
});

test('tokenizer.json', async () => {
  const src = join(root, 'test', 'fixtures', 'models', 'gpt2', 'tokenizer.json');
  const original = (() => {
    try {
      return readFileSync(src);
    } catch {
      return null;
    }
  })();
  const { trainByteLevelBpe } = await import('../../src/text/tokenizer/train-bpe.ts');
  const tok = trainByteLevelBpe(['hello world, hello lethe'], {
    vocabSize: 270,
    specialTokens: ['<|endoftext|>'],
  });
  const bytes = original ?? Buffer.from(JSON.stringify(tok.toJSON()));
  await fuzz(
    'tokenizer.json',
    bytes,
    join(dir, 'tokenizer.json'),
    () => loadTokenizer(join(dir, 'tokenizer.json')),
    40,
  );
});

test('JSONL data files, task files and study configs', async () => {
  const lines = Buffer.from(
    ['{"prompt":"Q1","answer":"A1"}', '{"prompt":"Q2","answer":"A2"}', '{"text":"t"}'].join('\n'),
  );
  await fuzz('jsonl', lines, join(dir, 'data.jsonl'), () => readJsonl(join(dir, 'data.jsonl')));
  const taskPath = await writeTask(join(dir, 'task'), tinyTask());
  const forget = join(dir, 'task', 'forget.jsonl');
  const file = (() => {
    try {
      return readFileSync(forget);
    } catch {
      return null;
    }
  })();
  if (file) await fuzz('task data', file, forget, () => loadTask(taskPath), 40);
  await fuzz('task.json', readFileSync(taskPath), taskPath, () => loadTask(taskPath), 40);
  const study = Buffer.from(readFileSync(join(root, 'configs', 'demo.json')));
  await fuzz('study', study, join(dir, 'study.json'), () => readStudy(join(dir, 'study.json')), 40);
});
