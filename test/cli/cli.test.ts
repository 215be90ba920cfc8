/**
 * The `lethe` CLI end to end on a tiny corpus: train from scratch, generate, score, inspect,
 * fine-tune with LoRA and resume; bad input exits non-zero with a message naming the problem.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lethe-cli-'));
const corpus = join(dir, 'corpus.txt');
const people = ['Ada', 'Ben', 'Cleo', 'Dov'];
const towns = ['Oslo', 'Lima', 'Perth', 'Quito'];
writeFileSync(
  corpus,
  Array.from(
    { length: 160 },
    (_, i) => `${people[i % 4]} lives in ${towns[i % 4]}. ${people[i % 4]} walks in ${towns[i % 4]}.`,
  ).join('\n'),
);
const model = join(dir, 'model');

function lethe(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'lethe.js'), ...args], {
    encoding: 'utf8',
    cwd: root,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('train from scratch, then generate, score and inspect the saved folder', () => {
  const t = lethe(
    'train',
    '--data',
    corpus,
    '--out',
    model,
    '--layers',
    '2',
    '--hidden',
    '48',
    '--heads',
    '2',
    '--vocab-size',
    '300',
    '--seq-len',
    '24',
    '--steps',
    '200',
    '--batch-size',
    '8',
    '--lr',
    '1e-2',
  );
  assert.equal(t.code, 0, t.err);
  const summary = JSON.parse(t.out.trim().split('\n').pop()!);
  assert.equal(summary.steps, 200);
  assert.ok(summary.finalLoss < 1, `loss ${summary.finalLoss}`);
  assert.match(t.err, /step 200\/200/);

  // The corpus cycles Ada→Oslo, Ben→Lima…; in context the model has learned where Ada lives.
  const g = lethe(
    'generate',
    '--model',
    model,
    '--prompt',
    'Dov walks in Quito.\nAda lives in',
    '--max-new-tokens',
    '3',
    '--json',
  );
  assert.equal(g.code, 0, g.err);
  assert.match(JSON.parse(g.out).completion, /Oslo/);

  const data = join(dir, 'score.jsonl');
  writeFileSync(
    data,
    [
      '{"text":"Ben lives in Lima."}',
      '{"prompt":"Ben lives in","answer":" Lima."}',
      '{"input_ids":[5,6,7]}',
    ].join('\n'),
  );
  const s = lethe('score', '--model', model, '--data', data, '--json');
  assert.equal(s.code, 0, s.err);
  const rows = s.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 3);
  assert.equal(rows[2].tokens, 2);
  for (const r of rows) assert.ok(Number.isFinite(r.nll) && r.nll > 0);
  // The answer alone costs less than the whole sentence it ends.
  assert.ok(rows[1].nll < rows[0].nll);

  const i = lethe('inspect', model, '--json');
  assert.equal(i.code, 0, i.err);
  const info = JSON.parse(i.out);
  assert.equal(info.config.model_type, 'gpt2');
  assert.ok(info.tensors.some((x: { name: string }) => x.name === 'transformer.h.1.mlp.c_fc.weight'));
});

test('fine-tune with LoRA, merged into a plain HF folder', () => {
  const out = join(dir, 'lora');
  const r = lethe(
    'train',
    '--model',
    model,
    '--data',
    corpus,
    '--out',
    out,
    '--seq-len',
    '24',
    '--steps',
    '3',
    '--batch-size',
    '4',
    '--lora-rank',
    '2',
  );
  assert.equal(r.code, 0, r.err);
  const names = JSON.parse(lethe('inspect', out, '--json').out).tensors.map((x: { name: string }) => x.name);
  assert.ok(!names.some((n: string) => n.includes('lora')));
  assert.ok(JSON.parse(r.out.trim()).trainableParameters < 5000);
});

test('bad input: clear messages naming the problem, non-zero exit', () => {
  const missing = lethe('score', '--model', join(dir, 'nope'), '--data', corpus);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /model folder .*nope cannot be read/);
  const badJson = join(dir, 'bad.jsonl');
  writeFileSync(badJson, '{"text":"fine"}\n{"text": 3}\n');
  const bad = lethe('score', '--model', model, '--data', badJson);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /bad.jsonl:2/);
  const flag = lethe('train', '--data', corpus, '--out', join(dir, 'x'), '--steps', 'many');
  assert.notEqual(flag.code, 0);
  assert.match(flag.err, /--steps/);
  const unknown = lethe('frobnicate');
  assert.notEqual(unknown.code, 0);
  const cfg = join(dir, 'recipe.json');
  writeFileSync(cfg, JSON.stringify({ layers: 2, learningRate: 1 }));
  const c = lethe('train', '--data', corpus, '--out', join(dir, 'y'), '--config', cfg);
  assert.notEqual(c.code, 0);
  assert.match(c.err, /recipe.json/);
  assert.match(c.err, /learningRate/);
  assert.ok(readFileSync(corpus, 'utf8').length > 0);
});
