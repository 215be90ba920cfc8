/**
 * Memorisation accuracy (Jang et al. 2210.01504): the share of scored tokens whose teacher-forced
 * argmax prediction equals the true token, averaged per example then over examples. Used to stop
 * unlearning once the forget set looks no more memorised than unseen data. Empty input gives NaN.
 */
import type { CausalLM } from '../models/causal-lm.ts';
import { IGNORE_INDEX, noGrad } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { epochBatches } from './batching.ts';

export function memorisationAccuracy(model: CausalLM, examples: readonly Example[], batchSize = 8): number {
  if (examples.length === 0) return Number.NaN;
  let total = 0;
  let counted = 0;
  noGrad(() => {
    for (const batch of epochBatches(examples, batchSize, 0, 0, { shuffle: false })) {
      const logits = model.forward(batch.inputs).logits!.f32;
      const [B, T] = batch.targets.shape;
      const V = model.vocabSize;
      const t = batch.targets.i32;
      for (let b = 0; b < B; b++) {
        let hit = 0;
        let n = 0;
        for (let i = 0; i < T; i++) {
          const target = t[b * T + i];
          if (target === IGNORE_INDEX) continue;
          const row = logits.subarray((b * T + i) * V, (b * T + i + 1) * V);
          let best = 0;
          for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
          hit += best === target ? 1 : 0;
          n++;
        }
        if (n > 0) {
          total += hit / n;
          counted++;
        }
      }
    }
  });
  return counted === 0 ? Number.NaN : total / counted;
}
