/**
 * `lethe/models`: the model families (HF model_type → module tree), building, loading and saving
 * HF folders, memory estimates, and the causal-LM interface every model implements. Re-exports only.
 */
export { type CausalLM, type ForwardOptions, type ForwardResult, KVCache } from '../models/causal-lm.ts';
export { type LoadedModel, loadModel, type SaveModelOptions, saveModel } from '../models/load.ts';
export { checkFits, parameterCount } from '../models/memory.ts';
export { buildModel, cloneModel, parseModelConfig, supportedModelTypes } from '../models/registry.ts';
export { loadPretrained, type Pretrained, savePretrained } from '../text/pretrained.ts';
