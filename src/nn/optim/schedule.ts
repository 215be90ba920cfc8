/**
 * Learning-rate schedules as pure functions of the step, with Hugging Face's semantics:
 * `step` is the number of optimiser steps already taken (0 for the first update), so
 *   lr(step) = peak · factor(step), with during warmup (step < warmupSteps) factor = step / warmupSteps
 * — the first update of a warmed-up run has lr 0, exactly as HF's LambdaLR-based schedules.
 * - constant: factor 1 after warmup (HF get_constant_schedule[_with_warmup]).
 * - linear: factor = (total − step) / (total − warmup) after warmup, reaching 0 at totalSteps
 *   (HF get_linear_schedule_with_warmup).
 * - cosine: factor = minRatio + (1 − minRatio) · ½(1 + cos(π · progress)),
 *   progress = (step − warmup) / (total − warmup), minRatio = minLr / peak
 *   (HF get_cosine_schedule_with_warmup with num_cycles = 0.5, and with min_lr as in
 *   get_cosine_with_min_lr_schedule_with_warmup).
 * One deliberate difference: past totalSteps the cosine holds minLr (HF's would rise again; the
 * linear schedule stays at 0 in both). Arguments are validated at construction, steps per call.
 */
import { ConfigError } from '../../errors.ts';

/** The learning rate to use for the update after `step` completed optimiser steps. */
export type LrSchedule = (step: number) => number;

export interface WarmupOptions {
  /** Peak learning rate (reached at the end of warmup). */
  lr: number;
  /** Linear warmup from 0 over this many steps (default 0). */
  warmupSteps?: number;
}

export interface DecayOptions extends WarmupOptions {
  /** Step at which the decay ends. */
  totalSteps: number;
}

export interface CosineOptions extends DecayOptions {
  /** The floor of the decay (default 0). */
  minLr?: number;
}

function bad(schedule: string, what: string, found: unknown, expected: string): never {
  throw new ConfigError(`${schedule} schedule: invalid ${what}`, { expected, found: String(found) });
}

function checkCommon(schedule: string, lr: number, warmup: number): void {
  if (!(Number.isFinite(lr) && lr >= 0)) bad(schedule, 'lr', lr, 'a finite number >= 0');
  if (!(Number.isInteger(warmup) && warmup >= 0)) bad(schedule, 'warmupSteps', warmup, 'an integer >= 0');
}

function checkTotal(schedule: string, warmup: number, total: number): void {
  if (!(Number.isInteger(total) && total >= 1)) bad(schedule, 'totalSteps', total, 'an integer >= 1');
  if (warmup > total) bad(schedule, 'warmupSteps', warmup, `at most totalSteps (${total})`);
}

function checkStep(schedule: string, step: number): void {
  if (!(Number.isInteger(step) && step >= 0)) bad(schedule, 'step', step, 'an integer >= 0');
}

/** Constant lr, optionally after a linear warmup. */
export function constantSchedule(opts: WarmupOptions): LrSchedule {
  const { lr } = opts;
  const warmup = opts.warmupSteps ?? 0;
  checkCommon('constant', lr, warmup);
  return (step) => {
    checkStep('constant', step);
    return step < warmup ? lr * (step / warmup) : lr;
  };
}

/** Linear warmup to lr, then linear decay to 0 at totalSteps. */
export function linearSchedule(opts: DecayOptions): LrSchedule {
  const { lr, totalSteps } = opts;
  const warmup = opts.warmupSteps ?? 0;
  checkCommon('linear', lr, warmup);
  checkTotal('linear', warmup, totalSteps);
  return (step) => {
    checkStep('linear', step);
    if (step < warmup) return lr * (step / warmup);
    return lr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmup));
  };
}

/** Linear warmup to lr, then half-cosine decay to minLr at totalSteps (held after). */
export function cosineSchedule(opts: CosineOptions): LrSchedule {
  const { lr, totalSteps } = opts;
  const warmup = opts.warmupSteps ?? 0;
  const minLr = opts.minLr ?? 0;
  checkCommon('cosine', lr, warmup);
  checkTotal('cosine', warmup, totalSteps);
  if (!(Number.isFinite(minLr) && minLr >= 0 && minLr <= lr))
    bad('cosine', 'minLr', minLr, `a number in [0, lr = ${lr}]`);
  const minRatio = lr === 0 ? 0 : minLr / lr;
  return (step) => {
    checkStep('cosine', step);
    if (step < warmup) return lr * (step / warmup);
    const progress = Math.min(1, (step - warmup) / Math.max(1, totalSteps - warmup));
    const factor = 0.5 * (1 + Math.cos(Math.PI * progress));
    return lr * (minRatio + (1 - minRatio) * factor);
  };
}

/** A schedule described as data (for configs). */
export type ScheduleSpec =
  | ({ kind: 'constant' } & WarmupOptions)
  | ({ kind: 'linear' } & DecayOptions)
  | ({ kind: 'cosine' } & CosineOptions);

export function makeSchedule(spec: ScheduleSpec): LrSchedule {
  switch (spec.kind) {
    case 'constant':
      return constantSchedule(spec);
    case 'linear':
      return linearSchedule(spec);
    case 'cosine':
      return cosineSchedule(spec);
    default:
      return bad('lr', 'kind', (spec as { kind: unknown }).kind, '"constant", "linear" or "cosine"');
  }
}
