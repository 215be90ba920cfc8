/**
 * What an unlearning method is: a named plugin with a zod schema of arguments and what it needs
 * (retain data, cached reference log-probs, a frozen reference model, refusal answers). Gradient
 * methods give a loss per batch; weight methods edit the weights once; input methods change only
 * what the model is asked.
 */
import type { z } from 'zod';
import type { Task } from '../data/task.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { Batch, Example } from '../text/batch.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { LossOutput } from '../train/trainer.ts';

export interface UnlearnBatch {
  tokens: number;
  forget: Batch;
  /** Indices of the forget examples in ctx.forget (for cached reference values). */
  forgetIndex: number[];
  retain: Batch | null;
  /** The same forget prompts answered with a refusal (ctx.idk[i] for forget example i). */
  idk: Batch | null;
  /** K batches of the forget prompts with random (wrong) answers. */
  random: Batch[];
}

export interface Needs {
  retain?: boolean;
  /** Summed answer log-probs of the model before unlearning on forget (and idk) examples. */
  referenceLogProbs?: boolean;
  /** A frozen copy of the model before unlearning (KL terms, RMU). */
  referenceModel?: boolean;
  idk?: boolean;
  /** Number of random-answer variants per forget example (may depend on the resolved arguments). */
  randomAnswers?: number | ((args: Record<string, unknown>) => number);
}

/** The kinds of forget items a method can learn from. */
export type ItemPart = 'qa' | 'text' | 'tokens';

export interface MethodContext<A = Record<string, unknown>> {
  model: CausalLM;
  tokenizer: Tokenizer;
  task: Task;
  args: A;
  seed: number;
  forget: Example[];
  retain: Example[];
  idk: Example[];
  random: Example[][];
  reference: CausalLM | null;
  refLogp: { forget: Float32Array; idk: Float32Array | null } | null;
  /** Method-private state built in setup (e.g. RMU's control vector). */
  state: Record<string, unknown>;
  log(message: string): void;
}

/**
 * A prompt rewrite applied at generation and scoring time (input-based unlearning); applied by
 * src/unlearn/prompted.ts.
 */
export interface InputTransform {
  kind: string;
  /**
   * The text placed before `prompt` (and before raw text that is scored); the caller appends the
   * prompt itself. It may depend on the prompt (icul picks its context by the query).
   */
  prefix(prompt: string): string;
  /**
   * Optional output filter: generated text containing one of these strings (case-insensitive,
   * whitespace collapsed) is replaced by `refusal`.
   */
  blockPatterns?: string[];
  refusal?: string;
  /** JSON that fully determines the transform (prompted.ts transformFromJson rebuilds it). */
  toJSON(): { kind: string; version: number } & Record<string, unknown>;
}

export interface UnlearnMethod<A = Record<string, unknown>> {
  name: string;
  summary: string;
  /** Paper reference (arXiv id or venue). */
  paper: string;
  kind: 'gradient' | 'weights' | 'input';
  /** The method's own arguments with documented defaults (unknown keys are errors). */
  args: z.ZodType<A>;
  needs?: Needs;
  /**
   * The forget item kinds the method can use (default: all). Items of other kinds are left out of
   * its forget set and counted in the result: e.g. idk needs a question to answer with a refusal,
   * so a biography would otherwise become its own "refusal".
   */
  supports?: readonly ItemPart[];
  /** Method-specific defaults for the shared training arguments (e.g. a learning rate that suits it). */
  trainingDefaults?: Record<string, unknown>;
  setup?(ctx: MethodContext<A>): void | Promise<void>;
  /** Gradient methods: the loss of one batch. */
  loss?(ctx: MethodContext<A>, batch: UnlearnBatch): LossOutput;
  /** Gradient methods: which parameters may change (default all; the `layers` modifier narrows it). */
  trainable?(name: string, ctx: MethodContext<A>): boolean;
  /** Weight methods: edit ctx.model in place. */
  apply?(ctx: MethodContext<A>): Promise<void>;
  /** Input methods: the prompt rewrite. */
  transform?(ctx: MethodContext<A>): InputTransform;
}
