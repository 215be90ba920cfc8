#!/usr/bin/python3
"""
Hugging Face model-folder fixtures for lethe's model code (a dev-only oracle: lethe never needs Python).

Run:  /usr/bin/python3 scripts/make-model-fixtures.py      (Debian python3-torch 1.13)
Writes test/fixtures/models/<name>/{config.json, model.safetensors, expected.json}; read by
src/models/parity.test.ts (logits, loss, gradients) and src/models/checkpoint.test.ts (save/load).

Neither `transformers` nor `safetensors` is available here, so this file carries its own copies:
- The models are written as torch modules that follow the Hugging Face definitions
  (GPT2LMHeadModel, LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM): the same module tree,
  so state_dict() yields the real checkpoint keys; GPT-2's Conv1D with (in, out) weights and
  gelu_new; Llama's RMSNorm, rotate-half RoPE with rope_theta (inv_freq and angles in float32, as
  HF computes them), SwiGLU, grouped-query attention via repeat_kv, tied or untied head; qwen2's
  q/k/v biases; an explicit head_dim (mistral). GPTNeoXForCausalLM (Pythia: fused query_key_value
  interleaved per head as [q|k|v] per head, rotary on rotary_pct of each head, parallel or sequential
  residual, untied embed_out), PhiForCausalLM (parallel attention + MLP from one input_layernorm,
  partial rotary, q/k/v/dense and fc1/fc2 with biases, lm_head with bias) and GPTNeoForCausalLM
  (global/local layers with HF's banded bool mask of window_size, no 1/sqrt(d) scaling, nn.Linear
  q/k/v without bias). Activations by config name as transformers' ACT2FN. Deliberate differences, none of which changes the
  function computed: dropout is left out (the fixtures are eval-mode), and HF's float32 upcasts
  inside RMSNorm and softmax are left out so that a float64 run stays float64 throughout.
- Config files imitate what each transformers version writes: Pythia's 4.24 config (rotary_pct,
  rotary_emb_base, torch_dtype), a 5.x GPT-NeoX config (dtype, rope_parameters), Phi-1.5's and
  GPT-Neo-125M's. Some folders also store the non-weight buffers released checkpoints carry
  (causal-mask `bias` as BOOL, `masked_bias`, `rotary_emb.inv_freq` as F16/F32).
- safetensors is written by hand: u64 LE header length, a JSON header {name: {dtype, shape,
  data_offsets}} with "__metadata__": {"format": "pt"} first, padded with spaces to 8 bytes, then
  the little-endian data. A tied LM head is not stored (as save_pretrained does).

Promises
- Deterministic: each folder draws from its own torch.manual_seed; re-running rewrites
  byte-identical files (same torch build).
- Weights are float32 values drawn N(0, 0.2) (norm weights 1 + N(0, 0.2)); the half-precision
  folders store them rounded to BF16 / F16 (round to nearest even), and their expected values are
  computed from exactly those rounded values, so a float32 engine loading the file sees the same
  model as the reference.
- Expected outputs are computed by these modules in float64 and rounded to float32: the true
  values to float32 precision. `torch_f32_error` records how far torch's own float32 run lands
  from them (max abs error / max |reference|), a yardstick for test tolerances.
- loss = mean cross-entropy of logits (B, T, V) against `targets` (B, T) (no shift: targets are
  given per position), one target is -100 (ignored: excluded from the mean and the gradient).
  grads = d loss / d parameter for every parameter, keyed by the HF name lethe uses (for the
  original-naming GPT-2 folder too: "transformer.h.0..."); a tied head's gradient is part of the
  embedding's. The F16/BF16 folders record logits and loss only (no grads).

expected.json encoding (as the engine fixtures): a tensor is {"shape", "dtype": "float32" |
"int32", "data": base64 of the row-major little-endian bytes}; scalars are plain JSON numbers.
"""
import base64
import copy
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT_DIR = os.path.join(ROOT, 'test', 'fixtures', 'models')
TRANSFORMERS_VERSION = '4.44.2'  # the version whose config.json layout these configs imitate
B, T = 2, 7
STD = 0.2


# ---------------------------------------------------------------------------------------------
# GPT-2 (transformers/models/gpt2/modeling_gpt2.py, eager attention)

class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored (in, out); y = x·W + b."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.reshape(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


