/**
 * Shared by the report's tests: the hand-built fixture study (test/report/fixtures/summary.json:
 * three runs plus the target and the oracle, invented numbers) and a deep copy to mutate.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSummary } from '../../src/report/load.ts';
import type { Summary } from '../../src/study/study-schema.ts';

export const FIXTURE_PATH = fileURLToPath(new URL('../report/fixtures/summary.json', import.meta.url));

/** A fresh, validated copy of the fixture that a test may change freely. */
export function fixture(): Summary {
  return parseSummary(JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')), FIXTURE_PATH);
}
