/**
 * Hostile files get a clean CheckpointError quickly, never a hang, a RangeError or a stack
 * overflow: tokenizer.json regexes with catastrophic backtracking (refused at load), token ids of
 * 2^32, a safetensors header of 200,000 nested brackets, and model or checkpoint weights holding
 * NaN or infinity (refused at load, so scores and generations never silently come out empty).
 * Each case has a 10 s limit (the regex cases run in a child process killed after 20 s); before
 * these guards the regex case hung and the others escaped as RangeError or were accepted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointError } from '../../src/errors.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { loadModel } from '../../src/models/load.ts';
import { loadTokenizer } from '../../src/text/tokenizer/load.ts';
import { trainByteLevelBpe } from '../../src/text/tokenizer/train-bpe.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-hostile-'));
const limit = { timeout: 10_000 };
const base = trainByteLevelBpe(['hello world, hello lethe'], {
  vocabSize: 270,
  specialTokens: ['<|endoftext|>'],
}).toJSON() as unknown as Record<string, unknown> & { model: { vocab: Record<string, number> } };

function tokenizerFile(name: string, json: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

const checkpointError = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CheckpointError, `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  assert.match((e as Error).message, pattern);
  return true;
};

// Loads a tokenizer and encodes a string that makes the hostile patterns backtrack.
const probe = `
  const { loadTokenizer } = await import(${JSON.stringify(join(root, 'src/text/tokenizer/load.ts'))});
  try {
    loadTokenizer(process.argv[1]).encode('a'.repeat(40) + '!');
    console.log('loaded and encoded');
  } catch (e) {
    console.log(e.constructor.name + ': ' + e.message);
  }
`;

test('tokenizer.json regexes that backtrack catastrophically are refused at load', limit, () => {
  const hostile = [
    { normalizer: { type: 'Replace', pattern: { Regex: '(a+)+$' }, content: 'b' } },
    { normalizer: { type: 'Replace', pattern: { Regex: '(a|a)*$' }, content: 'b' } },
    {
      normalizer: {
        type: 'Sequence',
        normalizers: [{ type: 'Replace', pattern: { Regex: '(\\w+\\s?)+$' }, content: '' }],
      },
    },
  ];
  for (const [i, change] of hostile.entries()) {
    const path = tokenizerFile(`regex-${i}`, { ...base, ...change });
    // In a child process with a time limit: a synchronous regex cannot be interrupted in-process.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe, path], {
      encoding: 'utf8',
      timeout: 20_000,
      cwd: root,
    });
    assert.equal(r.signal, null, `case ${i}: encoding did not finish within 20 s`);
    assert.match(r.stdout, /^CheckpointError: regex pattern could take exponential time/, r.stderr);
  }
  // A safe Replace (the kind real tokenizers ship) still loads and applies.
  const safe = loadTokenizer(
    tokenizerFile('regex-ok', {
      ...base,
      normalizer: { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
    }),
  );
  assert.deepEqual(safe.encode('hello    world'), safe.encode('hello world'));
});

test('token ids of 2^32 (vocabulary or added tokens) are a CheckpointError, not a RangeError', limit, () => {
  const vocab = { ...base.model.vocab, huge: 2 ** 32 };
  assert.throws(
    () => loadTokenizer(tokenizerFile('vocab-id', { ...base, model: { ...base.model, vocab } })),
    checkpointError(/vocab|id/),
  );
  const added = [...(base.added_tokens as object[]), { id: 2 ** 32, content: '<x>', special: true }];
  assert.throws(
    () => loadTokenizer(tokenizerFile('added-id', { ...base, added_tokens: added })),
    checkpointError(/id/),
  );
});

test('a safetensors header of 200,000 nested brackets is a CheckpointError', limit, async () => {
  const header = Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(header.length));
  const path = join(dir, 'deep.safetensors');
  writeFileSync(path, Buffer.concat([prefix, header]));
  await assert.rejects(readSafetensors(path), checkpointError(/nests too deeply[\s\S]*deep\.safetensors/));
});

test('a model whose weights hold NaN or infinity is refused at load, naming the tensor', limit, async () => {
  const src = join(root, 'test', 'fixtures', 'models', 'gpt2');
  const weights = await readSafetensors(join(src, 'model.safetensors'));
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
    const folder = join(dir, `model-${bad}`);
    mkdirSync(folder);
    for (const f of readdirSync(src))
      if (f !== 'model.safetensors') copyFileSync(join(src, f), join(folder, f));
    const changed = new Map([...weights].map(([n, t]) => [n, { data: t.data.slice(), shape: t.shape }]));
    changed.get('transformer.h.0.mlp.c_fc.weight')!.data[5] = bad;
    await writeSafetensors(join(folder, 'model.safetensors'), changed);
    await assert.rejects(
      loadModel(folder),
      checkpointError(
        new RegExp(`not finite[\\s\\S]*transformer\\.h\\.0\\.mlp\\.c_fc\\.weight, element 5[\\s\\S]*${bad}`),
      ),
    );
  }
  // The unchanged weights load.
  await loadModel(src);
});
