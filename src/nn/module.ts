/**
 * Module: the base of every layer and model. A module owns named parameters and named child
 * modules; full names are the HF-style dotted paths (`transformer.h.0.attn.c_attn.weight`), so a
 * module tree built with HF field names reads and writes HF checkpoints key for key.
 *
 * Promises:
 * - namedParameters() lists a module's own parameters (registration order), then each child's
 *   (registration order), depth first, as PyTorch's named_parameters() does. The order depends
 *   only on the registration sequence, so optimiser state keyed by position is stable.
 * - A tensor registered under two names (tied weights) is listed once, under its first name, so
 *   an optimiser never updates it twice.
 * - loadState() checks every name and size before writing anything: a bad state dict leaves the
 *   module untouched and the error names each missing, unexpected and mis-sized tensor.
 * - Registration is explicit (registerParameter / registerModule); nothing is discovered by
 *   reflection over fields.
 */
import { CheckpointError, ConfigError } from '../errors.ts';
import type { Tensor } from '../tensor/index.ts';

/** A local name: a non-empty identifier without dots (dots join path segments). */
const LOCAL_NAME = /^[A-Za-z0-9_]+$/;

function checkLocalName(kind: string, name: string): void {
  if (!LOCAL_NAME.test(name)) {
    throw new ConfigError(`Module: invalid ${kind} name "${name}"`, {
      expected: 'letters, digits and underscores (dots are added between path segments)',
      found: JSON.stringify(name),
    });
  }
}

const fmtShape = (shape: readonly number[]): string => `(${shape.join(', ')})`;

/** Show at most `max` names, then a count, so errors about large models stay readable. */
function listNames(names: string[], max = 10): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length - max} more)` : shown;
}

export interface LoadStateOptions {
  /** With strict = false, missing and unexpected names are reported instead of thrown. Default true. */
  strict?: boolean;
}

export interface LoadStateResult {
  missing: string[];
  unexpected: string[];
}

export class Module {
  /** True in training mode (dropout active); set for the whole subtree by train()/eval(). */
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /**
   * Register `t` as a trainable parameter under `name` (sets requiresGrad). Returns `t` so a
   * field can be initialised in one line: `this.weight = this.registerParameter('weight', w)`.
   */
  protected registerParameter(name: string, t: Tensor): Tensor {
    checkLocalName('parameter', name);
    this.checkFree(name);
    if (t.dtype !== 'float32') {
      throw new ConfigError(`Module: parameter "${name}" must be float32, got ${t.dtype}`);
    }
    t.requiresGrad = true;
    this.ownParams.set(name, t);
    return t;
  }

  /** Register a child module under `name`. Returns the child. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    checkLocalName('module', name);
    this.checkFree(name);
    this.children.set(name, m);
    return m;
  }

  /** Remove a child registered under `name` (adapters are attached and detached this way). */
  protected unregisterModule(name: string): void {
    if (!this.children.delete(name))
      throw new ConfigError(`Module: no child "${name}" in ${this.constructor.name}`);
  }

  /** Every module of the tree with its full dotted name ('' for this one), depth first. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const visit = (m: Module, name: string): void => {
      out.push([name, m]);
      for (const [n, c] of m.children) visit(c, name ? `${name}.${n}` : n);
    };
    visit(this, '');
    return out;
  }

  private checkFree(name: string): void {
    if (this.ownParams.has(name) || this.children.has(name)) {
      throw new ConfigError(`Module: "${name}" is already registered in ${this.constructor.name}`);
    }
  }

  /** Child modules with their local names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.children];
  }

  /** Every parameter with its full dotted name, in the stable order described in the header. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const visit = (m: Module, prefix: string): void => {
      for (const [name, t] of m.ownParams) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix + name, t]);
      }
      for (const [name, child] of m.children) visit(child, `${prefix}${name}.`);
    };
    visit(this, '');
    return out;
  }

  /** Every parameter, in namedParameters() order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** The parameter with this full dotted name (throws a ConfigError naming near matches). */
  parameter(name: string): Tensor {
    const named = this.namedParameters();
    const hit = named.find(([n]) => n === name);
    if (hit) return hit[1];
    const tail = name.split('.').pop() ?? name;
    const near = named.map(([n]) => n).filter((n) => n.endsWith(`.${tail}`) || n === tail);
    throw new ConfigError(`Module: no parameter named "${name}"`, {
      where: this.constructor.name,
      hint: near.length > 0 ? `parameters with the same last segment: ${listNames(near, 5)}` : undefined,
    });
  }

  /** Total number of parameter elements (tied tensors counted once). */
  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Set training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  /** Evaluation mode (train(false)). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /**
   * The parameters by full name. The arrays are the live parameter storage (no copy, so saving a
   * large model costs no memory); copy them to keep a snapshot across further training.
   */
  stateDict(): Map<string, Float32Array> {
    return new Map(this.namedParameters().map(([n, t]) => [n, t.f32]));
  }

  /**
   * Copy values from `state` into the parameters, in place (views sharing a parameter's storage
   * see the new values). Every present name must have the parameter's exact element count; with
   * strict (the default) the name sets must match exactly. Nothing is written unless all checks
   * pass.
   */
  loadState(state: ReadonlyMap<string, Float32Array>, opts: LoadStateOptions = {}): LoadStateResult {
    const strict = opts.strict ?? true;
    const named = this.namedParameters();
    const missing = named.filter(([n]) => !state.has(n)).map(([n]) => n);
    const known = new Set(named.map(([n]) => n));
    const unexpected = [...state.keys()].filter((n) => !known.has(n));
    const misShaped: string[] = [];
    for (const [n, t] of named) {
      const src = state.get(n);
      if (src && src.length !== t.size) {
        misShaped.push(`${n}: expected ${fmtShape(t.shape)} = ${t.size} values, found ${src.length}`);
      }
    }
    const problems: string[] = [];
    if (misShaped.length > 0) problems.push(`mis-sized: ${listNames(misShaped)}`);
    if (strict && missing.length > 0) problems.push(`missing: ${listNames(missing)}`);
    if (strict && unexpected.length > 0) problems.push(`unexpected: ${listNames(unexpected)}`);
    if (problems.length > 0) {
      throw new CheckpointError(`loadState: the state does not match ${this.constructor.name}`, {
        expected: `${named.length} tensors named as by namedParameters()`,
        found: problems.join('; '),
        hint:
          missing.length > 0 && unexpected.length > 0
            ? 'names differ: check for a prefix (e.g. "transformer.") or a rename the loader should apply'
            : undefined,
      });
    }
    for (const [n, t] of named) {
      const src = state.get(n);
      if (src) t.f32.set(src);
    }
    return { missing, unexpected };
  }
}

/** An indexed list of modules; children are named `0`, `1`, … (so a list `h` yields `h.0.…`). */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];

  constructor(items: Iterable<M> = []) {
    super();
    for (const m of items) this.push(m);
  }

  push(m: M): M {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new ConfigError(`ModuleList: index ${i} is out of range [0, ${this.items.length})`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
