/**
 * WMDP (Li et al. 2024, arXiv 2403.03218) from its released files, unchanged (Hugging Face
 * cais/wmdp for the questions, cais/wmdp-corpora for the corpora; the bio forget corpus is shared
 * on request by the authors):
 *
 *   bio_questions.json, chem_questions.json, cyber_questions.json (or .jsonl)
 *       {question, choices, answer}: answer a 0-based index (or a letter)
 *   bio-forget-corpus.jsonl, cyber-forget-corpus.jsonl      forget texts
 *   bio-retain-corpus.jsonl, cyber-retain-corpus.jsonl      retain texts
 *       JSON Lines of objects with a "text" field (other fields, e.g. title or doi, are ignored)
 *       or of bare strings
 *
 * `domains` (default: every domain with a forget corpus, else every domain with questions) pick
 * what is forgotten: forget = their forget corpora, retain = their retain corpora (WMDP's retain
 * corpora are general text, kept so the oracle learns the same kind of prose), eval.mcq.forget =
 * their questions, eval.mcq.retain = the other domains' questions (accuracy that should stay);
 * eval.mcq.<domain> holds each domain's questions alone. Without a forget corpus the task still
 * loads for MCQ-only evaluation, with a warning, and `prepare`/`unlearn` refuse it naming the
 * missing files (requireForgetData in task.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { McqItem, TextItem } from './items.ts';
import { readMcq } from './mcq.ts';
import { readRecords } from './records.ts';
import { emptyEval, emptySplit, type Task, validateTask } from './task.ts';

export const WMDP_DOMAINS = ['bio', 'chem', 'cyber'] as const;
export type WmdpDomain = (typeof WMDP_DOMAINS)[number];

export interface WmdpOptions {
  domains?: string[];
}

const CorpusLine = z.union([z.string(), z.looseObject({ text: z.string() })], {
  error: 'must be a string or an object with a "text" string',
});

function findOne(dir: string, names: string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

const questionsFile = (dir: string, d: string) =>
  findOne(dir, [`${d}_questions.json`, `${d}_questions.jsonl`]);
const corpusFile = (dir: string, d: string, kind: 'forget' | 'retain') =>
  findOne(dir, [`${d}-${kind}-corpus.jsonl`, `${d}-${kind}-corpus.json`]);

async function readCorpus(path: string, prefix: string, warnings: string[]): Promise<TextItem[]> {
  const records = await readRecords(path, CorpusLine, { allowEmpty: true });
  const out: TextItem[] = [];
  for (const r of records) {
    const t = typeof r.value === 'string' ? r.value : r.value.text;
    if (t.trim() !== '') out.push({ id: `${prefix}-${r.index}`, text: t });
  }
  if (out.length < records.length)
    warnings.push(`${path}: skipped ${records.length - out.length} empty texts of ${records.length}`);
  return out;
}

/** Load a WMDP folder as a text task with multiple-choice evaluation. */
export async function loadWmdp(dir: string, options: WmdpOptions = {}): Promise<Task> {
  for (const d of options.domains ?? []) {
    if (!WMDP_DOMAINS.includes(d as WmdpDomain)) {
      throw new ConfigError(`unknown WMDP domain "${d}"`, {
        expected: WMDP_DOMAINS.join(', '),
        where: `wmdp:${dir}`,
      });
    }
  }
  const withQuestions = WMDP_DOMAINS.filter((d) => questionsFile(dir, d));
  const withForget = WMDP_DOMAINS.filter((d) => corpusFile(dir, d, 'forget'));
  if (withQuestions.length === 0 && withForget.length === 0) {
    throw new ConfigError('not a WMDP folder', {
      where: dir,
      expected:
        'bio_questions.json, chem_questions.json or cyber_questions.json (and optionally *-forget-corpus.jsonl)',
      found: existsSync(dir) ? 'none of them' : 'no such folder',
    });
  }
  const domains = (options.domains ?? (withForget.length > 0 ? withForget : withQuestions)) as WmdpDomain[];
  const warnings: string[] = [];
  const splits = { forget: emptySplit(), retain: emptySplit(), holdout: emptySplit() };
  const evalSets = emptyEval();
  const missingForget: string[] = [];
  for (const d of domains) {
    const f = corpusFile(dir, d, 'forget');
    if (f) splits.forget.text.push(...(await readCorpus(f, `${d}-forget`, warnings)));
    else missingForget.push(`${d}-forget-corpus.jsonl`);
    const r = corpusFile(dir, d, 'retain');
    if (r) splits.retain.text.push(...(await readCorpus(r, `${d}-retain`, warnings)));
  }
  if (missingForget.length > 0) {
    warnings.push(
      `no forget corpus (${missingForget.join(', ')}): multiple-choice evaluation only; prepare and unlearn need it`,
    );
  }
  const forgetMcq: McqItem[] = [];
  const keptMcq: McqItem[] = [];
  for (const d of WMDP_DOMAINS) {
    const q = questionsFile(dir, d);
    if (!q) {
      if (domains.includes(d)) warnings.push(`no ${d}_questions.json: no forget-domain accuracy for ${d}`);
      continue;
    }
    const items = await readMcq(q, { idPrefix: `wmdp-${d}` });
    evalSets.mcq[d] = items;
    (domains.includes(d) ? forgetMcq : keptMcq).push(...items);
  }
  if (forgetMcq.length > 0) evalSets.mcq.forget = forgetMcq;
  if (keptMcq.length > 0) evalSets.mcq.retain = keptMcq;
  const task: Task = {
    name: `wmdp-${domains.join('-')}`,
    format: 'text',
    description: `WMDP, forgetting ${domains.join(', ')}: ${splits.forget.text.length} forget and ${splits.retain.text.length} retain texts, ${forgetMcq.length} forget-domain and ${keptMcq.length} other questions`,
    splits,
    eval: evalSets,
    idk: [],
    meta: { source: 'wmdp', domains: [...domains] },
  };
  if (warnings.length > 0) task.warnings = warnings;
  validateTask(task, { allowEmptyForget: missingForget.length > 0 });
  return task;
}
