/**
 * Text generation from a causal LM: greedy or sampled (temperature, top-k, top-p, seeded),
 * batched prompts of different lengths (left padding with per-row positions and a key mask),
 * a KV cache, a new-token budget, EOS ids and stop strings.
 */
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { noGrad, Rng, Tensor } from '../tensor/index.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP?: number;
  seed?: number;
  /** Generation of a row ends after any of these ids (the id is kept in the output). */
  eosTokenIds?: readonly number[];
  /** Generation of a row ends when its decoded text contains one of these (text cut before it). */
  stopStrings?: readonly string[];
  /** Needed for stop strings and for `texts` in the result. */
  decode?: (ids: number[]) => string;
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface Generation {
  /** New token ids of each row (prompt excluded; cut before a stop string's tokens where possible). */
  tokens: number[][];
  /** Decoded new text of each row, cut at the first stop string (when decode is given). */
  texts: string[] | null;
  finishReasons: FinishReason[];
}

function checkOptions(o: GenerateOptions): void {
  const bad = (field: string, expected: string, found: unknown) => {
    throw new ConfigError('invalid generation option', { where: field, expected, found: String(found) });
  };
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    bad('maxNewTokens', 'an integer >= 0', o.maxNewTokens);
  if ((o.temperature ?? 0) < 0) bad('temperature', '>= 0', o.temperature);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0))
    bad('topK', 'an integer >= 0', o.topK);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad('topP', 'in (0, 1]', o.topP);
  if (o.stopStrings?.length && !o.decode) bad('stopStrings', 'a decode function alongside', 'none');
}

/** Pick the next token from one row of logits. */
export function sampleToken(logits: Float32Array, o: GenerateOptions, rng: Rng): number {
  const temperature = o.temperature ?? 0;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  if (o.topK && o.topK < order.length) order = order.slice(0, o.topK);
  const top = logits[order[0]];
  let probs = order.map((i) => Math.exp((logits[i] - top) / temperature));
  let total = probs.reduce((s, p) => s + p, 0);
  const topP = o.topP ?? 1;
  if (topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length && acc < topP * total) acc += probs[keep++];
    order = order.slice(0, keep);
    probs = probs.slice(0, keep);
    total = acc;
  }
  let u = rng.uniform() * total;
  for (let j = 0; j < order.length; j++) {
    u -= probs[j];
    if (u < 0) return order[j];
  }
  return order[order.length - 1];
}

/** Generate continuations of token-id prompts (each non-empty). */
export function generate(
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  opts: GenerateOptions,
): Generation {
  checkOptions(opts);
  if (prompts.some((p) => p.length === 0))
    throw new ConfigError('generate: every prompt needs at least one token');
  const B = prompts.length;
  const rng = new Rng(opts.seed ?? 0);
  const eos = new Set(opts.eosTokenIds ?? []);
  const tokens: number[][] = prompts.map(() => []);
  const reasons: (FinishReason | null)[] = prompts.map(() => null);
  const texts: string[] = prompts.map(() => '');
  if (B === 0 || opts.maxNewTokens === 0) {
    return { tokens, texts: opts.decode ? texts : null, finishReasons: prompts.map(() => 'length') };
  }
  const maxLen = Math.max(...prompts.map((p) => p.length));
  const pad = prompts.map((p) => maxLen - p.length);
  const lastPos = prompts.map((p) => p.length - 1);

  noGrad(() => {
    const cache = model.newCache();
    // Prefill: left-padded prompts, pads masked out as keys, positions restarting at each row's first token.
    const ids = new Int32Array(B * maxLen);
    const positions = new Int32Array(B * maxLen);
    prompts.forEach((p, b) => {
      for (let t = 0; t < maxLen; t++) {
        ids[b * maxLen + t] = t < pad[b] ? p[0] : p[t - pad[b]];
        positions[b * maxLen + t] = Math.max(0, t - pad[b]);
      }
    });
    const keyMask = (tq: number, tk: number) => {
      if (pad.every((n) => n === 0)) return null;
      const m = new Float32Array(B * tq * tk);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < tq; i++) m.fill(-Infinity, (b * tq + i) * tk, (b * tq + i) * tk + pad[b]);
      return new Tensor(m, [B, 1, tq, tk]);
    };
    let logits = model.forward(new Tensor(ids, [B, maxLen]), {
      positions,
      attentionMask: keyMask(maxLen, maxLen),
      cache,
    }).logits!;
    let T = maxLen;
    const V = model.vocabSize;
    for (let step = 0; step < opts.maxNewTokens; step++) {
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (reasons[b]) continue;
        const row = logits.f32.subarray(((b + 1) * T - 1) * V, (b + 1) * T * V);
        const tok = sampleToken(row, opts, rng);
        next[b] = tok;
        tokens[b].push(tok);
        if (eos.has(tok)) reasons[b] = 'eos';
        else if (opts.stopStrings?.length) {
          const text = opts.decode!(tokens[b]);
          const at = Math.min(
            ...opts.stopStrings.map((s) => (text.includes(s) ? text.indexOf(s) : Infinity)),
          );
          if (at !== Infinity) {
            reasons[b] = 'stop';
            texts[b] = text.slice(0, at);
          }
        }
      }
      if (reasons.every((r) => r) || step === opts.maxNewTokens - 1) break;
      const stepPos = new Int32Array(B);
      for (let b = 0; b < B; b++) stepPos[b] = ++lastPos[b];
      logits = model.forward(new Tensor(next, [B, 1]), {
        positions: stepPos,
        attentionMask: keyMask(1, cache.length + 1),
        cache,
      }).logits!;
      T = 1;
    }
  });
  const finishReasons = reasons.map((r) => r ?? 'length');
  if (opts.decode) {
    tokens.forEach((t, b) => {
      if (finishReasons[b] !== 'stop') texts[b] = opts.decode!(t);
    });
  }
  return { tokens, texts: opts.decode ? texts : null, finishReasons };
}
