/**
 * GPT-2 tokenizer tests against independent references: ids worked out from vocab.json +
 * merges.txt by a separate naive BPE (Python, pasted as constants, and the TypeScript one below,
 * which re-implements GPT-2's original "merge every occurrence of the best bigram" loop), and the
 * extraction benchmark's GPT-2 token arrays. Exact ids are required (tolerance 0) except where the
 * benchmark's 50-token windows cut a token sequence that is canonical only in its full context
 * (stated and checked below). Skips when ../shared/datasets is absent.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXTRACTION_DIR, GPT2_DIR, skipUnless } from '../../../test/helpers/shared-datasets.ts';
import { readNpy } from '../../io/npy.ts';
import { loadTokenizer } from './load.ts';
import type { Tokenizer } from './tokenizer.ts';

const skip = skipUnless(join(GPT2_DIR, 'tokenizer.json'));
const skipBench = skip || skipUnless(join(EXTRACTION_DIR, 'train_prefix.npy'));

let cached: Tokenizer | undefined;
const gpt2 = () => {
  cached ??= loadTokenizer(GPT2_DIR);
  return cached;
};

/** GPT-2's original algorithm over vocab.json + merges.txt, written separately from bpe.ts. */
function naiveReference() {
  const vocab: Record<string, number> = JSON.parse(readFileSync(join(GPT2_DIR, 'vocab.json'), 'utf8'));
  const lines = readFileSync(join(GPT2_DIR, 'merges.txt'), 'utf8').split('\n').slice(1).filter(Boolean);
  const ranks = new Map(lines.map((l, i) => [l, i]));
  // bytes_to_unicode, again from its definition
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const b2u = new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i])]));
  const pat = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  return (text: string): number[] => {
    const ids: number[] = [];
    for (const piece of text.match(pat) ?? []) {
      let word = [...Buffer.from(piece, 'utf8')].map((b) => b2u.get(b)!);
      for (;;) {
        let best = Number.POSITIVE_INFINITY;
        for (let i = 0; i + 1 < word.length; i++)
          best = Math.min(best, ranks.get(`${word[i]} ${word[i + 1]}`) ?? best);
        if (best === Number.POSITIVE_INFINITY) break;
        const [a, b] = lines[best].split(' ');
        const next: string[] = [];
        for (let i = 0; i < word.length; i++) {
          if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
            next.push(a + b);
            i++;
          } else next.push(word[i]);
        }
        word = next;
      }
      for (const t of word) ids.push(vocab[t]);
    }
    return ids;
  };
}

// Varied text: whitespace runs, tabs, newlines, digits, contractions, accents, CJK, emoji, a ZWJ
// sequence, RTL script, symbols, and long words and runs (the split and heap merge paths).
const SAMPLES = [
  "I'll say it: don't stop, we've they're you'd I'm she's",
  'Numbers 0 7 42 1234567890 3.14159 -12,000 1e-9',
  '   leading spaces, trailing   \t\ttabs\t\n\n\nnew  lines\r\n',
  'Café naïve façade Ωμέγα Привет мир',
  '日本語のテキストと中文文本 한국어',
  'emoji 🙂🚀 family 👨‍👩‍👧 flags 🇫🇷',
  'مرحبا بالعالم',
  'x = f(a[i], b->c) && d != e; // comment',
  `supercalifragilistic${'expialidocious'.repeat(30)}`,
  // 41..256 symbols: cached heap merge; > 256 with no safe cut: uncached heap merge.
  `${'z'.repeat(100)} ${'1234567890'.repeat(20)} ${' '.repeat(120)}x ${'a'.repeat(500)}`,
  ' ',
  '',
];

test('gpt2: loads with the expected size and special ids', { skip }, () => {
  const t = gpt2();
  assert.equal(t.vocabSize, 50257);
  assert.equal(t.eosId, 50256);
  assert.equal(t.bosId, 50256); // GPT-2 uses <|endoftext|> for both
  assert.equal(t.padId, undefined);
  assert.equal(t.tokenToId('<|endoftext|>'), 50256);
  assert.equal(t.idToToken(15496), 'Hello');
  assert.equal(t.isSpecialId(50256), true);
});

test('gpt2: known encodings (ids from vocab.json + merges.txt by an independent implementation)', {
  skip,
}, () => {
  const t = gpt2();
  const known: [string, number[]][] = [
    ['Hello world', [15496, 995]], // also what HF tokenizers gives (see PROVENANCE.md)
    ["I'll don't", [40, 1183, 836, 470]],
    [' lethe unlearning', [443, 1169, 555, 40684]],
    ['🙂 日本', [8582, 25081, 10545, 245, 98, 17312, 105]],
    ['x  123', [87, 220, 17031]],
  ];
  for (const [text, ids] of known) {
    assert.deepEqual(t.encode(text), ids, JSON.stringify(text));
    assert.equal(t.decode(ids), text);
  }
});

test('gpt2: same ids as a naive GPT-2 BPE on varied text', { skip }, () => {
  const t = gpt2();
  const reference = naiveReference();
  for (const s of SAMPLES) assert.deepEqual(t.encode(s), reference(s), JSON.stringify(s.slice(0, 40)));
});

