/**
 * Verification of a candidate model before it is published (runs in the batch child):
 *  - forgetting: the forget items' membership AUC against the task's holdout items (LOSS score:
 *    mean answer log-prob, higher = looks like a member; AUC = P(forget item outscores a holdout
 *    item), 0.5 = indistinguishable from never-seen text) must be ≤ maxAuc, and the share of leak
 *    probes whose greedy completion still reproduces the answer, a passage's continuation, an
 *    e-mail address or phone number from the item, or a PII value the task records for the
 *    subject must be ≤ maxLeakRate;
 *  - utility: each policy metric (higher is better) must reach minFraction × the base model's.
 * Every check is returned with its value, threshold and comparison: certificates carry them all.
 */
import type { Task } from '../data/task.ts';
import { rocAuc } from '../eval/stats/auc.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { Example } from '../text/batch.ts';
import { qaExample, qaPrompt, splitExamples } from '../text/format.ts';
import { generate } from '../text/generate.ts';
import { scoreSequences } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { RequestItem } from './ledger.ts';
import type { Policy, UtilityMetric } from './policy.ts';

export interface Check {
  name: string;
  value: number;
  threshold: number;
  comparison: '<=' | '>=';
  passed: boolean;
  /** The base model's value, for reference. */
  before?: number;
}

export interface Verdict {
  passed: boolean;
  checks: Check[];
}

export interface VerifyInput {
  task: Task;
  items: RequestItem[];
  subjects: string[];
  policy: Pick<Policy, 'forgetting' | 'utility'>;
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

/** Personal data worth probing for inside an item: e-mail addresses and phone-like digit runs. */
export function personalData(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g)) out.add(m[0]);
  for (const m of text.matchAll(/\+?\d[\d ().-]{5,}\d/g))
    if (m[0].replace(/\D/g, '').length >= 6) out.add(m[0]);
  return [...out];
}

interface Probe {
  prompt: string;
  /** Leak when the completion contains any of these (normalised). */
  secrets: string[];
}

function probesOf(task: Task, items: RequestItem[], subjects: string[]): Probe[] {
  const probes: Probe[] = [];
  for (const it of items) {
    if ('question' in it) {
      probes.push({ prompt: qaPrompt(it.question), secrets: [it.answer, ...personalData(it.answer)] });
    } else {
      const words = it.text.split(/\s+/).filter(Boolean);
      const cut = Math.max(1, Math.floor(words.length / 2));
      const next = words.slice(cut, cut + 8).join(' ');
      probes.push({
        prompt: words.slice(0, cut).join(' '),
        secrets: [...(next ? [next] : []), ...personalData(words.slice(cut).join(' '))],
      });
    }
  }
  const who = new Set(subjects.map(norm));
  for (const records of Object.values(task.eval.pii)) {
    for (const r of records) {
      if (!who.has(norm(r.person))) continue;
      for (const p of r.prompts) probes.push({ prompt: p, secrets: [r.value] });
    }
  }
  return probes.filter((p) => p.secrets.length > 0);
}

function leakRate(model: CausalLM, tok: Tokenizer, probes: Probe[], maxNewTokens: number): number {
  if (probes.length === 0) return 0;
  const out = generate(
    model,
    probes.map((p) => tok.encode(p.prompt, { addSpecialTokens: true })),
    {
      maxNewTokens,
      eosTokenIds: tok.eosId === undefined ? [] : [tok.eosId],
      decode: (t) => tok.decode(t, { skipSpecialTokens: true }),
    },
  );
  let leaks = 0;
  probes.forEach((p, i) => {
    const text = norm(out.texts![i]);
    if (p.secrets.some((s) => norm(s).length > 0 && text.includes(norm(s)))) leaks++;
  });
  return leaks / probes.length;
}

const meanLogProb = (model: CausalLM, ex: Example[]) =>
  scoreSequences(model, ex).map((r) => -r.nll / r.tokens);

