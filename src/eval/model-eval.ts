/**
 * One model under evaluation with the work shared between metrics: a cache of scored sequences
 * (keyed by token ids and the first scored position) and of greedy generations (keyed by the
 * prompt and the generation length), so truth ratio, probability and forget quality read the same
 * log-probs and ROUGE and KnowMem never generate the same answer twice. An input transform
 * (icul, guardrail) is applied to every prompt, scored text and generation through
 * src/unlearn/prompted.ts.
 *
 * Promises: everything is batched (longest first) and deterministic for a given model, options and
 * thread count; requests longer than the model's context are fitted (prompt tokens dropped from the
 * front first) and counted in `warnings`; the forward/generated token counts are kept for the cost
 * estimate. Text prompts are cache keys as text: within one ModelEval (fixed tokenizer and
 * transform) a text determines its ids.
 */
import type { CausalLM } from '../models/causal-lm.ts';
import { scoreInBlocks } from '../text/blocks.ts';
import { generate } from '../text/generate.ts';
import type { ScoreRequest } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import {
  filterOutput,
  type PromptedItem,
  promptedGenerate,
  promptedScoreRequests,
  promptedTextRequests,
} from '../unlearn/prompted.ts';
import type { InputTransform } from '../unlearn/types.ts';
import type { UnlearnManifest } from './manifest.ts';
import type { EvalOptions } from './options.ts';
import { progressBarActive } from './progress.ts';
import { gradNorm, type Scored, scoreForEval } from './scoring.ts';

export interface TextGeneration {
  /** What the system answers (after the transform's output filter), trimmed of nothing. */
  text: string;
  /** True when the output filter replaced the generation by a refusal. */
  blocked: boolean;
  /** Number of new tokens generated. */
  tokens: number;
}

export interface ModelEvalInit {
  label: string;
  model: CausalLM;
  tokenizer: Tokenizer;
  transform?: InputTransform | null;
  /** The folder the model came from (null for an in-memory model). */
  dir?: string | null;
  /** The folder's unlearning manifest (efficiency metrics), if any. */
  manifest?: UnlearnManifest | null;
  options: EvalOptions;
}

const reqKey = (r: ScoreRequest): string => `${r.start}|${r.ids.join(',')}`;

export class ModelEval {
  readonly label: string;
  readonly model: CausalLM;
  readonly tokenizer: Tokenizer;
  readonly transform: InputTransform | null;
  readonly dir: string | null;
  readonly manifest: UnlearnManifest | null;
  readonly options: EvalOptions;
  /** Tokens run through forward passes (scoring, prefill, decode steps, gradient passes). */
  forwardTokens = 0;
  /** Tokens run through forward and backward passes (gradient-norm MIA). */
  backwardTokens = 0;
  generatedTokens = 0;
  private readonly scores = new Map<string, Scored>();
  private readonly norms = new Map<string, number>();
  private readonly texts = new Map<string, TextGeneration>();
  private readonly idGens = new Map<string, number[]>();
  private readonly warned = new Map<string, number>();
  /**
   * Score every sequence with the vocabulary statistics, set by the runner when some metric of the
   * evaluation will ask for them (Min-K%++): one scoring pass per sequence instead of a second one
   * for the statistics.
   */
  statsByDefault = false;

  constructor(init: ModelEvalInit) {
    this.label = init.label;
    this.model = init.model;
    this.tokenizer = init.tokenizer;
    this.transform = init.transform ?? null;
    this.dir = init.dir ?? null;
    this.manifest = init.manifest ?? null;
    this.options = init.options;
    // Evaluation never wants dropout.
    this.model.eval();
  }

  get maxLen(): number {
    return this.model.maxPositions;
  }

  /** Messages about fitted inputs, with how often each happened (for the results file). */
  warnings(): Record<string, number> {
    return Object.fromEntries([...this.warned].sort(([a], [b]) => a.localeCompare(b)));
  }

