/**
 * What every optimiser shares: parameter groups (each with its own lr and weight decay),
 * argument validation, setLr for schedules, zeroGrad, and the checks applied when a saved state
 * is loaded back.
 *
 * Promises: parameters are kept in the order given (group by group), and that flat order is the
 * key of per-parameter state, so a state saved from one optimiser loads into another built over the
 * same parameter list. A parameter may appear only once. Parameters are leaves, updated in place.
 */
import { CheckpointError, ConfigError } from '../../errors.ts';
import { Tensor } from '../../tensor/index.ts';

/** A set of parameters with its own hyperparameters (the optimiser's defaults where left out). */
export interface ParamGroup {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
}

/** A parameter group as the optimiser holds it: every hyperparameter resolved. */
export interface ResolvedGroup {
  readonly params: readonly Tensor[];
  /** The current learning rate (changed by setLr). */
  lr: number;
  weightDecay: number;
  /** lr / the optimiser's base lr at construction; setLr keeps this ratio (null when undefined). */
  readonly lrRatio: number | null;
}

export function checkHyper(
  opt: string,
  name: string,
  v: number,
  lo: number,
  hi = Number.POSITIVE_INFINITY,
  hiOpen = false,
): void {
  const ok = Number.isFinite(v) && v >= lo && (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    const range = `[${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    throw new ConfigError(`${opt}: ${name} = ${v} is out of range`, {
      expected: `a finite number in ${range}`,
    });
  }
}

/**
 * Split named parameters into the usual two groups: matrices and embeddings (rank >= 2) with
 * weight decay, and vectors (biases, norm weights) without it (as GPT-2 / nanoGPT training do).
 * Empty groups are dropped.
 */
export function decayGroups(named: readonly [string, Tensor][], weightDecay: number): ParamGroup[] {
  const decay = named.filter(([, t]) => t.ndim >= 2).map(([, t]) => t);
  const noDecay = named.filter(([, t]) => t.ndim < 2).map(([, t]) => t);
  const groups: ParamGroup[] = [];
  if (decay.length > 0) groups.push({ params: decay, weightDecay });
  if (noDecay.length > 0) groups.push({ params: noDecay, weightDecay: 0 });
  return groups;
}

const label = (p: Tensor, i: number): string => (p?.name ? `parameter ${i} (${p.name})` : `parameter ${i}`);

export abstract class Optimizer {
  readonly groups: ResolvedGroup[];
  /** Every parameter in group order: index i here is the key of per-parameter state. */
  protected readonly flat: Tensor[];
  private baseLr: number;

  protected constructor(
    protected readonly kind: string,
    params: readonly Tensor[] | readonly ParamGroup[],
    defaults: { lr: number; weightDecay: number },
  ) {
    checkHyper(kind, 'lr', defaults.lr, 0);
    checkHyper(kind, 'weightDecay', defaults.weightDecay, 0);
    if (params.length === 0) throw new ConfigError(`${kind}: got an empty parameter list`);
    const given: ParamGroup[] =
      params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.baseLr = defaults.lr;
    const seen = new Set<Tensor>();
    this.flat = [];
    this.groups = given.map((g, gi) => {
      if (!g || !Array.isArray(g.params)) {
        throw new ConfigError(`${kind}: group ${gi} is not a parameter group`, {
          expected: 'Tensor[] or { params: Tensor[], lr?, weightDecay? }[]',
        });
      }
      const lr = g.lr ?? defaults.lr;
      const weightDecay = g.weightDecay ?? defaults.weightDecay;
      checkHyper(kind, `group ${gi} lr`, lr, 0);
      checkHyper(kind, `group ${gi} weightDecay`, weightDecay, 0);
      for (const p of g.params) {
        const where = label(p, this.flat.length);
        if (!(p instanceof Tensor) || p.dtype !== 'float32') {
          throw new ConfigError(`${kind}: ${where} is not a float32 tensor`);
        }
        if (p.node)
          throw new ConfigError(`${kind}: ${where} is not a leaf (it was computed by ${p.node.op})`);
        if (seen.has(p)) {
          throw new ConfigError(`${kind}: ${where} appears more than once`, {
            hint: 'each parameter may belong to one group only (tied weights are one tensor)',
          });
        }
        seen.add(p);
        this.flat.push(p);
      }
      let lrRatio: number | null = 1;
      if (defaults.lr > 0) lrRatio = lr / defaults.lr;
      else if (lr !== 0) lrRatio = null;
      return { params: [...g.params], lr, weightDecay, lrRatio };
    });
  }

  /** The base learning rate (the last value given to setLr, or the constructor's lr). */
  get lr(): number {
    return this.baseLr;
  }

  /**
   * Set the base learning rate (e.g. from a schedule). Each group keeps its ratio to the base lr
   * given at construction, so a group built with half the lr stays at half.
   */
  setLr(lr: number): void {
    checkHyper(this.kind, 'lr', lr, 0);
    for (const [gi, g] of this.groups.entries()) {
      if (g.lrRatio === null) {
        throw new ConfigError(
          `${this.kind}: setLr cannot scale group ${gi}: its lr has no ratio to a base lr of 0`,
          {
            hint: 'construct the optimiser with a non-zero lr',
          },
        );
      }
    }
    this.baseLr = lr;
    for (const g of this.groups) g.lr = lr * (g.lrRatio as number);
  }

  /** Drop the gradient of every parameter. */
  zeroGrad(): void {
    for (const p of this.flat) p.zeroGrad();
  }

  /** One update of every parameter that has a gradient. */
  abstract step(): void;

  /** Visit each parameter that has a gradient, with its group and flat index. */
  protected forEachWithGrad(
    fn: (p: Tensor, grad: Float32Array, group: ResolvedGroup, index: number) => void,
  ): void {
    let i = 0;
    for (const g of this.groups) {
      for (const p of g.params) {
        const index = i++;
        if (!p.grad) continue;
        if (p.grad.size !== p.size) {
          throw new ConfigError(
            `${this.kind}: ${label(p, index)} has a gradient of ${p.grad.size} values for ${p.size}`,
          );
        }
        fn(p, p.grad.f32, g, index);
      }
    }
  }

  /** Check the parts of a saved state every optimiser has (before anything is written). */
  protected checkStateFrame(state: {
    kind: string;
    lrs: readonly number[];
    params: readonly unknown[];
  }): void {
    const fail = (what: string, expected: string, found: string): never => {
      throw new CheckpointError(`${this.kind}.loadState: ${what}`, { expected, found });
    };
    if (state.kind !== this.kind.toLowerCase())
      fail('wrong optimiser kind', this.kind.toLowerCase(), String(state.kind));
    if (state.lrs.length !== this.groups.length) {
      fail('the number of parameter groups differs', `${this.groups.length}`, `${state.lrs.length}`);
    }
    if (state.params.length !== this.flat.length) {
      fail('the number of parameters differs', `${this.flat.length}`, `${state.params.length}`);
    }
    for (const [gi, lr] of state.lrs.entries()) {
      if (!(Number.isFinite(lr) && lr >= 0))
        fail(`group ${gi} has an invalid lr`, 'a finite lr >= 0', `${lr}`);
    }
  }

  /** Check one saved per-parameter buffer against parameter i. */
  protected checkBuffer(i: number, what: string, buf: Float32Array, savedName: string | undefined): void {
    const p = this.flat[i];
    if (savedName !== undefined && p.name !== undefined && savedName !== p.name) {
      throw new CheckpointError(`${this.kind}.loadState: parameter ${i} is named differently`, {
        expected: p.name,
        found: savedName,
      });
    }
    if (!(buf instanceof Float32Array) || buf.length !== p.size) {
      throw new CheckpointError(`${this.kind}.loadState: ${what} of ${label(p, i)} has the wrong size`, {
        expected: `${p.size} float32 values`,
        found: buf instanceof Float32Array ? `${buf.length}` : typeof buf,
      });
    }
  }

  /** Restore the groups' learning rates (after checkStateFrame). */
  protected restoreLrs(lrs: readonly number[]): void {
    lrs.forEach((lr, gi) => {
      this.groups[gi].lr = lr;
    });
    const first = this.groups[0];
    if (first.lrRatio) this.baseLr = first.lr / first.lrRatio;
  }
}
