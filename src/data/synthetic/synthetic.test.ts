/**
 * The built-in synthetic benchmark: determinism (same seed -> equal Task and byte-identical files;
 * another seed -> different data), disjoint people/passages across forget/retain/holdout,
 * perturbed answers that differ from the truth and are of the same kind, neighbours that share
 * attributes, non-empty splits and eval sets at `tiny`, VerbMem splits that rebuild the passage,
 * write -> load round trip, option validation, and the `small` corpus size. Exact comparisons,
 * except the corpus-size bounds (a range, stated below) and the tiny time bound (3 s, generous).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../../test/helpers/temp-dir.ts';
import { ConfigError } from '../../errors.ts';
import { loadTask, SPLIT_NAMES, taskHash } from '../task.ts';
import type { Fact } from './facts.ts';
import { buildSyntheticWorld, generateSynthetic, SYNTHETIC_SIZES, writeSyntheticTask } from './generate.ts';
import { KINDS } from './kinds.ts';
import * as words from './words.ts';

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out;
}

test('word lists are non-empty, duplicate-free and single-line', () => {
  for (const [name, list] of Object.entries(words)) {
    assert.ok(Array.isArray(list) && list.length > 0, name);
    assert.equal(new Set(list).size, list.length, `${name} has duplicates`);
    for (const w of list as string[])
      assert.ok(w.length > 0 && !/[\n\r]/.test(w), `${name}: ${JSON.stringify(w)}`);
  }
});

test('tiny: generated quickly, every split and eval set non-empty', () => {
  const t0 = performance.now();
  const task = generateSynthetic({ size: 'tiny', seed: 1 });
  const ms = performance.now() - t0;
  assert.ok(ms < 3000, `tiny took ${ms.toFixed(0)} ms`);
  for (const s of SPLIT_NAMES) {
    assert.ok(task.splits[s].qa.length > 0, `${s}.qa`);
    assert.ok(task.splits[s].text.length > 0, `${s}.text`);
  }
  const expected: Record<string, string[]> = {
    qa: ['retainPerturbed', 'neighbours', 'worldFacts', 'knowmemForget', 'knowmemRetain'],
    text: ['utility'],
    verbatim: ['forget', 'retain', 'holdout'],
    mcq: ['forget', 'retain', 'worldFacts'],
    pii: ['forget', 'retain', 'holdout'],
  };
  for (const [kind, names] of Object.entries(expected)) {
    for (const name of names) {
      const set = (task.eval as unknown as Record<string, Record<string, unknown[]>>)[kind][name];
      assert.ok(set && set.length > 0, `eval.${kind}.${name}`);
    }
  }
  assert.ok(task.idk.length > 0);
  assert.equal(task.splits.forget.qa.length, 2 * 12);
});

test('same seed -> equal task and byte-identical files; another seed -> different data', async () => {
  await withTempDir(async (dir) => {
    const a = await writeSyntheticTask(join(dir, 'a'), { size: 'tiny', seed: 7 });
    const b = await writeSyntheticTask(join(dir, 'b'), { size: 'tiny', seed: 7 });
    const c = await writeSyntheticTask(join(dir, 'c'), { size: 'tiny', seed: 8 });
    assert.deepEqual(a.task, b.task);
    const files = await listFiles(join(dir, 'a'));
    assert.deepEqual(await listFiles(join(dir, 'b')), files);
    assert.ok(
      files.includes('task.json') &&
        files.includes('forget.qa.jsonl') &&
        files.includes('eval/pii.forget.jsonl'),
    );
    for (const f of files)
      assert.deepEqual(await readFile(join(dir, 'a', f)), await readFile(join(dir, 'b', f)), f);
    assert.notEqual(taskHash(c.task), taskHash(a.task));
    assert.notDeepEqual(
      await readFile(join(dir, 'c', 'forget.qa.jsonl')),
      await readFile(join(dir, 'a', 'forget.qa.jsonl')),
    );
    const forgetNames = (t: typeof a.task) => t.eval.pii.forget.map((r) => r.person);
    assert.notDeepEqual(forgetNames(c.task), forgetNames(a.task));
  });
});

test('write -> loadTask round trip is exact', async () => {
  await withTempDir(async (dir) => {
    const { path, task } = await writeSyntheticTask(dir, { size: 'tiny', seed: 3 });
    const loaded = await loadTask(path);
    assert.deepEqual(loaded, task);
    assert.equal(taskHash(loaded), taskHash(task));
  });
});

test('no person or passage is in two of forget / retain / holdout', () => {
  for (const size of ['tiny', 'small'] as const) {
    const w = buildSyntheticWorld({ size, seed: 11 });
    const names = [w.forget, w.retain, w.holdout].map((ps) => new Set(ps.map((p) => p.name)));
    assert.equal(
      names[0].size + names[1].size + names[2].size,
      w.forget.length + w.retain.length + w.holdout.length,
    );
    const all = new Set([...names[0], ...names[1], ...names[2]]);
    assert.equal(all.size, names[0].size + names[1].size + names[2].size, `${size}: a name is in two roles`);
    const emails = new Set([...w.forget, ...w.retain, ...w.holdout].map((p) => p.email));
    assert.equal(emails.size, all.size, 'e-mail addresses are unique');
    const texts = [w.stories.forget, w.stories.retain, w.stories.holdout].flat().map((s) => s.text);
    assert.equal(new Set(texts).size, texts.length);
    const titles = [w.stories.forget, w.stories.retain, w.stories.holdout].flat().map((s) => s.title);
    assert.equal(new Set(titles).size, titles.length);
    // The task's PII records agree: a person appears in exactly one role.
    const task = generateSynthetic({ size, seed: 11 });
    const roles = ['forget', 'retain', 'holdout'].map((r) => new Set(task.eval.pii[r].map((x) => x.person)));
    for (const [i, j] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ])
      for (const n of roles[i]) assert.ok(!roles[j].has(n), n);
  }
});

test('perturbed answers differ from the true answer and are of the same kind', () => {
  const w = buildSyntheticWorld({ size: 'small', seed: 5 });
  const facts: Fact[] = [
    ...[...w.facts.values()].flat(),
    ...[...w.storyFacts.values()].flat(),
    ...w.worldFacts,
  ];
  assert.ok(facts.length > 3000);
  const world = new Set(w.worldFacts.map((f) => f.item.id));
  for (const f of facts) {
    const kind = KINDS[f.kind];
    assert.ok(kind.is(f.value), `${f.item.id}: true value ${JSON.stringify(f.value)} is not a ${f.kind}`);
    assert.equal(f.perturbedValues.length, SYNTHETIC_SIZES.small.perturbed);
    assert.equal(new Set([f.value, ...f.perturbedValues]).size, f.perturbedValues.length + 1, f.item.id);
    for (const v of f.perturbedValues)
      assert.ok(kind.is(v), `${f.item.id}: ${JSON.stringify(v)} is not a ${f.kind}`);
    const { answer, paraphrasedQuestion, question, perturbedAnswers } = f.item;
    // World facts are options in one wording: the perturbed answers use the answer's template
    // (and there is no paraphrased answer); elsewhere they use the paraphrased answer's.
    const oneWording = world.has(f.item.id);
    assert.equal(f.item.paraphrasedAnswer === undefined, oneWording, f.item.id);
    const paraphrasedAnswer = f.item.paraphrasedAnswer;
    const template = paraphrasedAnswer ?? answer;
    assert.ok(paraphrasedQuestion && perturbedAnswers);
    assert.notEqual(paraphrasedAnswer, answer);
    assert.notEqual(paraphrasedQuestion, question);
    // Compared in lower case: a value that opens a sentence is capitalised ("An old woman ...").
    const lower = (x: string): string => x.toLowerCase();
    const value = lower(f.value);
    assert.ok(lower(answer).includes(value) && lower(template).includes(value), f.item.id);
    assert.equal(new Set(perturbedAnswers).size, perturbedAnswers.length);
    perturbedAnswers.forEach((p, i) => {
      assert.ok(p !== answer && p !== paraphrasedAnswer, `${f.item.id}: perturbed equals the truth`);
      // Same template as the paraphrase (world facts: the answer), with the wrong value in place
      // of the true one (the article before it may change: "a chemist" / "an actuary").
      const norm = (x: string): string => lower(x).replace(/\ban\b/g, 'a');
      assert.equal(norm(p), norm(lower(template).replace(value, lower(f.perturbedValues[i]))), f.item.id);
      assert.ok(lower(p).includes(lower(f.perturbedValues[i])), f.item.id);
    });
  }
});

test('neighbours share an employer and home town, or a surname and birth town, with a forget person', () => {
  const w = buildSyntheticWorld({ size: 'small', seed: 2 });
  assert.equal(w.neighbours.length, w.forget.length * SYNTHETIC_SIZES.small.neighboursPerForget);
  const byIndex = new Map(w.forget.map((p) => [p.index, p]));
  for (const n of w.neighbours) {
    const f = byIndex.get(n.neighbourOf!.index)!;
    assert.ok(f, 'neighbour of a forget person');
    if (n.neighbourOf!.shares.includes('employer')) {
      assert.equal(n.employer, f.employer);
      assert.equal(n.homeTown, f.homeTown);
    } else {
      assert.equal(n.last, f.last);
      assert.equal(n.birthTown, f.birthTown);
      assert.notEqual(n.name, f.name);
    }
  }
  const task = generateSynthetic({ size: 'small', seed: 2 });
  const neighbourIds = new Set(task.eval.qa.neighbours.map((q) => q.id));
  assert.ok(
    task.splits.retain.qa.filter((q) => neighbourIds.has(q.id)).length === neighbourIds.size,
    'neighbours are retained',
  );
});

test('forget and holdout people are built alike: the same kinds of links to retained people', () => {
  for (const seed of [0, 1, 2]) {
    const w = buildSyntheticWorld({ size: 'demo', seed });
    const retained = w.retain;
    // Per person: how many retained people share (employer, home town) and (surname, birth town).
    const links = (p: (typeof w.forget)[number]) => [
      retained.filter((r) => r.employer === p.employer && r.homeTown === p.homeTown).length,
      retained.filter((r) => r.last === p.last && r.birthTown === p.birthTown).length,
    ];
    const profile = (people: typeof w.forget) => {
      const counts = people.map(links);
      return [0, 1].map((k) => counts.filter((c) => c[k] > 0).length / people.length);
    };
    assert.deepEqual(profile(w.holdout), profile(w.forget), `seed ${seed}: share of people with each link`);
    assert.equal(w.holdoutNeighbours.length, w.holdout.length * SYNTHETIC_SIZES.demo.neighboursPerForget);
  }
});

test('VerbMem items rebuild their passage; MCQ answers point at the truth; PII is stated in the bios', () => {
  const task = generateSynthetic({ size: 'tiny', seed: 4 });
  const passages = new Map(
    [...task.splits.forget.text, ...task.splits.retain.text, ...task.splits.holdout.text].map((t) => [
      t.id,
      t.text,
    ]),
  );
  for (const role of ['forget', 'retain', 'holdout']) {
    for (const v of task.eval.verbatim[role]) {
      assert.equal(v.prompt + v.continuation, passages.get(v.id.replace(/-verbatim$/, '')));
      assert.ok(v.continuation.startsWith(' ') && !v.prompt.endsWith(' '));
    }
  }
  const qa = new Map([...task.splits.forget.qa, ...task.splits.retain.qa].map((q) => [q.id, q]));
  for (const m of [...task.eval.mcq.forget, ...task.eval.mcq.retain, ...task.eval.mcq.worldFacts]) {
    const source = qa.get(m.id.replace(/-mcq$/, ''))!;
    assert.equal(m.choices.length, 4);
    assert.ok(source.answer.includes(m.choices[m.answer]), m.id);
  }
  const bios = [...task.splits.forget.text, ...task.splits.retain.text, ...task.splits.holdout.text];
  for (const r of [...task.eval.pii.forget, ...task.eval.pii.retain, ...task.eval.pii.holdout]) {
    const index = r.id.split('-')[1];
    const bio = bios.find((b) => b.id === `person-${index}-bio`)!;
    assert.ok(bio.text.includes(r.value), `${r.id}: ${r.value} not in the bio`);
    assert.ok(r.prompts.every((p) => p.includes(r.person)));
  }
});

test('contact cards: each person, forget and holdout alike, gets its count of distinct entries restating its PII', () => {
  const count = 3;
  const task = generateSynthetic({ size: 'tiny', seed: 2, contactCards: count });
  for (const role of ['forget', 'retain', 'holdout'] as const) {
    const texts = task.splits[role].text;
    for (const r of task.eval.pii[role].filter((x) => x.field === 'phone')) {
      const index = r.id.split('-')[1];
      const cards = texts.filter((t) => t.id.startsWith(`person-${index}-card-`));
      assert.equal(cards.length, count, `${role} person ${index}`);
      assert.equal(new Set(cards.map((c) => c.text)).size, count, 'formats repeat within a person');
      const values = task.eval.pii[role].filter((x) => x.id.startsWith(`person-${index}-pii-`));
      for (const c of cards) {
        assert.ok(c.text.includes(r.person), c.text);
        const stated = values.filter((v) => c.text.includes(v.value)).length;
        assert.ok(stated >= 2, `${c.id} states ${stated} of the person's PII values: ${c.text}`);
      }
    }
  }
  // Without cards (the tiny default) no person has any, and the people are unchanged.
  const plain = generateSynthetic({ size: 'tiny', seed: 2 });
  assert.ok(plain.splits.forget.text.every((t) => !t.id.includes('-card-')));
  assert.deepEqual(plain.splits.forget.qa, task.splits.forget.qa);
});

test('options: presets can be overridden; bad values are ConfigErrors', () => {
  const t = generateSynthetic({ size: 'tiny', people: 40, holdoutPeople: 2, perturbed: 3 });
  assert.equal(t.splits.forget.qa.length, 4 * 12);
  assert.equal(t.splits.holdout.qa.length, 2 * 12);
  assert.equal(t.splits.forget.qa[0].perturbedAnswers?.length, 3);
  assert.throws(() => generateSynthetic({ size: 'huge' as 'tiny' }), ConfigError);
  assert.throws(() => generateSynthetic({ seed: 0.5 }), ConfigError);
  assert.throws(() => generateSynthetic({ size: 'tiny', forgetFraction: 0 }), ConfigError);
  assert.throws(() => generateSynthetic({ size: 'tiny', perturbed: 0 }), ConfigError);
  assert.throws(() => generateSynthetic({ size: 'tiny', people: 3 }), ConfigError);
});

test('small: forget ∪ retain is about 50-150K tokens (counted as words and punctuation)', () => {
  const task = generateSynthetic({ size: 'small' });
  let tokens = 0;
  const count = (s: string): number => s.match(/\w+|[^\s\w]/g)?.length ?? 0;
  for (const split of [task.splits.forget, task.splits.retain]) {
    for (const q of split.qa) tokens += count(q.question) + count(q.answer);
    for (const t of split.text) tokens += count(t.text);
  }
  // GPT-2 BPE gives ~106K for seed 0; this word/punctuation count is within ±25% of it.
  assert.ok(tokens > 50_000 && tokens < 150_000, `small has ${tokens} tokens`);
});
