/**
 * TOFU loader against ../shared/datasets/tofu (skipped with a message when absent): split sizes
 * (forget01 40 / retain99 3,960 / holdout01 40, ...), merged perturbations, stable ids, the
 * real-world sets, refusal strings; plus malformed TOFU-shaped files built here, which need no
 * shared data. Exact comparisons (no tolerance).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeLines } from '../../test/helpers/data-files.ts';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { skipUnless, TOFU_DIR } from '../../test/helpers/shared-datasets.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError, DataError } from '../errors.ts';
import { taskHash } from './task.ts';
import { loadTofu, type TofuSplit } from './tofu.ts';

const skip = skipUnless(join(TOFU_DIR, 'forget01.jsonl'));

const SIZES: [TofuSplit, number, number, number][] = [
  ['forget01', 40, 3960, 40],
  ['forget05', 200, 3800, 200],
  ['forget10', 400, 3600, 400],
];

for (const [split, nf, nr, nh] of SIZES) {
  test(`TOFU ${split}: ${nf} forget, ${nr} retain, ${nh} holdout, every forget item perturbed`, {
    skip,
  }, async () => {
    const task = await loadTofu(TOFU_DIR, { split });
    assert.equal(task.name, `tofu-${split}`);
    assert.equal(task.format, 'qa');
    assert.equal(task.splits.forget.qa.length, nf);
    assert.equal(task.splits.retain.qa.length, nr);
    assert.equal(task.splits.holdout.qa.length, nh);
    for (const item of task.splits.forget.qa) {
      assert.equal(item.perturbedAnswers?.length, 5);
      assert.ok(item.paraphrasedAnswer && item.paraphrasedQuestion);
    }
    // retain_perturbed covers the first 400 retain rows only.
    assert.equal(task.splits.retain.qa.filter((q) => q.perturbedAnswers).length, 400);
    assert.deepEqual(task.eval.qa.retainPerturbed, task.splits.retain.qa.slice(0, 400));
    // ids follow full.jsonl's rows: retain 0..nr-1, forget nr..3999.
    assert.equal(task.splits.retain.qa[0].id, 'tofu-0');
    assert.equal(task.splits.forget.qa[0].id, `tofu-${nr}`);
    assert.equal(task.splits.forget.qa.at(-1)!.id, 'tofu-3999');
    assert.equal(task.eval.qa.realAuthors.length, 100);
    assert.equal(task.eval.qa.worldFacts.length, 117);
    assert.equal(task.eval.mcq.realAuthors.length, 100);
    assert.equal(task.eval.mcq.worldFacts.length, 117);
    for (const item of [...task.eval.qa.realAuthors, ...task.eval.qa.worldFacts])
      assert.equal(item.perturbedAnswers?.length, 3);
    assert.equal(task.idk.length, 100);
    assert.equal(task.splits.holdout.text.length + task.splits.forget.text.length, 0);
  });
}

test('TOFU: the same forget QA keeps its id across forget01/05/10; loads are deterministic', {
  skip,
}, async () => {
  const f01 = await loadTofu(TOFU_DIR, { split: 'forget01' });
  const f05 = await loadTofu(TOFU_DIR, { split: 'forget05' });
  assert.deepEqual(f05.splits.forget.qa.slice(-40), f01.splits.forget.qa);
  assert.deepEqual(f05.splits.holdout.qa.slice(0, 40), f01.splits.holdout.qa);
  const again = await loadTofu(TOFU_DIR, { split: 'forget01' });
  assert.equal(taskHash(again), taskHash(f01));
  assert.notEqual(taskHash(f05), taskHash(f01));
  const mcq = f01.eval.mcq.realAuthors[0];
  assert.deepEqual(mcq.choices, ['Charles Dickens', 'William Shakespeare', 'Virginia Woolf', 'Mark Twain']);
  assert.equal(mcq.answer, 1);
  assert.deepEqual(f01.eval.qa.realAuthors[0], {
    id: 'tofu-real-authors-0',
    question: "Who wrote the play 'Romeo and Juliet'?",
    answer: 'William Shakespeare',
    perturbedAnswers: ['Charles Dickens', 'Virginia Woolf', 'Mark Twain'],
  });
});

test('TOFU: malformed files are DataErrors naming file, line and field; bad split is a ConfigError', async () => {
  await withTempDir(async (dir) => {
    await rejectsWith(loadTofu(dir, { split: 'forget02' as TofuSplit }), ConfigError, 'unknown TOFU split');
    const rows = Array.from({ length: 40 }, (_, i) => ({ question: `Q${i}?`, answer: `A${i}.` }));
    await writeLines(join(dir, 'forget01.jsonl'), rows);
    const perturbed = rows.map((r) => ({
      ...r,
      paraphrased_answer: 'p',
      perturbed_answer: ['x', 'y'],
      paraphrased_question: 'pq',
    }));
    const typo = perturbed.map((r, i) => (i === 2 ? { ...r, perturbed_answers: r.perturbed_answer } : r));
    await writeLines(join(dir, 'forget01_perturbed.jsonl'), typo);
    await rejectsWith(
      loadTofu(dir, { split: 'forget01' }),
      DataError,
      'forget01_perturbed.jsonl:3',
      'field perturbed_answer',
    );
    const shifted = perturbed.map((r, i) => (i === 5 ? { ...r, question: 'Another?' } : r));
    await writeLines(join(dir, 'forget01_perturbed.jsonl'), shifted);
    await writeLines(
      join(dir, 'retain99.jsonl'),
      Array.from({ length: 3960 }, (_, i) => ({ question: `R${i}?`, answer: 'r' })),
    );
    await writeLines(join(dir, 'retain_perturbed.jsonl'), [
      {
        question: 'R0?',
        answer: 'r',
        paraphrased_answer: 'p',
        perturbed_answer: ['x'],
        paraphrased_question: 'q',
      },
    ]);
    await writeLines(join(dir, 'holdout01.jsonl'), rows);
    await rejectsWith(
      loadTofu(dir, { split: 'forget01' }),
      DataError,
      'forget01_perturbed.jsonl:6',
      'field question',
    );
  });
});
