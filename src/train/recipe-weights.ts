/**
 * Which weights a training recipe moves: LoRA adapters on its targets (default: the family's
 * attention projections) when it sets loraRank, else the parameters matching trainOnly, else all.
 * One function for `lethe train` (src/api/train.ts) and prepare's target/oracle training, so both
 * read a recipe the same way. `finish` merges LoRA adapters back into plain weights.
 */
import type { TrainRecipe } from '../config/train-config.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { defaultLoraTargets } from '../models/registry.ts';
import { applyLora, mergeLora } from '../nn/lora.ts';

export interface RecipeWeights {
  /** The trainable-parameter predicate for the trainer (undefined: every parameter). */
  trainable: ((name: string) => boolean) | undefined;
  /** Call after training: merges LoRA adapters into the base weights (no-op otherwise). */
  finish(): void;
}

export function recipeWeights(
  model: CausalLM,
  recipe: Pick<TrainRecipe, 'loraRank' | 'loraTargets' | 'loraAlpha' | 'loraDropout' | 'trainOnly'>,
  seed: number,
): RecipeWeights {
  if (recipe.loraRank) {
    const lora = applyLora(model, {
      targets: recipe.loraTargets ?? defaultLoraTargets(model.modelType, 'attention'),
      rank: recipe.loraRank,
      alpha: recipe.loraAlpha,
      dropout: recipe.loraDropout,
      seed,
    });
    return { trainable: lora.trainable, finish: () => mergeLora(model) };
  }
  const only = recipe.trainOnly ? new RegExp(recipe.trainOnly) : null;
  return { trainable: only ? (n) => only.test(n) : undefined, finish: () => {} };
}
