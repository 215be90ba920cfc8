/**
 * Training batches: checks on examples, the epoch order and its batches, and pretraining chunks.
 * Examples and their collation into right-padded batches are src/text/batch.ts's (scoring uses
 * them too). Epoch order is a seeded shuffle of (seed, epoch) so a resumed run sees exactly the
 * batches an uninterrupted one would.
 */
import { DataError } from '../errors.ts';
import { IGNORE_INDEX, Rng, Tensor } from '../tensor/index.ts';
import { type Batch, collate, type Example } from '../text/batch.ts';

export function checkExamples(examples: readonly Example[], where: string, vocabSize?: number): void {
  examples.forEach((e, i) => {
    if (e.ids.length < 2 || !Number.isInteger(e.start) || e.start < 1 || e.start >= e.ids.length + 1) {
      throw new DataError(`example ${i} cannot be trained on`, {
        where,
        expected: 'at least 2 tokens and 1 <= start <= length',
        found: `${e.ids.length} tokens, start ${e.start}`,
      });
    }
    if (vocabSize !== undefined) {
      const bad = e.ids.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize);
      if (bad !== undefined) {
        throw new DataError(`example ${i} has token id ${bad} outside the vocabulary [0, ${vocabSize})`, {
          where,
        });
      }
    }
  });
}

/** The example order of an epoch: a permutation seeded by (seed, epoch), or identity if !shuffle. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle = true): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return shuffle ? new Rng((seed * 1000003 + epoch) | 0).shuffle(order) : order;
}

/** The batches of an epoch (the last one may be smaller). */
export function epochBatches(
  examples: readonly Example[],
  batchSize: number,
  seed: number,
  epoch: number,
  opts: { shuffle?: boolean; maxLen?: number } = {},
): Batch[] {
  const order = epochOrder(examples.length, seed, epoch, opts.shuffle ?? true);
  const out: Batch[] = [];
  for (let s = 0; s < order.length; s += batchSize)
    out.push(collate(examples, order.slice(s, s + batchSize), opts.maxLen));
  return out;
}

/** Cut a token stream into pretraining examples of blockSize + 1 tokens (the tail is dropped). */
export function chunkTokens(stream: readonly number[], blockSize: number): Example[] {
  const out: Example[] = [];
  for (let s = 0; s + blockSize + 1 <= stream.length; s += blockSize) {
    out.push({ ids: stream.slice(s, s + blockSize + 1), start: 1 });
  }
  return out;
}

/**
 * Pack examples into rows of at most `context` tokens, in the given order: each row holds whole
 * examples one after another (a new row starts where the next would not fit), and every example
 * keeps its own scored span (its answer, or its text after the first token). A packed QA example
 * is read after other examples' tokens, as a few-shot, guardrail or ICUL prefix would put it, so a
 * model trained on packed rows answers the same wherever its prompt starts.
 */
export function collatePacked(examples: readonly Example[], indices: number[], context: number): Batch {
  const rows: { ids: number[]; scored: boolean[] }[] = [];
  let row: { ids: number[]; scored: boolean[] } | null = null;
  for (const i of indices) {
    const e = examples[i];
    if (e.ids.length > context) {
      throw new DataError(`example ${i} has ${e.ids.length} tokens, more than the context ${context}`, {
        hint: 'split long documents into blocks first (text/blocks.ts, splitExamples)',
      });
    }
    if (!row || row.ids.length + e.ids.length > context) {
      row = { ids: [], scored: [] };
      rows.push(row);
    }
    e.ids.forEach((id, t) => {
      row!.ids.push(id);
      row!.scored.push(t >= e.start);
    });
  }
  const T = Math.max(1, ...rows.map((r) => r.ids.length - 1));
  const inputs = new Int32Array(rows.length * T);
  const targets = new Int32Array(rows.length * T).fill(IGNORE_INDEX);
  let tokens = 0;
  rows.forEach((r, b) => {
    for (let t = 0; t < r.ids.length - 1; t++) {
      inputs[b * T + t] = r.ids[t];
      if (r.scored[t + 1]) {
        targets[b * T + t] = r.ids[t + 1];
        tokens++;
      }
    }
  });
  return {
    inputs: new Tensor(inputs, [rows.length, T]),
    targets: new Tensor(targets, [rows.length, T]),
    indices,
    tokens,
  };
}

/**
 * Packed training batches: each step takes the next `batchSize` examples of the epoch's seeded
 * order and packs them into rows (collatePacked), so every epoch puts each example at a new
 * offset behind new neighbours. A pure function of (epoch, index): resumed runs see the same data.
 */
export function packedSource(
  examples: readonly Example[],
  batchSize: number,
  context: number,
  seed: number,
  vocabSize?: number,
): { batchesPerEpoch: number; batch(epoch: number, index: number): Batch } {
  checkExamples(examples, 'packed training data', vocabSize);
  let cache: { epoch: number; order: number[] } | null = null;
  return {
    batchesPerEpoch: Math.ceil(examples.length / batchSize),
    batch(epoch, index) {
      if (cache?.epoch !== epoch) cache = { epoch, order: epochOrder(examples.length, seed, epoch) };
      return collatePacked(examples, cache.order.slice(index * batchSize, (index + 1) * batchSize), context);
    },
  };
}
