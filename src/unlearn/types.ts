/**
 * What an unlearning method is. A method is written as a typed definition (its arguments' zod
 * schema, the data and models it needs, and one body per kind: a loss per batch for gradient
 * methods, a one-off edit for weight methods, a prompt rewrite for input methods); define.ts turns
 * it into a registered UnlearnMethod, a discriminated union on `kind` that the runner calls.
 *
 * Declared needs decide the context's type: a method that declares `retain: true` sees
 * `ctx.retain: Example[]` and `batch.retain: Batch`; one that does not has no such field at all.
 * The runner builds exactly the declared fields (define.ts checks them once, by name).
 */
import type { z } from 'zod';
import type { Task } from '../data/task.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { Batch, Example } from '../text/batch.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { LossOutput } from '../train/trainer.ts';

/**
 * What a method may need beyond the model and its forget examples:
 *  - retain: the task's retain examples (and a retain batch per step);
 *  - idk: the forget questions answered with a refusal (ctx.idk[i] for forget example i);
 *  - randomAnswers: K variants of the forget questions with random (wrong) answers;
 *  - referenceModel: a frozen copy of the model before unlearning (KL terms, RMU);
 *  - referenceLogProbs: summed answer log-probs of the model before unlearning on forget (and,
 *    with idk, refusal) examples, computed once so no second model stays in memory.
 */
export type Need = 'retain' | 'idk' | 'randomAnswers' | 'referenceModel' | 'referenceLogProbs';

/**
 * A method's declaration of its needs: `true` for each, except randomAnswers, which gives the
 * number of variants from the method's resolved arguments. Exactly the keys of N: a need left
 * out is a type error wherever its field is used, an unknown key is a type error here.
 */
export type NeedSpec<A, N extends Need> = {
  readonly [K in N]: K extends 'randomAnswers' ? (args: A) => number : true;
};

/** The needs of a registered method, as the runner reads them. */
export type Needs = Partial<NeedSpec<Record<string, unknown>, Need>>;

/** The kinds of forget items a method can learn from. */
export type ItemPart = 'qa' | 'text' | 'tokens';

/** What every method sees. */
export interface BaseContext<A> {
  model: CausalLM;
  tokenizer: Tokenizer;
  task: Task;
  /** The method's own arguments, validated, defaults filled in. */
  args: A;
  seed: number;
  forget: Example[];
  log(message: string): void;
  /**
   * A training stage of the method (a task vector's fine-tune): pass its `logFile` to train() and
   * its result to `done`, so that the run's step log, step count and cost include the stage.
   */
  trainingStage(name: string): TrainingStage;
}

/** See BaseContext.trainingStage. `logFile` is undefined when the run keeps no step log. */
export interface TrainingStage {
  logFile: string | undefined;
  done(result: { steps: number; finalLoss: number }): void;
}

/** Reference log-probs of forget examples, and of their refusals when the method needs those. */
export type RefLogProbs<N extends Need> = { forget: Float32Array } & ('idk' extends N
  ? { idk: Float32Array }
  : unknown);

/** The context of a method that needs N: the base plus exactly the fields its needs provide. */
export type MethodContext<A, N extends Need = never> = BaseContext<A> &
  ('retain' extends N ? { retain: Example[] } : unknown) &
  ('idk' extends N ? { idk: Example[] } : unknown) &
  ('randomAnswers' extends N ? { random: Example[][] } : unknown) &
  ('referenceModel' extends N ? { reference: CausalLM } : unknown) &
  ('referenceLogProbs' extends N ? { refLogp: RefLogProbs<N> } : unknown);

/** A gradient method's context once its setup has built its private state. */
export type StatefulContext<A, N extends Need, S> = MethodContext<A, N> & { state: S };

/** One training step's data for a method that needs N. */
export type UnlearnBatch<N extends Need = never> = {
  tokens: number;
  forget: Batch;
  /** Indices of the forget examples in ctx.forget (for cached reference values). */
  forgetIndex: number[];
} & ('retain' extends N ? { retain: Batch } : unknown) &
  ('idk' extends N ? { idk: Batch } : unknown) &
  ('randomAnswers' extends N ? { random: Batch[] } : unknown);

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

// ---- Definitions: what a method's author writes (define.ts turns them into UnlearnMethods) ----

