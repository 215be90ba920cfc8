#!/usr/bin/python3
"""
PyTorch reference fixtures for lethe's tensor engine (a dev-only oracle: lethe never needs Python).

Run:  /usr/bin/python3 scripts/make-fixtures.py      (or `npm run fixtures`; Debian python3-torch 1.13)
Writes test/fixtures/engine/{gpt2-tiny,llama-tiny,adamw-step,ops}.json; the tests in test/engine/ read them.

Promises
- Deterministic: every fixture draws from its own torch.manual_seed, so re-running the script
  rewrites byte-identical files (same torch build).
- Inputs and weights are float32 values. The expected outputs of the models and single ops are
  computed by the same torch code in float64 from those float32 inputs and then rounded to
  float32, so they are the true values to float32 precision, not one float32 summation order.
  Each model fixture also records in `torch_f32_error` how far torch's own float32 run lands from
  that reference (max abs error / max |reference|), a yardstick for the tolerances in the tests.
  AdamW is the exception: its fixture is torch.optim.AdamW run in float32, as a user would run it.

Encoding (chosen to keep the files small: < 200 KB together)
- A tensor is {"shape": [...], "dtype": "float32" | "int32", "data": base64}, where data is the
  row-major values as little-endian IEEE float32 / int32 bytes (numpy '<f4' / '<i4').
- Scalars (a loss, eps, lr, ...) are plain JSON numbers: Python's repr of the float32 value
  widened to double, which round-trips exactly.
- Parameter names follow the Hugging Face checkpoints (GPT2LMHeadModel and LlamaForCausalLM
  state_dict keys), with HF's layouts: GPT-2's Conv1D weights are (in, out) and used as x·W + b;
  Llama's Linear weights are (out, in) and used as x·Wᵀ. GPT-2's LM head is tied to wte (no key).
"""
import base64
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'engine')


# ---------------------------------------------------------------------------------------------
# encoding

def enc(t):
    """A tensor as {shape, dtype, data(base64 little-endian)}; float tensors are rounded to float32."""
    t = t.detach().cpu()
    if t.dtype in (torch.int32, torch.int64):
        arr = t.numpy().astype('<i4')
        dtype = 'int32'
    else:
        arr = t.to(torch.float32).numpy().astype('<f4')
        dtype = 'float32'
    return {'shape': list(t.shape), 'dtype': dtype, 'data': base64.b64encode(arr.tobytes()).decode('ascii')}


def f32(x):
    """A scalar rounded to float32, as a JSON number that round-trips."""
    return float(np.float32(float(x)))


def rel_err(a, b):
    """max |a - b| / max |b| (b is the reference)."""
    a = a.detach().to(torch.float64)
    b = b.detach().to(torch.float64)
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def write(name, obj):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write('\n')
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')


# ---------------------------------------------------------------------------------------------
# models, written out explicitly; `p` maps HF names to tensors of any float dtype

def causal_attention(q, k, v):
    """q (B, H, T, D), k and v (B, H, T, D) -> (B, H, T, D); masked scores are -inf before softmax."""
    T, D = q.shape[-2], q.shape[-1]
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)  # (B, H, T, T)
    keep = torch.ones(T, T, dtype=torch.bool).tril()
    scores = scores.masked_fill(~keep, float('-inf'))
    return torch.softmax(scores, dim=-1) @ v