GPT2_ACT = {'gelu_new': gelu_new, 'gelu_pytorch_tanh': gelu_new, 'gelu': F.gelu}


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        n = cfg['n_positions']
        self.register_buffer('bias', torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n),
                             persistent=False)
        self.embed_dim = cfg['n_embd']
        self.num_heads = cfg['n_head']
        self.head_dim = self.embed_dim // self.num_heads
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)

    def _split_heads(self, x):
        return x.view(x.size()[:-1] + (self.num_heads, self.head_dim)).permute(0, 2, 1, 3)  # (B, NH, T, HS)

    def forward(self, x):
        q, k, v = self.c_attn(x).split(self.embed_dim, dim=2)
        q, k, v = self._split_heads(q), self._split_heads(k), self._split_heads(v)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5, dtype=q.dtype)
        ql, kl = q.size(-2), k.size(-2)
        causal = self.bias[:, :, kl - ql:kl, :kl]
        w = torch.where(causal, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        y = torch.matmul(torch.softmax(w, dim=-1), v)  # (B, NH, T, HS)
        y = y.permute(0, 2, 1, 3).contiguous()
        return self.c_proj(y.view(y.size()[:-2] + (self.embed_dim,)))


class GPT2MLP(nn.Module):
    def __init__(self, inner, cfg):
        super().__init__()
        self.c_fc = Conv1D(inner, cfg['n_embd'])
        self.c_proj = Conv1D(cfg['n_embd'], inner)
        self.act = GPT2_ACT[cfg['activation_function']]

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg['n_embd']
        inner = cfg['n_inner'] if cfg['n_inner'] is not None else 4 * C
        self.ln_1 = nn.LayerNorm(C, eps=cfg['layer_norm_epsilon'])
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(C, eps=cfg['layer_norm_epsilon'])
        self.mlp = GPT2MLP(inner, cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg['vocab_size'], cfg['n_embd'])
        self.wpe = nn.Embedding(cfg['n_positions'], cfg['n_embd'])
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(cfg['n_layer'])])
        self.ln_f = nn.LayerNorm(cfg['n_embd'], eps=cfg['layer_norm_epsilon'])

    def forward(self, ids):
        pos = torch.arange(ids.shape[-1], dtype=torch.long).unsqueeze(0)
        x = self.wte(ids) + self.wpe(pos)  # (B, T, C)
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg['n_embd'], cfg['vocab_size'], bias=False)
        if cfg.get('tie_word_embeddings', True):
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids):
        return self.lm_head(self.transformer(ids))  # (B, T, V)


# ---------------------------------------------------------------------------------------------
# Llama family (modeling_llama.py; mistral and qwen2 differ only in the biases and config)

class RMSNorm(nn.Module):
    def __init__(self, C, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(C))
        self.variance_epsilon = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.variance_epsilon))


class RotaryEmbedding(nn.Module):
    def __init__(self, dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        self.register_buffer('inv_freq', inv_freq, persistent=False)

    def forward(self, x, position_ids):
        # float32 angles as HF computes them; cos/sin taken in the working dtype.
        freqs = (self.inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1).to(x.dtype)  # (B, T, HS)
        return emb.cos(), emb.sin()


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin


def repeat_kv(x, n_rep):
    b, nkv, slen, hd = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, nkv, n_rep, slen, hd).reshape(b, nkv * n_rep, slen, hd)


def head_dim_of(cfg):
    return cfg.get('head_dim') or cfg['hidden_size'] // cfg['num_attention_heads']


class LlamaAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, NH, NKV, HS = (cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads'],
                          head_dim_of(cfg))
        self.NH, self.NKV, self.HS = NH, NKV, HS
        qkv_bias = cfg['model_type'] == 'qwen2' or cfg.get('attention_bias', False)
        o_bias = cfg['model_type'] == 'llama' and cfg.get('attention_bias', False)
        self.q_proj = nn.Linear(C, NH * HS, bias=qkv_bias)
        self.k_proj = nn.Linear(C, NKV * HS, bias=qkv_bias)
        self.v_proj = nn.Linear(C, NKV * HS, bias=qkv_bias)
        self.o_proj = nn.Linear(NH * HS, C, bias=o_bias)

    def forward(self, x, cos, sin):
        Bx, Tx, _ = x.shape
        q = self.q_proj(x).view(Bx, Tx, self.NH, self.HS).transpose(1, 2)  # (B, NH, T, HS)
        k = self.k_proj(x).view(Bx, Tx, self.NKV, self.HS).transpose(1, 2)  # (B, NKV, T, HS)
        v = self.v_proj(x).view(Bx, Tx, self.NKV, self.HS).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k = repeat_kv(k, self.NH // self.NKV)
        v = repeat_kv(v, self.NH // self.NKV)
        w = torch.matmul(q, k.transpose(2, 3)) * self.HS ** -0.5
        mask = torch.full((Tx, Tx), torch.finfo(w.dtype).min, dtype=w.dtype).triu(1)
        w = torch.softmax(w + mask, dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).reshape(Bx, Tx, self.NH * self.HS)
        return self.o_proj(y)


class LlamaMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, I = cfg['hidden_size'], cfg['intermediate_size']
        bias = cfg['model_type'] == 'llama' and cfg.get('mlp_bias', False)
        self.gate_proj = nn.Linear(C, I, bias=bias)
        self.up_proj = nn.Linear(C, I, bias=bias)
        self.down_proj = nn.Linear(I, C, bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = LlamaAttention(cfg)
        self.mlp = LlamaMLP(cfg)
        self.input_layernorm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])
        self.post_attention_layernorm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.layers = nn.ModuleList([LlamaDecoderLayer(cfg) for _ in range(cfg['num_hidden_layers'])])
        self.norm = RMSNorm(cfg['hidden_size'], cfg['rms_norm_eps'])
        self.rotary_emb = RotaryEmbedding(head_dim_of(cfg), cfg['rope_theta'])

    def forward(self, ids):
        x = self.embed_tokens(ids)  # (B, T, C)
        pos = torch.arange(ids.shape[-1], dtype=torch.long).unsqueeze(0)
        cos, sin = self.rotary_emb(x, pos)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg['hidden_size'], cfg['vocab_size'], bias=False)
        if cfg.get('tie_word_embeddings', False):
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, ids):
        return self.lm_head(self.model(ids))  # (B, T, V)


