/**
 * A study's summary rows from what its runs left: the leaderboard cells, ROC curves and raw truth
 * ratios of a run's results, its loss curves from the step log, greedy example answers of its
 * model, and the reference rows of the target and the oracle. Reads and arithmetic only; the
 * study runner (study.ts) decides what to run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../data/index.ts';
import { type EvalResults, resultCells } from '../eval/index.ts';
import { UNLEARN_LOG_FILE } from '../eval/manifest.ts';
import { qaPrompt } from '../text/format.ts';
import { generate } from '../text/generate.ts';
import { loadPretrained } from '../text/pretrained.ts';
import { type Prepared, TRAINING_FLOPS_FORMULA } from './prepare.ts';
import { LEADERBOARD_METRICS, type ReferenceSet, type RunRow } from './study-schema.ts';

const metricValue = (
  r: EvalResults,
  name: string,
  role: 'unlearned' | 'oracle' | 'target' = 'unlearned',
): number | null => {
  const m = r.metrics[name]?.[role];
  return m && 'value' in m ? m.value : null;
};
const extraOf = (r: EvalResults, name: string, role: 'unlearned' | 'oracle' | 'target' = 'unlearned') => {
  const m = r.metrics[name]?.[role];
  return m && 'value' in m ? (m.extra ?? {}) : {};
};
/** The unlearned model's evaluation warnings, with counts ("… (×3)"). */
export const warningsOf = (r: EvalResults): string[] =>
  Object.entries(r.models.unlearned.warnings).map(([w, n]) => (n > 1 ? `${w} (×${n})` : w));

/** A row's leaderboard cells (registered metrics; relearn recovery is robustness.relearnRecovery). */
export function leaderboardMetrics(
  r: EvalResults,
  role: 'unlearned' | 'oracle' | 'target',
  fill: Record<string, number | null | undefined> = {},
) {
  return resultCells(r, role, LEADERBOARD_METRICS, fill);
}

export function rocOf(r: EvalResults, role: 'unlearned' | 'oracle' | 'target'): RunRow['roc'] {
  const out: RunRow['roc'] = {};
  for (const attack of ['loss', 'minK']) {
    const extra = extraOf(r, `mia.${attack}`, role) as {
      roc?: { forgetVsHoldout?: { fpr: number[]; tpr: number[] } };
    };
    const c = extra.roc?.forgetVsHoldout;
    if (c) out[attack] = { fpr: c.fpr, tpr: c.tpr, auc: metricValue(r, `mia.${attack}`, role) };
  }
  return out;
}

export function truthRatiosOf(r: EvalResults, role: 'unlearned' | 'oracle' | 'target'): number[] {
  const m = r.metrics['tofu.forget.truthRatio']?.[role];
  if (!m || !('value' in m) || !m.perItem) return [];
  const series = m.perItem.truthRatio ?? Object.values(m.perItem)[0]; // raw R per item
  return series ? series.values.filter((v): v is number => v !== null) : [];
}

export function curvesOf(dir: string): RunRow['curves'] {
  const path = join(dir, UNLEARN_LOG_FILE);
  const curves: RunRow['curves'] = { step: [], loss: [], forgetLoss: [], retainLoss: [] };
  if (!existsSync(path)) return curves;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as Record<string, number>;
    curves.step.push(e.step);
    curves.loss.push(e.loss);
    const f = e.forgetNll ?? e.npo ?? e.simnpo ?? e.idkNll ?? e.forgetMse ?? e.dpo;
    const rt = e.retainNll ?? e.retainKl ?? e.retainMse;
    if (f !== undefined) curves.forgetLoss!.push(f);
    if (rt !== undefined) curves.retainLoss!.push(rt);
  }
  if (curves.forgetLoss!.length !== curves.step.length) delete curves.forgetLoss;
  if (curves.retainLoss!.length !== curves.step.length) delete curves.retainLoss;
  return curves;
}

/** Greedy answers of a model folder to the first n forget and retain questions. */
export async function examplesOf(dir: string, task: Task, n: number): Promise<RunRow['examples']> {
  if (n === 0) return [];
  const { model, tokenizer } = await loadPretrained(dir);
  const transformPath = join(dir, 'transform.json');
  const { loadTransform, promptedGenerate } = await import('../unlearn/prompted.ts');
  const transform = existsSync(transformPath) ? loadTransform(transformPath) : null;
  const picks = (['forget', 'retain'] as const).flatMap((split) =>
    task.splits[split].qa.slice(0, n).map((q) => ({ split, q })),
  );
  const prompts = picks.map(({ q }) => qaPrompt(q.question));
  const out = transform
    ? promptedGenerate(model, tokenizer, transform, prompts, { maxNewTokens: 32 }).texts
    : generate(
        model,
        picks.map((_, i) => tokenizer.encode(prompts[i], { addSpecialTokens: true })),
        {
          maxNewTokens: 32,
          eosTokenIds: tokenizer.eosId === undefined ? [] : [tokenizer.eosId],
          stopStrings: ['\nQuestion:'],
          decode: (t) => tokenizer.decode(t, { skipSpecialTokens: true }),
        },
      ).texts!;
  return picks.map(({ split, q }, i) => ({
    split,
    question: q.question,
    answer: q.answer,
    generated: out[i].trim(),
  }));
}

export function referenceRow(
  id: 'target' | 'oracle',
  r: EvalResults,
  examples: RunRow['examples'],
  seed: number,
  p: Prepared,
  gradedAgainst: ReferenceSet,
): RunRow {
  const cost = p.info[id];
  const seconds = cost.seconds;
  const { metrics, notes, intervals, basis } = leaderboardMetrics(r, id, { 'efficiency.seconds': seconds });
  return {
    id,
    method: id,
    kind: 'reference',
    label: id === 'target' ? 'target (trained on forget ∪ retain)' : 'oracle (retrained on retain only)',
    args: {},
    seed,
    metrics,
    intervals,
    basis,
    notes,
    curves: { step: [], loss: [] },
    roc: rocOf(r, id),
    truthRatios: truthRatiosOf(r, id),
    examples,
    trainableParameters: 0,
    timings: { seconds, peakRssMb: 0 },
    gradedAgainst,
    training: {
      seconds,
      steps: cost.steps,
      tokens: cost.tokens ?? null,
      flops: cost.flops ?? null,
      flopsFormula: TRAINING_FLOPS_FORMULA,
      finalLoss: Number.isFinite(cost.finalLoss) ? cost.finalLoss : null,
    },
  };
}
