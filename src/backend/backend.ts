/**
 * The kernel interface every backend implements: flat arrays and integer dims in, caller-owned
 * output arrays out. Kernels never allocate results and know nothing of tensors or autograd
 * (empty/zeros, the buffer pool's allocators, are the exception that serves the tensor layer).
 *
 * Two implementations: `js` (readable reference loops, the test oracle) and `native` (the C++
 * addon; each method forwards its arguments unchanged, in the same order, to the addon export of
 * the same name). Layouts are row-major. "rows × cols" means `rows` contiguous rows of `cols`.
 * Unless a method says "accumulates", it overwrites its outputs completely.
 * Outputs never alias inputs unless a method says so.
 */

export type F32 = Float32Array;
export type I32 = Int32Array;

/** Unary ops by code (the code is the index). */
export const UNARY_OPS = [
  'neg',
  'exp',
  'log',
  'sqrt',
  'tanh',
  'relu',
  'sigmoid',
  'gelu_tanh',
  'gelu_erf',
  'silu',
  'abs',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];
export const unaryCode = (op: UnaryOp): number => UNARY_OPS.indexOf(op);

/** Binary ops by code (the code is the index). `eq`/`gt` give 1 or 0. `pow` is a^b elementwise. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'pow', 'eq', 'gt'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];
export const binaryCode = (op: BinaryOp): number => BINARY_OPS.indexOf(op);

/** Reductions by code. */
export const REDUCE_OPS = ['sum', 'max'] as const;
export type ReduceOp = (typeof REDUCE_OPS)[number];
export const reduceCode = (op: ReduceOp): number => REDUCE_OPS.indexOf(op);

/** Buffer pool accounting (bytes, and counts of reuses / fresh allocations / blocks freed). */
export interface PoolStats {
  live: number;
  cached: number;
  limit: number;
  hits: number;
  misses: number;
  evictions: number;
}

export interface Backend {
  readonly name: 'js' | 'native';

  /** Number of worker threads the backend uses (js: always 1). */
  getThreads(): number;
  /** Set the thread count (native only; js ignores). n >= 1. */
  setThreads(n: number): void;

  /**
   * A Float32Array of n elements for a kernel to overwrite completely: its contents are
   * unspecified (native: reused pool memory; js: a fresh zeroed array). The one allocating method.
   */
  empty(n: number): F32;
  /** A Float32Array of n zeros (native: reused pool memory, zero-filled). */
  zeros(n: number): F32;
  /** Bytes the buffer pool has handed out and not yet got back (`live`) and holds unused (`cached`); js: 0. */
  poolStats(): PoolStats;

  /**
   * Batched GEMM. For i in [0, batch): C_i (m×n) = op(A_i) · op(B_i)  (or C_i += … if accumulate).
   * A_i starts at a[i*strideA]; it is m×k row-major, or k×m row-major when transA (so op(A)=A^T).
   * B_i starts at b[i*strideB]; it is k×n row-major, or n×k row-major when transB.
   * C_i starts at c[i*strideC] and is m×n row-major. A stride of 0 shares one matrix over the batch.
   * k = 0 gives C = 0 (or leaves C unchanged when accumulating).
   */
  matmul(
    a: F32,
    b: F32,
    c: F32,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    strideC: number,
    accumulate: boolean,
  ): void;

  /** out[i] = f(x[i]) for i < out.length. May be called with out === x (in place). */
  unary(op: number, x: F32, out: F32): void;

  /** dx[i] = dy[i] * f'(x[i]) for i < dx.length (x is the op's input). */
  unaryBackward(op: number, x: F32, dy: F32, dx: F32): void;

  /** out[i] = x[i] * scale + shift. May be called with out === x. */
  affine(x: F32, out: F32, scale: number, shift: number): void;

  /**
   * Broadcasting binary op over an output of shape `shape` (contiguous). aStrides/bStrides give
   * each input's element stride per output dim (0 where the input is broadcast). `out` may be
   * `a` when a's strides are the contiguous strides of `shape` (in-place accumulate).
   */
  binary(op: number, a: F32, b: F32, out: F32, shape: I32, aStrides: I32, bStrides: I32): void;

  /** out = cond != 0 ? a : b, broadcast like `binary` (three stride arrays). */
  where(
    cond: F32,
    a: F32,
    b: F32,
    out: F32,
    shape: I32,
    condStrides: I32,
    aStrides: I32,
    bStrides: I32,
  ): void;

  /** Reduce the middle axis of x viewed as (outer, r, inner): out[o*inner+i] = op_j x[(o*r+j)*inner+i].
   *  sum of r=0 is 0; max of r=0 is -Infinity. NaN propagates through max. */
  reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void;

  /**
   * Strided copy: for every index tuple idx within `shape`,
   *   dst[dstOffset + Σ idx_d*dstStrides_d] (+)= src[srcOffset + Σ idx_d*srcStrides_d].
   * Covers permute, slice (and its backward), concat, broadcast expansion (src stride 0).
   * With accumulate the destination positions must be distinct (no dst stride 0).
   */
  copyStrided(
    src: F32,
    srcOffset: number,
    srcStrides: I32,
    dst: F32,
    dstOffset: number,
    dstStrides: I32,
    shape: I32,
    accumulate: boolean,
  ): void;

