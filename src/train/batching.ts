/**
 * Training examples and batches. An example is a token sequence with the index of its first
 * scored token: 1 for pretraining text (every token but the first), the answer's start for
 * supervised fine-tuning (loss on the answer only). Batches are right-padded; padded and
 * unscored positions get the ignore index. Epoch order is a seeded shuffle of (seed, epoch) so
 * a resumed run sees exactly the batches an uninterrupted one would.
 */
import { DataError } from '../errors.ts';
import { IGNORE_INDEX, Rng, Tensor } from '../tensor/index.ts';

// Re-exported for the modules that import it from here (src/unlearn); defined in src/tensor.
export { IGNORE_INDEX };

export interface Example {
  ids: readonly number[];
  /** First scored position (>= 1). */
  start: number;
}

export interface Batch {
  /** (B, T) int32 inputs: ids[0 … T−1] of each row. */
  inputs: Tensor;
  /** (B, T) int32 next-token targets, IGNORE_INDEX where not scored. */
  targets: Tensor;
  /** Indices of the examples in this batch (into the dataset). */
  indices: number[];
  /** Number of scored tokens. */
  tokens: number;
}

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

/** Collate examples into one right-padded batch (truncating to maxLen tokens if given). */
export function collate(examples: readonly Example[], indices: number[], maxLen?: number): Batch {
  const rows = indices.map((i) => examples[i]);
  const T = Math.max(1, ...rows.map((e) => Math.min(e.ids.length, maxLen ?? Infinity) - 1));
  const B = rows.length;
  const inputs = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
  let tokens = 0;
  rows.forEach((e, b) => {
    const n = Math.min(e.ids.length, maxLen ?? Infinity);
    for (let t = 0; t < n - 1; t++) {
      inputs[b * T + t] = e.ids[t];
      if (t + 1 >= e.start) {
        targets[b * T + t] = e.ids[t + 1];
        tokens++;
      }
    }
  });
  return { inputs: new Tensor(inputs, [B, T]), targets: new Tensor(targets, [B, T]), indices, tokens };
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