def gpt2_forward(p, cfg, ids):
    B, T = ids.shape
    C, NH = cfg['n_embd'], cfg['n_head']
    HS = C // NH
    eps = cfg['layer_norm_epsilon']
    x = p['transformer.wte.weight'][ids] + p['transformer.wpe.weight'][:T]  # (B, T, C)
    for i in range(cfg['n_layer']):
        pre = f'transformer.h.{i}.'
        h = F.layer_norm(x, (C,), p[pre + 'ln_1.weight'], p[pre + 'ln_1.bias'], eps)
        qkv = h @ p[pre + 'attn.c_attn.weight'] + p[pre + 'attn.c_attn.bias']  # (B, T, 3C)
        q, k, v = qkv.split(C, dim=-1)
        q, k, v = (t.reshape(B, T, NH, HS).transpose(1, 2) for t in (q, k, v))  # (B, NH, T, HS)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[pre + 'attn.c_proj.weight'] + p[pre + 'attn.c_proj.bias']
        h = F.layer_norm(x, (C,), p[pre + 'ln_2.weight'], p[pre + 'ln_2.bias'], eps)
        h = F.gelu(h @ p[pre + 'mlp.c_fc.weight'] + p[pre + 'mlp.c_fc.bias'], approximate='tanh')
        x = x + h @ p[pre + 'mlp.c_proj.weight'] + p[pre + 'mlp.c_proj.bias']
    x = F.layer_norm(x, (C,), p['transformer.ln_f.weight'], p['transformer.ln_f.bias'], eps)
    return x @ p['transformer.wte.weight'].T  # (B, T, V), tied head


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_cos_sin(T, D, theta, dtype):
    # As HF Llama: inv_freq and the position product in float32, cos/sin of the duplicated angles.
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)  # (T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1).to(dtype)  # (T, D)
    return emb.cos(), emb.sin()


def llama_forward(p, cfg, ids):
    B, T = ids.shape
    C, NH, NKV = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    HS = C // NH
    eps = cfg['rms_norm_eps']
    dtype = p['model.embed_tokens.weight'].dtype
    cos, sin = rope_cos_sin(T, HS, cfg['rope_theta'], dtype)
    x = p['model.embed_tokens.weight'][ids]  # (B, T, C)
    for i in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{i}.'
        h = rms_norm(x, p[pre + 'input_layernorm.weight'], eps)
        q = (h @ p[pre + 'self_attn.q_proj.weight'].T).reshape(B, T, NH, HS).transpose(1, 2)  # (B, NH, T, HS)
        k = (h @ p[pre + 'self_attn.k_proj.weight'].T).reshape(B, T, NKV, HS).transpose(1, 2)  # (B, NKV, T, HS)
        v = (h @ p[pre + 'self_attn.v_proj.weight'].T).reshape(B, T, NKV, HS).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # HF repeat_kv: kv head j serves query heads j*rep .. (j+1)*rep - 1.
        rep = NH // NKV
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        y = causal_attention(q, k, v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p[pre + 'self_attn.o_proj.weight'].T
        h = rms_norm(x, p[pre + 'post_attention_layernorm.weight'], eps)
        gate = h @ p[pre + 'mlp.gate_proj.weight'].T
        up = h @ p[pre + 'mlp.up_proj.weight'].T
        x = x + (F.silu(gate) * up) @ p[pre + 'mlp.down_proj.weight'].T
    x = rms_norm(x, p['model.norm.weight'], eps)
    return x @ p['lm_head.weight'].T  # (B, T, V)


def run_model(forward, params32, cfg, ids, targets, dtype):
    """Logits, loss and the gradient of every parameter, computed in `dtype`."""
    p = {k: v.detach().to(dtype).requires_grad_(True) for k, v in params32.items()}
    logits = forward(p, cfg, ids)
    V = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=-100)
    loss.backward()
    return logits.detach(), loss.detach(), {k: v.grad.detach() for k, v in p.items()}


def model_fixture(name, forward, cfg, params, ids, targets, description):
    logits, loss, grads = run_model(forward, params, cfg, ids, targets, torch.float64)
    l32, loss32, g32 = run_model(forward, params, cfg, ids, targets, torch.float32)
    write(name, {
        'description': description,
        'config': cfg,
        'inputs': {'ids': enc(ids), 'targets': enc(targets)},
        'params': {k: enc(v) for k, v in params.items()},
        'expected': {
            'logits': enc(logits),
            'loss': f32(loss),
            'grads': {k: enc(v) for k, v in grads.items()},
        },
        'torch_f32_error': {
            'logits': rel_err(l32, logits),
            'loss': abs(loss32.item() - loss.item()) / abs(loss.item()),
            'grads_max': max(rel_err(g32[k], grads[k]) for k in grads),
        },
    })


def inputs(V, B, T):
    ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets[1, 3] = -100  # one ignored position: excluded from the mean and from the gradient
    return ids, targets


