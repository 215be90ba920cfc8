/**
 * Training batches: checks on examples, the epoch order and its batches, and pretraining chunks.
 * Examples and their collation into right-padded batches are src/text/batch.ts's (scoring uses
 * them too). Epoch order is a seeded shuffle of (seed, epoch) so a resumed run sees exactly the
 * batches an uninterrupted one would.
 */
import { DataError } from '../errors.ts';
import { IGNORE_INDEX, Rng } from '../tensor/index.ts';
import { type Batch, collate, type Example } from '../text/batch.ts';

// Re-exported for the modules that import them from here (src/unlearn); defined in src/tensor and
// src/text/batch.ts.
export { type Batch, collate, type Example } from '../text/batch.ts';
export { IGNORE_INDEX };

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
