/**
 * The parts of a study run's summary row that come from beside its evaluation: what its
 * oracle-free search tried (the run folder's search.json, written by src/study/search.ts) and what
 * the run cost against retraining the oracle. Pure reads and arithmetic, so the study runner
 * (study.ts) stays a sequence of steps and these rules can be tested alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.ts';
import { unlearnTokens } from '../eval/manifest.ts';
import { ORACLE_GRADE_METRIC, type SearchResult } from './search.ts';
import type { CostVsOracle, RunSearch } from './study-schema.ts';

/** NaN and ±Infinity become null (JSON writes NaN as null anyway; a reader must not see both). */
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A search.json as a summary row's `search`, or undefined when the run was not searched. */
export function readRunSearch(runDir: string): RunSearch | undefined {
  const path = join(runDir, 'search.json');
  if (!existsSync(path)) return undefined;
  let saved: SearchResult;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8')) as SearchResult;
  } catch (err) {
    throw new DataError('the run folder holds a search.json that is not valid JSON', {
      where: path,
      found: (err as Error).message,
      hint: 'delete it to search again',
    });
  }
  const trials = Array.isArray(saved.trials) ? saved.trials : [];
  if (trials.length === 0 || !(saved.chosenIndex >= 0 && saved.chosenIndex < trials.length)) {
    throw new DataError('search.json has no trials or its chosen index is out of range', {
      where: path,
      found: `${trials.length} trials, chosenIndex ${String(saved.chosenIndex)}`,
      hint: 'delete it to search again',
    });
  }
  const oracleIndex = saved.oracleChoice?.index;
  return {
    strategy: String(saved.spec?.strategy ?? 'grid'),
    utilityFloor: saved.spec?.utilityFloor ?? 0.95,
    validationItems: saved.validationItems ?? 0,
    trials: trials.map((t) => ({
      args: t.args,
      rung: t.rung ?? 0,
      miaAuc: finite(t.metrics?.miaAuc),
      utility: finite(t.utility),
      eligible: t.eligible === true,
      seconds: finite(t.seconds) ?? 0,
      oracleGrade: finite(t.oracleGrade),
    })),
    chosen: saved.chosenIndex,
    eligible: saved.eligible === true,
    oracleChoice:
      typeof oracleIndex === 'number' && oracleIndex >= 0 && oracleIndex < trials.length ? oracleIndex : null,
    gap: finite(saved.oracleChoice?.gap),
    oracleMetric: ORACLE_GRADE_METRIC,
    seconds: trials.reduce((s, t) => s + (finite(t.seconds) ?? 0), 0),
  };
}

/**
 * The unlearning run's training FLOPs, 6·N·tokens over its step log (the oracle's formula, so the
 * two compare): 0 for a run that took no steps, null when steps were taken but not logged.
 */
export function runTrainingFlops(modelDir: string, parameters: number, steps: number): number | null {
  const log = unlearnTokens(modelDir);
  if (!log) return steps > 0 ? null : 0;
  return 6 * parameters * log.tokens;
}

const ratio = (a: number | null, b: number | null | undefined): number | null =>
  a === null || b === null || b === undefined || !(b > 0) ? null : a / b;

/**
 * A run's cost as fractions of the oracle's training; `searchSeconds` (every trial's time, the
 * chosen one's included) only for a searched run.
 */
export function costVsOracle(o: {
  seconds: number;
  flops: number | null;
  oracle: { seconds: number; flops?: number | null };
  searchSeconds?: number;
}): CostVsOracle {
  const out: CostVsOracle = {
    time: ratio(o.seconds, o.oracle.seconds),
    flops: ratio(o.flops, o.oracle.flops),
    runFlops: o.flops,
  };
  // The run is the search's chosen trial (adopt-trial.ts): the search's time already holds it.
  if (o.searchSeconds !== undefined) out.withSearch = ratio(o.searchSeconds, o.oracle.seconds);
  return out;
}
