/**
 * The hook through which robustness checks (relearning, quantisation, adversarial prompts — see
 * src/eval/robustness/) join the evaluation. `robustnessMetric` turns a check into the metric
 * `robustness.<name>`, part of the `robustness` and `all` suites (src/eval/metrics/catalog.ts
 * registers the built-in checks and offers registerRobustnessCheck for others). A check gets the
 * usual metric context plus `evaluate`, which runs any registered metrics on another model (e.g. an
 * attacked copy of ctx.model.model) with the same tokenizer, input transform, task, oracle and
 * options, so an attack can report e.g. the recovery of tofu.forget.prob after k relearning steps.
 */
import type { CausalLM } from '../models/causal-lm.ts';
import { ModelEval } from './model-eval.ts';
import type { MetricResult } from './results.ts';
import { runMetric } from './run-metric.ts';
import type { Direction, Metric, MetricContext, MetricFormat, MetricOutput, Requirement } from './types.ts';

export interface RobustnessContext extends MetricContext {
  /** Run the named metrics on `model` (a fresh cache; ctx.model's is not reused). */
  evaluate(model: CausalLM, label: string, metrics: readonly string[]): Promise<Record<string, MetricResult>>;
}

export interface RobustnessCheck {
  /** Registered as `robustness.<name>`. */
  name: string;
  label: string;
  direction: Direction;
  format: MetricFormat;
  summary: string;
  requires?: Requirement[];
  run(ctx: RobustnessContext): Promise<MetricOutput>;
}

/** The metrics made from robustness checks (how the suites tell them from other metrics). */
const checkMetrics = new WeakSet<Metric>();

/** A robustness check as the metric robustness.<name>. */
export function robustnessMetric(check: RobustnessCheck): Metric {
  const metric: Metric = {
    name: `robustness.${check.name}`,
    label: check.label,
    direction: check.direction,
    format: check.format,
    summary: check.summary,
    requires: check.requires,
    compute: (ctx) => check.run(robustnessContext(ctx)),
  };
  checkMetrics.add(metric);
  return metric;
}

/** Whether a metric was made from a robustness check by robustnessMetric. */
export const isRobustnessCheck = (metric: Metric): boolean => checkMetrics.has(metric);

function robustnessContext(ctx: MetricContext): RobustnessContext {
  return {
    ...ctx,
    async evaluate(model, label, metrics) {
      const other = new ModelEval({
        label: `${ctx.model.label}/${label}`,
        model,
        tokenizer: ctx.model.tokenizer,
        transform: ctx.model.transform,
        dir: null,
        options: ctx.options,
      });
      const out: Record<string, MetricResult> = {};
      for (const name of metrics) {
        out[name] = (await runMetric(ctx.metric(name), { ...ctx, model: other })).result;
      }
      return out;
    },
  };
}
