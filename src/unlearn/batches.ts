/**
 * Batches for unlearning: each step pairs a batch of forget examples (reshuffled per epoch) with
 * a batch of retain examples (cycled through a seeded permutation), plus the same forget prompts
 * with refusal or random answers when a method needs them. Every batch is a pure function of
 * (epoch, index), so interrupted runs resume exactly.
 */

import { type Batch, collate, type Example } from '../text/batch.ts';
import { epochOrder } from '../train/batching.ts';
import type { BatchSource } from '../train/trainer.ts';
import type { Needs, RunBatch, RunContext } from './types.ts';

export function unlearnSource(ctx: RunContext, needs: Needs, batchSize: number): BatchSource<RunBatch> {
  const nF = ctx.forget.length;
  const bpe = Math.ceil(nF / batchSize);
  let cache: { epoch: number; order: number[] } | null = null;
  const retain = needs.retain && ctx.retain && ctx.retain.length > 0 ? ctx.retain : null;
  const idk = needs.idk ? ctx.idk : null;
  const random = ctx.random ?? [];
  const retainIndices = (g: number): number[] => {
    const n = retain?.length ?? 0;
    return Array.from({ length: batchSize }, (_, j) => {
      const k = g * batchSize + j;
      return epochOrder(n, ctx.seed + 1, Math.floor(k / n))[k % n];
    });
  };
  const pick = (list: Example[], idx: number[]): Batch => collate(list, idx);
  return {
    batchesPerEpoch: bpe,
    batch(epoch, index) {
      if (cache?.epoch !== epoch) cache = { epoch, order: epochOrder(nF, ctx.seed, epoch) };
      const forgetIndex = cache.order.slice(index * batchSize, (index + 1) * batchSize);
      const forget = pick(ctx.forget, forgetIndex);
      const retainBatch = retain ? pick(retain, retainIndices(epoch * bpe + index)) : null;
      const idkBatch = idk ? pick(idk, forgetIndex) : null;
      const randomBatches = random.map((variant) => pick(variant, forgetIndex));
      const tokens =
        forget.tokens +
        (retainBatch?.tokens ?? 0) +
        (idkBatch?.tokens ?? 0) +
        randomBatches.reduce((s, b) => s + b.tokens, 0);
      return { tokens, forget, forgetIndex, retain: retainBatch, idk: idkBatch, random: randomBatches };
    },
  };
}
