/**
 * Byte-level BPE training: the incremental trainer makes exactly the merges of a naive trainer
 * that recounts every pair before each merge (same tie rule); training is deterministic, respects
 * vocabSize and minFrequency, round-trips text, and save -> load gives identical encodings. Uses a
 * synthetic seeded corpus (no shared data). Exact comparisons; the speed bound is generous (10 s)
 * and the measured time is reported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../errors.ts';
import { BYTE_TO_CHAR, gpt2Split, toByteLevel } from './byte-level.ts';
import { loadTokenizer } from './load.ts';
import { trainByteLevelBpe } from './train-bpe.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-bpe-train-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-text: Zipf-ish words from syllables, punctuation, digits, some unicode. */
function corpus(chars: number, seed = 1): string[] {
  let s = seed >>> 0;
  const rand = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const syll = ['ka', 'lo', 're', 'the', 'un', 'ing', 'st', 'ion', 'é', 'ß', '日', 'qu', 'x', 'an', 'ed'];
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const lexicon = Array.from({ length: 20000 }, () => {
    let w = '';
    const n = 1 + Math.floor(rand() * 5);
    for (let i = 0; i < n; i++) {
      w += rand() < 0.5 ? syll[Math.floor(rand() ** 2 * syll.length)] : letters[Math.floor(rand() * 26)];
    }
    return w;
  });
  const texts: string[] = [];
  let total = 0;
  while (total < chars) {
    const words: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = rand();
      words.push(
        r < 0.05 ? String(Math.floor(rand() * 1000)) : lexicon[Math.floor(rand() ** 3 * lexicon.length)],
      );
      if (r > 0.93) words.push(r > 0.97 ? "it's," : '.');
    }
    const line = `${words.join(' ')}\n`;
    texts.push(line);
    total += line.length;
  }
  return texts;
}

/** Reference trainer: recount all pairs before every merge; max count, ties to smallest (left, right) id. */
function naiveTrain(
  texts: string[],
  vocabSize: number,
  minFrequency: number,
  specials: string[],
): [string, string][] {
  const counts = new Map<string, number>();
  for (const t of texts)
    for (const w of gpt2Split(t)) counts.set(toByteLevel(w), (counts.get(toByteLevel(w)) ?? 0) + 1);
  const tokens = [...specials, ...BYTE_TO_CHAR];
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  let words = [...counts].map(([w, c]) => ({ syms: [...w].map((ch) => idOf.get(ch)!), c }));
  const merges: [string, string][] = [];
  while (tokens.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { syms, c } of words) {
      for (let i = 0; i + 1 < syms.length; i++)
        pairs.set(`${syms[i]},${syms[i + 1]}`, (pairs.get(`${syms[i]},${syms[i + 1]}`) ?? 0) + c);
    }
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number);
      if (c > bestCount || (c === bestCount && best && (a < best[0] || (a === best[0] && b < best[1])))) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (!best || bestCount < minFrequency) break;
    const [a, b] = best;
    const merged = tokens[a] + tokens[b];
    let x = idOf.get(merged);
    if (x === undefined) {
      x = tokens.length;
      tokens.push(merged);
      idOf.set(merged, x);
    }
    merges.push([tokens[a], tokens[b]]);
    words = words.map(({ syms, c }) => {
      const out: number[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(x);
          i++;
        } else out.push(syms[i]);
      }
      return { syms: out, c };
    });
  }
  return merges;
}

const small = corpus(20_000);
const specials = ['<|endoftext|>', '<pad>'];

test('train: same merges as a naive recount-every-step trainer', () => {
  const t = trainByteLevelBpe(small, { vocabSize: 600, minFrequency: 2, specialTokens: specials });
  const merges = (t.toJSON().model.merges as string[]).map((m) => m.split(' '));
  assert.deepEqual(merges, naiveTrain(small, 600, 2, specials));
});

