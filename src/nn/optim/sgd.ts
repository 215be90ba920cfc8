/**
 * SGD with torch.optim.SGD's semantics (maximize off): per parameter with gradient g,
 *   g ← g + wd·p                                   (coupled weight decay, when wd ≠ 0)
 *   b ← g on the first step, else μ·b + (1−dampening)·g   (when μ ≠ 0)
 *   g ← g + μ·b with nesterov, else g ← b          (when μ ≠ 0)
 *   p ← p − lr·g
 * Each element is computed in double and stored as float32. The gradient itself is not modified.
 *
 * Promises: parameters without a `.grad` are skipped; state() is a deep copy and loadState() of it
 * continues bit-for-bit identically.
 */
import { ConfigError } from '../../errors.ts';
import { noGrad, type Tensor } from '../../tensor/index.ts';
import { checkHyper, Optimizer, type ParamGroup } from './optimizer.ts';

export interface SGDOptions {
  lr: number;
  /** μ, default 0 (plain SGD). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening = 0 (as PyTorch). Default false. */
  nesterov?: boolean;
  /** Coupled (L2) weight decay added to the gradient, default 0. */
  weightDecay?: number;
}

export interface SGDParamState {
  name?: string;
  momentum: Float32Array;
}

export interface SGDState {
  kind: 'sgd';
  lrs: number[];
  /** Momentum buffer per parameter in flat order; null where none exists yet (or momentum = 0). */
  params: (SGDParamState | null)[];
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  private readonly buffers: (Float32Array | null)[];

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: SGDOptions) {
    super('SGD', params, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 });
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    checkHyper('SGD', 'momentum', this.momentum, 0);
    checkHyper('SGD', 'dampening', this.dampening, Number.NEGATIVE_INFINITY);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ConfigError('SGD: nesterov momentum needs momentum > 0 and dampening = 0', {
        found: `momentum = ${this.momentum}, dampening = ${this.dampening}`,
      });
    }
    this.buffers = this.flat.map(() => null);
  }

  step(): void {
    const mu = this.momentum;
    const damp = 1 - this.dampening;
    noGrad(() => {
      this.forEachWithGrad((param, grad, group, i) => {
        const p = param.f32;
        const lr = group.lr;
        const wd = group.weightDecay;
        let buf = this.buffers[i];
        const first = buf === null;
        if (mu !== 0 && !buf) {
          buf = new Float32Array(p.length);
          this.buffers[i] = buf;
        }
        for (let j = 0; j < p.length; j++) {
          let g = wd !== 0 ? grad[j] + wd * p[j] : grad[j];
          if (buf) {
            buf[j] = first ? g : mu * buf[j] + damp * g;
            g = this.nesterov ? g + mu * buf[j] : buf[j];
          }
          p[j] = p[j] - lr * g;
        }
      });
    });
  }

  /** A deep copy of the optimiser state (momentum buffers and current lrs). */
  state(): SGDState {
    return {
      kind: 'sgd',
      lrs: this.groups.map((g) => g.lr),
      params: this.buffers.map((b, i) => {
        if (!b) return null;
        const name = this.flat[i].name;
        return { ...(name !== undefined ? { name } : {}), momentum: b.slice() };
      }),
    };
  }

  /** Restore a state from state() (copied in; checked completely before anything changes). */
  loadState(state: SGDState): void {
    this.checkStateFrame(state);
    state.params.forEach((s, i) => {
      if (s) this.checkBuffer(i, 'momentum', s.momentum, s.name);
    });
    state.params.forEach((s, i) => {
      this.buffers[i] = s ? s.momentum.slice() : null;
    });
    this.restoreLrs(state.lrs);
  }
}