/** Forget-vs-holdout membership AUC (LOSS score). */
export function membershipAuc(model: CausalLM, tok: Tokenizer, task: Task, items: RequestItem[]): number {
  const maxLen = model.maxPositions;
  // Long texts become context-sized blocks, every token scored (text/blocks.ts), as in training.
  const forget = splitExamples(
    tok,
    {
      qa: items.flatMap((it, i) => ('question' in it ? [{ id: `q${i}`, ...it }] : [])),
      text: items.flatMap((it, i) => ('text' in it ? [{ id: `t${i}`, text: it.text }] : [])),
      tokens: [],
    },
    maxLen,
  );
  const holdout = splitExamples(tok, task.splits.holdout, maxLen);
  return rocAuc(meanLogProb(model, forget), meanLogProb(model, holdout));
}

export function utilityMetric(
  model: CausalLM,
  tok: Tokenizer,
  task: Task,
  name: UtilityMetric,
  n: number,
): number {
  const maxLen = model.maxPositions;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  if (name === 'retain.prob') {
    const ex = task.splits.retain.qa.slice(0, n).map((q) => qaExample(tok, q.question, q.answer));
    return mean(meanLogProb(model, ex).map(Math.exp));
  }
  if (name === 'retain.textProb') {
    const ex = splitExamples(tok, { qa: [], text: task.splits.retain.text.slice(0, n), tokens: [] }, maxLen);
    return mean(meanLogProb(model, ex).map(Math.exp));
  }
  const docs = splitExamples(
    tok,
    { qa: [], text: (task.eval.text.utility ?? []).slice(0, n), tokens: [] },
    maxLen,
  );
  const scores = scoreSequences(model, docs);
  const nll = scores.reduce((s, r) => s + r.nll, 0) / scores.reduce((s, r) => s + r.tokens, 0);
  return Math.exp(-nll);
}

/** Which utility metrics a task can feed (a policy naming another is refused at start-up). */
export function availableUtility(task: Task): UtilityMetric[] {
  const out: UtilityMetric[] = [];
  if (task.splits.retain.qa.length > 0) out.push('retain.prob');
  if (task.splits.retain.text.length > 0) out.push('retain.textProb');
  if ((task.eval.text.utility ?? []).length > 0) out.push('utility.invPerplexity');
  return out;
}

export function verifyCandidate(
  base: { model: CausalLM; tokenizer: Tokenizer },
  candidate: { model: CausalLM; tokenizer: Tokenizer },
  input: VerifyInput,
): Verdict {
  const { task, items, policy } = input;
  const f = policy.forgetting;
  const checks: Check[] = [];
  const auc = membershipAuc(candidate.model, candidate.tokenizer, task, items);
  checks.push({
    name: 'forget.membershipAuc',
    value: auc,
    threshold: f.maxAuc,
    comparison: '<=',
    passed: auc <= f.maxAuc,
    before: membershipAuc(base.model, base.tokenizer, task, items),
  });
  const probes = probesOf(task, items, input.subjects);
  const leak = leakRate(candidate.model, candidate.tokenizer, probes, f.maxNewTokens);
  checks.push({
    name: 'forget.leakRate',
    value: leak,
    threshold: f.maxLeakRate,
    comparison: '<=',
    passed: leak <= f.maxLeakRate,
    before: leakRate(base.model, base.tokenizer, probes, f.maxNewTokens),
  });
  for (const name of policy.utility.metrics) {
    const before = utilityMetric(base.model, base.tokenizer, task, name, policy.utility.maxItems);
    const value = utilityMetric(candidate.model, candidate.tokenizer, task, name, policy.utility.maxItems);
    const threshold = policy.utility.minFraction * before;
    checks.push({
      name: `utility.${name}`,
      value,
      threshold,
      comparison: '>=',
      passed: value >= threshold,
      before,
    });
  }
  return { passed: checks.every((c) => c.passed && Number.isFinite(c.value)), checks };
}
