/** A model folder with its tokenizer: what the CLI and the benchmark runner load and save. */
import { CheckpointError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { loadModel, type SaveModelOptions, saveModel } from '../models/load.ts';
import { loadTokenizer } from './tokenizer/load.ts';
import type { Tokenizer } from './tokenizer/tokenizer.ts';

export interface Pretrained {
  model: CausalLM;
  tokenizer: Tokenizer;
  dir: string;
}

/** Load model and tokenizer from an HF folder; the tokenizer's vocabulary must fit the model. */
export async function loadPretrained(dir: string): Promise<Pretrained> {
  const { model } = await loadModel(dir);
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new CheckpointError('the tokenizer has more tokens than the model has embeddings', {
      where: dir,
      expected: `at most ${model.vocabSize} tokens (vocab_size in config.json)`,
      found: `${tokenizer.vocabSize} tokens in tokenizer.json`,
    });
  }
  return { model, tokenizer, dir };
}

/** Save model and tokenizer as one HF folder. */
export async function savePretrained(
  dir: string,
  model: CausalLM,
  tokenizer: Tokenizer,
  opts: SaveModelOptions = {},
): Promise<void> {
  await saveModel(dir, model, { ...opts, tokenizerJson: JSON.stringify(tokenizer.toJSON()) });
}