def gpt2_tiny():
    torch.manual_seed(1234)
    cfg = {'model_type': 'gpt2', 'vocab_size': 23, 'n_positions': 7, 'n_embd': 16, 'n_layer': 2,
           'n_head': 2, 'layer_norm_epsilon': 1e-5, 'activation_function': 'gelu_new', 'batch': 2, 'seq': 7}
    V, C, L = cfg['vocab_size'], cfg['n_embd'], cfg['n_layer']
    std = 0.2
    params = {'transformer.wte.weight': torch.randn(V, C) * std,
              'transformer.wpe.weight': torch.randn(cfg['n_positions'], C) * std}
    for i in range(L):
        pre = f'transformer.h.{i}.'
        params[pre + 'ln_1.weight'] = 1 + torch.randn(C) * std
        params[pre + 'ln_1.bias'] = torch.randn(C) * std
        params[pre + 'attn.c_attn.weight'] = torch.randn(C, 3 * C) * std  # Conv1D: (in, out)
        params[pre + 'attn.c_attn.bias'] = torch.randn(3 * C) * std
        params[pre + 'attn.c_proj.weight'] = torch.randn(C, C) * std
        params[pre + 'attn.c_proj.bias'] = torch.randn(C) * std
        params[pre + 'ln_2.weight'] = 1 + torch.randn(C) * std
        params[pre + 'ln_2.bias'] = torch.randn(C) * std
        params[pre + 'mlp.c_fc.weight'] = torch.randn(C, 4 * C) * std
        params[pre + 'mlp.c_fc.bias'] = torch.randn(4 * C) * std
        params[pre + 'mlp.c_proj.weight'] = torch.randn(4 * C, C) * std
        params[pre + 'mlp.c_proj.bias'] = torch.randn(C) * std
    params['transformer.ln_f.weight'] = 1 + torch.randn(C) * std
    params['transformer.ln_f.bias'] = torch.randn(C) * std
    ids, targets = inputs(V, cfg['batch'], cfg['seq'])
    model_fixture('gpt2-tiny.json', gpt2_forward, cfg, params, ids, targets,
                  'GPT-2-style LM: token + learned position embeddings, pre-LayerNorm blocks, fused qkv '
                  'Conv1D (x·W + b), causal MHA, GELU-tanh MLP (4x), final LayerNorm, LM head tied to wte. '
                  'loss = mean cross-entropy of logits (B, T, V) vs targets (B, T), -100 ignored.')


def llama_tiny():
    torch.manual_seed(5678)
    cfg = {'model_type': 'llama', 'vocab_size': 23, 'hidden_size': 16, 'intermediate_size': 24,
           'num_hidden_layers': 2, 'num_attention_heads': 4, 'num_key_value_heads': 2, 'head_dim': 4,
           'rms_norm_eps': 1e-6, 'rope_theta': 10000.0, 'tie_word_embeddings': False, 'hidden_act': 'silu',
           'batch': 2, 'seq': 7}
    V, C, L, I = cfg['vocab_size'], cfg['hidden_size'], cfg['num_hidden_layers'], cfg['intermediate_size']
    KV = cfg['num_key_value_heads'] * cfg['head_dim']
    std = 0.2
    params = {'model.embed_tokens.weight': torch.randn(V, C) * std}
    for i in range(L):
        pre = f'model.layers.{i}.'
        params[pre + 'input_layernorm.weight'] = 1 + torch.randn(C) * std
        params[pre + 'self_attn.q_proj.weight'] = torch.randn(C, C) * std  # Linear: (out, in)
        params[pre + 'self_attn.k_proj.weight'] = torch.randn(KV, C) * std
        params[pre + 'self_attn.v_proj.weight'] = torch.randn(KV, C) * std
        params[pre + 'self_attn.o_proj.weight'] = torch.randn(C, C) * std
        params[pre + 'post_attention_layernorm.weight'] = 1 + torch.randn(C) * std
        params[pre + 'mlp.gate_proj.weight'] = torch.randn(I, C) * std
        params[pre + 'mlp.up_proj.weight'] = torch.randn(I, C) * std
        params[pre + 'mlp.down_proj.weight'] = torch.randn(C, I) * std
    params['model.norm.weight'] = 1 + torch.randn(C) * std
    # Embeddings are N(0, 0.2) so RMSNorm scales them up; a larger head keeps the logits O(1).
    params['lm_head.weight'] = torch.randn(V, C) * 0.5
    ids, targets = inputs(V, cfg['batch'], cfg['seq'])
    model_fixture('llama-tiny.json', llama_forward, cfg, params, ids, targets,
                  'Llama-style LM: token embeddings, RMSNorm (eps 1e-6) pre-norm blocks, RoPE (theta 1e4, '
                  'rotate-half as HF Llama) on q and k, grouped-query causal attention (4 q heads, 2 kv heads, '
                  'head dim 4), SwiGLU MLP (hidden 24, no biases), final RMSNorm, untied LM head; Linear '
                  'weights are (out, in), used as x·Wᵀ. loss = mean cross-entropy, -100 ignored.')


