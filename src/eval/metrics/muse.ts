/**
 * MUSE's metrics (Shi et al. 2407.06460): VerbMem on the forget passages, KnowMem on forget and
 * retain QA, and PrivLeak. ROUGE-L here is F1 without stemming, as MUSE computes it.
 */
import type { QaItem } from '../../data/items.ts';
import type { JsonValue, Task } from '../../data/task.ts';
import { qaPrompt, qaShot, questionKey, SHOT_SEPARATOR } from '../../text/format.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import { stratifiedPairedInterval } from '../intervals.ts';
import { privLeak } from '../mia-scores.ts';
import { museRougeL } from '../text/index.ts';
import { type Metric, skip } from '../types.ts';
import { attackAuc, miaScores } from './mia.ts';
import { jsonNumber, meanOutput, QA_STOP } from './shared.ts';

/**
 * One VerbMem item as MUSE scores it (muse/metrics/verbmem.py): the true continuation is cut to
 * the generation budget in tokens first — decode(encode(gt)[:budget]) — then ROUGE-L F1 (no
 * stemming) against the generation. Without the cut a perfect reproduction of the first `budget`
 * tokens of a longer continuation would score below 1.
 */
export function verbmemScore(
  tok: Pick<Tokenizer, 'encode' | 'decode'>,
  continuation: string,
  generated: string,
  budget: number,
): number {
  const ids = tok.encode(continuation, { addSpecialTokens: false });
  const truth =
    ids.length <= budget ? continuation : tok.decode(ids.slice(0, budget), { skipSpecialTokens: true });
  return museRougeL(truth, generated);
}

/**
 * muse.verbmem.forget: mean ROUGE-L F1 (no stemming) between the greedy continuation of each
 * verbatim.forget prompt (options.verbmemMaxNewTokens new tokens, 128 as in MUSE; cut where the
 * context is too short, see the model's warnings) and the true continuation cut to the same
 * number of tokens (verbmemScore, MUSE's rule). Direction:
 * closer-to-oracle (MUSE reports lower-is-better; the oracle's value is what never having seen the
 * text gives). Skipped without the set; an empty generation scores 0.
 */
export const verbmem: Metric = {
  name: 'muse.verbmem.forget',
  label: 'VerbMem',
  direction: 'closer-to-oracle',
  format: 3,
  summary: 'VerbMem: ROUGE-L F1 of greedy continuations of forget passages',
  requires: ['eval.verbatim.forget'],
  compute(ctx) {
    const items = ctx.task.eval.verbatim.forget;
    const gens = ctx.model.generateText(
      items.map((v) => v.prompt),
      ctx.options.verbmemMaxNewTokens,
    );
    return meanOutput(
      'forget',
      items.map((v) => v.id),
      gens.map((g, i) =>
        verbmemScore(ctx.model.tokenizer, items[i].continuation, g.text, ctx.options.verbmemMaxNewTokens),
      ),
      {
        rouge: 'ROUGE-L F1, no stemming',
        maxNewTokens: ctx.options.verbmemMaxNewTokens,
        truth: 'the continuation cut to maxNewTokens tokens (MUSE)',
      },
    );
  },
};

/**
 * The few-shot examples of a KnowMem prompt: qa.knowmemIcl when the task has it, else the retain
 * split's QA; the first `shots` of them whose question is not the query's own.
 */
export function knowmemShots(task: Task, query: string, shots: number): QaItem[] {
  const pool = task.eval.qa.knowmemIcl?.length ? task.eval.qa.knowmemIcl : task.splits.retain.qa;
  const key = questionKey(query);
  return pool.filter((q) => questionKey(q.question) !== key).slice(0, shots);
}

/** A KnowMem prompt: the shots in lethe's QA format, then the question. */
export const knowmemPrompt = (shots: readonly QaItem[], question: string): string =>
  shots.map((s) => qaShot(s.question, s.answer) + SHOT_SEPARATOR).join('') + qaPrompt(question);

