/**
 * Sophia (Liu et al. 2305.14342), the second-order optimiser SOUL (2404.18239) uses for
 * unlearning: a momentum m of gradients, an EMA h of a diagonal Hessian estimate refreshed every
 * few steps by the caller (updateHessian), and an element-wise clipped Newton step
 *   θ ← θ − lr·wd·θ;  θ ← θ − lr · clip(m / max(ρ·h, ε), −1, 1).
 * The state has AdamW's shape (step, m, and h in place of v), so checkpoints treat both alike.
 */
import { CheckpointError } from '../../errors.ts';
import { noGrad, type Tensor } from '../../tensor/index.ts';
import { checkHyper, Optimizer, type ParamGroup } from './optimizer.ts';

export interface SophiaOptions {
  lr: number;
  /** (β1 for m, β2 for h); default (0.965, 0.99) as in the paper. */
  betas?: readonly [number, number];
  /** ρ scales the Hessian before the clip; default 0.04. */
  rho?: number;
  weightDecay?: number;
  eps?: number;
}

export interface SophiaState {
  kind: 'sophia';
  lrs: number[];
  params: ({ name?: string; step: number; m: Float32Array; v: Float32Array } | null)[];
}

export class Sophia extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly rho: number;
  readonly eps: number;
  private readonly slots: ({ step: number; m: Float32Array; h: Float32Array } | null)[];

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: SophiaOptions) {
    super('Sophia', params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    [this.beta1, this.beta2] = opts.betas ?? [0.965, 0.99];
    this.rho = opts.rho ?? 0.04;
    this.eps = opts.eps ?? 1e-12;
    checkHyper('Sophia', 'beta1', this.beta1, 0, 1, true);
    checkHyper('Sophia', 'beta2', this.beta2, 0, 1, true);
    checkHyper('Sophia', 'rho', this.rho, 0);
    this.slots = this.flat.map(() => null);
  }

  private slot(i: number, size: number) {
    this.slots[i] ??= { step: 0, m: new Float32Array(size), h: new Float32Array(size) };
    return this.slots[i]!;
  }

  /** Fold a fresh diagonal Hessian estimate (one array per parameter, in flat order) into h. */
  updateHessian(estimates: readonly (Float32Array | null)[]): void {
    estimates.forEach((e, i) => {
      if (!e) return;
      const h = this.slot(i, e.length).h;
      for (let j = 0; j < e.length; j++) h[j] = this.beta2 * h[j] + (1 - this.beta2) * e[j];
    });
  }

  /** The parameters in flat order (to pair with updateHessian's estimates). */
  get parameterList(): readonly Tensor[] {
    return this.flat;
  }

  step(): void {
    noGrad(() => {
      this.forEachWithGrad((p, g, group, i) => {
        const s = this.slot(i, p.size);
        s.step++;
        const w = p.f32;
        const decay = 1 - group.lr * group.weightDecay;
        for (let j = 0; j < w.length; j++) {
          s.m[j] = this.beta1 * s.m[j] + (1 - this.beta1) * g[j];
          const ratio = s.m[j] / Math.max(this.rho * s.h[j], this.eps);
          w[j] = w[j] * decay - group.lr * Math.max(-1, Math.min(1, ratio));
        }
      });
    });
  }

  state(): SophiaState {
    return {
      kind: 'sophia',
      lrs: this.groups.map((g) => g.lr),
      params: this.slots.map((s, i) => {
        if (!s) return null;
        const name = this.flat[i].name;
        return { ...(name !== undefined ? { name } : {}), step: s.step, m: s.m.slice(), v: s.h.slice() };
      }),
    };
  }

  loadState(state: SophiaState): void {
    this.checkStateFrame(state);
    state.params.forEach((s, i) => {
      if (!s) return;
      if (!Number.isInteger(s.step) || s.step < 0) {
        throw new CheckpointError(`Sophia.loadState: parameter ${i} has an invalid step count`, {
          found: `${s.step}`,
        });
      }
      this.checkBuffer(i, 'm', s.m, s.name);
      this.checkBuffer(i, 'h', s.v, s.name);
    });
    state.params.forEach((s, i) => {
      this.slots[i] = s ? { step: s.step, m: s.m.slice(), h: s.v.slice() } : null;
    });
    this.restoreLrs(state.lrs);
  }
}