# ---------------------------------------------------------------------------------------------
# AdamW: torch.optim.AdamW itself, float32

def adamw_step():
    torch.manual_seed(42)
    hp = {'lr': 1e-2, 'betas': [0.9, 0.95], 'eps': 1e-8, 'weight_decay': 0.1}
    init = {
        'w': torch.randn(3, 5),
        'b': torch.randn(7) * 0.1,
        # Tiny gradients (|g| ~ 1e-9..1e-7, so sqrt(v̂) is comparable to eps): checks that eps is
        # added to sqrt(v) / sqrt(1 - β2^t), after the bias correction, as torch does.
        'tiny': torch.randn(4) * 2.0,
    }
    grads = [
        {'w': torch.randn(3, 5), 'b': torch.randn(7) * 10.0,
         'tiny': torch.tensor([1e-9, -3e-8, 1e-7, 0.0])},
        {'w': torch.randn(3, 5) * 0.5, 'b': torch.randn(7) * 0.01,
         'tiny': torch.tensor([-2e-9, 5e-8, 0.0, 4e-8])},
    ]
    grads[0]['w'][1, 2] = 0.0  # a zero gradient: only decay and momentum move it
    params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    names = list(init.keys())
    opt = torch.optim.AdamW([params[k] for k in names], lr=hp['lr'], betas=tuple(hp['betas']),
                            eps=hp['eps'], weight_decay=hp['weight_decay'])
    steps = []
    for g in grads:
        for k in names:
            params[k].grad = g[k].clone()
        opt.step()
        state = {}
        for k in names:
            st = opt.state[params[k]]
            state[k] = {'param': enc(params[k]), 'exp_avg': enc(st['exp_avg']), 'exp_avg_sq': enc(st['exp_avg_sq'])}
        steps.append({'grads': {k: enc(g[k]) for k in names}, 'after': state})
    write('adamw-step.json', {
        'description': 'torch.optim.AdamW (float32, torch %s): two steps from `init` with the given grads; '
                       'after each step the parameter and its exp_avg / exp_avg_sq. Params are one group, '
                       'in the order of `names`.' % torch.__version__,
        'hyperparams': hp,
        'names': names,
        'init': {k: enc(v) for k, v in init.items()},
        'steps': steps,
    })


# ---------------------------------------------------------------------------------------------
# single ops: float32 inputs, float64 reference

def grad_of(fn, *xs, upstream=None):
    """fn(*xs) in float64, and the gradients of sum(fn(*xs) · upstream) w.r.t. each x."""
    xs64 = [x.detach().to(torch.float64).requires_grad_(True) for x in xs]
    y = fn(*xs64)
    u = torch.ones_like(y) if upstream is None else upstream.to(torch.float64)
    (y * u).sum().backward()
    return y.detach(), [x.grad.detach() for x in xs64]


