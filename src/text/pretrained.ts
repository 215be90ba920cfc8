/**
 * A model folder with its tokenizer: what the CLI and the benchmark runner load and save.
 *
 * Saved folders are complete HF folders: besides config.json, the weights and tokenizer.json they
 * hold tokenizer_config.json, special_tokens_map.json and generation_config.json (and
 * chat_template.jinja when the source had one). A folder loaded with loadPretrained passes its
 * own files through verbatim to any savePretrained with the same tokenizer object (the tokenizer
 * is what ties a saved model to its source folder: fine-tuned or unlearned models keep it);
 * files the source lacked, and all of them for models made here, are written from the tokenizer's
 * special tokens and the model's context length.
 */

import { CheckpointError } from '../errors.ts';
import {
  type CompanionTexts,
  GENERATION_CONFIG_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  TOKENIZER_CONFIG_FILE,
} from '../io/hf-folder.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { loadModel, type SaveModelOptions, saveModel } from '../models/load.ts';
import { loadTokenizer } from './tokenizer/load.ts';
import type { Tokenizer } from './tokenizer/tokenizer.ts';

export interface Pretrained {
  model: CausalLM;
  tokenizer: Tokenizer;
  dir: string;
  /** The folder's tokenizer_config.json, special_tokens_map.json, … as text. */
  companions: CompanionTexts;
}

/** Companion files of the folder each loaded tokenizer came from. */
const sourceFiles = new WeakMap<Tokenizer, CompanionTexts>();

/** Load model and tokenizer from an HF folder; the tokenizer's vocabulary must fit the model. */
export async function loadPretrained(dir: string): Promise<Pretrained> {
  const { model, companions } = await loadModel(dir);
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.vocabSize > model.vocabSize) {
    throw new CheckpointError('the tokenizer has more tokens than the model has embeddings', {
      where: dir,
      expected: `at most ${model.vocabSize} tokens (vocab_size in config.json)`,
      found: `${tokenizer.vocabSize} tokens in tokenizer.json`,
    });
  }
  sourceFiles.set(tokenizer, companions);
  return { model, tokenizer, dir, companions };
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** tokenizer_config.json, special_tokens_map.json and generation_config.json for a model made here. */
export function defaultCompanions(model: CausalLM, tokenizer: Tokenizer): CompanionTexts {
  const token = (id: number | undefined) => (id === undefined ? undefined : tokenizer.idToToken(id));
  const special: Record<string, string> = {};
  for (const [key, id] of [
    ['bos_token', tokenizer.bosId],
    ['eos_token', tokenizer.eosId],
    ['pad_token', tokenizer.padId],
    ['unk_token', tokenizer.unkId],
  ] as const) {
    const t = token(id);
    if (t !== undefined) special[key] = t;
  }
  // Absent tokens are written as null: "this tokenizer has none", so nothing is inferred on load.
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: model.maxPositions,
    clean_up_tokenization_spaces: false,
    bos_token: special.bos_token ?? null,
    eos_token: special.eos_token ?? null,
    pad_token: special.pad_token ?? null,
    unk_token: special.unk_token ?? null,
  };
  const generation: Record<string, unknown> = { _from_model_config: true };
  if (tokenizer.bosId !== undefined) generation.bos_token_id = tokenizer.bosId;
  if (tokenizer.eosId !== undefined) generation.eos_token_id = tokenizer.eosId;
  if (tokenizer.padId !== undefined) generation.pad_token_id = tokenizer.padId;
  return {
    [TOKENIZER_CONFIG_FILE]: json(tokenizerConfig),
    [SPECIAL_TOKENS_MAP_FILE]: json(special),
    [GENERATION_CONFIG_FILE]: json(generation),
  };
}

/**
 * Save model and tokenizer as one HF folder, with the companion files: opts.companions first, then
 * those of the folder the tokenizer was loaded from, then defaults for any still missing.
 */
export async function savePretrained(
  dir: string,
  model: CausalLM,
  tokenizer: Tokenizer,
  opts: SaveModelOptions = {},
): Promise<void> {
  const companions: CompanionTexts = {
    ...defaultCompanions(model, tokenizer),
    ...sourceFiles.get(tokenizer),
    ...opts.companions,
  };
  await saveModel(dir, model, { ...opts, companions, tokenizerJson: JSON.stringify(tokenizer.toJSON()) });
}
