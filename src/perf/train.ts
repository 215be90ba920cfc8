/**
 * `npm run bench -- train`: tokens/s of a full training step (forward, backward, gradient clip,
 * AdamW) and of forward-only scoring, with peak RSS, for GPT-2-small (B4×T256), a small
 * GPT-2-style model (L4 C256 NH4 V4096, B16×T128) and GPT-2-small through rank-8 LoRA. Each
 * configuration runs in its own process so its peak RSS is its own.
 * Options: --steps N (timed steps, default 3), --only NAME.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { backend } from '../backend/index.ts';
import { buildModel } from '../models/registry.ts';
import { AdamW, applyLora, clipGradNorm, decayGroups } from '../nn/index.ts';
import { crossEntropy, noGrad, Rng, Tensor } from '../tensor/index.ts';

interface BenchConfig {
  name: string;
  model: Record<string, unknown>;
  batch: number;
  seq: number;
  lora?: number;
}

const gpt2Small = {
  model_type: 'gpt2',
  vocab_size: 50257,
  n_positions: 1024,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
};
const CONFIGS: BenchConfig[] = [
  { name: 'gpt2-small', model: gpt2Small, batch: 4, seq: 256 },
  {
    name: 'small-L4-C256-V4096',
    model: { ...gpt2Small, vocab_size: 4096, n_embd: 256, n_layer: 4, n_head: 4 },
    batch: 16,
    seq: 128,
  },
  { name: 'gpt2-small-lora-r8', model: gpt2Small, batch: 4, seq: 256, lora: 8 },
];

function measureOne(cfg: BenchConfig, steps: number) {
  const rng = new Rng(0);
  const model = buildModel(cfg.model, rng);
  const lora = cfg.lora ? applyLora(model, { targets: 'attn\\.c_attn$', rank: cfg.lora, seed: 0 }) : null;
  const named = model.namedParameters().filter(([n]) => !lora || lora.trainable(n));
  for (const [n, t] of model.namedParameters()) if (lora && !lora.trainable(n)) t.requiresGrad = false;
  const opt = new AdamW(decayGroups(named, 0.1), { lr: 1e-4, weightDecay: 0.1 });
  const V = model.vocabSize;
  const ids = Int32Array.from({ length: cfg.batch * (cfg.seq + 1) }, () => rng.int(0, V));
  const inputs = new Int32Array(cfg.batch * cfg.seq);
  const targets = new Int32Array(cfg.batch * cfg.seq);
  for (let b = 0; b < cfg.batch; b++) {
    inputs.set(ids.subarray(b * (cfg.seq + 1), b * (cfg.seq + 1) + cfg.seq), b * cfg.seq);
    targets.set(ids.subarray(b * (cfg.seq + 1) + 1, (b + 1) * (cfg.seq + 1)), b * cfg.seq);
  }
  const x = new Tensor(inputs, [cfg.batch, cfg.seq]);
  const y = new Tensor(targets, [cfg.batch, cfg.seq]);
  model.train();
  const step = () => {
    const loss = crossEntropy(model.forward(x).logits!, y);
    loss.backward();
    clipGradNorm(
      named.map(([, t]) => t),
      1,
    );
    noGrad(() => opt.step());
    opt.zeroGrad();
    return loss.item();
  };
  const timeIt = (fn: () => unknown, n: number) => {
    fn(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    return (performance.now() - t0) / 1000 / n;
  };
  const stepSeconds = timeIt(step, steps);
  model.eval();
  const scoreSeconds = timeIt(() => noGrad(() => crossEntropy(model.forward(x).logits!, y).item()), steps);
  const tokens = cfg.batch * cfg.seq;
  return {
    config: cfg.name,
    batch: cfg.batch,
    seq: cfg.seq,
    parameters: model.numParameters(),
    trainable_parameters: named.reduce((n, [, t]) => n + t.size, 0),
    tokens_per_s: Math.round(tokens / stepSeconds),
    step_seconds: Number(stepSeconds.toFixed(3)),
    score_tokens_per_s: Math.round(tokens / scoreSeconds),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<void> {
  const steps = Number(flag(args, '--steps') ?? 3);
  const one = flag(args, '--one');
  if (one) {
    const cfg = CONFIGS.find((c) => c.name === one)!;
    process.stdout.write(`${JSON.stringify(measureOne(cfg, steps))}\n`);
    return;
  }
  const only = flag(args, '--only');
  const rows = [];
  for (const cfg of CONFIGS.filter((c) => !only || c.name === only)) {
    process.stderr.write(`bench train: ${cfg.name} (B${cfg.batch}×T${cfg.seq}, ${steps} timed steps)\n`);
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', cli, 'train', '--one', cfg.name, '--steps', String(steps)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    rows.push(JSON.parse(out.trim().split('\n').pop()!));
  }
  const result = {
    suite: 'train',
    machine: {
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      node: process.version,
      backend: backend.name,
      threads: backend.getThreads(),
    },
    reference: { pytorch_1_13_tokens_per_s: { 'gpt2-small': 160, 'small-L4-C256-V4096': 3950 } },
    train: rows,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
