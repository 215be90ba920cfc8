/**
 * A tiny evaluation world for tests: test/helpers/unlearn-world.ts's memorised QA task (the target)
 * with small eval sets added (world facts, MCQ, verbatim, PII, utility text), and an oracle trained
 * the same way on the retain split only. Built once per process in about two seconds; every call
 * gets fresh copies of both models.
 */
import type { McqItem, PiiRecord } from '../../src/data/items.ts';
import type { Task } from '../../src/data/task.ts';
import type { CausalLM } from '../../src/models/causal-lm.ts';
import { buildModel, cloneModel } from '../../src/models/registry.ts';
import { Rng } from '../../src/tensor/index.ts';
import { qaAnswer, qaPrompt, splitExamples } from '../../src/text/format.ts';
import type { Tokenizer } from '../../src/text/tokenizer/tokenizer.ts';
import { train } from '../../src/train/trainer.ts';
import { tinyWorld } from './unlearn-world.ts';

export interface EvalWorld {
  task: Task;
  tokenizer: Tokenizer;
  /** Trained on forget ∪ retain (memorises both). */
  target: CausalLM;
  /** Trained on retain only, same recipe and seed. */
  oracle: CausalLM;
}

const TOWNS = ['Oslo', 'Lima', 'Perth', 'Quito', 'Rome', 'Suva', 'Tunis', 'Ulm'];

/** The tiny task with eval sets built from its own facts (so the target knows them). */
function withEvalSets(base: Task): Task {
  const task = structuredClone(base);
  const townOf = (answer: string) => TOWNS.find((t) => answer.includes(t))!;
  task.eval.qa.worldFacts = base.splits.retain.qa.slice(0, 4).map((q) => ({ ...q, id: `wf-${q.id}` }));
  task.eval.qa.retainPerturbed = base.splits.retain.qa.slice(4, 8);
  const mcq = (q: Task['splits']['forget']['qa'][number]): McqItem => {
    const town = townOf(q.answer);
    const choices = [town, ...TOWNS.filter((t) => t !== town).slice(0, 3)];
    return { id: `${q.id}-mcq`, question: q.question, choices, answer: 0 };
  };
  task.eval.mcq.forget = base.splits.forget.qa.map(mcq);
  task.eval.mcq.retain = base.splits.retain.qa.slice(0, 4).map(mcq);
  task.eval.verbatim.forget = base.splits.forget.qa.map((q) => ({
    id: `${q.id}-verbatim`,
    prompt: qaPrompt(q.question),
    continuation: qaAnswer(q.answer),
  }));
  const pii = (q: Task['splits']['forget']['qa'][number]): PiiRecord => {
    const name = q.answer.split(' ')[0];
    return {
      id: `${q.id}-pii`,
      person: name,
      field: 'town',
      value: townOf(q.answer),
      prompts: [`${qaPrompt(q.question)} ${name} lives in`],
    };
  };
  task.eval.pii.forget = base.splits.forget.qa.map(pii);
  task.eval.pii.holdout = base.splits.holdout.qa.map(pii);
  task.eval.pii.retain = base.splits.retain.qa.map(pii);
  task.eval.text.utility = [
    { id: 'u0', text: 'Where does the river go? It goes to the sea.' },
    { id: 'u1', text: 'Lima and Rome are towns; Ulm is one too.' },
  ];
  task.eval.qa.knowmemForget = base.splits.forget.qa.slice(0, 2);
  task.eval.qa.knowmemRetain = base.splits.retain.qa.slice(0, 2);
  return task;
}

let world: Promise<EvalWorld> | null = null;

async function build(): Promise<EvalWorld> {
  const { task: base, tokenizer, model: target } = await tinyWorld();
  // The same recipe as the target's (see test/helpers/unlearn-world.ts), on retain only.
  const oracle = buildModel(target.config, new Rng(0));
  await train(oracle, splitExamples(tokenizer, base.splits.retain, 64), {
    steps: 150,
    batchSize: 12,
    lr: 1e-2,
    schedule: 'constant',
    progress: false,
  });
  oracle.eval();
  return { task: withEvalSets(base), tokenizer, target, oracle };
}

export async function evalWorld(): Promise<EvalWorld> {
  world ??= build();
  const w = await world;
  return {
    task: structuredClone(w.task),
    tokenizer: w.tokenizer,
    target: cloneModel(w.target),
    oracle: cloneModel(w.oracle),
  };
}