function knowmem(name: 'forget' | 'retain'): Metric {
  const set = name === 'forget' ? 'knowmemForget' : 'knowmemRetain';
  return {
    name: `muse.knowmem.${name}`,
    label: `KnowMem (${name})`,
    format: 3,
    direction: name === 'forget' ? 'closer-to-oracle' : 'higher',
    summary: `KnowMem: ROUGE-L F1 of few-shot greedy answers on qa.${set}`,
    requires: [`eval.qa.${set}`],
    compute(ctx) {
      const items = ctx.task.eval.qa[set];
      const n = ctx.options.knowmemShots;
      const maxNew = ctx.options.knowmemMaxNewTokens;
      const room = ctx.model.maxLen - maxNew;
      const length = (p: string) => ctx.model.tokenizer.encode(p, { addSpecialTokens: true }).length;
      // Fewer shots where all of them would not leave room for the answer in the context.
      let fewer = 0;
      const prompts = items.map((q) => {
        const shots = knowmemShots(ctx.task, q.question, n);
        let prompt = knowmemPrompt(shots, q.question);
        while (shots.length > 0 && length(prompt) > room) {
          shots.pop();
          prompt = knowmemPrompt(shots, q.question);
        }
        if (shots.length < n) fewer++;
        return prompt;
      });
      const gens = ctx.model.generateText(prompts, maxNew, QA_STOP);
      const extra: Record<string, JsonValue> = {
        rouge: 'ROUGE-L F1, no stemming',
        shots: n,
        shotSource: ctx.task.eval.qa.knowmemIcl?.length ? 'eval.qa.knowmemIcl' : 'split.retain.qa',
      };
      if (fewer > 0) extra.promptsWithFewerShots = fewer;
      return meanOutput(
        name,
        items.map((q) => q.id),
        gens.map((g, i) => museRougeL(items[i].answer, g.text)),
        extra,
      );
    },
  };
}

/**
 * muse.knowmem.forget / muse.knowmem.retain: mean ROUGE-L F1 (no stemming) of the greedy answer
 * (options.knowmemMaxNewTokens, 32 as in MUSE) to a few-shot prompt (knowmemShots examples from
 * qa.knowmemIcl, else retain QA; fewer where they would not fit the context with the answer,
 * counted in extra.promptsWithFewerShots) against the reference answer. Direction: forget
 * closer-to-oracle, retain higher. Skipped without the QA set.
 */
export const knowmemForget = knowmem('forget');
export const knowmemRetain = knowmem('retain');

/**
 * muse.privleak: (AUC_unl − AUC_oracle) / AUC_oracle × 100 with MUSE's AUC of the Min-K% attack
 * (k = options.minKFraction, 0.4) on forget vs holdout; MUSE's AUC is 1 − the attack AUC lethe
 * reports in mia.minK (see mia-scores.ts privLeak), so the published signs hold: strongly negative
 * = the forget data is still recognisable (under-unlearned), positive = over-unlearned, 0 = the
 * oracle. Direction: closer-to-oracle (ideal 0). Needs the oracle (skipped with that reason
 * without one); null with a note when the oracle's AUC leaves no scale.
 */
export const privleak: Metric = {
  name: 'muse.privleak',
  label: 'PrivLeak',
  direction: 'closer-to-oracle',
  format: 1,
  summary: 'PrivLeak: relative Min-K% AUC gap to the oracle, forget vs holdout (×100)',
  requires: ['oracle', 'split.forget.primary', 'split.holdout.primary'],
  compute(ctx) {
    const scores = (who: typeof ctx.model) => {
      const f = miaScores(ctx, who, 'forget', 'minK');
      const h = miaScores(ctx, who, 'holdout', 'minK');
      if (!f || !h) skip('the task needs forget and holdout items');
      return { f: f.scores, h: h.scores };
    };
    const m = scores(ctx.model);
    const o = scores(ctx.oracle!);
    const mine = attackAuc(m.f, m.h);
    const oracle = attackAuc(o.f, o.h);
    const value = privLeak(mine, oracle);
    // Both models score the same items: resample forget and holdout items, each for both models.
    const ci = stratifiedPairedInterval(
      [
        [m.f, o.f],
        [m.h, o.h],
      ],
      ([[mf, of], [mh, oh]]) => privLeak(attackAuc([...mf], [...mh]), attackAuc([...of], [...oh])),
      'muse.privleak',
    );
    const extra: Record<string, JsonValue> = {
      attackAuc: jsonNumber(mine),
      oracleAttackAuc: jsonNumber(oracle),
      museAuc: jsonNumber(1 - mine),
      oracleMuseAuc: jsonNumber(1 - oracle),
      k: ctx.options.minKFraction,
    };
    if (!Number.isFinite(value)) extra.note = "undefined: the oracle's MUSE AUC is 0 or an AUC is NaN";
    return { value: jsonNumber(value), ci, extra };
  },
};

/** The MUSE family, in the order the registry lists it. */
export const museMetrics: readonly Metric[] = [verbmem, knowmemForget, knowmemRetain, privleak];
