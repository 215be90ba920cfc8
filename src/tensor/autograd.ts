/**
 * The autograd tape. Ops record a Node on their output when grad mode is on and an input needs a
 * gradient; backward() walks the graph in reverse topological order, applies the gradient table
 * and accumulates into the leaves' `.grad`. After backward the graph's saved buffers are
 * released, so memory stays flat over thousands of steps.
 */
import { LetheError, ShapeError } from '../errors.ts';
import { empty } from './alloc.ts';
import type { OpAttrs, Primitive } from './primitives.ts';
import { fmt } from './shape.ts';
import { Tensor } from './tensor.ts';

export interface Node<P extends Primitive = Primitive> {
  op: P;
  inputs: Tensor[];
  attrs: OpAttrs[P];
  released: boolean;
}

/** Computes the gradient of each input from the output gradient (null where none is needed). */
export type GradFn<P extends Primitive> = (dy: Tensor, node: Node<P>, out: Tensor) => (Tensor | null)[];
export type GradTable = { [P in Primitive]: GradFn<P> };

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn with gradient recording off (evaluation, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attach a node to `out` if any input needs a gradient. Returns `out`. */
export function record<P extends Primitive>(op: P, out: Tensor, inputs: Tensor[], attrs: OpAttrs[P]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, attrs, released: false } as Node<P> as unknown as Node;
  }
  return out;
}

// The gradient table is registered by gradients.ts (kept apart so that ops and their
// gradients can import each other without a cycle at load time).
let table: GradTable | null = null;

/**
 * Fast paths of the tape for ops whose gradient is mostly zeros: they add their contribution
 * straight into the input's pending gradient (a buffer the tape owns, of the input's shape), or
 * into a new owned buffer when `into` is null, and return it. Same values as the table's entry
 * summed with the pending gradient, up to the order of the additions.
 */
export interface GradFastPaths {
  /** y = slice(x): dy added into x's region. */
  sliceInto: (dy: Tensor, x: Tensor, attrs: OpAttrs['slice'], into: Tensor | null) => Tensor;
  /** y = gather(table, indices): dy's rows added into the table's rows. */
  gatherInto: (dy: Tensor, table: Tensor, indices: Tensor, into: Tensor | null) => Tensor;
}
let fast: GradFastPaths | null = null;

export function registerGradients(t: GradTable, paths: GradFastPaths): void {
  table = t;
  fast = paths;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * A pending gradient. `owned` marks a buffer created by the accumulation itself (the sum of two
 * contributions): nothing else references it, so further contributions are added in place and
 * a leaf can keep it without a copy. A gradient a gradient function returned is never owned: it
 * may be the output gradient itself or a view of it, shared with other inputs.
 */
interface Pending {
  g: Tensor;
  owned: boolean;
}

/** Tensor addition used to sum gradients (passed in to keep this module free of op imports). */
export interface GradAdd {
  /** a + b into a new tensor. */
  add: (a: Tensor, b: Tensor) => Tensor;
  /** a += b for same-shape tensors. */
  addInPlace: (a: Tensor, b: Tensor) => void;
}

function accumulate(grads: Map<Tensor, Pending>, t: Tensor, g: Tensor, ops: GradAdd): void {
  if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(
      `backward: gradient of shape ${fmt(g.shape)} for a tensor of shape ${fmt(t.shape)}`,
      {
        where: t.node ? `output of ${t.node.op}` : 'leaf',
      },
    );
  }
  const prev = grads.get(t);
  if (!prev) grads.set(t, { g, owned: false });
  else if (prev.owned) ops.addInPlace(prev.g, g);
  else grads.set(t, { g: ops.add(prev.g, g), owned: true });
}

/** t's pending gradient as a buffer the tape owns (copied if it is not), or null if none. */
function ownedPending(grads: Map<Tensor, Pending>, t: Tensor): Tensor | null {
  const prev = grads.get(t);
  if (!prev) return null;
  if (prev.owned) return prev.g;
  const copy = empty(prev.g.size);
  copy.set(prev.g.f32);
  return new Tensor(copy, t.shape);
}

/**
 * Backpropagate from `root`. Without `grad`, root must hold a single element (d root = 1).
 * Leaf gradients accumulate across calls until zeroGrad() (each call leaves the leaf a gradient
 * buffer of its own, never one shared with another tensor).
 */
export function backward(root: Tensor, grad: Tensor | undefined, ops: GradAdd): void {
  if (!table)
    throw new LetheError('backward: the gradient table is not loaded (import from src/tensor/index.ts)');
  if (!root.requiresGrad) {
    throw new LetheError('backward: this tensor does not require grad', {
      hint: 'no input of the computation had requiresGrad = true, or it ran inside noGrad()',
    });
  }
  if (!grad && root.size !== 1) {
    throw new ShapeError(`backward: root of shape ${fmt(root.shape)} is not a scalar; pass its gradient`);
  }
  const seed = grad ?? new Tensor(new Float32Array(1).fill(1), root.shape);
  const order = topoOrder(root);
  const grads = new Map<Tensor, Pending>();
  noGrad(() => {
    accumulate(grads, root, seed, ops);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const pending = grads.get(t);
      grads.delete(t); // release as we go
      if (!pending) continue;
      const dy = pending.g;
      const node = t.node;
      if (!node) {
        // A leaf: a sum is a fresh tensor; otherwise keep an owned copy, so later in-place
        // updates (clipping) never alias another buffer.
        if (t.grad) t.grad = ops.add(t.grad, dy);
        else if (pending.owned) t.grad = dy;
        else {
          const copy = empty(dy.size);
          copy.set(dy.f32);
          t.grad = new Tensor(copy, t.shape);
        }
        continue;
      }
      if (node.released) {
        throw new LetheError(
          `backward: the graph through ${node.op} was already used by an earlier backward()`,
          {
            hint: 'recompute the forward pass before calling backward() again',
          },
        );
      }
      if (node.op === 'slice' || node.op === 'gather') {
        // Straight into the input's gradient buffer: no full-size zero tensor and sum.
        const x = node.inputs[0];
        if (x.requiresGrad) {
          const into = ownedPending(grads, x);
          const g =
            node.op === 'slice'
              ? fast!.sliceInto(dy, x, node.attrs as OpAttrs['slice'], into)
              : fast!.gatherInto(dy, x, node.inputs[1], into);
          grads.set(x, { g, owned: true });
        }
        continue;
      }
      const fn = table![node.op] as GradFn<Primitive>;
      const inputGrads = fn(dy, node, t);
      node.inputs.forEach((input, j) => {
        const g = inputGrads[j];
        if (g && input.requiresGrad) accumulate(grads, input, g, ops);
      });
    }
  });
  // Release the graph: saved buffers and links become garbage.
  for (const t of order) {
    if (t.node) {
      t.node.released = true;
      t.node.inputs = [];
      t.node.attrs = {} as never;
    }
  }
}
