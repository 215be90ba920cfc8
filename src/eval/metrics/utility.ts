/**
 * General utility: perplexity on held-out general text (eval set text.utility), the corpus
 * perplexity exp(Σ NLL / Σ tokens) over every scored token (each document scored on every token
 * after its first, plus EOS, as textExample trains). Retain-side utility lives with its
 * benchmark's metrics (tofu.retain.*, muse.knowmem.retain, mcq.retain, ...).
 */
import type { Metric, MetricOutput } from '../types.ts';
import { jsonNumber, series } from './shared.ts';

/**
 * utility.perplexity: exp(Σ_docs Σ_t −log p(x_t) / Σ_docs T) on text.utility; perItem holds each
 * document's own perplexity. Direction: lower. Skipped without the set; documents with no scored
 * token add nothing (with none at all the value is null with a note).
 */
export const perplexity: Metric = {
  name: 'utility.perplexity',
  label: 'Perplexity',
  direction: 'lower',
  format: 2,
  summary: 'perplexity on held-out general text (text.utility)',
  requires: ['eval.text.utility'],
  compute(ctx): MetricOutput {
    const docs = ctx.task.eval.text.utility;
    const scored = ctx.model.score(ctx.model.textRequests(docs.map((d) => d.text)));
    let nll = 0;
    let tokens = 0;
    const each = scored.map((s) => {
      let d = 0;
      for (const x of s.logProbs) d -= x;
      nll += d;
      tokens += s.logProbs.length;
      return s.logProbs.length === 0 ? Number.NaN : Math.exp(d / s.logProbs.length);
    });
    return {
      value: tokens === 0 ? null : jsonNumber(Math.exp(nll / tokens)),
      perItem: {
        utility: series(
          docs.map((d) => d.id),
          each,
        ),
      },
      extra: tokens === 0 ? { tokens, note: 'no scored token' } : { tokens, documents: docs.length },
    };
  },
};

/** The utility family, in the order the registry lists it. */
export const utilityMetrics: readonly Metric[] = [perplexity];