interface DefinitionBase<A, N extends Need> {
  name: string;
  summary: string;
  /** Paper reference (arXiv id or venue). */
  paper: string;
  /** The method's own arguments with documented defaults (a z.object; unknown keys are errors). */
  args: z.ZodType<A>;
  /** What it needs beyond the model and the forget examples (`{}` for nothing). */
  needs: NeedSpec<A, N>;
  /**
   * The forget item kinds the method can use (default: all). Items of other kinds are left out of
   * its forget set and counted in the result: e.g. idk needs a question to answer with a refusal,
   * so a biography would otherwise become its own "refusal".
   */
  supports?: readonly ItemPart[];
}

/** A gradient method with private state S built once per request by `setup` (e.g. RMU's control vector). */
export interface StatefulGradientDefinition<A, N extends Need, S> extends DefinitionBase<A, N> {
  /** Method-specific defaults for the shared training arguments (e.g. a learning rate that suits it). */
  trainingDefaults?: Record<string, unknown>;
  setup(ctx: MethodContext<A, N>): S | Promise<S>;
  /** Which parameters may change (default all; the `layers` modifier narrows it further). */
  trainable?(name: string, ctx: StatefulContext<A, N, S>): boolean;
  /** The loss of one batch. */
  loss(ctx: StatefulContext<A, N, S>, batch: UnlearnBatch<N>): LossOutput;
}

/** A gradient method without private state. */
export interface GradientDefinition<A, N extends Need> extends DefinitionBase<A, N> {
  trainingDefaults?: Record<string, unknown>;
  trainable?(name: string, ctx: MethodContext<A, N>): boolean;
  loss(ctx: MethodContext<A, N>, batch: UnlearnBatch<N>): LossOutput;
}

/** A weight method: edits ctx.model in place, once. */
export interface WeightDefinition<A, N extends Need> extends DefinitionBase<A, N> {
  apply(ctx: MethodContext<A, N>): Promise<void>;
}

/** An input method: leaves the weights alone and returns the prompt rewrite. */
export interface InputDefinition<A, N extends Need> extends DefinitionBase<A, N> {
  transform(ctx: MethodContext<A, N>): InputTransform;
}

// ---- Registered methods: what the registry holds and the runner calls ----

/**
 * What the runner builds for one request: every field a need can ask for, null (or empty) where
 * the method did not ask. define.ts narrows it to the method's MethodContext.
 */
export interface RunContext {
  model: CausalLM;
  tokenizer: Tokenizer;
  task: Task;
  /** The resolved arguments (the method's own, plus the shared training arguments for gradient methods). */
  args: Record<string, unknown>;
  seed: number;
  forget: Example[];
  retain: Example[] | null;
  idk: Example[] | null;
  random: Example[][] | null;
  reference: CausalLM | null;
  refLogp: { forget: Float32Array; idk: Float32Array | null } | null;
  log(message: string): void;
  trainingStage(name: string): TrainingStage;
}

/** One step's batches as the runner's batch source makes them (null where not needed). */
export interface RunBatch {
  tokens: number;
  forget: Batch;
  forgetIndex: number[];
  retain: Batch | null;
  idk: Batch | null;
  random: Batch[];
}

interface MethodInfo {
  name: string;
  summary: string;
  paper: string;
  /** The method's own arguments (a zod object; the runner adds the shared training arguments). */
  args: z.ZodObject;
  needs: Needs;
  supports?: readonly ItemPart[];
}

/** A gradient method, started once per request. */
export interface GradientMethod extends MethodInfo {
  kind: 'gradient';
  trainingDefaults?: Record<string, unknown>;
  /** True when the method restricts which parameters train (LoRA then adapts those by default). */
  restrictsParameters: boolean;
  /** Run the method's setup on the request's context; the result computes losses. */
  start(ctx: RunContext): Promise<GradientRun>;
}

export interface GradientRun {
  loss(batch: RunBatch): LossOutput;
  trainable(name: string): boolean;
}

export interface WeightMethod extends MethodInfo {
  kind: 'weights';
  apply(ctx: RunContext): Promise<void>;
}

export interface InputMethod extends MethodInfo {
  kind: 'input';
  transform(ctx: RunContext): InputTransform;
}

/** A registered unlearning method: one of the three kinds, told apart by `kind`. */
export type UnlearnMethod = GradientMethod | WeightMethod | InputMethod;
