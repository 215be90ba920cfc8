/** `lethe inspect DIR`: a model folder's config, parameter count, and tensor names and shapes. */
import type { Command } from 'commander';
import { readHfFolder } from '../../io/hf-folder.ts';
import { parseModelConfig } from '../../models/registry.ts';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show the config, parameter count and tensors (names, dtypes, shapes) of an HF model folder')
    .argument('<dir>', 'model folder (config.json + model.safetensors or a sharded index)')
    .option('--json', 'print one JSON object instead of text')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const folder = await readHfFolder(dir);
      try {
        const config = parseModelConfig(folder.config, `${dir}/config.json`);
        const tensors = folder.weights.names().map((name) => {
          const info = folder.weights.info(name);
          return { name, dtype: info.dtype, shape: [...info.shape] };
        });
        const parameters = tensors.reduce((n, t) => n + t.shape.reduce((p, d) => p * d, 1), 0);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dir, config, parameters, tensors })}\n`);
          return;
        }
        const lines = [
          `${dir}: ${config.model_type}, ${parameters.toLocaleString('en-US')} parameters in ${tensors.length} tensors`,
          `weights: ${folder.weightsPath}`,
          `tokenizer: ${folder.tokenizerJsonPath ?? 'none'}`,
          'config:',
          ...Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
          'tensors:',
          ...tensors.map((t) => `  ${t.name}  ${t.dtype}  [${t.shape.join(', ')}]`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await folder.weights.close();
      }
    });
}
