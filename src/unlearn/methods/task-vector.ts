/**
 * `task-vector` (Ilharco et al., "Editing models with task arithmetic"; MUSE's baseline): fine-tune
 * a copy of the model on D_f to get θ_ft, then negate the task vector:
 *     θ_u = θ_0 − λ·(θ_ft − θ_0).
 * θ_0 itself never takes a gradient step; the only extra model in memory is the fine-tuned copy
 * (plus its optimiser state while it trains), released when the method returns.
 *
 * Promises: every weight of the result is θ_0 − λ·(θ_ft − θ_0) evaluated in float64 and rounded
 * once to float32; a weight whose λ·(θ_ft − θ_0) is 0 (λ = 0, or θ_ft = θ_0) keeps its exact
 * bits (including the sign of a zero).
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { cloneModel } from '../../models/registry.ts';
import { train } from '../../train/trainer.ts';
import { weightMethod } from '../define.ts';

const TaskVectorArgs = z.object({
  /** λ, the negation strength. 1 subtracts the task vector once; MUSE uses λ ≈ 5. */
  lambda: z.number().default(1),
  /** Fine-tuning optimiser steps on D_f; overrides epochs when given. */
  steps: z.number().int().positive().optional(),
  /** Fine-tuning epochs over D_f (used when steps is absent). */
  epochs: z.number().int().positive().default(5),
  /** AdamW learning rate of the fine-tune (constant schedule, clip 1, no weight decay). */
  lr: z.number().positive().default(1e-3),
  batchSize: z.number().int().positive().default(8),
  maxLen: z.number().int().positive().default(256),
});

/**
 * model ← θ_0 − λ·(θ_ft − θ_0), per weight in float64, rounded once. `tuned` must have the same
 * parameter names and sizes. Returns ‖λ·(θ_ft − θ_0)‖₂.
 */
export function negateTaskVector(model: CausalLM, tuned: CausalLM, lambda: number): number {
  const ft = new Map(tuned.namedParameters());
  let sq = 0;
  for (const [name, p] of model.namedParameters()) {
    const q = ft.get(name);
    if (!q || q.size !== p.size) {
      throw new ConfigError(`task-vector: the fine-tuned model has no parameter ${name} of size ${p.size}`);
    }
    const w = p.f32;
    const t = q.f32;
    for (let j = 0; j < w.length; j++) {
      const delta = lambda * (t[j] - w[j]);
      if (delta !== 0) {
        w[j] = w[j] - delta;
        sq += delta * delta;
      }
    }
  }
  return Math.sqrt(sq);
}

export const taskVector = weightMethod({
  name: 'task-vector',
  summary:
    'Task-vector negation: fine-tune a copy on D_f to θ_ft, then set θ = θ_0 − λ·(θ_ft − θ_0); no gradient step on θ_0 itself.',
  paper: 'Ilharco et al. 2023, arXiv:2212.04089; MUSE, arXiv:2407.06460',
  args: TaskVectorArgs,
  needs: {},
  async apply(ctx) {
    const a = ctx.args;
    const tuned = cloneModel(ctx.model);
    const stage = ctx.trainingStage('fine-tune');
    const res = await train(tuned, ctx.forget, {
      steps: a.steps,
      epochs: a.steps === undefined ? a.epochs : undefined,
      batchSize: a.batchSize,
      lr: a.lr,
      schedule: 'constant',
      weightDecay: 0,
      clipNorm: 1,
      seed: ctx.seed,
      progress: false,
      label: 'task-vector fine-tune',
      logFile: stage.logFile,
    });
    stage.done(res);
    const norm = negateTaskVector(ctx.model, tuned, a.lambda);
    ctx.log(
      `fine-tuned ${res.steps} steps (forget loss ${res.finalLoss.toFixed(4)}), ‖λ·τ‖ ${norm.toExponential(3)}, ${res.seconds.toFixed(1)} s`,
    );
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const taskVectorMethods = [taskVector];