# ---------------------------------------------------------------------------------------------
# Activations by config name (transformers/activations.py ACT2FN)

def gelu_fast(x):
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


ACT2FN = {'gelu': F.gelu, 'gelu_new': gelu_new, 'gelu_pytorch_tanh': gelu_new, 'gelu_fast': gelu_fast,
          'relu': F.relu, 'silu': F.silu, 'quick_gelu': lambda x: x * torch.sigmoid(1.702 * x)}


def causal_mask(Tx, dtype):
    return torch.full((Tx, Tx), torch.finfo(dtype).min, dtype=dtype).triu(1)


def rope_partial(q, k, cos, sin, rot):
    """Rotate the first `rot` channels of each head (rotate-half form), pass the rest through."""
    q_rot, q_pass = q[..., :rot], q[..., rot:]
    k_rot, k_pass = k[..., :rot], k[..., rot:]
    q_emb, k_emb = apply_rotary_pos_emb(q_rot, k_rot, cos, sin)
    return torch.cat((q_emb, q_pass), dim=-1), torch.cat((k_emb, k_pass), dim=-1)


# ---------------------------------------------------------------------------------------------
# GPT-NeoX / Pythia (transformers/models/gpt_neox/modeling_gpt_neox.py, eager attention)

def neox_rope(cfg):
    """(theta, fraction) from whichever fields this config version carries."""
    rp = cfg.get('rope_parameters') or {}
    theta = cfg.get('rotary_emb_base', cfg.get('rope_theta', rp.get('rope_theta', 10000)))
    frac = cfg.get('rotary_pct', cfg.get('partial_rotary_factor', rp.get('partial_rotary_factor', 0.25)))
    return theta, frac


class GPTNeoXAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, NH = cfg['hidden_size'], cfg['num_attention_heads']
        self.NH, self.HS = NH, C // NH
        theta, frac = neox_rope(cfg)
        self.rot = int(self.HS * frac)
        bias = cfg.get('attention_bias', True)
        self.rotary_emb = RotaryEmbedding(self.rot, theta)
        self.query_key_value = nn.Linear(C, 3 * C, bias=bias)
        self.dense = nn.Linear(C, C, bias=bias)

    def forward(self, x, pos):
        Bx, Tx, C = x.shape
        qkv = self.query_key_value(x).view(Bx, Tx, self.NH, 3 * self.HS).permute(0, 2, 1, 3)  # per head [q|k|v]
        q, k, v = qkv[..., :self.HS], qkv[..., self.HS:2 * self.HS], qkv[..., 2 * self.HS:]
        cos, sin = self.rotary_emb(v, pos)
        q, k = rope_partial(q, k, cos, sin, self.rot)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.HS)
        w = torch.softmax(w + causal_mask(Tx, w.dtype), dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).reshape(Bx, Tx, C)
        return self.dense(y)


class GPTNeoXMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(cfg['hidden_size'], cfg['intermediate_size'])
        self.dense_4h_to_h = nn.Linear(cfg['intermediate_size'], cfg['hidden_size'])
        self.act = ACT2FN[cfg['hidden_act']]

    def forward(self, x):
        return self.dense_4h_to_h(self.act(self.dense_h_to_4h(x)))


class GPTNeoXLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, eps = cfg['hidden_size'], cfg['layer_norm_eps']
        self.parallel = cfg.get('use_parallel_residual', True)
        self.input_layernorm = nn.LayerNorm(C, eps=eps)
        self.post_attention_layernorm = nn.LayerNorm(C, eps=eps)
        self.attention = GPTNeoXAttention(cfg)
        self.mlp = GPTNeoXMLP(cfg)

    def forward(self, x, pos):
        a = self.attention(self.input_layernorm(x), pos)
        if self.parallel:  # x + attn(ln1(x)) + mlp(ln2(x))
            return self.mlp(self.post_attention_layernorm(x)) + a + x
        a = a + x
        return self.mlp(self.post_attention_layernorm(a)) + a


class GPTNeoXModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_in = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.layers = nn.ModuleList([GPTNeoXLayer(cfg) for _ in range(cfg['num_hidden_layers'])])
        self.final_layer_norm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])

    def forward(self, ids):
        x = self.embed_in(ids)
        pos = torch.arange(ids.shape[-1], dtype=torch.long).unsqueeze(0)
        for layer in self.layers:
            x = layer(x, pos)
        return self.final_layer_norm(x)


class GPTNeoXForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gpt_neox = GPTNeoXModel(cfg)
        self.embed_out = nn.Linear(cfg['hidden_size'], cfg['vocab_size'], bias=False)

    def forward(self, ids):
        return self.embed_out(self.gpt_neox(ids))


# ---------------------------------------------------------------------------------------------
# Phi (transformers/models/phi/modeling_phi.py: Phi-1.5 / Phi-2, eager attention, qk_layernorm off)

class PhiAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C, NH = cfg['hidden_size'], cfg['num_attention_heads']
        NKV = cfg.get('num_key_value_heads') or NH
        self.NH, self.NKV, self.HS = NH, NKV, C // NH
        self.rot = int(cfg['partial_rotary_factor'] * self.HS)
        self.q_proj = nn.Linear(C, NH * self.HS)
        self.k_proj = nn.Linear(C, NKV * self.HS)
        self.v_proj = nn.Linear(C, NKV * self.HS)
        self.dense = nn.Linear(NH * self.HS, C)
        self.rotary_emb = RotaryEmbedding(self.rot, cfg['rope_theta'])

    def forward(self, x, pos):
        Bx, Tx, _ = x.shape
        q = self.q_proj(x).view(Bx, Tx, self.NH, self.HS).transpose(1, 2)
        k = self.k_proj(x).view(Bx, Tx, self.NKV, self.HS).transpose(1, 2)
        v = self.v_proj(x).view(Bx, Tx, self.NKV, self.HS).transpose(1, 2)
        cos, sin = self.rotary_emb(v, pos)
        q, k = rope_partial(q, k, cos, sin, self.rot)
        k = repeat_kv(k, self.NH // self.NKV)
        v = repeat_kv(v, self.NH // self.NKV)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.HS)
        w = torch.softmax(w + causal_mask(Tx, w.dtype), dim=-1)
        y = torch.matmul(w, v).transpose(1, 2).reshape(Bx, Tx, self.NH * self.HS)
        return self.dense(y)


class PhiMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc1 = nn.Linear(cfg['hidden_size'], cfg['intermediate_size'])
        self.fc2 = nn.Linear(cfg['intermediate_size'], cfg['hidden_size'])
        self.act = ACT2FN[cfg['hidden_act']]

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class PhiDecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self_attn = PhiAttention(cfg)
        self.mlp = PhiMLP(cfg)
        self.input_layernorm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])

    def forward(self, x, pos):
        h = self.input_layernorm(x)
        return self.self_attn(h, pos) + self.mlp(h) + x


class PhiModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.layers = nn.ModuleList([PhiDecoderLayer(cfg) for _ in range(cfg['num_hidden_layers'])])
        self.final_layernorm = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_eps'])

    def forward(self, ids):
        x = self.embed_tokens(ids)
        pos = torch.arange(ids.shape[-1], dtype=torch.long).unsqueeze(0)
        for layer in self.layers:
            x = layer(x, pos)
        return self.final_layernorm(x)


class PhiForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.model = PhiModel(cfg)
        self.lm_head = nn.Linear(cfg['hidden_size'], cfg['vocab_size'], bias=True)

    def forward(self, ids):
        return self.lm_head(self.model(ids))


# ---------------------------------------------------------------------------------------------
# GPT-Neo (transformers/models/gpt_neo/modeling_gpt_neo.py, eager attention)

class GPTNeoSelfAttention(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        n = cfg['max_position_embeddings']
        bias = torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n)
        if kind == 'local':  # also forget keys window_size or more tokens back
            bias = torch.bitwise_xor(bias, torch.tril(bias, -cfg['window_size']))
        self.register_buffer('bias', bias, persistent=False)
        C, NH = cfg['hidden_size'], cfg['num_heads']
        self.NH, self.HS = NH, C // NH
        self.k_proj = nn.Linear(C, C, bias=False)
        self.v_proj = nn.Linear(C, C, bias=False)
        self.q_proj = nn.Linear(C, C, bias=False)
        self.out_proj = nn.Linear(C, C, bias=True)

    def forward(self, x):
        Bx, Tx, C = x.shape
        heads = lambda t: t.view(Bx, Tx, self.NH, self.HS).permute(0, 2, 1, 3)
        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        w = torch.matmul(q, k.transpose(-1, -2))  # no 1/sqrt(d) scaling in GPT-Neo
        m = self.bias[:, :, :Tx, :Tx]
        w = torch.where(m, w, torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype))
        y = torch.matmul(torch.softmax(w, dim=-1), v).permute(0, 2, 1, 3).reshape(Bx, Tx, C)
        return self.out_proj(y)


