/**
 * Turning a typed method definition into a registered method. This file is the one place where a
 * method's declared needs meet the context the runner built: it checks, once per request and by
 * name, that every declared field is there, and hands the method a context (and batches) holding
 * exactly those fields, typed by the declaration. Method files call gradientMethod,
 * statefulGradientMethod, weightMethod or inputMethod; nothing else needs a cast.
 */
import { z } from 'zod';
import { configIssue } from '../config/load.ts';
import { ConfigError, LetheError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { Batch, Example } from '../text/batch.ts';
import type {
  BaseContext,
  GradientDefinition,
  GradientMethod,
  InputDefinition,
  InputMethod,
  MethodContext,
  Need,
  NeedSpec,
  Needs,
  RunBatch,
  RunContext,
  StatefulContext,
  StatefulGradientDefinition,
  UnlearnBatch,
  WeightDefinition,
  WeightMethod,
} from './types.ts';

/** The method's argument schema as a zod object (the runner extends and lists its keys). */
function objectSchema(name: string, args: z.ZodType): z.ZodObject {
  if (!(args instanceof z.ZodObject)) {
    throw new ConfigError(`method ${name}: its args schema must be a z.object`, {
      hint: 'wrap the arguments in z.object({ ... }) (z.object({}) for none)',
    });
  }
  return args;
}

/** Validates resolved arguments against the method's own schema (extra training keys are dropped). */
function argParser<A>(name: string, schema: z.ZodType<A>): (raw: Record<string, unknown>) => A {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw configIssue(parsed.error, `method ${name} arguments`);
    return parsed.data;
  };
}

/** A declaration of needs read as the runner reads it: which needs, and K for random answers. */
function needsOf<A, N extends Need>(spec: NeedSpec<A, N>, parse: (raw: Record<string, unknown>) => A): Needs {
  const s: Partial<NeedSpec<A, Need>> = spec;
  const random = s.randomAnswers;
  return {
    ...(s.retain ? { retain: true } : {}),
    ...(s.idk ? { idk: true } : {}),
    ...(s.referenceModel ? { referenceModel: true } : {}),
    ...(s.referenceLogProbs ? { referenceLogProbs: true } : {}),
    ...(random ? { randomAnswers: (raw: Record<string, unknown>) => random(parse(raw)) } : {}),
  };
}

const missingField = (method: string, what: string): never => {
  throw new LetheError(`method ${method} declares a need the run context does not fill: ${what}`, {
    hint: 'build the context with unlearn() (src/unlearn/runner.ts), which fills every declared need',
  });
};

/**
 * The method's view of a run context: the base fields plus exactly those its needs declare, each
 * checked to be present. The final assertion is what the checks above it establish.
 */
export function methodContext<A, N extends Need>(
  name: string,
  spec: NeedSpec<A, N>,
  run: RunContext,
  args: A,
): MethodContext<A, N> {
  const s: Partial<NeedSpec<A, Need>> = spec;
  const base: BaseContext<A> = {
    model: run.model,
    tokenizer: run.tokenizer,
    task: run.task,
    args,
    seed: run.seed,
    forget: run.forget,
    log: run.log,
    trainingStage: run.trainingStage,
  };
  const fields: {
    retain?: Example[];
    idk?: Example[];
    random?: Example[][];
    reference?: CausalLM;
    refLogp?: { forget: Float32Array; idk?: Float32Array };
  } = {};
  if (s.retain) fields.retain = run.retain ?? missingField(name, 'retain examples');
  if (s.idk) fields.idk = run.idk ?? missingField(name, 'refusal (idk) examples');
  if (s.randomAnswers) fields.random = run.random ?? missingField(name, 'random-answer examples');
  if (s.referenceModel) fields.reference = run.reference ?? missingField(name, 'the reference model');
  if (s.referenceLogProbs) {
    const ref = run.refLogp ?? missingField(name, 'reference log-probs');
    fields.refLogp = s.idk
      ? { forget: ref.forget, idk: ref.idk ?? missingField(name, 'reference log-probs of the refusals') }
      : { forget: ref.forget };
  }
  return { ...base, ...fields } as MethodContext<A, N>;
}

/** The method's view of one step's batches: exactly the declared fields, each checked. */
function methodBatch<N extends Need>(
  name: string,
  s: Partial<NeedSpec<unknown, Need>>,
  b: RunBatch,
): UnlearnBatch<N> {
  const out: {
    tokens: number;
    forget: Batch;
    forgetIndex: number[];
    retain?: Batch;
    idk?: Batch;
    random?: Batch[];
  } = { tokens: b.tokens, forget: b.forget, forgetIndex: b.forgetIndex };
  if (s.retain) out.retain = b.retain ?? missingField(name, 'a retain batch');
  if (s.idk) out.idk = b.idk ?? missingField(name, 'a refusal batch');
  if (s.randomAnswers) out.random = b.random;
  return out as UnlearnBatch<N>;
}

/** What every kind of method shows the registry: its description, argument schema and needs. */
function described<A, N extends Need>(
  def: Pick<WeightDefinition<A, N>, 'name' | 'summary' | 'paper' | 'args' | 'needs' | 'supports'>,
  parse: (raw: Record<string, unknown>) => A,
) {
  return {
    name: def.name,
    summary: def.summary,
    paper: def.paper,
    args: objectSchema(def.name, def.args),
    needs: needsOf(def.needs, parse),
    supports: def.supports,
  };
}

/** A gradient method with private state, built by `setup` once per request. */
export function statefulGradientMethod<A, N extends Need, S>(
  def: StatefulGradientDefinition<A, N, S>,
): GradientMethod {
  const parse = argParser(def.name, def.args);
  const spec: Partial<NeedSpec<unknown, Need>> = def.needs;
  return {
    kind: 'gradient',
    ...described(def, parse),
    trainingDefaults: def.trainingDefaults,
    restrictsParameters: def.trainable !== undefined,
    async start(run) {
      const ctx = methodContext(def.name, def.needs, run, parse(run.args));
      const full: StatefulContext<A, N, S> = { ...ctx, state: await def.setup(ctx) };
      return {
        loss: (batch) => def.loss(full, methodBatch<N>(def.name, spec, batch)),
        trainable: (name) => def.trainable?.(name, full) ?? true,
      };
    },
  };
}

/** A gradient method: a loss per batch. */
export function gradientMethod<A, N extends Need = never>(def: GradientDefinition<A, N>): GradientMethod {
  return statefulGradientMethod<A, N, undefined>({
    ...def,
    setup: () => undefined,
    loss: (ctx, batch) => def.loss(ctx, batch),
    trainable: def.trainable ? (name, ctx) => def.trainable?.(name, ctx) ?? true : undefined,
  });
}

/** A weight method: edits the model once. */
export function weightMethod<A, N extends Need = never>(def: WeightDefinition<A, N>): WeightMethod {
  const parse = argParser(def.name, def.args);
  return {
    kind: 'weights',
    ...described(def, parse),
    // async, so a missing need rejects like every other failure of apply
    apply: async (run) => def.apply(methodContext(def.name, def.needs, run, parse(run.args))),
  };
}

/** An input method: returns a prompt rewrite, never touches the weights. */
export function inputMethod<A, N extends Need = never>(def: InputDefinition<A, N>): InputMethod {
  const parse = argParser(def.name, def.args);
  return {
    kind: 'input',
    ...described(def, parse),
    transform: (run) => def.transform(methodContext(def.name, def.needs, run, parse(run.args))),
  };
}
