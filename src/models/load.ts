/**
 * Models from and to Hugging Face folders: config.json validated by the model's schema, weights
 * matched by HF name with every shape checked, saved atomically as a normal HF folder.
 */
import { join } from 'node:path';
import { type HfWriteOptions, readHfFolder, writeHfFolder } from '../io/hf-folder.ts';
import { assertFiniteTensors } from '../io/safetensors.ts';
import type { CausalLM } from './causal-lm.ts';
import { checkFits } from './memory.ts';
import { buildModel, parseModelConfig } from './registry.ts';

export interface LoadedModel {
  model: CausalLM;
  dir: string;
  /** Path of the folder's tokenizer.json, if any. */
  tokenizerJsonPath?: string;
  generationConfig?: Record<string, unknown>;
}

/** Load a model from an HF folder (config.json + model.safetensors or a sharded index). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const folder = await readHfFolder(dir);
  try {
    const config = parseModelConfig(folder.config, join(dir, 'config.json'));
    checkFits(config, 'load', join(dir, 'config.json'));
    const model = buildModel(config, null, join(dir, 'config.json'));
    const weights = await folder.weights.readAll();
    assertFiniteTensors(weights, folder.weightsPath);
    model.loadHF(weights as never, folder.weightsPath);
    model.eval();
    return {
      model,
      dir,
      tokenizerJsonPath: folder.tokenizerJsonPath,
      generationConfig: folder.generationConfig,
    };
  } finally {
    await folder.weights.close();
  }
}

export interface SaveModelOptions extends HfWriteOptions {
  /** tokenizer.json contents to store beside the weights. */
  tokenizerJson?: string | Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
}

/** Save a model as an HF folder (weights first, config.json last, each file atomic). */
export async function saveModel(dir: string, model: CausalLM, opts: SaveModelOptions = {}): Promise<void> {
  const config = { ...model.config, architectures: [architectureName(model.modelType)] };
  await writeHfFolder(
    dir,
    {
      config,
      tensors: model.toHF(),
      tokenizerJson: opts.tokenizerJson,
      generationConfig: opts.generationConfig,
    },
    opts,
  );
}

function architectureName(modelType: string): string {
  return (
    {
      gpt2: 'GPT2LMHeadModel',
      llama: 'LlamaForCausalLM',
      mistral: 'MistralForCausalLM',
      qwen2: 'Qwen2ForCausalLM',
    }[modelType] ?? modelType
  );
}
