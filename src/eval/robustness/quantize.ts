/**
 * Quantisation attack: re-evaluate an unlearned model after its weights are fake-quantised to
 * int8 or int4 (rounded to an integer grid, then de-quantised back to float32). Unlearning that
 * only nudges weights by less than a quantisation step can be undone by the rounding a deployment
 * applies anyway (Zhang et al. 2410.16454), so a forget metric that recovers here is not robust.
 *
 * What is quantised: the weight of every linear map (lethe's Linear, stored (out, in); GPT-2's
 * Conv1D, stored (in, out)) and every embedding table (rows are tokens or positions; a tied LM
 * head is the same tensor and is quantised once). Biases, LayerNorm/RMSNorm parameters and LoRA
 * adapter matrices stay float32 — the usual weight-only scheme (LLM.int8, GPTQ, AWQ), where these
 * small vectors are kept in high precision; merge LoRA adapters first to quantise them.
 *
 * The grid (b bits, round to nearest, ties to even as torch.round / fake_quantize do):
 * - symmetric (default): scale s = max|w| / (2^(b−1) − 1), q = clamp(round(w/s), −(2^(b−1)−1),
 *   2^(b−1)−1), ŵ = q·s. The range is restricted (−127…127 for int8) so it is symmetric about 0.
 * - asymmetric: the range [min(w, 0), max(w, 0)] (0 included so it stays exact) is cut into
 *   2^b − 1 steps, s = (hi − lo)/(2^b − 1), zero point z = clamp(round(−lo/s), 0, 2^b − 1),
 *   q = clamp(round(w/s) + z, 0, 2^b − 1), ŵ = (q − z)·s.
 * Per-channel (default) takes one scale per output channel: a row of a Linear weight, a column of
 * a Conv1D weight, a row of an embedding table (for a tied head that row is also the output
 * logit's channel). Per-tensor takes one scale for the whole matrix. Scales are rounded to
 * float32, as stored by real int8 formats, before they are used. A channel of zeros gets scale 0
 * and stays zero. In exact arithmetic |w − ŵ| ≤ s/2 for every element; the float32 result adds at
 * most one float32 rounding of ŵ.
 */
