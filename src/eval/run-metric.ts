/**
 * Running one metric on one model: requirements first (a failed one is recorded as skipped with
 * its reason), then compute; MetricSkip becomes "skipped", any other error "failed" with its
 * message, so one broken metric never loses the rest of a long suite. Outputs are normalised for
 * JSON (non-finite numbers become null).
 */
import { LetheError } from '../errors.ts';
import { unmetRequirement } from './metrics/registry.ts';
import type { MetricResult } from './results.ts';
import { type Metric, type MetricContext, type MetricOutput, MetricSkip } from './types.ts';

/** Replace non-finite numbers (anywhere in the output) by null, as JSON requires. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, jsonSafe(v)]),
    );
  }
  return value;
}

export async function runMetric(
  metric: Metric,
  ctx: MetricContext,
): Promise<{ result: MetricResult; seconds: number }> {
  const started = performance.now();
  const done = (result: MetricResult) => ({ result, seconds: (performance.now() - started) / 1000 });
  for (const req of metric.requires ?? []) {
    const reason = unmetRequirement(req, ctx);
    if (reason) return done({ skipped: reason });
  }
  try {
    const out: MetricOutput = await metric.compute(ctx);
    return done(jsonSafe(out) as MetricResult);
  } catch (e) {
    if (e instanceof MetricSkip) return done({ skipped: e.reason });
    const message =
      e instanceof LetheError ? e.message : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? e}`;
    // The stack goes to the progress log: a non-LetheError here is a bug worth locating.
    ctx.log(`${metric.name} failed: ${e instanceof LetheError ? message : ((e as Error)?.stack ?? message)}`);
    return done({ failed: message });
  }
}
