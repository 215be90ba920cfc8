/**
 * Relearning attack (Lynch et al. 2402.16835; Hu et al. 2406.13356): fine-tune a copy of the
 * unlearned model for a few steps on a small part of the forget set (or on related data, e.g. the
 * retain split or qa.neighbours) and measure how much of the forgotten behaviour comes back.
 *
 * Why recovery is measured on the held-back forget items, never on the ones the attacker trains
 * on: fine-tuning on an item teaches it to any model, including the oracle that never saw it, so
 * recovery there measures the attack's own teaching. Recovery on items the attacker did not get
 * can only come from knowledge still stored in the weights — the sign that unlearning hid the
 * data (suppressed the output) instead of removing it. Running the same attack on the oracle gives
 * the control: what a few steps of same-format fine-tuning improve without any hidden knowledge
 * (e.g. the answer template shared by all items).
 *
 * Promises: the input model is never changed (the attack trains a clone); the same model,
 * examples, options and seed give bit-identical weights (lethe's trainer is deterministic).
 */
import type { Split, Task } from '../../data/task.ts';
import { emptySplit, SPLIT_PARTS } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { cloneModel } from '../../models/registry.ts';
import { Rng } from '../../tensor/index.ts';
import type { Example } from '../../text/batch.ts';
import { type StepLog, train } from '../../train/trainer.ts';

export interface RelearnOptions {
  /** Optimiser steps k (the attacker's budget). */
  steps: number;
  lr: number;
  batchSize: number;
  /** Batch order seed (default 0). */
  seed?: number;
  /** Learning-rate schedule (default 'constant': a short attack has no room for a decay). */
  schedule?: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  /** AdamW weight decay (default 0). */
  weightDecay?: number;
  /** Global gradient-norm clip (default 1, as the trainer). */
  clipNorm?: number;
  /** Called after each step with the trainer's log (e.g. to record the attack's loss curve). */
  onStep?: (log: StepLog) => void;
}

function bad(field: string, expected: string, found: unknown): never {
  throw new ConfigError('invalid relearning option', { where: field, expected, found: String(found) });
}

/**
 * Fine-tune a copy of `model` for `steps` optimiser steps on `examples` (e.g. splitExamples of the
 * attacker's part from relearnSplit) and return the copy. AdamW, no progress output.
 */
export async function relearn(
  model: CausalLM,
  examples: readonly Example[],
  opts: RelearnOptions,
): Promise<CausalLM> {
  if (!Number.isInteger(opts.steps) || opts.steps < 1) bad('steps', 'an integer >= 1', opts.steps);
  if (!(opts.lr > 0)) bad('lr', 'a positive number', opts.lr);
  if (examples.length === 0) bad('examples', 'at least one example to relearn from', 'none');
  const copy = cloneModel(model);
  await train(copy, examples, {
    steps: opts.steps,
    lr: opts.lr,
    batchSize: opts.batchSize,
    seed: opts.seed ?? 0,
    schedule: opts.schedule ?? 'constant',
    warmupSteps: opts.warmupSteps,
    weightDecay: opts.weightDecay ?? 0,
    clipNorm: opts.clipNorm,
    progress: false,
    label: 'relearn attack',
    onStep: (log) => {
      opts.onStep?.(log);
      return undefined; // the attacker always spends its whole budget
    },
  });
  copy.eval();
  return copy;
}

export interface RelearnSplit {
  /** What the attacker fine-tunes on. */
  attack: Split;
  /** The rest of the forget split: where recovery is measured. */
  heldOut: Split;
}

/**
 * Choose which forget items the attacker gets. Each part of the forget split (qa, text, tokens) is
 * split on its own: k = round(fraction·n) items, kept within [1, n − 1] so both sides are
 * non-empty; a part with a single item goes wholly to heldOut (measurement needs it more). The
 * choice is a seeded shuffle; both sides keep the split's original order.
 */
export function relearnSplit(task: Task, fraction: number, seed = 0): RelearnSplit {
  if (!(fraction > 0 && fraction < 1)) bad('fraction', 'a number strictly between 0 and 1', fraction);
  if (!Number.isInteger(seed)) bad('seed', 'an integer', seed);
  const attack = emptySplit();
  const heldOut = emptySplit();
  // One generator per part, forked in a fixed order, so adding text items never reshuffles the QA.
  const base = new Rng(seed);
  const gens = SPLIT_PARTS.map(() => base.fork());
  SPLIT_PARTS.forEach((part, p) => {
    const items = task.splits.forget[part] as { id: string }[];
    const n = items.length;
    if (n === 0) return;
    const k = n === 1 ? 0 : Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
    const order = gens[p].shuffle(Array.from({ length: n }, (_, i) => i));
    const chosen = new Set(order.slice(0, k));
    (attack[part] as unknown[]) = items.filter((_, i) => chosen.has(i));
    (heldOut[part] as unknown[]) = items.filter((_, i) => !chosen.has(i));
  });
  const count = (s: Split) => s.qa.length + s.text.length + s.tokens.length;
  if (count(attack) === 0) {
    throw new ConfigError(`task ${task.name}: the forget split is too small to split for relearning`, {
      expected: 'at least 2 forget items of one kind',
      found: `${count(heldOut)} item(s)`,
      hint: 'relearn on related data (e.g. the retain split) and measure on the whole forget split',
    });
  }
  return { attack, heldOut };
}
