/**
 * The autograd tape. Ops record a Node on their output when grad mode is on and an input needs a
 * gradient; backward() walks the graph in reverse topological order, applies the gradient table
 * and accumulates into the leaves' `.grad`. After backward the graph's saved buffers are
 * released, so memory stays flat over thousands of steps.
 */
import { LetheError, ShapeError } from '../errors.ts';
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
export function registerGradients(t: GradTable): void {
  table = t;
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

function accumulate(
  grads: Map<Tensor, Tensor>,
  t: Tensor,
  g: Tensor,
  add: (a: Tensor, b: Tensor) => Tensor,
): void {
  if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
    throw new ShapeError(
      `backward: gradient of shape ${fmt(g.shape)} for a tensor of shape ${fmt(t.shape)}`,
      {
        where: t.node ? `output of ${t.node.op}` : 'leaf',
      },
    );
  }
  const prev = grads.get(t);
  grads.set(t, prev ? add(prev, g) : g);
}

/**
 * Backpropagate from `root`. Without `grad`, root must hold a single element (d root = 1).
 * Leaf gradients accumulate across calls until zeroGrad(). `add` is the tensor addition used to
 * sum gradients (passed in to keep this module free of op imports).
 */
export function backward(
  root: Tensor,
  grad: Tensor | undefined,
  add: (a: Tensor, b: Tensor) => Tensor,
): void {
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
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    accumulate(grads, root, seed, add);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const dy = grads.get(t);
      grads.delete(t); // release as we go
      if (!dy) continue;
      const node = t.node;
      if (!node) {
        // A leaf: keep an owned copy so later in-place updates (clipping) never alias another buffer.
        const owned = new Tensor(new Float32Array(dy.f32), t.shape);
        t.grad = t.grad ? add(t.grad, owned) : owned;
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
      const fn = table![node.op] as GradFn<Primitive>;
      const inputGrads = fn(dy, node, t);
      node.inputs.forEach((input, j) => {
        const g = inputGrads[j];
        if (g && input.requiresGrad) accumulate(grads, input, g, add);
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