class GPTNeoAttention(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        self.attention = GPTNeoSelfAttention(cfg, kind)

    def forward(self, x):
        return self.attention(x)


class GPTNeoMLP(nn.Module):
    def __init__(self, inner, cfg):
        super().__init__()
        self.c_fc = nn.Linear(cfg['hidden_size'], inner)
        self.c_proj = nn.Linear(inner, cfg['hidden_size'])
        self.act = ACT2FN[cfg['activation_function']]

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class GPTNeoBlock(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        C = cfg['hidden_size']
        inner = cfg['intermediate_size'] if cfg['intermediate_size'] is not None else 4 * C
        self.ln_1 = nn.LayerNorm(C, eps=cfg['layer_norm_epsilon'])
        self.attn = GPTNeoAttention(cfg, kind)
        self.ln_2 = nn.LayerNorm(C, eps=cfg['layer_norm_epsilon'])
        self.mlp = GPTNeoMLP(inner, cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPTNeoModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg['vocab_size'], cfg['hidden_size'])
        self.wpe = nn.Embedding(cfg['max_position_embeddings'], cfg['hidden_size'])
        self.h = nn.ModuleList([GPTNeoBlock(cfg, kind) for kind in cfg['attention_layers']])
        self.ln_f = nn.LayerNorm(cfg['hidden_size'], eps=cfg['layer_norm_epsilon'])

    def forward(self, ids):
        pos = torch.arange(ids.shape[-1], dtype=torch.long).unsqueeze(0)
        x = self.wte(ids) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.ln_f(x)


class GPTNeoForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = GPTNeoModel(cfg)
        self.lm_head = nn.Linear(cfg['hidden_size'], cfg['vocab_size'], bias=False)
        if cfg.get('tie_word_embeddings', True):
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, ids):
        return self.lm_head(self.transformer(ids))


# ---------------------------------------------------------------------------------------------
# configs: the fields transformers writes for each model_type (sorted keys, indent 2, as HF)

def gpt2_config(**over):
    cfg = {
        'activation_function': 'gelu_new', 'architectures': ['GPT2LMHeadModel'], 'attn_pdrop': 0.1,
        'bos_token_id': 0, 'embd_pdrop': 0.1, 'eos_token_id': 0, 'initializer_range': 0.02,
        'layer_norm_epsilon': 1e-05, 'model_type': 'gpt2', 'n_ctx': 11, 'n_embd': 16, 'n_head': 2,
        'n_inner': None, 'n_layer': 2, 'n_positions': 11, 'reorder_and_upcast_attn': False,
        'resid_pdrop': 0.1, 'scale_attn_by_inverse_layer_idx': False, 'scale_attn_weights': True,
        'summary_activation': None, 'summary_first_dropout': 0.1, 'summary_proj_to_labels': True,
        'summary_type': 'cls_index', 'summary_use_proj': True, 'torch_dtype': 'float32',
        'transformers_version': TRANSFORMERS_VERSION, 'use_cache': True, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def llama_config(**over):
    cfg = {
        'architectures': ['LlamaForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
        'bos_token_id': 1, 'eos_token_id': 2, 'hidden_act': 'silu', 'hidden_size': 16,
        'initializer_range': 0.02, 'intermediate_size': 24, 'max_position_embeddings': 32,
        'mlp_bias': False, 'model_type': 'llama', 'num_attention_heads': 4, 'num_hidden_layers': 2,
        'num_key_value_heads': 2, 'pretraining_tp': 1, 'rms_norm_eps': 1e-06, 'rope_scaling': None,
        'rope_theta': 10000.0, 'tie_word_embeddings': False, 'torch_dtype': 'float32',
        'transformers_version': TRANSFORMERS_VERSION, 'use_cache': True, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def qwen2_config(**over):
    cfg = {
        'architectures': ['Qwen2ForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': 27,
        'eos_token_id': 28, 'hidden_act': 'silu', 'hidden_size': 16, 'initializer_range': 0.02,
        'intermediate_size': 24, 'max_position_embeddings': 32, 'max_window_layers': 2,
        'model_type': 'qwen2', 'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 2,
        'rms_norm_eps': 1e-06, 'rope_scaling': None, 'rope_theta': 1000000.0, 'sliding_window': 32,
        'tie_word_embeddings': True, 'torch_dtype': 'float32', 'transformers_version': TRANSFORMERS_VERSION,
        'use_cache': True, 'use_sliding_window': False, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def mistral_config(**over):
    cfg = {
        'architectures': ['MistralForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': 1,
        'eos_token_id': 2, 'head_dim': 6, 'hidden_act': 'silu', 'hidden_size': 16,
        'initializer_range': 0.02, 'intermediate_size': 20, 'max_position_embeddings': 32,
        'model_type': 'mistral', 'num_attention_heads': 4, 'num_hidden_layers': 2, 'num_key_value_heads': 2,
        'rms_norm_eps': 1e-05, 'rope_theta': 1000000.0, 'sliding_window': 4096, 'tie_word_embeddings': False,
        'torch_dtype': 'float32', 'transformers_version': TRANSFORMERS_VERSION, 'use_cache': True,
        'vocab_size': 31,
    }
    cfg.update(over)
    return cfg


def neox_config_v4_24(**over):
    """GPT-NeoX as Pythia's config.json has it (transformers 4.24): rotary_pct, rotary_emb_base."""
    cfg = {
        'architectures': ['GPTNeoXForCausalLM'], 'bos_token_id': 0, 'eos_token_id': 0, 'hidden_act': 'gelu',
        'hidden_size': 16, 'initializer_range': 0.02, 'intermediate_size': 24, 'layer_norm_eps': 1e-05,
        'max_position_embeddings': 16, 'model_type': 'gpt_neox', 'num_attention_heads': 2,
        'num_hidden_layers': 2, 'rotary_emb_base': 10000, 'rotary_pct': 0.25, 'tie_word_embeddings': False,
        'torch_dtype': 'float16', 'transformers_version': '4.24.0', 'use_cache': True,
        'use_parallel_residual': True, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def neox_config_v5(**over):
    """GPT-NeoX as newer transformers write it: dtype, rope_parameters, attention_bias."""
    cfg = {
        'architectures': ['GPTNeoXForCausalLM'], 'attention_bias': False, 'attention_dropout': 0.0,
        'bos_token_id': 0, 'classifier_dropout': 0.1, 'dtype': 'float32', 'eos_token_id': 0,
        'hidden_act': 'relu', 'hidden_dropout': 0.0, 'hidden_size': 16, 'initializer_range': 0.02,
        'intermediate_size': 20, 'layer_norm_eps': 1e-05, 'max_position_embeddings': 16,
        'model_type': 'gpt_neox', 'num_attention_heads': 2, 'num_hidden_layers': 2,
        'rope_parameters': {'partial_rotary_factor': 0.5, 'rope_theta': 500.0, 'rope_type': 'default'},
        'tie_word_embeddings': False, 'transformers_version': '5.0.0', 'use_cache': True,
        'use_parallel_residual': False, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def phi_config(**over):
    """Phi as microsoft/phi-1_5's config.json has it (transformers 4.37)."""
    cfg = {
        'architectures': ['PhiForCausalLM'], 'attention_dropout': 0.0, 'bos_token_id': None, 'embd_pdrop': 0.0,
        'eos_token_id': None, 'hidden_act': 'gelu_new', 'hidden_size': 16, 'initializer_range': 0.02,
        'intermediate_size': 24, 'layer_norm_eps': 1e-05, 'max_position_embeddings': 16, 'model_type': 'phi',
        'num_attention_heads': 2, 'num_hidden_layers': 2, 'num_key_value_heads': None,
        'partial_rotary_factor': 0.5, 'qk_layernorm': False, 'resid_pdrop': 0.0, 'rope_scaling': None,
        'rope_theta': 10000.0, 'tie_word_embeddings': False, 'torch_dtype': 'float32',
        'transformers_version': '4.37.0', 'use_cache': True, 'vocab_size': 29,
    }
    cfg.update(over)
    return cfg


def gpt_neo_config(**over):
    """GPT-Neo as EleutherAI/gpt-neo-125M's config.json has it (both attention_types and the expanded list)."""
    cfg = {
        'activation_function': 'gelu_new', 'architectures': ['GPTNeoForCausalLM'], 'attention_dropout': 0,
        'attention_layers': ['global', 'local'], 'attention_types': [[['global', 'local'], 1]],
        'bos_token_id': 0, 'embed_dropout': 0, 'eos_token_id': 0, 'gradient_checkpointing': False,
        'hidden_size': 16, 'initializer_range': 0.02, 'intermediate_size': 24, 'layer_norm_epsilon': 1e-05,
        'max_position_embeddings': 11, 'model_type': 'gpt_neo', 'num_heads': 2, 'num_layers': 2,
        'resid_dropout': 0, 'summary_activation': None, 'summary_first_dropout': 0.1,
        'summary_proj_to_labels': True, 'summary_type': 'cls_index', 'summary_use_proj': True,
        'torch_dtype': 'float32', 'transformers_version': '4.9.0.dev0', 'use_cache': True, 'vocab_size': 29,
        'window_size': 3,
    }
    cfg.update(over)
    return cfg


# ---------------------------------------------------------------------------------------------
# encoding

def enc(t):
    """A tensor as {shape, dtype, data(base64 little-endian)}; floats are rounded to float32."""
    t = t.detach().cpu()
    if t.dtype in (torch.int32, torch.int64):
        arr, dtype = t.numpy().astype('<i4'), 'int32'
    else:
        arr, dtype = t.to(torch.float32).numpy().astype('<f4'), 'float32'
    return {'shape': list(t.shape), 'dtype': dtype, 'data': base64.b64encode(arr.tobytes()).decode('ascii')}


def f32(x):
    return float(np.float32(float(x)))


def rel_err(a, b):
    """max |a - b| / max |b| (b is the reference)."""
    a, b = a.detach().double(), b.detach().double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def tensor_bytes(t, dtype):
    """Little-endian bytes of a float32 tensor stored as dtype F32 / F16 / BF16."""
    t = t.detach().cpu().to(torch.float32).contiguous()
    if dtype == 'F32':
        return t.numpy().astype('<f4').tobytes()
    if dtype == 'F16':
        return t.numpy().astype('<f2').tobytes()
    if dtype == 'BF16':
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype('<i2').tobytes()
    if dtype == 'BOOL':
        return (t != 0).numpy().astype('u1').tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors):
    """tensors: {name: (dtype, shape, bytes)}; laid out in sorted name order."""
    header = {'__metadata__': {'format': 'pt'}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-(8 + len(text)) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_json(path, obj, **kw):
    with open(path, 'w') as f:
        json.dump(obj, f, **kw)
        f.write('\n')


# ---------------------------------------------------------------------------------------------
# fixtures

def init_weights(model):
    """N(0, STD) everywhere, 1 + N(0, STD) for norm scales; one draw per distinct parameter, in order."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            is_norm_scale = p.dim() == 1 and name.endswith('.weight')
            p.copy_((1.0 if is_norm_scale else 0.0) + STD * torch.randn(p.shape))


def run(model, ids, targets):
    """Logits, loss and {name: grad} for every distinct parameter (named_parameters dedups ties)."""
    model.zero_grad(set_to_none=True)
    logits = model(ids)
    V = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    return logits.detach(), loss.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def make_inputs(V):
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets[1, 2] = -100
    return ids, targets


def fixture(name, cls, cfg, seed, description, weight_dtype='F32', original_gpt2_names=False, buffers=None):
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    init_weights(model)
    if weight_dtype != 'F32':
        # The stored values are what the model is: round first, then compute the reference.
        half = torch.bfloat16 if weight_dtype == 'BF16' else torch.float16
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(half).to(torch.float32))
    V = cfg['vocab_size']
    ids, targets = make_inputs(V)

    ref = copy.deepcopy(model).double()  # deepcopy keeps the tie; .double() converts in place
    logits, loss, grads = run(ref, ids, targets)
    l32, loss32, g32 = run(model, ids, targets)

    tied_by_default = cls in (GPT2LMHeadModel, GPTNeoForCausalLM)
    tied_head = 'lm_head.weight' if cfg.get('tie_word_embeddings', tied_by_default) else None
    tensors = {}
    for key, t in model.state_dict().items():
        if key == tied_head:
            continue
        if original_gpt2_names:
            key = key[len('transformer.'):] if key.startswith('transformer.') else key
        tensors[key] = (weight_dtype, tuple(t.shape), tensor_bytes(t, weight_dtype))
    if original_gpt2_names:
        # Causal-mask buffers as old GPT-2 checkpoints store them (float32 tril, and a scalar).
        n = cfg['n_positions']
        for i in range(cfg['n_layer']):
            tensors[f'h.{i}.attn.bias'] = ('F32', (1, 1, n, n), tensor_bytes(torch.ones(n, n).tril(), 'F32'))
            tensors[f'h.{i}.attn.masked_bias'] = ('F32', (), tensor_bytes(torch.tensor(-1e4), 'F32'))
    # Non-parameter buffers that released checkpoints of this family carry: {name: (dtype, tensor)}.
    for key, (dtype, t) in (buffers or {}).items():
        tensors[key] = (dtype, tuple(t.shape), tensor_bytes(t, dtype))

    d = os.path.join(OUT_DIR, name)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, 'config.json'), cfg, indent=2, sort_keys=True)
    write_safetensors(os.path.join(d, 'model.safetensors'), tensors)
    write_json(os.path.join(d, 'expected.json'), {
        'description': description,
        'generator': 'scripts/make-model-fixtures.py, torch %s' % torch.__version__,
        'weights_dtype': weight_dtype,
        'inputs': {'ids': enc(ids), 'targets': enc(targets)},
        'expected': {
            'logits': enc(logits),
            'loss': f32(loss),
            # The half-precision folders test weight decoding; their gradients would add nothing
            # the F32 folders do not check, and the fixtures stay under ~400 KB without them.
            **({'grads': {k: enc(v) for k, v in grads.items()}} if weight_dtype == 'F32' else {}),
        },
        'torch_f32_error': {
            'logits': rel_err(l32, logits),
            'loss': abs(loss32.item() - loss.item()) / abs(loss.item()),
            'grads_max': max(rel_err(g32[k], grads[k]) for k in grads),
        },
    }, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f'wrote {os.path.relpath(d, ROOT)}/ ({size} bytes, {len(tensors)} tensors, {len(grads)} params)')


def neox_buffers(cfg):
    n, HS = cfg['max_position_embeddings'], cfg['hidden_size'] // cfg['num_attention_heads']
    rot = int(HS * cfg['rotary_pct'])
    inv_freq = 1.0 / (cfg['rotary_emb_base'] ** (torch.arange(0, rot, 2).float() / rot))
    out = {}
    for i in range(cfg['num_hidden_layers']):
        out[f'gpt_neox.layers.{i}.attention.bias'] = ('BOOL', torch.ones(n, n).tril().view(1, 1, n, n))
        out[f'gpt_neox.layers.{i}.attention.masked_bias'] = ('F32', torch.tensor(-1e9))
        out[f'gpt_neox.layers.{i}.attention.rotary_emb.inv_freq'] = ('F16', inv_freq)
    return out


def phi_buffers(cfg):
    HS = cfg['hidden_size'] // cfg['num_attention_heads']
    rot = int(HS * cfg['partial_rotary_factor'])
    inv_freq = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, rot, 2).float() / rot))
    return {f'model.layers.{i}.self_attn.rotary_emb.inv_freq': ('F32', inv_freq)
            for i in range(cfg['num_hidden_layers'])}


def gpt_neo_buffers(cfg):
    n, out = cfg['max_position_embeddings'], {}
    for i, kind in enumerate(cfg['attention_layers']):
        m = torch.ones(n, n).tril()
        if kind == 'local':
            m = m - torch.ones(n, n).tril(-cfg['window_size'])
        out[f'transformer.h.{i}.attn.attention.bias'] = ('BOOL', m.view(1, 1, n, n))
        out[f'transformer.h.{i}.attn.attention.masked_bias'] = ('F32', torch.tensor(-1e9))
    return out


def main():
    torch.set_num_threads(1)
    fixture('gpt2', GPT2LMHeadModel, gpt2_config(), 101,
            'GPT2LMHeadModel: 2 layers, n_embd 16, 2 heads, n_inner null (4x = 64), gelu_new, '
            'n_positions 11, tied head; HF key names with the "transformer." prefix.')
    fixture('gpt2-original', GPT2LMHeadModel, gpt2_config(n_inner=16, n_head=4), 102,
            'GPT2LMHeadModel in the original gpt2 checkpoint naming: keys without "transformer.", '
            'plus h.N.attn.bias (float32 causal mask) and h.N.attn.masked_bias buffers that are not '
            'parameters. n_inner 16, 4 heads. Grads are keyed by the "transformer."-prefixed names.',
            original_gpt2_names=True)
    fixture('gpt2-f16', GPT2LMHeadModel,
            gpt2_config(n_inner=20, activation_function='gelu', torch_dtype='float16'), 103,
            'GPT2LMHeadModel with F16 weights (the reference uses the F16-rounded values), exact-erf '
            '"gelu" activation, n_inner 20.', weight_dtype='F16')
    fixture('llama-gqa', LlamaForCausalLM,
            llama_config(num_attention_heads=2, num_key_value_heads=1, rope_theta=500000.0,
                         rms_norm_eps=1e-05, intermediate_size=20), 201,
            'LlamaForCausalLM: hidden 16, 2 query heads sharing 1 kv head (head_dim 8), rope_theta 5e5, '
            'SwiGLU 20, untied lm_head.')
    fixture('llama-tied', LlamaForCausalLM,
            llama_config(num_key_value_heads=4, intermediate_size=18, tie_word_embeddings=True,
                         attention_bias=True, mlp_bias=True), 202,
            'LlamaForCausalLM: hidden 16, 4 heads (no GQA), attention_bias and mlp_bias true '
            '(q/k/v/o and MLP biases), SwiGLU 18, lm_head tied to embed_tokens (not stored).')
    fixture('qwen2', LlamaForCausalLM, qwen2_config(intermediate_size=20), 301,
            'Qwen2ForCausalLM: hidden 16, 4 heads / 2 kv heads, q/k/v biases (no o_proj bias), '
            'rope_theta 1e6, SwiGLU 20, tied head.')
    fixture('mistral', LlamaForCausalLM, mistral_config(), 401,
            'MistralForCausalLM: hidden 16, 4 heads / 2 kv heads with explicit head_dim 6 (q_proj 16 -> 24), '
            'rope_theta 1e6, SwiGLU 20, vocab 31, untied head; T is within sliding_window.')
    fixture('llama-bf16', LlamaForCausalLM,
            llama_config(num_key_value_heads=1, torch_dtype='bfloat16'), 501,
            'LlamaForCausalLM with BF16 weights (the reference uses the BF16-rounded values): hidden 16, '
            '4 query heads sharing 1 kv head, untied head.', weight_dtype='BF16')
    fixture('pythia', GPTNeoXForCausalLM, neox_config_v4_24(), 601,
            'GPTNeoXForCausalLM (Pythia) with a transformers-4.24 config (rotary_pct 0.25, rotary_emb_base, '
            'torch_dtype): hidden 16, 2 heads (head 8, rotary on 2 channels), parallel residual, exact-erf '
            'gelu, fused query_key_value interleaved per head, untied embed_out. Stores the buffers old '
            'checkpoints carry: attention.bias (BOOL causal mask), attention.masked_bias (F32 scalar), '
            'attention.rotary_emb.inv_freq (F16).', buffers=neox_buffers(neox_config_v4_24()))
    fixture('gpt-neox-v5', GPTNeoXForCausalLM, neox_config_v5(), 602,
            'GPTNeoXForCausalLM with a newer config (dtype, rope_parameters {rope_theta 500, '
            'partial_rotary_factor 0.5}, attention_bias false): sequential residual '
            '(use_parallel_residual false), relu MLP of 20, rotary on 4 of 8 channels.')
    fixture('phi', PhiForCausalLM, phi_config(), 701,
            'PhiForCausalLM (Phi-1.5 layout): hidden 16, 2 heads (head 8), partial_rotary_factor 0.5, '
            'attention and MLP in parallel from one input_layernorm, q/k/v/dense and fc1/fc2 with biases, '
            'gelu_new, final_layernorm, untied lm_head with bias. Stores self_attn.rotary_emb.inv_freq '
            'buffers (F32).', buffers=phi_buffers(phi_config()))
    fixture('gpt-neo', GPTNeoForCausalLM, gpt_neo_config(), 801,
            'GPTNeoForCausalLM: hidden 16, 2 heads, layer 0 global and layer 1 local attention with '
            'window_size 3 (T 7 > 3, so the window matters), no 1/sqrt(d) scaling, q/k/v without bias, '
            'out_proj with bias, gelu_new, tied head. Stores attn.attention.bias (BOOL masks, the local '
            'one banded) and attn.attention.masked_bias buffers.', buffers=gpt_neo_buffers(gpt_neo_config()))
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT_DIR) for f in fs)
    print(f'total {total} bytes')


if __name__ == '__main__':
    main()
