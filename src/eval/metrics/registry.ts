/**
 * The metric registry: every metric by name, registered once (a duplicate name throws), and the
 * requirement checks run before a metric computes. Metric files register themselves on import;
 * src/eval/metrics/index.ts imports them all.
 */
import { ITEM_KINDS, type ItemKind } from '../../data/items.ts';
import { SPLIT_NAMES, SPLIT_PARTS, type SplitName, type SplitPart, type Task } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { type Metric, type MetricContext, NO_ORACLE, type Requirement } from '../types.ts';

const registry = new Map<string, Metric>();

function checkRequirementSyntax(metric: string, req: Requirement): void {
  const [head, a, b] = req.split('.');
  const ok =
    req === 'oracle' ||
    req === 'manifest' ||
    (head === 'split' &&
      SPLIT_NAMES.includes(a as SplitName) &&
      (b === 'primary' || SPLIT_PARTS.includes(b as SplitPart))) ||
    (head === 'eval' && ITEM_KINDS.includes(a as ItemKind) && b !== undefined && b !== '');
  if (!ok) {
    throw new ConfigError(`metric ${metric}: unknown requirement "${req}"`, {
      expected: "'oracle', 'manifest', 'split.<split>.<qa|text|tokens|primary>' or 'eval.<kind>.<set>'",
    });
  }
}

export function registerMetric(metric: Metric): Metric {
  if (registry.has(metric.name)) {
    throw new ConfigError(`metric ${metric.name} is registered twice`);
  }
  for (const r of metric.requires ?? []) checkRequirementSyntax(metric.name, r);
  registry.set(metric.name, metric);
  return metric;
}

export function getMetric(name: string): Metric {
  const m = registry.get(name);
  if (!m) {
    throw new ConfigError(`unknown metric "${name}"`, {
      hint: `known metrics: ${[...registry.keys()].sort().join(', ')}`,
    });
  }
  return m;
}

export const hasMetric = (name: string): boolean => registry.has(name);

export const metricNames = (): string[] => [...registry.keys()].sort();

/** The items of the task's own format in a split, else the first non-empty part (qa, text, tokens). */
export function primaryPart(task: Task, split: SplitName): SplitPart | null {
  const s = task.splits[split];
  if (s[task.format].length > 0) return task.format;
  return SPLIT_PARTS.find((p) => s[p].length > 0) ?? null;
}

/** Why a requirement fails for this context, or null when it holds. */
export function unmetRequirement(
  req: Requirement,
  ctx: Pick<MetricContext, 'task' | 'oracle' | 'model'>,
): string | null {
  if (req === 'oracle') return ctx.oracle ? null : NO_ORACLE;
  if (req === 'manifest')
    return ctx.model.manifest ? null : 'needs the manifest.json of an unlearning run in the model folder';
  const [head, a, b] = req.split('.');
  if (head === 'split') {
    const split = a as SplitName;
    if (b === 'primary') return primaryPart(ctx.task, split) ? null : `the task's ${split} split is empty`;
    return ctx.task.splits[split][b as SplitPart].length > 0
      ? null
      : `the task has no ${b} items in its ${split} split`;
  }
  const set = ctx.task.eval[a as ItemKind][b];
  return set && set.length > 0 ? null : `the task has no eval set ${a}.${b}`;
}
