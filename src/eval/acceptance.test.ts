/**
 * The acceptance check at small scale: on the synthetic benchmark (QA only, no neighbour
 * people, so forget people are drawn exactly like holdout people: 16 forget, 8 retain and 24
 * holdout people, 192 forget and 288 holdout questions) a 2-layer GPT-2 target trained on forget ∪
 * retain is recognised by the LOSS attack (forget-vs-holdout AUC clearly above 0.5), while the
 * oracle trained on retain alone is not (AUC near 0.5). Also checks the signs the oracle
 * comparisons should show on the target.
 *
 * Why so many people: questions about one person share its values (names, towns, dates), so the
 * oracle's AUC varies with the people drawn far more than with the number of questions. With 16
 * forget and 24 holdout people it stayed within 0.39–0.55 over data seeds 0–3 (0.553 for seed 0,
 * used here); with 4 vs 4 people it ranged 0.28–0.65.
 *
 * Both models are trained here with prepare's recipe shape (BPE tokenizer on the task's text,
 * cosine schedule) — src/study sits below src/eval, so its prepare() is not used — and cached in
 * the OS temp folder under a hash of the recipe, the task and the code (every non-test source file
 * under src/ and native/), so any change to lethe retrains them and the check keeps exercising
 * training: the first run trains for ~20 s, later runs of the same code load in under a second.
 * Caches of other code versions are removed once a day old.
 * Tolerances: target AUC > 0.9; |oracle AUC − 0.5| < 0.15 (the seed-to-seed spread above).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { contentHash } from '../data/hash.ts';
import { generateSynthetic } from '../data/synthetic/generate.ts';
import { type Task, taskHash } from '../data/task.ts';
import { buildModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import { splitExamples } from '../text/format.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { train } from '../train/trainer.ts';
import { evaluate } from './runner.ts';

const RECIPE = { hidden: 64, layers: 2, heads: 2, context: 128, vocab: 400, epochs: 12, lr: 5e-3, batch: 16 };

function acceptanceTask(): Task {
  const task = generateSynthetic({
    size: 'tiny',
    people: 24,
    forgetFraction: 0.67,
    holdoutPeople: 24,
    neighboursPerForget: 0,
  });
  for (const s of Object.values(task.splits)) s.text = [];
  return task;
}

/** sha256 of every non-test source file of lethe (TypeScript and the native addon), by path. */
function codeVersion(): string {
  const root = join(import.meta.dirname, '..', '..');
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(rel, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.(ts|cc|cpp|h|hpp)$/.test(e.name) && !e.name.endsWith('.test.ts'))
        hash.update(`${path}\n`).update(readFileSync(join(root, path)));
    }
  };
  walk('src');
  walk('native');
  return hash.digest('hex');
}

async function trainedPair(task: Task): Promise<{ target: string; oracle: string }> {
  const key = contentHash(
    { recipe: RECIPE, task: taskHash(task), code: codeVersion(), v: 2 },
    'eval-acceptance',
  ).slice(0, 16);
  const dir = join(tmpdir(), `lethe-eval-acceptance-${key}`);
  // Other versions' caches go once a day old (a checkout beside this one may still be using them).
  for (const name of readdirSync(tmpdir())) {
    const old = join(tmpdir(), name);
    if (
      /^lethe-eval-acceptance-[0-9a-f]{16}$/.test(name) &&
      old !== dir &&
      Date.now() - statSync(old).mtimeMs > 864e5
    )
      await rm(old, { recursive: true, force: true });
  }
  const target = join(dir, 'target');
  const oracle = join(dir, 'oracle');
  if (existsSync(target) && existsSync(oracle)) return { target, oracle };
  const texts = Object.values(task.splits).flatMap((s) => s.qa.flatMap((q) => [q.question, q.answer]));
  const tokenizer = trainByteLevelBpe(texts, { vocabSize: RECIPE.vocab, specialTokens: ['<|endoftext|>'] });
  const eos = tokenizer.tokenToId('<|endoftext|>')!;
  const work = `${dir}.${process.pid}.partial`;
  for (const [name, splits] of [
    ['target', [task.splits.forget, task.splits.retain]],
    ['oracle', [task.splits.retain]],
  ] as const) {
    const model = buildModel(
      {
        model_type: 'gpt2',
        vocab_size: tokenizer.vocabSize,
        n_positions: RECIPE.context,
        n_embd: RECIPE.hidden,
        n_layer: RECIPE.layers,
        n_head: RECIPE.heads,
        bos_token_id: eos,
        eos_token_id: eos,
      },
      new Rng(0),
    );
    await train(
      model,
      splits.flatMap((s) => splitExamples(tokenizer, s, RECIPE.context)),
      {
        epochs: RECIPE.epochs,
        batchSize: RECIPE.batch,
        lr: RECIPE.lr,
        warmupSteps: 10,
        schedule: 'cosine',
        seed: 0,
        progress: false,
      },
    );
    await savePretrained(join(work, name), model, tokenizer);
  }
  // Publish by rename so a concurrent or interrupted run never sees half a pair.
  await mkdir(tmpdir(), { recursive: true });
  try {
    await rename(work, dir);
  } catch {
    await rm(work, { recursive: true, force: true });
  }
  return { target, oracle };
}

test('LOSS MIA: the target is recognised (AUC ≫ 0.5), the oracle is not (AUC ≈ 0.5)', async () => {
  const task = acceptanceTask();
  assert.equal(task.splits.forget.qa.length, 192);
  assert.equal(task.splits.holdout.qa.length, 288);
  const { target, oracle } = await trainedPair(task);
  await loadPretrained(target); // fail here, clearly, if the cache is corrupt
  const t0 = performance.now();
  const r = await evaluate({
    task,
    metrics: ['mia.loss', 'muse.privleak', 'tofu.forgetQuality'],
    model: { dir: target },
    oracle: { dir: oracle },
    target: { dir: target },
  });
  const v = (name: string, role: 'unlearned' | 'oracle') => {
    const x = r.metrics[name][role]!;
    assert.ok('value' in x && x.value !== null, `${name} (${role}): ${JSON.stringify(x)}`);
    return x.value;
  };
  const aucTarget = v('mia.loss', 'unlearned');
  const aucOracle = v('mia.loss', 'oracle');
  assert.ok(aucTarget > 0.9, `target LOSS AUC ${aucTarget}`);
  assert.ok(Math.abs(aucOracle - 0.5) < 0.15, `oracle LOSS AUC ${aucOracle}`);
  // The target is under-unlearned by construction: PrivLeak strongly negative, forget quality low.
  assert.ok(v('muse.privleak', 'unlearned') < -50);
  assert.equal(v('muse.privleak', 'oracle'), 0);
  assert.ok(v('tofu.forgetQuality', 'unlearned') < 0.01);
  assert.equal(v('tofu.forgetQuality', 'oracle'), 1);
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 30, `evaluation took ${seconds.toFixed(1)} s`);
});
