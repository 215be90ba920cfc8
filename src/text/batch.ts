/**
 * Token sequences to score or train on, and their right-padded batches: an example is a token
 * sequence with the index of its first scored token (1 for plain text, the answer's start for a
 * question and answer). Padded and unscored positions get IGNORE_INDEX as target. Training
 * (src/train) and scoring (src/text/score.ts, src/eval/scoring.ts) collate with the same function.
 */
import { IGNORE_INDEX, Tensor } from '../tensor/index.ts';

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