test('train: deterministic, vocab size respected, layout as GPT-2', () => {
  const a = trainByteLevelBpe(small, { vocabSize: 700, specialTokens: specials });
  const b = trainByteLevelBpe(small, { vocabSize: 700, specialTokens: specials });
  assert.deepEqual(a.toJSON(), b.toJSON());
  assert.equal(a.vocabSize, 700);
  const json = a.toJSON();
  assert.equal(json.model.type, 'BPE');
  assert.equal(json.pre_tokenizer?.type, 'ByteLevel');
  assert.equal(json.decoder?.type, 'ByteLevel');
  assert.equal(json.model.vocab['<|endoftext|>'], 0);
  assert.equal(json.model.vocab['<pad>'], 1);
  assert.equal(json.model.vocab[BYTE_TO_CHAR[0]], 2); // bytes follow the specials, in byte order
  assert.deepEqual(
    json.added_tokens?.map((t) => [t.id, t.content, t.special]),
    [
      [0, '<|endoftext|>', true],
      [1, '<pad>', true],
    ],
  );
  assert.equal(a.padId, 1);
  assert.equal(a.eosId, 0);
});

test('train: minFrequency stops early on a tiny corpus', () => {
  const t = trainByteLevelBpe(['ab ab ab cd'], { vocabSize: 1000, minFrequency: 2 });
  // "ab" (x3) and " ab" (x2) qualify; everything else occurs once.
  assert.deepEqual(t.toJSON().model.merges, ['a b', 'Ġ ab']);
  assert.equal(t.vocabSize, 256 + 2);
});

test('train: round trip, special tokens kept whole and out of the merges', () => {
  const t = trainByteLevelBpe(small, { vocabSize: 800, specialTokens: specials });
  const probe = ["Unseen text: naïve 🙂 日本語, don't  stop\n\t42<|endoftext|>", ...small.slice(0, 20)];
  for (const s of probe) assert.equal(t.decode(t.encode(s)), s);
  const ids = t.encode('ka<|endoftext|>lo');
  assert.ok(ids.includes(0));
  assert.ok(!(t.toJSON().model.merges as string[]).some((m) => m.includes('<|')));
  assert.ok(t.encode(small.join('')).length < Buffer.byteLength(small.join('')) / 2, 'compresses the corpus');
});

test('train: save -> load gives identical encodings', async () => {
  const t = trainByteLevelBpe(small, { vocabSize: 800, specialTokens: specials });
  const path = join(dir, 'tokenizer.json');
  await t.save(path);
  assert.deepEqual(readdirSync(dir), ['tokenizer.json']);
  const back = loadTokenizer(path);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), JSON.parse(JSON.stringify(t.toJSON())));
  const text = `${small.slice(0, 50).join('')} 🙂 <pad> x`;
  assert.deepEqual(back.encode(text), t.encode(text));
  assert.equal(back.vocabSize, t.vocabSize);
});

test('train: invalid options are ConfigErrors', () => {
  assert.throws(() => trainByteLevelBpe(small, { vocabSize: 100 }), ConfigError);
  assert.throws(() => trainByteLevelBpe(small, { vocabSize: 300, minFrequency: -1 }), ConfigError);
  assert.throws(
    () => trainByteLevelBpe(small, { vocabSize: 300, specialTokens: ['<a>', '<a>'] }),
    ConfigError,
  );
});

test('train: ~4K merges on 1 MB in a few seconds', (t) => {
  const big = corpus(1 << 20, 7);
  const t0 = performance.now();
  const tok = trainByteLevelBpe(big, { vocabSize: 4096 + 256 + 1, specialTokens: ['<|endoftext|>'] });
  const seconds = (performance.now() - t0) / 1000;
  const merges = tok.toJSON().model.merges.length;
  t.diagnostic(
    `${merges} merges on ${(big.join('').length / 1e6).toFixed(2)} M chars in ${seconds.toFixed(2)} s`,
  );
  assert.ok(merges >= 4000);
  assert.ok(seconds < 10, `took ${seconds} s`);
});
