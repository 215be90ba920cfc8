/**
 * The metric registry as a value: `MetricRegistry` holds metrics by name, built from explicit
 * lists (a duplicate name or a malformed metric throws), plus the requirement checks run before a
 * metric computes. Nothing here registers itself: src/eval/metrics/catalog.ts builds the registry
 * lethe evaluates with from each family's list.
 */
import { ITEM_KINDS, type ItemKind } from '../../data/items.ts';
import { SPLIT_NAMES, SPLIT_PARTS, type SplitName, type SplitPart, type Task } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { type Metric, type MetricContext, NO_ORACLE, NO_TARGET, type Requirement } from '../types.ts';

/** The named formats of MetricFormat (besides a number of decimals). */
export const METRIC_FORMATS = ['pct', 'sci', 'seconds', 'mb', 'count'] as const;

/** The prefix of a requirement naming another metric ('metric.<name>', or 'metric.*' for all). */
const METRIC_REQ = 'metric.';

/**
 * The metrics a derived metric is computed from: the names in its 'metric.<name>' requirements
 * ('*' for every non-derived metric of the evaluation). Empty for an ordinary metric.
 */
export function metricInputs(metric: Metric): string[] {
  return (metric.requires ?? [])
    .filter((r) => r.startsWith(METRIC_REQ))
    .map((r) => r.slice(METRIC_REQ.length));
}

/** A derived metric reads other metrics' results and runs after them. */
export const isDerived = (metric: Metric): boolean => metricInputs(metric).length > 0;

function checkRequirementSyntax(metric: string, req: Requirement): void {
  const [head, a, b] = req.split('.');
  const ok =
    req === 'oracle' ||
    req === 'target' ||
    req === 'manifest' ||
    (head === 'metric' && req.length > 'metric.'.length) ||
    (head === 'split' &&
      SPLIT_NAMES.includes(a as SplitName) &&
      (b === 'primary' || SPLIT_PARTS.includes(b as SplitPart))) ||
    (head === 'eval' && ITEM_KINDS.includes(a as ItemKind) && b !== undefined && b !== '');
  if (!ok) {
    throw new ConfigError(`metric ${metric}: unknown requirement "${req}"`, {
      expected:
        "'oracle', 'target', 'manifest', 'split.<split>.<qa|text|tokens|primary>', 'eval.<kind>.<set>', 'metric.<name>' or 'metric.*'",
    });
  }
}

/** Check a metric's requirements, label and format; throws ConfigError naming the metric. */
function checkMetric(metric: Metric): void {
  for (const r of metric.requires ?? []) checkRequirementSyntax(metric.name, r);
  if (metric.label.trim() === '') throw new ConfigError(`metric ${metric.name} has no label`);
  const f = metric.format;
  if (typeof f === 'number' ? !Number.isInteger(f) || f < 0 || f > 10 : !METRIC_FORMATS.includes(f)) {
    throw new ConfigError(`metric ${metric.name}: bad format ${JSON.stringify(f)}`, {
      expected: `a number of decimals 0-10 or one of ${METRIC_FORMATS.join(', ')}`,
    });
  }
}

/** Metrics by name, in the order they were added. */
export class MetricRegistry {
  private readonly byName = new Map<string, Metric>();

  constructor(metrics: Iterable<Metric> = []) {
    for (const m of metrics) this.add(m);
  }

  /** Add a checked metric; a name already present throws. */
  add(metric: Metric): Metric {
    if (this.byName.has(metric.name)) {
      throw new ConfigError(`metric ${metric.name} is registered twice`);
    }
    checkMetric(metric);
    this.byName.set(metric.name, metric);
    return metric;
  }

  get(name: string): Metric {
    const m = this.byName.get(name);
    if (!m) {
      throw new ConfigError(`unknown metric "${name}"`, {
        hint: `known metrics: ${this.names().join(', ')}`,
      });
    }
    return m;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Every name, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Every metric, in the order added. */
  all(): Metric[] {
    return [...this.byName.values()];
  }
}

/** The items of the task's own format in a split, else the first non-empty part (qa, text, tokens). */
export function primaryPart(task: Task, split: SplitName): SplitPart | null {
  const s = task.splits[split];
  if (s[task.format].length > 0) return task.format;
  return SPLIT_PARTS.find((p) => s[p].length > 0) ?? null;
}

/** Why a requirement fails for this context, or null when it holds. */
export function unmetRequirement(
  req: Requirement,
  ctx: Pick<MetricContext, 'task' | 'oracle' | 'model' | 'target' | 'targetResults' | 'results' | 'role'>,
): string | null {
  if (req === 'oracle') return ctx.oracle ? null : NO_ORACLE;
  if (req === 'target') return ctx.target || ctx.targetResults ? null : NO_TARGET;
  if (req === 'metric.*') return null;
  if (req.startsWith(METRIC_REQ)) {
    const name = req.slice(METRIC_REQ.length);
    const r = ctx.results?.(name, ctx.role);
    if (!r) return `needs ${name}, which was not evaluated`;
    if ('skipped' in r) return `needs ${name} (skipped: ${r.skipped})`;
    if ('failed' in r) return `needs ${name} (failed: ${r.failed})`;
    return r.value === null ? `needs ${name}, which has no value` : null;
  }
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
