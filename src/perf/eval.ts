/**
 * `npm run bench -- eval`: time and throughput of the full TOFU suite on the built-in
 * benchmark's target model (synthetic:demo with the demo recipe, prepared or reused from
 * .lethe-cache), with the oracle as the reference. Prints one JSON object; progress on stderr.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { resolve } from 'node:path';
import { backend } from '../backend/index.ts';
import { resolveTask } from '../data/resolve-task.ts';
import { evaluate } from '../eval/index.ts';
import { prepare } from '../study/prepare.ts';

export async function run(_args: string[]): Promise<void> {
  const demo = JSON.parse(readFileSync(new URL('../../configs/demo.json', import.meta.url), 'utf8'));
  const task = await resolveTask(demo.task);
  const p = await prepare({ task, recipe: demo.recipe, seed: 0, cacheDir: resolve(demo.cache) });
  process.stderr.write(`bench eval: tofu suite on ${p.target}\n`);
  const started = performance.now();
  const r = await evaluate({
    task,
    taskSpec: demo.task,
    suite: 'tofu',
    model: { dir: p.target },
    oracle: { dir: p.oracle },
    options: { seed: 0, progress: false },
  });
  const seconds = (performance.now() - started) / 1000;
  const cost = r.models.unlearned.cost;
  const oracleCost = r.models.oracle?.cost;
  const forward = cost.forwardTokens + (oracleCost?.forwardTokens ?? 0);
  const generated = cost.generatedTokens + (oracleCost?.generatedTokens ?? 0);
  const out = {
    suite: 'eval',
    machine: {
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      node: process.version,
      backend: backend.name,
      threads: backend.getThreads(),
    },
    task: demo.task,
    evalSuite: 'tofu',
    metrics: r.metricNames.length,
    models: ['target', 'oracle'],
    seconds: Number(seconds.toFixed(2)),
    forward_tokens: forward,
    generated_tokens: generated,
    tokens_per_s: Math.round(forward / seconds),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}
