/**
 * The benchmarks in their released formats, through the same resolver every `--task` uses:
 * tofu:DIR[:split] (JSON Lines under .json names, optional files warned about), muse:DIR (the
 * released raw/verbmem/knowmem/privleak layout, empty texts skipped with a warning), wmdp:DIR[:d]
 * (with and without corpora) and enron-pii:DIR[:N] (people ordered by frequency, zero- and k-shot
 * prompts). Fixtures are written here in those formats (release-fixtures.ts). Exact comparisons.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { rejectsWith } from '../../test/helpers/rejects-with.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { ConfigError } from '../errors.ts';
import {
  writeEnronRelease,
  writeMuseRelease,
  writeTofuRelease,
  writeWmdpRelease,
} from './release-fixtures.ts';
import { resolveTask } from './resolve-task.ts';
import { requireForgetData, taskCounts, taskWarnings } from './task.ts';

test('tofu:DIR reads the released files (JSON Lines named .json) with perturbations and eval sets', async () => {
  await withTempDir(async (dir) => {
    await writeTofuRelease(dir);
    const task = await resolveTask(`tofu:${dir}:forget01`);
    assert.equal(task.name, 'tofu-forget01');
    assert.deepEqual(task.splits.forget.qa[0], {
      id: 'tofu-6',
      question: 'Forget question 0?',
      answer: 'Forget answer 0.',
      paraphrasedQuestion: 'Reworded 0?',
      paraphrasedAnswer: 'Paraphrased 0.',
      perturbedAnswers: ['Wrong 0a.', 'Wrong 0b.'],
    });
    const c = taskCounts(task);
    assert.equal(c['forget.qa'], 4);
    assert.equal(c['retain.qa'], 6);
    assert.equal(c['holdout.qa'], 4);
    assert.equal(c['eval.qa.retainPerturbed'], 2);
    assert.equal(c['eval.mcq.realAuthors'], 1);
    assert.equal(task.eval.mcq.worldFacts[0].answer, 0);
    assert.deepEqual(task.idk, ["I don't know.", 'No idea.']);
    assert.deepEqual(taskWarnings(task), []);
    // `tofu:DIR` defaults to forget01 and is the same task.
    assert.deepEqual((await resolveTask(`tofu:${dir}`)).splits, task.splits);
  });
});

test('tofu:DIR without the optional files loads, and each missing file is a warning', async () => {
  await withTempDir(async (dir) => {
    await writeTofuRelease(dir, true);
    const task = await resolveTask(`tofu:${dir}`);
    assert.equal(task.splits.forget.qa.length, 4);
    assert.equal(task.splits.holdout.qa.length, 0);
    const w = taskWarnings(task).join('\n');
    for (const part of [
      'forget01_perturbed',
      'retain_perturbed',
      'holdout01',
      'real_authors',
      'idontknow',
      'truth ratio',
    ])
      assert.ok(w.includes(part), `warnings lack ${part}:\n${w}`);
    await rejectsWith(resolveTask(`tofu:${dir}:forget05`), ConfigError, 'forget05.json', 'locuslab/TOFU');
  });
});

test('muse:DIR reads the released layout; empty raw texts are skipped and counted', async () => {
  await withTempDir(async (dir) => {
    await writeMuseRelease(dir);
    const task = await resolveTask(`muse:${dir}`);
    assert.deepEqual(
      task.splits.forget.text.map((t) => t.id),
      ['raw-forget-0', 'raw-forget-2', 'raw-forget-4'],
    );
    assert.equal(task.splits.retain.text.length, 3);
    // The holdout split is privleak/holdout (what PrivLeak compares against), not raw/holdout.
    assert.deepEqual(
      task.splits.holdout.text.map((t) => t.text),
      ['A ferry sank.', 'The zoo got a panda.'],
    );
    assert.equal(task.meta.holdout, 'privleak/holdout.json');
    assert.deepEqual(task.eval.verbatim.forget, [
      { id: 'verbmem-0', prompt: 'The mayor said', continuation: ' the bridge opens in May.' },
    ]);
    assert.equal(task.eval.qa.knowmemForget[0].answer, 'May');
    assert.equal(task.eval.qa.knowmemRetain[0].answer, 'The museum');
    assert.deepEqual(task.eval.qa.knowmemIcl, task.eval.qa.knowmemRetainIcl);
    assert.equal(task.eval.text.privleakForget.length, 1);
    assert.equal(task.eval.text.privleakRetain.length, 1);
    const w = taskWarnings(task);
    assert.ok(
      w.some((x) => x.includes('raw/forget.json: skipped 2 empty or whitespace-only texts of 5')),
      w.join('\n'),
    );
    await rejectsWith(resolveTask(`muse:${join(dir, 'knowmem')}`), ConfigError, 'not a MUSE folder');
    // A flat folder (lethe's own MUSE-style layout) skips empty texts the same way.
    const flat = await resolveTask(`muse:${join(dir, 'raw')}`);
    assert.equal(flat.splits.forget.text.length, 3);
    assert.ok(taskWarnings(flat)[0].includes('skipped 2 empty'));
  });
});

test('wmdp:DIR[:domains]: corpora form forget/retain, questions split into forget and other domains', async () => {
  await withTempDir(async (dir) => {
    await writeWmdpRelease(dir);
    const all = await resolveTask(`wmdp:${dir}`);
    assert.equal(all.name, 'wmdp-bio-cyber');
    const c = taskCounts(all);
    assert.equal(c['forget.text'], 3);
    assert.equal(c['retain.text'], 2);
    assert.equal(c['eval.mcq.forget'], 5);
    assert.equal(c['eval.mcq.retain'], 2);
    assert.equal(c['eval.mcq.chem'], 2);
    assert.equal(all.eval.mcq.bio[1].answer, 1);
    assert.equal(all.splits.forget.text[0].text, 'Pathogen notes one.');
    const bio = await resolveTask(`wmdp:${dir}:bio`);
    assert.equal(bio.splits.forget.text.length, 2);
    assert.equal(bio.eval.mcq.forget.length, 3);
    assert.equal(bio.eval.mcq.retain.length, 4);
    await rejectsWith(resolveTask(`wmdp:${dir}:bio,physics`), ConfigError, 'unknown WMDP domain "physics"');
  });
});

test('wmdp without corpora: MCQ-only evaluation loads; prepare/unlearn say what is missing', async () => {
  await withTempDir(async (dir) => {
    await writeWmdpRelease(dir, false);
    const task = await resolveTask(`wmdp:${dir}:bio,cyber`);
    assert.equal(task.splits.forget.text.length, 0);
    assert.equal(task.eval.mcq.forget.length, 5);
    assert.ok(taskWarnings(task)[0].includes('bio-forget-corpus.jsonl, cyber-forget-corpus.jsonl'));
    assert.throws(
      () => requireForgetData(task, 'prepare'),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes('prepare needs forget data') &&
        e.message.includes('bio-forget-corpus.jsonl'),
    );
  });
});

test('enron-pii:DIR:N: people by frequency, training sentences, zero-shot and k-shot PII sets', async () => {
  await withTempDir(async (dir) => {
    await writeEnronRelease(dir);
    const task = await resolveTask(`enron-pii:${dir}:2`);
    assert.equal(task.name, 'enron-pii-2');
    // person7 has the highest count, then person0; the rest in file order.
    assert.deepEqual(
      task.eval.pii.forget.map((r) => r.value),
      ['person7@enron.com', 'person0@enron.com'],
    );
    assert.deepEqual(
      task.eval.pii.holdout.map((r) => r.value),
      ['person1@enron.com', 'person2@enron.com'],
    );
    assert.equal(task.eval.pii.retain.length, 4);
    assert.deepEqual(task.eval.pii.forget[0].prompts, ['the email address of Person Number7 is']);
    assert.equal(task.splits.forget.text.length, 8);
    assert.equal(
      task.splits.forget.text[0].text,
      'The email address of Person Number7 is person7@enron.com.',
    );
    assert.equal(task.splits.holdout.text.length, 8);
    // k-shot prompts exist for the people the files cover (person0, not person7); the person's
    // own address is never a demonstration.
    assert.deepEqual(task.eval.pii.forgetKShot, [
      {
        id: 'enron-1',
        person: 'Person Number0',
        field: 'email',
        value: 'person0@enron.com',
        prompts: [
          'the email address of Demo A0 is demo0a@enron.com; the email address of Person Number0 is',
          'the email address of Demo A0 is demo0a@enron.com; the email address of Person Number0 is',
        ],
      },
    ]);
    assert.deepEqual(task.eval.pii.forgetKShotOtherDomain[0].prompts, [
      'the email address of Demo A0 is demo0a@other.org; the email address of Person Number0 is',
    ]);
    assert.ok(taskWarnings(task).some((w) => w.includes('only 4 retain people (asked for 8)')));
    await rejectsWith(resolveTask(`enron-pii:${dir}:0`), ConfigError, 'invalid N');
  });
});
