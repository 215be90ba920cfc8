/**
 * Matching a model's parameters to the tensors of an HF checkpoint: name normalisation (each
 * rename is listed by the model), buffers to ignore, tied weights, and a check of the key set and
 * every shape before anything is written, with errors naming the file and tensor.
 */
import { CheckpointError } from '../errors.ts';
import type { Module } from '../nn/module.ts';

export interface HFTensor {
  data: Float32Array | Int32Array;
  shape: readonly number[];
  /** The stored dtype (F32, F16, BF16, I32, …) when read from a file. */
  dtype?: string;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export interface WeightMapping {
  /** Checkpoint name → model name (e.g. GPT-2 files saved without the "transformer." prefix). */
  rename?: (checkpointName: string) => string;
  /** Checkpoint tensors that are not parameters (causal-mask buffers and the like). */
  ignore?: RegExp;
  /** Model parameter names that may be absent from the file (a tied head). */
  optional?: ReadonlySet<string>;
}

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

export function loadHFWeights(
  model: Module,
  tensors: ReadonlyMap<string, HFTensor>,
  file: string,
  map: WeightMapping = {},
): void {
  const byName = new Map<string, HFTensor>();
  const sourceName = new Map<string, string>();
  for (const [raw, t] of tensors) {
    if (map.ignore?.test(raw)) continue;
    const name = map.rename ? map.rename(raw) : raw;
    const earlier = sourceName.get(name);
    if (earlier !== undefined) {
      throw new CheckpointError(`two tensors, ${earlier} and ${raw}, are the same parameter ${name}`, {
        where: file,
        hint: 'the checkpoint mixes two naming schemes; keep one',
      });
    }
    if (t.dtype !== undefined && !FLOAT_DTYPES.has(t.dtype)) {
      throw new CheckpointError(`tensor ${raw} is stored as ${t.dtype}`, {
        where: file,
        expected: 'F32, F16 or BF16 weights',
      });
    }
    byName.set(name, t);
    sourceName.set(name, raw);
  }
  const params = model.namedParameters();
  const known = new Set(params.map(([n]) => n));
  const missing = params.filter(([n]) => !byName.has(n) && !map.optional?.has(n)).map(([n]) => n);
  const unexpected = [...byName.keys()].filter((n) => !known.has(n)).map((n) => sourceName.get(n) ?? n);
  const wrong: string[] = [];
  for (const [n, p] of params) {
    const t = byName.get(n);
    if (t && (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i]))) {
      wrong.push(`${n}: expected ${shapeStr(p.shape)}, found ${shapeStr(t.shape)}`);
    }
  }
  if (missing.length + unexpected.length + wrong.length > 0) {
    const list = (xs: string[]) =>
      xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, … (${xs.length - 8} more)` : xs.join(', ');
    const found = [
      missing.length ? `missing tensors: ${list(missing)}` : '',
      unexpected.length ? `unexpected tensors: ${list(unexpected)}` : '',
      wrong.length ? `wrong shapes: ${list(wrong)}` : '',
    ].filter(Boolean);
    throw new CheckpointError('checkpoint does not match the model built from config.json', {
      where: file,
      found: found.join('; '),
      hint: 'check that config.json belongs to these weights',
    });
  }
  for (const [n, p] of params) {
    const t = byName.get(n);
    if (t) p.f32.set(t.data as Float32Array);
  }
}
