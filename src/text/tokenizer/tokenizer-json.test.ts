/**
 * tokenizer.json handling on small hand-written files: malformed or unsupported input gives a
 * CheckpointError naming the file and the JSON path (and the supported choices); the BPE options
 * (merge formats, unk fusing, byte fallback, subword prefix, added-token flags) behave as HF's;
 * save -> load is exact. No shared data needed; results are exact (tolerance 0).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CheckpointError, DataError } from '../../errors.ts';
import { loadTokenizer, tokenizerFromJson } from './load.ts';
import type { TokenizerJson } from './schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-tokenizer-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

/** A tiny byte-level-free BPE over the letters a, b, c with merges ab, abc. */
function tiny(
  overrides: Partial<TokenizerJson['model']> = {},
  top: Partial<TokenizerJson> = {},
): TokenizerJson {
  return {
    added_tokens: [],
    model: {
      type: 'BPE',
      vocab: { '<unk>': 0, a: 1, b: 2, c: 3, ab: 4, abc: 5 },
      merges: ['a b', 'ab c'],
      unk_token: '<unk>',
      ...overrides,
    },
    ...top,
  };
}

function assertCheckpointError(fn: () => unknown, ...parts: (string | RegExp)[]) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${String(err)}`);
    for (const p of parts) {
      if (typeof p === 'string')
        assert.ok(err.message.includes(p), `message lacks ${JSON.stringify(p)}:\n${err.message}`);
      else assert.match(err.message, p);
    }
    return true;
  });
}

test('malformed: bad JSON names the file and the line', () => {
  const path = writeJson('bad.json', '{\n  "model": {\n    "vocab": {,}\n  }\n}');
  assertCheckpointError(() => loadTokenizer(path), 'not valid JSON', path, /line 3/);
});

test('malformed: missing file, folder without tokenizer.json, missing model', () => {
  assertCheckpointError(
    () => loadTokenizer(join(dir, 'nope.json')),
    'cannot read tokenizer.json',
    'nope.json',
  );
  const empty = join(dir, 'empty-model');
  mkdirSync(empty);
  assertCheckpointError(() => loadTokenizer(empty), 'no tokenizer.json', empty);
  const path = writeJson('no-model.json', { version: '1.0', added_tokens: [] });
  assertCheckpointError(() => loadTokenizer(path), 'has no model', path, 'at model', 'version, added_tokens');
  assertCheckpointError(() => tokenizerFromJson([1, 2], 'arr.json'), 'not a JSON object', 'arr.json');
});

test('malformed: unsupported model, pre-tokenizer, normalizer, decoder list what is supported', () => {
  const wp = writeJson('wordpiece.json', tiny({ type: 'WordPiece' as 'BPE' }));
  assertCheckpointError(
    () => loadTokenizer(wp),
    'unsupported model type',
    wp,
    'model.type',
    '"WordPiece"',
    'BPE',
  );

  const ws = writeJson('whitespace.json', tiny({}, { pre_tokenizer: { type: 'Whitespace' } as never }));
  assertCheckpointError(
    () => loadTokenizer(ws),
    'pre_tokenizer.type',
    '"Whitespace"',
    'ByteLevel',
    'Metaspace',
  );

  const nested = writeJson(
    'nested.json',
    tiny(
      {},
      {
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [{ type: 'ByteLevel' }, { type: 'Digits' }],
        } as never,
      },
    ),
  );
  assertCheckpointError(
    () => loadTokenizer(nested),
    'pre_tokenizer.pretokenizers[1].type',
    '"Digits"',
    'Metaspace',
  );

  const bert = writeJson('bert.json', tiny({}, { normalizer: { type: 'BertNormalizer' } as never }));
  assertCheckpointError(
    () => loadTokenizer(bert),
    'unsupported normalizer type',
    'normalizer.type',
    'Prepend',
  );

  const wpd = writeJson('wpdec.json', tiny({}, { decoder: { type: 'WordPiece' } as never }));
  assertCheckpointError(() => loadTokenizer(wpd), 'decoder.type', 'ByteFallback');

  const badField = writeJson('bad-field.json', tiny({ vocab: { a: 'one' } as never }));
  assertCheckpointError(() => loadTokenizer(badField), 'malformed tokenizer.json', 'model.vocab.a', '"one"');
});

test('malformed: merges that do not fit the vocabulary', () => {
  const unknown = writeJson('unknown-merge.json', tiny({ merges: ['a b', 'ab d'] }));
  assertCheckpointError(
    () => loadTokenizer(unknown),
    'not in the vocabulary',
    unknown,
    'model.merges[1]',
    '"d"',
    '"abd"',
  );
  const three = writeJson('three.json', tiny({ merges: ['a b c'] }));
  assertCheckpointError(() => loadTokenizer(three), 'two space-separated tokens', 'model.merges[0]');
  const unk = writeJson('unk.json', tiny({ unk_token: '[UNK]' }));
  assertCheckpointError(() => loadTokenizer(unk), 'unk_token', '"[UNK]"');
  const dropout = writeJson('dropout.json', tiny({ dropout: 0.1 }));
  assertCheckpointError(() => loadTokenizer(dropout), 'dropout', 'model.dropout');
  const clash = writeJson(
    'clash.json',
    tiny({}, { added_tokens: [{ id: 1, content: '<x>', special: true }] }),
  );
  assertCheckpointError(() => loadTokenizer(clash), 'added token disagrees', 'added_tokens[0]');
});

test('bpe: string and pair merge formats give the same tokenizer', () => {
  const a = tokenizerFromJson(tiny());
  const b = tokenizerFromJson(
    tiny({
      merges: [
        ['a', 'b'],
        ['ab', 'c'],
      ],
    }),
  );
  for (const s of ['abc', 'abcab', 'cba', 'aabbcc']) assert.deepEqual(a.encode(s), b.encode(s));
  assert.deepEqual(a.encode('abcab'), [5, 4]);
  assert.deepEqual(a.tokenize('cabc'), ['c', 'abc']);
});

test('bpe: unknown characters become (fused) unk, or an error without unk', () => {
  assert.deepEqual(tokenizerFromJson(tiny()).encode('axyb'), [1, 0, 0, 2]);
  assert.deepEqual(tokenizerFromJson(tiny({ fuse_unk: true })).encode('axyb'), [1, 0, 2]);
  // Long words take the split path; fusing must hold across its pieces too.
  const long = `${'xy'.repeat(200)}ab`;
  assert.deepEqual(tokenizerFromJson(tiny({ fuse_unk: true })).encode(long), [0, 4]);
  const noUnk = tokenizerFromJson(tiny({ unk_token: null }));
  assert.throws(
    () => noUnk.encode('ax'),
    (e: unknown) => e instanceof DataError && /U\+0078/.test(e.message),
  );
});

test('bpe: byte fallback to <0xXX> tokens and back', () => {
  const vocab: Record<string, number> = { '<unk>': 0, a: 1 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 2 + b;
  const t = tokenizerFromJson({
    model: { type: 'BPE', vocab, merges: [], unk_token: '<unk>', byte_fallback: true },
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, { type: 'Fuse' }] },
  });
  assert.deepEqual(t.encode('aé'), [1, 2 + 0xc3, 2 + 0xa9]);
  assert.equal(t.decode(t.encode('aé🙂')), 'aé🙂');
});

test('bpe: continuing-subword prefix and end-of-word suffix', () => {
  const t = tokenizerFromJson({
    model: {
      type: 'BPE',
      vocab: { a: 0, '##b': 1, '##c</w>': 2, ab: 3, 'abc</w>': 4 },
      merges: ['a ##b', 'ab ##c</w>'],
      continuing_subword_prefix: '##',
      end_of_word_suffix: '</w>',
    },
  });
  // a + ##b -> "ab" (the prefix of the right part is dropped), then ab + ##c</w> -> "abc</w>".
  assert.deepEqual(t.encode('abc'), [4]);
  assert.deepEqual(t.encode('ac'), [0, 2]);
});

test('added tokens: lstrip, rstrip, single_word and normalized', () => {
  const base = tiny();
  const t = tokenizerFromJson({
    ...base,
    model: { ...base.model, vocab: { ...base.model.vocab, ' ': 6 } },
    added_tokens: [
      { id: 7, content: '<L>', lstrip: true, special: true },
      { id: 8, content: '<R>', rstrip: true, special: true },
      { id: 9, content: 'cab', single_word: true, special: false },
    ],
  });
  assert.deepEqual(t.encode('a  <L>b'), [1, 7, 2]);
  assert.deepEqual(t.encode('a<R>  b'), [1, 8, 2]);
  assert.deepEqual(t.encode('cab'), [9]);
  assert.deepEqual(t.encode('acab'), [1, 3, 4]); // inside a word: no match
  assert.equal(t.decode([1, 7, 2], { skipSpecialTokens: true }), 'a b'); // no decoder: joined by spaces
  // normalized tokens are matched after normalization
  const n = tokenizerFromJson({
    ...base,
    normalizer: { type: 'Lowercase' },
    added_tokens: [{ id: 6, content: 'zz', normalized: true }],
  });
  assert.deepEqual(n.encode('ZZab'), [6, 4]);
});

test('vocab keys that are Object.prototype names load as ordinary tokens', () => {
  const t = tokenizerFromJson('{"model":{"vocab":{"a":0,"__proto__":1,"constructor":2},"merges":[]}}');
  assert.equal(t.tokenToId('__proto__'), 1);
  assert.equal(t.idToToken(1), '__proto__');
  assert.equal(t.tokenToId('constructor'), 2);
  assert.equal(t.tokenToId('toString'), undefined);
  assert.match(JSON.stringify(t.toJSON()), /"__proto__":1/);
});

test('decode: ids outside the vocabulary are an error naming the position', () => {
  const t = tokenizerFromJson(tiny(), 'tiny.json');
  assert.throws(
    () => t.decode([1, 99]),
    (e: unknown) => e instanceof DataError && /position 1/.test(e.message),
  );
});

test('save -> load gives the same JSON and encodings; no temporary file is left', async () => {
  const t = tokenizerFromJson(
    tiny({}, { added_tokens: [{ id: 6, content: '</s>', special: true }], pre_tokenizer: null }),
    'tiny.json',
  );
  const out = join(dir, 'saved');
  mkdirSync(out);
  const path = join(out, 'tokenizer.json');
  await t.save(path);
  assert.deepEqual(readdirSync(out), ['tokenizer.json']);
  const back = loadTokenizer(out);
  assert.deepEqual(back.toJSON(), t.toJSON());
  assert.deepEqual(back.encode('abc</s>cab'), t.encode('abc</s>cab'));
  assert.equal(back.eosId, 6);
});