test('gpt2: decode(encode(s)) === s', { skip }, () => {
  const t = gpt2();
  for (const s of SAMPLES) assert.equal(t.decode(t.encode(s)), s);
  assert.equal(t.decode(t.encodeBatch(SAMPLES).flat()), SAMPLES.join(''));
});

test('gpt2: special tokens are matched before BPE and can be skipped when decoding', { skip }, () => {
  const t = gpt2();
  const ids = t.encode('Hello<|endoftext|> world');
  assert.deepEqual(ids, [15496, 50256, 995]);
  assert.equal(t.decode(ids), 'Hello<|endoftext|> world');
  assert.equal(t.decode(ids, { skipSpecialTokens: true }), 'Hello world');
  // GPT-2's post-processor adds nothing.
  assert.deepEqual(
    t.encode('Hello', { addSpecialTokens: true }),
    t.encode('Hello', { addSpecialTokens: false }),
  );
});

function rows(file: string): { data: Uint16Array; R: number; C: number } {
  const a = readNpy(join(EXTRACTION_DIR, file));
  assert.equal(a.dtype, 'uint16');
  const [R, C] = a.shape;
  return { data: a.data as Uint16Array, R, C };
}

/**
 * A mismatch is a window effect when the decoded window holds U+FFFD (it cut a multi-byte UTF-8
 * character) or when the differing ids are all within 2 tokens of the window's ends (it cut a
 * whitespace run, e.g. "\n\n\n" whose GPT-2 split depends on what follows).
 */
function isWindowEffect(row: number[], back: number[], text: string): boolean {
  if (text.includes('\uFFFD')) return true;
  let i = 0;
  while (i < row.length && row[i] === back[i]) i++;
  let j = 0;
  while (j < row.length && row[row.length - 1 - j] === back[back.length - 1 - j]) j++;
  return i <= 2 || j <= 2;
}

test('gpt2: re-encoding the extraction benchmark windows gives their ids back', { skip: skipBench }, (t) => {
  const tok = gpt2();
  const { data, R, C } = rows('train_prefix.npy');
  assert.equal(C, 50);
  const N = Math.min(200, R);
  let exact = 0;
  for (let r = 0; r < N; r++) {
    const row = Array.from(data.subarray(r * C, (r + 1) * C));
    const text = tok.decode(row);
    const back = tok.encode(text);
    if (back.length === row.length && back.every((v, i) => v === row[i])) exact++;
    else assert.ok(isWindowEffect(row, back, text), `row ${r}: mismatch away from the window edges`);
  }
  t.diagnostic(
    `train_prefix rows 0..${N - 1}: ${exact}/${N} re-encode exactly (${((100 * exact) / N).toFixed(1)}%)`,
  );
  // Measured 199/200; the one miss is a window that cuts a multi-byte character.
  assert.ok(exact / N >= 0.98, `exact rate ${exact / N} below 0.98`);
});

test('gpt2: full 200-token benchmark rows re-encode exactly away from their ends', {
  skip: skipBench,
}, (t) => {
  const tok = gpt2();
  // Joining pre-prefix, prefix and suffix puts the 50-token window cuts inside the text.
  const pre = rows('train_preprefix.npy');
  const pfx = rows('train_prefix.npy');
  const sfx = rows('train_suffix.npy');
  const N = Math.min(1000, pre.R);
  let exact = 0;
  for (let r = 0; r < N; r++) {
    const row = [
      ...pre.data.subarray(r * pre.C, (r + 1) * pre.C),
      ...pfx.data.subarray(r * pfx.C, (r + 1) * pfx.C),
      ...sfx.data.subarray(r * sfx.C, (r + 1) * sfx.C),
    ];
    const text = tok.decode(row);
    const back = tok.encode(text);
    if (back.length === row.length && back.every((v, i) => v === row[i])) exact++;
    else assert.ok(isWindowEffect(row, back, text), `row ${r}: interior mismatch`);
  }
  t.diagnostic(`train rows 0..${N - 1} (200 tokens each): ${exact}/${N} exact`);
  assert.ok(exact / N >= 0.97);
});

test('gpt2: encodes 1 MB of text in well under a few seconds', { skip: skipBench }, (t) => {
  const tok = gpt2();
  const fresh = loadTokenizer(GPT2_DIR); // empty word cache, so the timing is not flattered
  const { data, R, C } = rows('train_preprefix.npy');
  const parts: string[] = [];
  let chars = 0;
  for (let r = 0; r < R && chars < 1 << 20; r++) {
    const s = tok.decode(data.subarray(r * C, (r + 1) * C));
    parts.push(s);
    chars += s.length;
  }
  const text = parts.join('\n');
  const bytes = Buffer.byteLength(text);
  const t0 = performance.now();
  const ids = fresh.encode(text);
  const seconds = (performance.now() - t0) / 1000;
  t.diagnostic(
    `encoded ${(bytes / 1e6).toFixed(2)} MB -> ${ids.length} ids in ${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(2)} MB/s, cold cache)`,
  );
  assert.ok(seconds < 3, `took ${seconds} s`);
  assert.equal(tok.decode(ids), text);
});
