/**
 * The --out rule (out-folder.ts): a non-empty folder is refused (exit 2, naming the folder and
 * what it holds) unless it is the command's own work or --force is given; --force empties the
 * folder and nothing outside it; each command's own work; an impossible path such as /proc/x
 * fails at once instead of spinning in Node's recursive mkdir.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RESULTS_FORMAT } from '../eval/results.ts';
import {
  checkOutFolder,
  checkResultsFile,
  clearFolder,
  isWithin,
  trainJudge,
  unlearnJudge,
} from './out-folder.ts';
import { UsageError } from './usage-error.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const lethe = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'lethe.js'), ...args], {
    encoding: 'utf8',
    cwd: dir,
    timeout: 60_000,
  });
  return { code: r.status, err: r.stderr, timedOut: r.error !== undefined };
};

/** A folder holding `files` (name → content). */
function folder(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}

const foreignOnly = () => ({ own: false as const, what: 'other files' });

test('a missing folder is created (parents too), an empty one used, a file refused', () => {
  const nested = join(dir, 'a', 'b', 'c');
  assert.deepEqual(checkOutFolder({ dir: nested, force: false, judge: foreignOnly }), {
    dir: nested,
    clear: false,
  });
  assert.ok(existsSync(nested));
  assert.equal(checkOutFolder({ dir: nested, force: false, judge: foreignOnly }).clear, false);
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(
    () => checkOutFolder({ dir: file, force: true, judge: foreignOnly }),
    (e: unknown) => e instanceof UsageError && /is a file, not a folder/.test(e.message),
  );
});

test('a non-empty folder is refused naming it and what it holds; --force empties it and nothing outside', () => {
  const outside = join(dir, 'outside.txt');
  writeFileSync(outside, 'keep me');
  const d = folder('full', { 'notes.txt': 'mine' });
  mkdirSync(join(d, 'sub'));
  writeFileSync(join(d, 'sub', 'deep.txt'), 'x');
  symlinkSync(outside, join(d, 'link-out'));
  symlinkSync(dir, join(d, 'link-dir'));
  assert.throws(
    () => checkOutFolder({ dir: d, force: false, judge: foreignOnly }),
    (e: unknown) =>
      e instanceof UsageError &&
      e.message.includes(`--out ${d} is not empty`) &&
      /other files: .*notes\.txt/.test(e.message) &&
      /--force/.test(e.message),
  );
  const plan = checkOutFolder({ dir: d, force: true, judge: foreignOnly });
  assert.equal(plan.clear, true);
  assert.ok(existsSync(join(d, 'notes.txt')), 'the check itself deletes nothing');
  clearFolder(plan);
  assert.deepEqual(readdirSync(d), []);
  assert.equal(readFileSync(outside, 'utf8'), 'keep me', 'a link inside is removed, its target kept');
  assert.ok(existsSync(join(dir, 'full')), 'the folder itself stays');
});

test('--force never empties a folder holding the working directory or an input', () => {
  const d = folder('with-input', { 'data.txt': 'corpus' });
  assert.throws(
    () => checkOutFolder({ dir: d, force: true, judge: foreignOnly, inputs: [join(d, 'data.txt')] }),
    (e: unknown) =>
      e instanceof UsageError && /--force would empty .* which holds .*data\.txt/.test(e.message),
  );
  assert.throws(
    () => checkOutFolder({ dir: process.cwd(), force: true, judge: foreignOnly }),
    /--force would empty/,
  );
  // Where --force does not empty (train --resume), an input inside is the command's business.
  assert.equal(
    checkOutFolder({ dir: d, force: true, judge: foreignOnly, inputs: [d], clearOnForce: false }).clear,
    false,
  );
  assert.ok(isWithin(join(d, 'x'), d) && isWithin(d, d) && !isWithin(`${d}-2`, d) && !isWithin(dir, d));
});

test('train: its own files are its work only with --resume', () => {
  const d = folder('trained', { 'config.json': '{}', 'model.safetensors': '', 'train-log.jsonl': '' });
  mkdirSync(join(d, 'checkpoints'));
  assert.deepEqual(trainJudge(true)(d, readdirSync(d)), { own: true });
  const fresh = trainJudge(false)(d, readdirSync(d));
  assert.ok(!fresh.own && /--resume/.test(fresh.hint ?? ''), JSON.stringify(fresh));
  const mixed = trainJudge(true)(d, [...readdirSync(d), 'thesis.tex']);
  assert.ok(!mixed.own && /thesis\.tex/.test(mixed.what));
});

