/**
 * Models from and to Hugging Face folders: config.json validated by the model's schema, weights
 * matched by HF name with every shape checked, saved atomically as a normal HF folder.
 */
import { join } from 'node:path';
import { type CompanionTexts, type HfWriteOptions, readHfFolder, writeHfFolder } from '../io/hf-folder.ts';
import { assertFiniteTensors, type LoadedTensor } from '../io/safetensors.ts';
import type { CausalLM } from './causal-lm.ts';
import { checkFits } from './memory.ts';
import { architectureName, buildModel, parseModelConfig } from './registry.ts';

export interface LoadedModel {
  model: CausalLM;
  dir: string;
  /** Path of the folder's tokenizer.json, if any. */
  tokenizerJsonPath?: string;
  generationConfig?: Record<string, unknown>;
  /** tokenizer_config.json, special_tokens_map.json, … as found (text), to be saved again as is. */
  companions: CompanionTexts;
}

/** Load a model from an HF folder (config.json + model.safetensors or a sharded index). */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const folder = await readHfFolder(dir);
  try {
    const config = parseModelConfig(folder.config, join(dir, 'config.json'));
    checkFits(config, 'load', join(dir, 'config.json'));
    const model = buildModel(config, null, join(dir, 'config.json'));
    // Buffers are skipped by name before reading: they may be stored in dtypes lethe cannot decode.
    const weights = new Map<string, LoadedTensor>();
    for (const name of folder.weights.names()) {
      if (!model.nonWeightTensors.test(name)) weights.set(name, await folder.weights.read(name));
    }
    assertFiniteTensors(weights, folder.weightsPath);
    model.loadHF(weights, folder.weightsPath);
    model.eval();
    return {
      model,
      dir,
      tokenizerJsonPath: folder.tokenizerJsonPath,
      generationConfig: folder.generationConfig,
      companions: folder.companions,
    };
  } finally {
    await folder.weights.close();
  }
}

export interface SaveModelOptions extends HfWriteOptions {
  /** tokenizer.json contents to store beside the weights. */
  tokenizerJson?: string | Record<string, unknown>;
  generationConfig?: Record<string, unknown>;
  /** Companion files to write verbatim (generationConfig wins for generation_config.json). */
  companions?: CompanionTexts;
}

/** Save a model as an HF folder (weights first, config.json last, each file atomic). */
export async function saveModel(dir: string, model: CausalLM, opts: SaveModelOptions = {}): Promise<void> {
  const config: Record<string, unknown> = {
    ...model.config,
    architectures: [architectureName(model.modelType)],
  };
  // The dtype fields describe the stored weights; keep them true to what is written now.
  const written = opts.dtype === undefined ? 'F32' : typeof opts.dtype === 'string' ? opts.dtype : null;
  if (written) {
    const torchName = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[written];
    const keys = ['torch_dtype', 'dtype'].filter((k) => k in config);
    for (const k of keys.length > 0 ? keys : ['torch_dtype']) config[k] = torchName;
  }
  await writeHfFolder(
    dir,
    {
      config,
      tensors: model.toHF(),
      tokenizerJson: opts.tokenizerJson,
      generationConfig: opts.generationConfig,
      companions: opts.companions,
    },
    opts,
  );
}
