/**
 * AdamW with exactly torch.optim.AdamW's semantics (amsgrad off, maximize off): per parameter,
 * with its own step count t (advanced only when the parameter has a gradient),
 *   p ← p − lr·wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps).
 * The update runs in the backend's fused `adamw` kernel, in place on the parameter's storage.
 *
 * Promises: parameters without a `.grad` are skipped (their moments and step count do not move);
 * state() is a deep copy and loadState() of it continues training bit-for-bit identically.
 */
import { backend } from '../../backend/index.ts';
import { CheckpointError } from '../../errors.ts';
import { noGrad, type Tensor } from '../../tensor/index.ts';
import { checkHyper, Optimizer, type ParamGroup } from './optimizer.ts';

export interface AdamWOptions {
  lr: number;
  /** (β1, β2), default (0.9, 0.999). */
  betas?: readonly [number, number];
  /** Added to sqrt(v̂), default 1e-8. */
  eps?: number;
  /** Decoupled weight decay, default 0.01 (PyTorch's default). */
  weightDecay?: number;
}

/** One parameter's saved state; null in AdamWState.params where the parameter never had a step. */
export interface AdamWParamState {
  /** The parameter's name when its tensor has one (checked on load). */
  name?: string;
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export interface AdamWState {
  kind: 'adamw';
  /** Current lr of each group. */
  lrs: number[];
  /** Per parameter, in the optimiser's flat order (group by group). */
  params: (AdamWParamState | null)[];
}

interface Slot {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly slots: (Slot | null)[];

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: AdamWOptions) {
    super('AdamW', params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0.01 });
    const [beta1, beta2] = opts.betas ?? [0.9, 0.999];
    checkHyper('AdamW', 'beta1', beta1, 0, 1, true);
    checkHyper('AdamW', 'beta2', beta2, 0, 1, true);
    checkHyper('AdamW', 'eps', opts.eps ?? 1e-8, 0);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = opts.eps ?? 1e-8;
    this.slots = this.flat.map(() => null);
  }

  step(): void {
    noGrad(() => {
      this.forEachWithGrad((p, grad, group, i) => {
        let slot = this.slots[i];
        if (!slot) {
          slot = { step: 0, m: new Float32Array(p.size), v: new Float32Array(p.size) };
          this.slots[i] = slot;
        }
        slot.step++;
        backend.adamw(
          p.f32,
          grad,
          slot.m,
          slot.v,
          group.lr,
          this.beta1,
          this.beta2,
          this.eps,
          group.weightDecay,
          slot.step,
        );
      });
    });
  }

  /** A deep copy of the optimiser state (step counts, moments, current lrs). */
  state(): AdamWState {
    return {
      kind: 'adamw',
      lrs: this.groups.map((g) => g.lr),
      params: this.slots.map((s, i) => {
        if (!s) return null;
        const name = this.flat[i].name;
        return { ...(name !== undefined ? { name } : {}), step: s.step, m: s.m.slice(), v: s.v.slice() };
      }),
    };
  }

  /** Restore a state from state() (copied in; checked completely before anything changes). */
  loadState(state: AdamWState): void {
    this.checkStateFrame(state);
    state.params.forEach((s, i) => {
      if (!s) return;
      if (!Number.isInteger(s.step) || s.step < 1) {
        throw new CheckpointError(`AdamW.loadState: parameter ${i} has an invalid step count`, {
          expected: 'an integer >= 1',
          found: `${s.step}`,
        });
      }
      this.checkBuffer(i, 'm', s.m, s.name);
      this.checkBuffer(i, 'v', s.v, s.name);
    });
    state.params.forEach((s, i) => {
      this.slots[i] = s ? { step: s.step, m: s.m.slice(), v: s.v.slice() } : null;
    });
    this.restoreLrs(state.lrs);
  }
}