import { ConfigError, NumericError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { cloneModel } from '../../models/registry.ts';
import { Embedding } from '../../nn/layers.ts';
import type { Tensor } from '../../tensor/index.ts';

export interface QuantizeOptions {
  bits: 8 | 4;
  /** One scale per output channel (default) or one per weight matrix. */
  granularity?: 'per-channel' | 'per-tensor';
  /** Symmetric grid around 0 (default true); false gives an affine grid with a zero point. */
  symmetric?: boolean;
  /** Weights whose full name matches stay float32 (e.g. /wpe/ to keep position embeddings). */
  exclude?: RegExp;
}

/** One weight matrix the attack quantises. */
export interface QuantizableWeight {
  /** Full parameter name, as in namedParameters(). */
  name: string;
  tensor: Tensor;
  /** Axis of the output channels: 0 = rows (Linear, Embedding), 1 = columns (Conv1D). */
  channelAxis: 0 | 1;
}

export interface QuantizedValues {
  /** De-quantised values ŵ, float32, same layout as the input. */
  values: Float32Array;
  /** The integer codes q (before subtracting the zero point). */
  codes: Int32Array;
  /** Scale per channel (one entry for per-tensor). */
  scales: Float32Array;
  /** Zero point per channel (all 0 when symmetric). */
  zeroPoints: Int32Array;
}

/** Round half to even (banker's rounding), as torch.round and the fake-quantise kernels do. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends .5 up; step back when that landed on an odd integer.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const clamp = (x: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, x));

function checkOptions(o: QuantizeOptions): void {
  if (o.bits !== 8 && o.bits !== 4) {
    throw new ConfigError('invalid quantisation option', {
      where: 'bits',
      expected: '8 or 4',
      found: String(o.bits),
    });
  }
  const g = o.granularity ?? 'per-channel';
  if (g !== 'per-channel' && g !== 'per-tensor') {
    throw new ConfigError('invalid quantisation option', {
      where: 'granularity',
      expected: "'per-channel' or 'per-tensor'",
      found: String(g),
    });
  }
}

/**
 * Fake-quantise a (rows, cols) matrix. With per-channel granularity the channels run along
 * `channelAxis` (0: each row is a channel; 1: each column is).
 */
export function quantizeMatrix(
  w: Float32Array,
  rows: number,
  cols: number,
  channelAxis: 0 | 1,
  opts: QuantizeOptions,
): QuantizedValues {
  checkOptions(opts);
  if (w.length !== rows * cols) {
    throw new ConfigError('quantizeMatrix: data does not match its shape', {
      expected: `${rows}·${cols} = ${rows * cols} values`,
      found: String(w.length),
    });
  }
  const perTensor = (opts.granularity ?? 'per-channel') === 'per-tensor';
  const symmetric = opts.symmetric ?? true;
  const channels = perTensor ? 1 : channelAxis === 0 ? rows : cols;
  const channelOf = perTensor
    ? () => 0
    : channelAxis === 0
      ? (i: number) => Math.floor(i / cols)
      : (i: number) => i % cols;

  const lo = new Float64Array(channels).fill(0);
  const hi = new Float64Array(channels).fill(0);
  for (let i = 0; i < w.length; i++) {
    const x = w[i];
    if (!Number.isFinite(x)) {
      throw new NumericError(`cannot quantise a non-finite weight (${x}) at index ${i}`, {
        hint: 'the model diverged before the attack',
      });
    }
    const c = channelOf(i);
    if (x < lo[c]) lo[c] = x;
    if (x > hi[c]) hi[c] = x;
  }

  const qmax = symmetric ? 2 ** (opts.bits - 1) - 1 : 2 ** opts.bits - 1;
  const qmin = symmetric ? -qmax : 0;
  const scales = new Float32Array(channels);
  const zeroPoints = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = symmetric ? Math.max(-lo[c], hi[c]) / qmax : (hi[c] - lo[c]) / qmax;
    scales[c] = s;
    if (!symmetric && scales[c] > 0) zeroPoints[c] = clamp(roundHalfEven(-lo[c] / scales[c]), 0, qmax);
  }

  const values = new Float32Array(w.length);
  const codes = new Int32Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = channelOf(i);
    const s = scales[c];
    const z = zeroPoints[c];
    if (s === 0) {
      codes[i] = z;
      continue; // an all-zero channel stays exactly zero
    }
    const q = clamp(roundHalfEven(w[i] / s) + z, qmin, qmax);
    codes[i] = q;
    values[i] = (q - z) * s;
  }
  return { values, codes, scales, zeroPoints };
}

/**
 * The weight matrices fakeQuantize changes, in module order, each once (a tied embedding/head is
 * listed under its first name). Excluded names are left out.
 */
export function quantizableWeights(model: CausalLM, exclude?: RegExp): QuantizableWeight[] {
  const out: QuantizableWeight[] = [];
  const seen = new Set<Tensor>();
  for (const [moduleName, m] of model.namedModules()) {
    let weight: Tensor | null = null;
    let channelAxis: 0 | 1 = 0;
    if (m instanceof Embedding) weight = m.weight;
    else if ('weightLayout' in m && 'weight' in m) {
      // Linear ('out-in') and GPT-2's Conv1D ('in-out'): the adaptable linear maps.
      const layout = (m as { weightLayout: string }).weightLayout;
      weight = (m as unknown as { weight: Tensor }).weight;
      channelAxis = layout === 'in-out' ? 1 : 0;
    }
    if (!weight || seen.has(weight) || weight.ndim !== 2) continue;
    seen.add(weight);
    const name = moduleName ? `${moduleName}.weight` : 'weight';
    if (exclude?.test(name)) continue;
    out.push({ name, tensor: weight, channelAxis });
  }
  return out;
}

/**
 * A copy of `model` whose linear and embedding weights are fake-quantised (see the header); the
 * input model is not touched. Deterministic: no randomness is involved.
 */
export function fakeQuantize(model: CausalLM, opts: QuantizeOptions): CausalLM {
  checkOptions(opts);
  const copy = cloneModel(model);
  const weights = quantizableWeights(copy, opts.exclude);
  if (weights.length === 0) {
    throw new ConfigError('fakeQuantize: no linear or embedding weight to quantise', {
      where: `model ${model.modelType}`,
      hint: opts.exclude ? `the exclude pattern ${opts.exclude} matches every weight` : undefined,
    });
  }
  for (const { tensor, channelAxis } of weights) {
    const [rows, cols] = tensor.shape;
    tensor.f32.set(quantizeMatrix(tensor.f32, rows, cols, channelAxis, opts).values);
  }
  return copy;
}