  private warn(message: string): void {
    this.warned.set(message, (this.warned.get(message) ?? 0) + 1);
  }

  log(message: string): void {
    // A terminal progress bar owns the line; detail lines would tear it.
    if (this.options.progress && !progressBarActive())
      process.stderr.write(`eval[${this.label}]: ${message}\n`);
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  /** Fit a request into the context: drop prompt tokens from the front (keeping one), then the end. */
  private fit(r: ScoreRequest): ScoreRequest {
    const L = this.maxLen;
    if (r.ids.length <= L) return r;
    this.warn(`a scored sequence longer than the context (${L} tokens) was shortened`);
    const cut = Math.min(r.ids.length - L, r.start - 1);
    return { ids: r.ids.slice(cut, cut + L), start: r.start - cut };
  }

  /** Prompt/answer pairs scored on the answer (+EOS), as lethe trains them, transform applied. */
  qaRequests(items: readonly PromptedItem[], eos = true): ScoreRequest[] {
    return promptedScoreRequests(this.transform, this.tokenizer, items, { eos, maxLen: this.maxLen }).map(
      (r) => this.fit(r),
    );
  }

  /**
   * Raw texts scored on every token after the first (+EOS), transform applied. A text longer than
   * the context stays whole: score() scores it in blocks (text/blocks.ts), so document metrics
   * cover every token.
   */
  textRequests(texts: readonly string[]): ScoreRequest[] {
    return promptedTextRequests(this.transform, this.tokenizer, texts, { maxLen: this.maxLen });
  }

  /** Token sequences scored from `start`; a transform's prefix (of the decoded prompt) goes first. */
  tokenRequests(items: readonly ScoreRequest[]): ScoreRequest[] {
    // Long sequences stay whole (scored in blocks by score()).
    return items.map((r) => {
      if (!this.transform) return r;
      const head = this.prefixIdsFor(r.ids.slice(0, r.start), this.maxLen - r.ids.length);
      return { ids: [...head, ...r.ids], start: head.length + r.start };
    });
  }

  /** The transform's prefix for a token prompt, with special tokens, cut from the left to `room`. */
  private prefixIdsFor(prompt: readonly number[], room: number): number[] {
    if (!this.transform) return [];
    const text = this.tokenizer.decode([...prompt], { skipSpecialTokens: true });
    const ids = this.tokenizer.encode(this.transform.prefix(text), { addSpecialTokens: true });
    if (ids.length <= room) return ids;
    this.warn('an input-transform prefix was shortened to fit the context');
    return ids.slice(ids.length - Math.max(0, room));
  }

  // -------------------------------------------------------------------------------------------
  // Scoring

  /** Scored sequences (cached by ids and start); `stats` adds the vocabulary mean/std per token. */
  score(requests: readonly ScoreRequest[], opts: { stats?: boolean } = {}): Scored[] {
    const stats = opts.stats ?? this.statsByDefault;
    const todo: ScoreRequest[] = [];
    const seen = new Set<string>();
    for (const r of requests) {
      const k = reqKey(r);
      const hit = this.scores.get(k);
      if ((hit && (!stats || hit.meanLogProb)) || seen.has(k)) continue;
      seen.add(k);
      todo.push(r);
    }
    if (todo.length > 0) {
      const big = todo.length > 4 * this.options.batchSize;
      if (big) this.log(`scoring ${todo.length} sequences${stats ? ' (with vocabulary statistics)' : ''}`);
      // Sequences longer than the context are scored block by block and joined (text/blocks.ts).
      const done = scoreInBlocks(todo, this.maxLen, (spans) =>
        scoreForEval(this.model, spans, {
          batchSize: this.options.batchSize,
          distributionStats: stats,
          onBatch: (d, n) => {
            if (big && (d === n || d % (16 * this.options.batchSize) === 0)) this.log(`scored ${d}/${n}`);
          },
        }),
      );
      todo.forEach((r, i) => {
        this.scores.set(reqKey(r), done[i]);
        this.forwardTokens += r.ids.length - 1;
      });
    }
    return requests.map((r) => this.scores.get(reqKey(r))!);
  }

  /** Gradient norms of each request's mean NLL (cached). */
  gradNorms(requests: readonly ScoreRequest[]): number[] {
    const todo = requests.filter((r) => !this.norms.has(reqKey(r)));
    if (todo.length > 0) this.log(`gradient norms of ${todo.length} sequences (one backward pass each)`);
    todo.forEach((r, i) => {
      // One backward pass over at most a context: a longer sequence is shortened (with a warning).
      this.norms.set(reqKey(r), gradNorm(this.model, this.fit(r)));
      this.backwardTokens += r.ids.length - 1;
      if (todo.length >= 32 && (i + 1) % 32 === 0) this.log(`gradient norms ${i + 1}/${todo.length}`);
    });
    return requests.map((r) => this.norms.get(reqKey(r))!);
  }

  // -------------------------------------------------------------------------------------------
  // Generation

  /**
   * Greedy continuations of text prompts (transform prefix and output filter applied), ending at
   * EOS, a stop string or `maxNewTokens`. The budget is cut where prompt + budget would not fit the
   * context; a prompt that alone fills the context gets an empty generation. Cached.
   */
  generateText(
    prompts: readonly string[],
    maxNewTokens: number,
    stop: readonly string[] = [],
  ): TextGeneration[] {
    const key = (p: string) => `${maxNewTokens}|${stop.join('\u0000')}|${p}`;
    // `ids` set: a prompt cut from the left, generated from its ids (only without a transform).
    const jobs: { prompt: string; ids: number[] | null; len: number; budget: number }[] = [];
    for (const p of new Set(prompts)) {
      if (this.texts.has(key(p))) continue;
      const ids = this.tokenizer.encode(p, { addSpecialTokens: true });
      const budget = Math.min(maxNewTokens, this.maxLen - ids.length);
      if (budget < maxNewTokens) this.warn('a generation budget was cut to fit the context');
      if (budget >= 1) jobs.push({ prompt: p, ids: null, len: ids.length, budget });
      else if (this.transform) {
        this.warn('a prompt that fills the context got no generation');
        this.texts.set(key(p), { text: '', blocked: false, tokens: 0 });
      } else {
        // Keep the end of the prompt (what the continuation follows) and half the context to answer.
        const b = Math.min(maxNewTokens, Math.max(1, Math.floor(this.maxLen / 2)));
        let lead = 0;
        while (lead < ids.length && this.tokenizer.isSpecialId(ids[lead])) lead++;
        lead = Math.min(lead, this.maxLen - b - 1);
        const kept = [...ids.slice(0, lead), ...ids.slice(ids.length - (this.maxLen - b - lead))];
        this.warn('a prompt longer than the context was cut from the left');
        jobs.push({ prompt: p, ids: kept, len: kept.length, budget: b });
      }
    }
    jobs.sort(
      (a, b) =>
        b.budget - a.budget ||
        Number(a.ids === null) - Number(b.ids === null) ||
        b.len - a.len ||
        (a.prompt < b.prompt ? -1 : a.prompt > b.prompt ? 1 : 0),
    );
    if (jobs.length > this.options.generationBatchSize) this.log(`generating for ${jobs.length} prompts`);
    const eos = this.tokenizer.eosId === undefined ? [] : [this.tokenizer.eosId];
    const decode = (x: number[]) => this.tokenizer.decode(x, { skipSpecialTokens: true });
    const stopStrings = stop.length > 0 ? stop : undefined;
    const every = 4 * this.options.generationBatchSize;
    for (let s = 0, done = 0; s < jobs.length; ) {
      // A batch shares one budget and one path (text with the transform, or ids).
      const first = jobs[s];
      let e = s;
      while (
        e < jobs.length &&
        e - s < this.options.generationBatchSize &&
        jobs[e].budget === first.budget &&
        (jobs[e].ids === null) === (first.ids === null)
      )
        e++;
      const chunk = jobs.slice(s, e);
      const out =
        first.ids === null
          ? promptedGenerate(
              this.model,
              this.tokenizer,
              this.transform,
              chunk.map((j) => j.prompt),
              { maxNewTokens: first.budget, stopStrings },
            )
          : (() => {
              const g = generate(
                this.model,
                chunk.map((j) => j.ids!),
                { maxNewTokens: first.budget, eosTokenIds: eos, stopStrings, decode },
              );
              return { texts: g.texts!, blocked: chunk.map(() => false), tokens: g.tokens };
            })();
      chunk.forEach((j, i) => {
        const n = out.tokens[i].length;
        this.texts.set(key(j.prompt), { text: out.texts[i], blocked: out.blocked[i], tokens: n });
        this.generatedTokens += n;
        this.forwardTokens += j.len + n;
      });
      const before = done;
      done += chunk.length;
      if (jobs.length > every && Math.floor(done / every) > Math.floor(before / every))
        this.log(`generated ${done}/${jobs.length}`);
      s = e;
    }
    return prompts.map((p) => this.texts.get(key(p))!);
  }

  /**
   * Greedy continuations of token-id prompts (EL_n), ending at EOS or `maxNewTokens` (cut to fit
   * the context). With a transform its prefix goes first and a blocked continuation becomes the
   * refusal's tokens. Cached by prompt ids and length.
   */
  generateIds(prompts: readonly (readonly number[])[], maxNewTokens: number): number[][] {
    const key = (p: readonly number[]) => `${maxNewTokens}|${p.join(',')}`;
    const todo: { ids: number[]; budget: number; k: string }[] = [];
    const seen = new Set<string>();
    for (const p of prompts) {
      const k = key(p);
      if (this.idGens.has(k) || seen.has(k)) continue;
      seen.add(k);
      let budget = Math.min(maxNewTokens, this.maxLen - p.length);
      if (budget < maxNewTokens) this.warn('a generation budget was cut to fit the context');
      if (p.length === 0 || budget < 1) {
        this.idGens.set(k, []);
        continue;
      }
      const head = this.prefixIdsFor(p, this.maxLen - p.length - budget);
      budget = Math.min(budget, this.maxLen - head.length - p.length);
      todo.push({ ids: [...head, ...p], budget, k });
    }
    todo.sort((a, b) => b.budget - a.budget || b.ids.length - a.ids.length);
    if (todo.length > this.options.generationBatchSize)
      this.log(`generating for ${todo.length} token prompts`);
    const eos = this.tokenizer.eosId === undefined ? [] : [this.tokenizer.eosId];
    const decode = (x: number[]) => this.tokenizer.decode(x, { skipSpecialTokens: true });
    for (let s = 0; s < todo.length; ) {
      // One budget per batch so no row is generated past its own.
      const budget = todo[s].budget;
      let e = s;
      while (e < todo.length && e - s < this.options.generationBatchSize && todo[e].budget === budget) e++;
      const chunk = todo.slice(s, e);
      const out = generate(
        this.model,
        chunk.map((c) => c.ids),
        { maxNewTokens: budget, eosTokenIds: eos },
      );
      chunk.forEach((c, i) => {
        let toks = out.tokens[i];
        this.generatedTokens += toks.length;
        this.forwardTokens += c.ids.length + toks.length;
        if (this.transform && filterOutput(this.transform, decode(toks)).blocked) {
          toks = this.tokenizer.encode(filterOutput(this.transform, decode(toks)).text, {
            addSpecialTokens: false,
          });
        }
        this.idGens.set(c.k, toks);
      });
      s = e;
    }
    return prompts.map((p) => this.idGens.get(key(p))!);
  }
}
