/**
 * Efficiency of the unlearning run, read from the model folder's manifest.json (wall time, peak
 * memory, trainable parameters) and its step log (tokens trained on), plus an estimated FLOPs
 * figure. Only an unlearned folder has these: for the oracle and target they are skipped.
 */
import { unlearnTokens } from '../manifest.ts';
import { type Metric, type MetricOutput, skip } from '../types.ts';

/**
 * efficiency.seconds: the unlearning run's wall time (manifest timings.seconds, the whole job
 * including loading and saving). Direction: lower. Skipped without a manifest.
 */
export const seconds: Metric = {
  name: 'efficiency.seconds',
  label: 'Time',
  direction: 'lower',
  format: 'seconds',
  summary: 'wall time of the unlearning run (s)',
  requires: ['manifest'],
  compute: (ctx) => ({ value: ctx.model.manifest!.timings.seconds }),
};

/** efficiency.peakMemoryMb: the run's peak resident memory (MB). Direction: lower. Needs a manifest. */
export const peakMemory: Metric = {
  name: 'efficiency.peakMemoryMb',
  label: 'Peak memory',
  direction: 'lower',
  format: 'mb',
  summary: 'peak resident memory of the unlearning run (MB)',
  requires: ['manifest'],
  compute: (ctx) => ({ value: ctx.model.manifest!.timings.peakRssMb }),
};

/** efficiency.trainableParameters: parameters the method could change. Direction: lower. Needs a manifest. */
export const trainable: Metric = {
  name: 'efficiency.trainableParameters',
  label: 'Trainable parameters',
  direction: 'lower',
  format: 'count',
  summary: 'parameters the unlearning method trained',
  requires: ['manifest'],
  compute: (ctx) => ({ value: ctx.model.manifest!.trainableParameters }),
};

/**
 * efficiency.flops: estimated training FLOPs of the unlearning run, 6·N·D with N the model's
 * parameter count and D the tokens trained on (the sum of `tokens` over unlearn-log.jsonl, i.e.
 * the scored tokens of every optimiser step). The usual dense-transformer estimate (2·N·D forward
 * + 4·N·D backward); it leaves out prompt tokens that carry no loss, reference-model forward
 * passes (2·N per token) and attention's sequence-length term, so it is a lower bound for most
 * methods and an upper bound for LoRA (whose backward skips frozen weight gradients). Direction:
 * lower. Skipped without a manifest, or without a step log when the manifest records steps.
 */
export const flops: Metric = {
  name: 'efficiency.flops',
  label: 'Training FLOPs',
  direction: 'lower',
  format: 'count',
  summary: 'estimated training FLOPs of the unlearning run (6·N·tokens)',
  requires: ['manifest'],
  compute(ctx): MetricOutput {
    const n = ctx.model.model.numParameters();
    const log = ctx.model.dir ? unlearnTokens(ctx.model.dir) : null;
    const steps = ctx.model.manifest!.requests.reduce((s, r) => s + r.steps, 0);
    if (!log) {
      if (steps > 0) skip('the manifest records training steps but the folder has no unlearn-log.jsonl');
      return {
        value: 0,
        extra: { formula: '6·N·tokens', parameters: n, tokens: 0, note: 'no training steps' },
      };
    }
    return {
      value: 6 * n * log.tokens,
      extra: { formula: '6·N·tokens', parameters: n, tokens: log.tokens, steps: log.steps },
    };
  },
};

/** The efficiency family, in the order the registry lists it. */
export const efficiencyMetrics: readonly Metric[] = [seconds, peakMemory, trainable, flops];
