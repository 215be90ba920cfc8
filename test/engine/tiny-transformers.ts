/**
 * The two tiny reference transformers of test/fixtures/engine/, written with lethe tensor ops only
 * (no nn modules), so the parity tests exercise the engine and nothing else. Not a test file.
 * Promise: the same computation as gpt2_forward / llama_forward in scripts/make-fixtures.py, with
 * parameters looked up by their Hugging Face names and used in HF layout (GPT-2 Conv1D weights
 * (in, out) as x·W + b; Llama Linear weights (out, in) as x·Wᵀ).
 */
import {
  add,
  arange,
  attention,
  gather,
  gelu,
  layerNorm,
  matmul,
  mul,
  permute,
  reshape,
  rmsNorm,
  rope,
  ropeTables,
  silu,
  slice,
  type Tensor,
} from '../../src/tensor/index.ts';

export type Params = Record<string, Tensor>;

function param(p: Params, name: string): Tensor {
  const t = p[name];
  if (!t) throw new Error(`missing parameter ${name}`);
  return t;
}

/** (B, T, NH·HS) -> (B, NH, T, HS) */
function splitHeads(x: Tensor, NH: number): Tensor {
  const [B, T, C] = x.shape;
  return permute(reshape(x, [B, T, NH, C / NH]), [0, 2, 1, 3]);
}

/** (B, NH, T, HS) -> (B, T, NH·HS) */
function mergeHeads(y: Tensor): Tensor {
  const [B, NH, T, HS] = y.shape;
  return reshape(permute(y, [0, 2, 1, 3]), [B, T, NH * HS]);
}

export interface Gpt2Config {
  n_embd: number;
  n_head: number;
  n_layer: number;
  layer_norm_epsilon: number;
}

/** GPT-2: ids (B, T) int32 -> logits (B, T, V). */
export function gpt2Forward(p: Params, cfg: Gpt2Config, ids: Tensor): Tensor {
  const [, T] = ids.shape;
  const C = cfg.n_embd;
  const eps = cfg.layer_norm_epsilon;
  const wte = param(p, 'transformer.wte.weight'); // (V, C)
  const pos = gather(param(p, 'transformer.wpe.weight'), arange(0, T)); // (T, C)
  let x = add(gather(wte, ids), pos); // (B, T, C)
  for (let i = 0; i < cfg.n_layer; i++) {
    const w = (name: string) => param(p, `transformer.h.${i}.${name}`);
    let h = layerNorm(x, w('ln_1.weight'), w('ln_1.bias'), eps);
    const qkv = add(matmul(h, w('attn.c_attn.weight')), w('attn.c_attn.bias')); // (B, T, 3C)
    const q = splitHeads(slice(qkv, -1, 0, C), cfg.n_head); // (B, NH, T, HS)
    const k = splitHeads(slice(qkv, -1, C, 2 * C), cfg.n_head);
    const v = splitHeads(slice(qkv, -1, 2 * C, 3 * C), cfg.n_head);
    const y = mergeHeads(attention(q, k, v, { causal: true })); // (B, T, C)
    x = add(x, add(matmul(y, w('attn.c_proj.weight')), w('attn.c_proj.bias')));
    h = layerNorm(x, w('ln_2.weight'), w('ln_2.bias'), eps);
    h = gelu(add(matmul(h, w('mlp.c_fc.weight')), w('mlp.c_fc.bias')), 'tanh'); // (B, T, 4C)
    x = add(x, add(matmul(h, w('mlp.c_proj.weight')), w('mlp.c_proj.bias')));
  }
  x = layerNorm(x, param(p, 'transformer.ln_f.weight'), param(p, 'transformer.ln_f.bias'), eps);
  return matmul(x, wte, { transB: true }); // (B, T, V): the head is tied to wte
}

export interface LlamaConfig {
  hidden_size: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  num_hidden_layers: number;
  rms_norm_eps: number;
  rope_theta: number;
}

/** Llama: ids (B, T) int32 -> logits (B, T, V). */
export function llamaForward(p: Params, cfg: LlamaConfig, ids: Tensor): Tensor {
  const [, T] = ids.shape;
  const NH = cfg.num_attention_heads;
  const NKV = cfg.num_key_value_heads;
  const HS = cfg.hidden_size / NH;
  const eps = cfg.rms_norm_eps;
  const tables = ropeTables(
    Array.from({ length: T }, (_, t) => t),
    HS,
    cfg.rope_theta,
  );
  const linear = (x: Tensor, weight: Tensor) => matmul(x, weight, { transB: true });
  let x = gather(param(p, 'model.embed_tokens.weight'), ids); // (B, T, C)
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const w = (name: string) => param(p, `model.layers.${i}.${name}`);
    let h = rmsNorm(x, w('input_layernorm.weight'), eps);
    const q = rope(splitHeads(linear(h, w('self_attn.q_proj.weight')), NH), tables); // (B, NH, T, HS)
    const k = rope(splitHeads(linear(h, w('self_attn.k_proj.weight')), NKV), tables); // (B, NKV, T, HS)
    const v = splitHeads(linear(h, w('self_attn.v_proj.weight')), NKV);
    const y = mergeHeads(attention(q, k, v, { causal: true })); // (B, T, C); GQA inside attention
    x = add(x, linear(y, w('self_attn.o_proj.weight')));
    h = rmsNorm(x, w('post_attention_layernorm.weight'), eps);
    const gated = mul(silu(linear(h, w('mlp.gate_proj.weight'))), linear(h, w('mlp.up_proj.weight'))); // (B, T, I)
    x = add(x, linear(gated, w('mlp.down_proj.weight')));
  }
  x = rmsNorm(x, param(p, 'model.norm.weight'), eps);
  return linear(x, param(p, 'lm_head.weight')); // (B, T, V)
}