test('unlearn: an interrupted run or the same finished run is its own work; another run is not', () => {
  const run = { method: 'ga', args: { lr: 1e-4, epochs: 5 }, seed: 0, taskSpec: 'synthetic:tiny' };
  const judge = unlearnJudge({ ...run, model: join(dir, 'base') });
  const interrupted = folder('interrupted', { 'unlearn-log.jsonl': '{"step":1}\n' });
  assert.deepEqual(judge(interrupted, readdirSync(interrupted)), { own: true });
  // A weight method killed in a training stage (task-vector's fine-tune) leaves the stage's log.
  const inStage = folder('in-stage', { 'unlearn-log.jsonl.fine-tune': '{"step":1}\n' });
  assert.deepEqual(judge(inStage, readdirSync(inStage)), { own: true });
  const manifest = {
    format: 'lethe-unlearn/1',
    method: 'ga',
    args: { epochs: 5, lr: 1e-4 }, // key order does not matter
    task: { spec: 'synthetic:tiny', name: 'tiny', hash: 'h' },
    seed: 0,
    source: join(dir, 'base'),
  };
  const done = folder('done', {
    'config.json': '{}',
    'model.safetensors': '',
    'manifest.json': JSON.stringify(manifest),
  });
  assert.deepEqual(judge(done, readdirSync(done)), { own: true });
  const other = unlearnJudge({ ...run, args: { lr: 1e-3, epochs: 5 }, seed: 1, model: join(dir, 'base') });
  const v = other(done, readdirSync(done));
  assert.ok(!v.own && /another unlearning run \(other arguments, seed 0\)/.test(v.what), JSON.stringify(v));
  // An HF model folder (no lethe manifest) is not an unlearning output, however its files are named.
  const hf = folder('hf-model', { 'config.json': '{}', 'model.safetensors': '', 'tokenizer.json': '{}' });
  const h = judge(hf, readdirSync(hf));
  assert.ok(!h.own && /no lethe manifest/.test(h.what));
  writeFileSync(join(done, 'notes.txt'), 'mine');
  assert.equal(judge(done, readdirSync(done)).own, false);
  // Killed after saving the model, before the manifest (written last): its log marks it as ours.
  const saved = folder('saved', {
    'unlearn-log.jsonl': '{"step":1}\n',
    'config.json': '{}',
    'model.safetensors': '',
    'tokenizer.json': '{}',
  });
  assert.deepEqual(judge(saved, readdirSync(saved)), { own: true });
  writeFileSync(join(saved, 'notes.txt'), 'mine');
  assert.equal(judge(saved, readdirSync(saved)).own, false);
});

test('eval: --out must be a file; an existing one only an earlier evaluation of the same model', () => {
  const model = join(dir, 'm');
  assert.throws(() => checkResultsFile(dir, model, true), /is a folder; lethe eval writes one results file/);
  const fresh = join(dir, 'new', 'sub', 'r.json');
  assert.equal(checkResultsFile(fresh, model, false), fresh);
  assert.ok(existsSync(join(dir, 'new', 'sub')), 'its folder is created');
  const mine = join(dir, 'mine.json');
  writeFileSync(mine, JSON.stringify({ format: RESULTS_FORMAT, models: { unlearned: { dir: model } } }));
  assert.equal(checkResultsFile(mine, model, false), mine);
  assert.throws(
    () => checkResultsFile(mine, join(dir, 'other-model'), false),
    (e: unknown) => e instanceof UsageError && /not an earlier evaluation of this model/.test(e.message),
  );
  const notes = join(dir, 'notes.json');
  writeFileSync(notes, '{"mine": true}');
  assert.throws(() => checkResultsFile(notes, model, false), /not a lethe results file/);
  assert.equal(checkResultsFile(notes, model, true), notes);
});

test('the commands: a non-empty --out is a usage error (exit 2) and --force is in --help', () => {
  const keep = folder('precious', { 'notes.txt': 'mine' });
  const u = lethe('unlearn', '--task', 'synthetic:tiny', '--method', 'ga', '--out', keep);
  assert.equal(u.code, 2, u.err);
  assert.match(u.err, /is not empty and not this command's own work[\s\S]*notes\.txt[\s\S]*--force/);
  assert.equal(readFileSync(join(keep, 'notes.txt'), 'utf8'), 'mine');
  const t = lethe('train', '--data', 'corpus.txt', '--out', keep);
  assert.equal(t.code, 2, t.err);
  assert.match(t.err, /notes\.txt/);
  writeFileSync(join(dir, 'r.json'), 'not results');
  const e = lethe('eval', '--model', keep, '--metric', 'mia.loss', '--out', 'r.json');
  assert.equal(e.code, 2, e.err);
  assert.match(e.err, /r\.json exists and is not an earlier evaluation/);
  for (const cmd of ['train', 'unlearn', 'eval']) {
    const help = spawnSync(process.execPath, [join(root, 'bin', 'lethe.js'), cmd, '--help'], {
      encoding: 'utf8',
    });
    assert.match(help.stdout, /--force/, `${cmd} --help`);
  }
});

test('unlearn --force empties the folder (not what its links point to) before the run', () => {
  const outside = join(dir, 'outside-2.txt');
  writeFileSync(outside, 'keep me');
  const d = folder('forced', { 'notes.txt': 'mine' });
  symlinkSync(outside, join(d, 'link'));
  // The run itself fails at loading the (missing) model, after the folder was emptied.
  const r = lethe(
    'unlearn',
    '--task',
    'synthetic:tiny',
    '--method',
    'ga',
    '--model',
    'nowhere',
    '--out',
    d,
    '--force',
  );
  assert.equal(r.code, 1, r.err);
  assert.doesNotMatch(r.err, /not empty/);
  assert.ok(!existsSync(join(d, 'notes.txt')) && !existsSync(join(d, 'link')));
  assert.equal(readFileSync(outside, 'utf8'), 'keep me');
});

test('an --out that cannot be created fails at once (Node 20 spins forever in mkdir -p /proc/x)', (t) => {
  if (!existsSync('/proc/self')) {
    t.skip('needs Linux /proc');
    return;
  }
  // With --model nothing is prepared first: the old code reached its mkdir at once, and spun there.
  const model = join(root, 'test', 'fixtures', 'models', 'gpt2');
  const r = lethe(
    'unlearn',
    '--task',
    'synthetic:tiny',
    '--method',
    'ga',
    '--model',
    model,
    '--out',
    '/proc/lethe-out/x',
  );
  assert.ok(!r.timedOut, 'lethe unlearn --out /proc/… did not finish within 60 s');
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /cannot create the folder \/proc\/lethe-out: no such file or folder/);
});