def ops():
    torch.manual_seed(7)
    out = {'description': 'Single-op references: float32 inputs, values and gradients computed in float64 by '
                          'torch %s and rounded to float32. Elementwise grads are d y / d x (upstream 1); the '
                          'others use the upstream gradient `dy` given, i.e. grads of sum(y · dy).' % torch.__version__}
    wide = torch.cat([torch.linspace(-12, 12, 97),
                      torch.tensor([-100.0, -50.0, -20.0, -1e-4, 0.0, 1e-4, 20.0, 50.0, 100.0])])
    for name, fn in [('gelu_erf', lambda x: F.gelu(x, approximate='none')),
                     ('gelu_tanh', lambda x: F.gelu(x, approximate='tanh')),
                     ('silu', F.silu)]:
        y, (dx,) = grad_of(fn, wide)
        out[name] = {'x': enc(wide), 'y': enc(y), 'dx': enc(dx)}

    # Rows with extreme logits: one dominant (+80), one hugely unlikely target (-80), ties at the
    # top, all equal, and ordinary values.
    V = 6
    logits = torch.tensor([
        [80.0, -80.0, 0.0, 1.0, -1.0, 2.0],
        [80.0, -80.0, 0.0, 1.0, -1.0, 2.0],
        [80.0, 80.0, 79.5, -80.0, 0.0, 0.0],
        [-80.0, -80.0, -80.0, -80.0, -80.0, -80.0],
        [-80.0, 80.0, -80.0, -80.0, -80.0, -80.0],
        [0.3, -1.2, 2.5, 0.0, -0.7, 1.1],
        [0.3, -1.2, 2.5, 0.0, -0.7, 1.1],
    ])
    targets = torch.tensor([0, 1, 2, 3, 4, -100, 5], dtype=torch.int64)
    dy = torch.randn(logits.shape)
    y, (dx,) = grad_of(lambda x: torch.log_softmax(x, dim=-1), logits, upstream=dy)
    out['log_softmax'] = {'x': enc(logits), 'dy': enc(dy), 'y': enc(y), 'dx': enc(dx)}
    y, (dx,) = grad_of(lambda x: torch.softmax(x, dim=-1), logits, upstream=dy)
    out['softmax'] = {'x': enc(logits), 'dy': enc(dy), 'y': enc(y), 'dx': enc(dx)}
    none, _ = grad_of(lambda x: F.cross_entropy(x, targets, ignore_index=-100, reduction='none'), logits)
    loss, (dlogits,) = grad_of(lambda x: F.cross_entropy(x, targets, ignore_index=-100), logits)
    out['cross_entropy'] = {'logits': enc(logits), 'targets': enc(targets), 'ignore_index': -100,
                            'losses': enc(none), 'loss': f32(loss), 'dlogits': enc(dlogits)}
    assert V == logits.shape[1]

    # Norms: a row far from zero (mean 100, std ~1) catches a one-pass E[x²] − E[x]² variance.
    C = 10
    x = torch.randn(4, C)
    x[1] = x[1] + 100.0
    x[2] = x[2] * 1e-3
    w = 1 + 0.3 * torch.randn(C)
    b = 0.3 * torch.randn(C)
    dy = torch.randn(4, C)
    eps = 1e-5
    y, (dx, dw, db) = grad_of(lambda x, w, b: F.layer_norm(x, (C,), w, b, eps), x, w, b, upstream=dy)
    out['layer_norm'] = {'eps': eps, 'x': enc(x), 'weight': enc(w), 'bias': enc(b), 'dy': enc(dy),
                         'y': enc(y), 'dx': enc(dx), 'dweight': enc(dw), 'dbias': enc(db)}
    eps = 1e-6
    x = torch.randn(4, C)
    x[1] = x[1] * 50.0
    x[2] = x[2] * 1e-3
    y, (dx, dw) = grad_of(lambda x, w: rms_norm(x, w, eps), x, w, upstream=dy)
    out['rms_norm'] = {'eps': eps, 'x': enc(x), 'weight': enc(w), 'dy': enc(dy),
                       'y': enc(y), 'dx': enc(dx), 'dweight': enc(dw)}
    write('ops.json', out)


if __name__ == '__main__':
    torch.set_num_threads(1)  # one summation order for the float32 runs, whatever the machine
    gpt2_tiny()
    llama_tiny()
    adamw_step()
    ops()
