/**
 * `lethe/study`: the study runner (prepare target and oracle, a grid of methods × seeds, evaluate,
 * summarise, report) and its pieces, usable one by one.
 */
import type { z } from 'zod';
import { parseConfig } from '../config/load.ts';
import { type Study, StudySchema } from '../study/study.ts';

export {
  loadSummary,
  type RenderOptions,
  type ReportFiles,
  renderLeaderboardText,
  renderMarkdown,
  renderReport,
} from '../report/index.ts';
export {
  DEFAULT_PREPARE_RECIPE,
  type Prepared,
  type PrepareInfo,
  type PrepareOptions,
  prepare,
} from '../study/prepare.ts';
export { planRuns, readStudy, runStudy, type Study, type StudyResult, StudySchema } from '../study/study.ts';
export { type RunRow, type Summary, SummarySchema } from '../study/study-schema.ts';

/** A study from a plain object (as in a study JSON file): defaults filled, bad keys a ConfigError. */
export function defineStudy(input: z.input<typeof StudySchema>, where = 'study'): Study {
  return parseConfig(StudySchema, input, where);
}
