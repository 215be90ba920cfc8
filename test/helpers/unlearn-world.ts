/**
 * A tiny unlearning world for tests: a hand-made QA task (4 forget, 8 retain, 4 holdout people),
 * a byte-level BPE tokenizer and a 2-layer GPT-2 that has memorised forget ∪ retain. Built once per
 * process in about a second; every test gets a fresh copy of the trained model.
 */
import { emptyEval, emptySplit, type Task } from '../../src/data/task.ts';
import type { CausalLM } from '../../src/models/causal-lm.ts';
import { buildModel, cloneModel } from '../../src/models/registry.ts';
import { Rng } from '../../src/tensor/index.ts';
import { qaExample, splitExamples } from '../../src/text/format.ts';
import { scoreSequences } from '../../src/text/score.ts';
import type { Tokenizer } from '../../src/text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../../src/text/tokenizer/train-bpe.ts';
import { train } from '../../src/train/trainer.ts';

const names = [
  'Ada',
  'Ben',
  'Cleo',
  'Dov',
  'Eli',
  'Fay',
  'Gus',
  'Hal',
  'Ivy',
  'Jon',
  'Kim',
  'Lea',
  'Max',
  'Nia',
  'Oz',
  'Pia',
];
const towns = ['Oslo', 'Lima', 'Perth', 'Quito', 'Rome', 'Suva', 'Tunis', 'Ulm'];
const qa = (i: number) => ({
  id: `p${i}`,
  question: `Where does ${names[i]} live?`,
  answer: `${names[i]} lives in ${towns[i % towns.length]}.`,
  paraphrasedAnswer: `In ${towns[i % towns.length]}.`,
  perturbedAnswers: [1, 2, 3].map((k) => `In ${towns[(i + k) % towns.length]}.`),
});

export function tinyTask(): Task {
  const split = (from: number, to: number) => ({
    ...emptySplit(),
    qa: Array.from({ length: to - from }, (_, k) => qa(from + k)),
  });
  return {
    name: 'tiny-test',
    format: 'qa',
    splits: { forget: split(0, 4), retain: split(4, 12), holdout: split(12, 16) },
    eval: emptyEval(),
    idk: ["I don't know.", 'I have no idea.'],
    meta: {},
  };
}

let world: { task: Task; tokenizer: Tokenizer; model: CausalLM } | null = null;

export async function tinyWorld(): Promise<{ task: Task; tokenizer: Tokenizer; model: CausalLM }> {
  if (!world) {
    const task = tinyTask();
    const texts = Object.values(task.splits).flatMap((s) =>
      s.qa.flatMap((q) => [q.question, q.answer, ...q.perturbedAnswers!]),
    );
    const tokenizer = trainByteLevelBpe([...texts, ...task.idk], {
      vocabSize: 300,
      specialTokens: ['<|endoftext|>'],
    });
    const eos = tokenizer.tokenToId('<|endoftext|>')!;
    const model = buildModel(
      {
        model_type: 'gpt2',
        vocab_size: tokenizer.vocabSize,
        n_positions: 64,
        n_embd: 48,
        n_layer: 2,
        n_head: 2,
        eos_token_id: eos,
      },
      new Rng(0),
    );
    const examples = [
      ...splitExamples(tokenizer, task.splits.forget, 64),
      ...splitExamples(tokenizer, task.splits.retain, 64),
    ];
    await train(model, examples, {
      steps: 150,
      batchSize: 12,
      lr: 1e-2,
      schedule: 'constant',
      progress: false,
    });
    world = { task, tokenizer, model };
  }
  return { ...world, model: cloneModel(world.model) };
}

/** Mean answer NLL of the forget (or another) split's QA under a model. */
export function splitNll(
  model: CausalLM,
  tokenizer: Tokenizer,
  task: Task,
  split: 'forget' | 'retain' | 'holdout',
): number {
  const ex = task.splits[split].qa.map((q) => qaExample(tokenizer, q.question, q.answer));
  const scores = scoreSequences(model, ex);
  return scores.reduce((s, r) => s + r.nll / r.tokens, 0) / scores.length;
}