  /** out (n×cols) row i = table row idx[i]; n = idx.length. Indices are pre-checked in range. */
  gather(table: F32, idx: I32, out: F32, cols: number): void;

  /** dst row idx[i] += src row i, for i < idx.length (rows of `cols`). Deterministic order. */
  scatterAdd(src: F32, idx: I32, dst: F32, cols: number): void;

  /** Row-wise softmax over the last axis (rows × cols). */
  softmax(x: F32, out: F32, rows: number, cols: number): void;
  /** dx = y ⊙ (dy − Σ_row dy⊙y), y the softmax output. */
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number): void;
  /** Row-wise log-softmax over the last axis. */
  logSoftmax(x: F32, out: F32, rows: number, cols: number): void;
  /** dx = dy − exp(y) ⊙ Σ_row dy, y the log-softmax output. */
  logSoftmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number): void;

  /**
   * Cross-entropy per row of logits (rows × cols) against integer targets:
   *   losses[i] = lse_i − logits[i, t_i], lse_i = log Σ_j exp(logits[i, j]);
   * rows whose target equals ignoreIndex get loss 0 (lse is still written).
   */
  crossEntropy(
    logits: F32,
    targets: I32,
    losses: F32,
    lse: F32,
    rows: number,
    cols: number,
    ignoreIndex: number,
  ): void;
  /** dLogits[i, j] = dLoss[i] * (softmax_ij − [j = t_i]); ignored rows get 0. */
  crossEntropyBackward(
    logits: F32,
    targets: I32,
    lse: F32,
    dLoss: F32,
    dLogits: F32,
    rows: number,
    cols: number,
    ignoreIndex: number,
  ): void;

  /**
   * LayerNorm over the last axis: out = (x − μ)·rstd·w + b, rstd = 1/sqrt(var + eps), var biased.
   * Writes mean and rstd per row (for backward). `b` may be null (no bias).
   */
  layerNorm(
    x: F32,
    w: F32,
    b: F32 | null,
    out: F32,
    mean: F32,
    rstd: F32,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** Gradients of layerNorm. dx, dw and db (if not null) are overwritten. */
  layerNormBackward(
    dy: F32,
    x: F32,
    w: F32,
    mean: F32,
    rstd: F32,
    dx: F32,
    dw: F32,
    db: F32 | null,
    rows: number,
    cols: number,
  ): void;

  /** RMSNorm over the last axis: out = x·rstd·w, rstd = 1/sqrt(mean(x²) + eps). Writes rstd per row. */
  rmsNorm(x: F32, w: F32, out: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  /** Gradients of rmsNorm. dx and dw are overwritten. */
  rmsNormBackward(dy: F32, x: F32, w: F32, rstd: F32, dx: F32, dw: F32, rows: number, cols: number): void;

  /**
   * Rotary embedding, rotate-half form (HF Llama): x is (rows, d) with row r at position index
   * t = r % T; for i < d/2, with c = cos[t*d/2 + i], s = sin[t*d/2 + i] (negated when inverse):
   *   out[i] = x[i]·c − x[i+d/2]·s,  out[i+d/2] = x[i+d/2]·c + x[i]·s.
   * inverse = true applies the transpose rotation (the backward pass).
   */
  rope(x: F32, out: F32, cos: F32, sin: F32, rows: number, T: number, d: number, inverse: boolean): void;

  /**
   * Scaled dot-product attention for `groups` independent heads.
   * q: (groups, tq, d); k, v: (groups / kvGroup, tk, d) — query group g reads kv group floor(g / kvGroup)
   * (grouped-query attention). scores = scale · q kᵀ + mask, where mask (if not null) is an additive
   * (tq × tk) block at mask[floor(g / maskGroup) * tq * tk]. causal: query i sees keys j <= i + (tk − tq).
   * out: (groups, tq, d). lse: (groups, tq) log-sum-exp of each score row (saved for backward).
   * A row whose every key is masked gives out = 0 and lse = -Infinity.
   */
  attention(
    q: F32,
    k: F32,
    v: F32,
    mask: F32 | null,
    out: F32,
    lse: F32,
    groups: number,
    tq: number,
    tk: number,
    d: number,
    scale: number,
    causal: boolean,
    maskGroup: number,
    kvGroup: number,
  ): void;
  /** Gradients of attention; dq, dk, dv are overwritten (dk, dv summed over the kv group's queries). */
  attentionBackward(
    q: F32,
    k: F32,
    v: F32,
    mask: F32 | null,
    out: F32,
    lse: F32,
    dout: F32,
    dq: F32,
    dk: F32,
    dv: F32,
    groups: number,
    tq: number,
    tk: number,
    d: number,
    scale: number,
    causal: boolean,
    maskGroup: number,
    kvGroup: number,
  ): void;

  /**
   * One AdamW step in place (decoupled weight decay, PyTorch semantics), step >= 1:
   *   p ← p − lr·wd·p;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
   *   p ← p − lr · (m / (1−β1^step)) / (sqrt(v / (1−β2^step)) + eps).
   */
  adamw(
    p: F32,
    g: F32,
    m: F32,
    v: F32,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
  ): void;

  /** Σ x[i]² accumulated in double precision (for global gradient norms). */
  sumSquares(x: F32): number;
}
