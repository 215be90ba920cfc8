/**
 * `lethe eval` end to end on saved folders of the tiny world: the task, oracle and target are taken
 * from the unlearned folder's manifest.json (task.spec, extra.oracle, source), efficiency comes from the manifest
 * and its step log, a transform.json beside the model is applied, --no-companions drops them, and
 * a missing suite is a ConfigError. Exact comparisons.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { evalWorld } from '../../../test/helpers/eval-world.ts';
import { taskHash, writeTask } from '../../data/task.ts';
import { ConfigError } from '../../errors.ts';
import { readResults } from '../../eval/results.ts';
import { NO_ORACLE } from '../../eval/types.ts';
import { savePretrained } from '../../text/pretrained.ts';
import { parseEvalSettings, registerEval } from './eval.ts';

async function folders() {
  const w = await evalWorld();
  const root = mkdtempSync(join(tmpdir(), 'lethe-cli-eval-'));
  const dirs = {
    target: join(root, 'target'),
    oracle: join(root, 'oracle'),
    unlearned: join(root, 'unlearned'),
  };
  await savePretrained(dirs.target, w.target, w.tokenizer);
  await savePretrained(dirs.oracle, w.oracle, w.tokenizer);
  await savePretrained(dirs.unlearned, w.target, w.tokenizer);
  const taskPath = await writeTask(join(root, 'task'), w.task);
  const manifest = {
    format: 'lethe-unlearn/1',
    method: 'guardrail',
    args: {},
    task: { spec: taskPath, name: w.task.name, hash: taskHash(w.task) },
    seed: 0,
    source: dirs.target,
    lethe: '0.1.0',
    node: process.version,
    backend: 'native',
    threads: 1,
    cores: 1,
    trainableParameters: 0,
    requests: [{ steps: 3, finalLoss: 1, stoppedEarly: false }],
    transform: 'transform.json',
    timings: { seconds: 1.5, peakRssMb: 321, requestSeconds: [1.5] },
    extra: { oracle: dirs.oracle },
  };
  writeFileSync(join(dirs.unlearned, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(
    join(dirs.unlearned, 'unlearn-log.jsonl'),
    '{"step":1,"tokens":100}\n{"step":2,"tokens":120}\n{"step":3,"tokens":80}\n',
  );
  writeFileSync(
    join(dirs.unlearned, 'transform.json'),
    JSON.stringify({
      kind: 'guardrail',
      version: 1,
      prefix: 'Do not say where anyone lives.\n\n',
      scope: ['towns'],
      scopeSource: 'explicit',
      blockPatterns: ['Oslo'],
      refusal: "I don't know.",
    }),
  );
  return { root, dirs, taskPath, parameters: w.target.numParameters() };
}

async function run(args: string[]): Promise<string> {
  if (!args.includes('--no-progress')) args = [...args, '--no-progress'];
  const program = new Command('lethe').exitOverride();
  registerEval(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'lethe', 'eval', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

describe('lethe eval', () => {
  test('takes task, oracle and target from the manifest, reads efficiency, applies the transform', async () => {
    const { root, dirs, taskPath, parameters } = await folders();
    const out = join(root, 'results.json');
    // No --task: the manifest's task spec is used.
    const printed = await run([
      '--model',
      dirs.unlearned,
      '--suite',
      'efficiency',
      '--metric',
      'tofu.forget.prob',
      '--metric',
      'tofu.forgetQuality',
      '--out',
      out,
      '--no-progress',
      '--set',
      'qaMaxNewTokens=16',
    ]);
    const r = readResults(out);
    assert.equal(r.task.spec, taskPath);
    assert.equal(r.models.oracle?.dir, dirs.oracle);
    assert.equal(r.models.target?.dir, dirs.target);
    assert.equal(r.models.unlearned.transform, 'guardrail');
    assert.equal(r.models.unlearned.method, 'guardrail');
    assert.equal(r.options.qaMaxNewTokens, 16);
    const v = (n: string) => {
      const x = r.metrics[n].unlearned;
      assert.ok('value' in x, JSON.stringify(x));
      return x.value;
    };
    assert.equal(v('efficiency.seconds'), 1.5);
    assert.equal(v('efficiency.peakMemoryMb'), 321);
    assert.equal(v('efficiency.trainableParameters'), 0);
    assert.equal(v('efficiency.flops'), 6 * parameters * 300);
    assert.match(JSON.stringify(r.metrics['efficiency.seconds'].oracle), /manifest/);
    assert.ok(!('skipped' in r.closeness));
    assert.match(printed, /tofu\.forgetQuality/);
    assert.match(printed, /closeness to the oracle/);
  });

  test('--no-companions evaluates the model alone; oracle metrics say why they are missing', async () => {
    const { root, dirs, taskPath } = await folders();
    const out = join(root, 'alone.json');
    const printed = await run([
      '--model',
      dirs.unlearned,
      '--task',
      taskPath,
      '--metric',
      'tofu.forgetQuality',
      '--out',
      out,
      '--no-companions',
      '--no-progress',
    ]);
    const r = readResults(out);
    assert.equal(r.models.oracle, undefined);
    assert.deepEqual(r.metrics['tofu.forgetQuality'].unlearned, { skipped: NO_ORACLE });
    assert.match(printed, /tofu\.forgetQuality: skipped: needs the oracle model/);
  });

  test('usage errors', async () => {
    const { root, dirs, taskPath } = await folders();
    await assert.rejects(
      run(['--model', dirs.unlearned, '--task', taskPath, '--out', join(root, 'x.json')]),
      (e: Error) => e instanceof ConfigError && /--suite or --metric/.test(e.message),
    );
    await assert.rejects(
      run(['--model', dirs.unlearned, '--task', taskPath, '--suite', 'nope', '--out', join(root, 'x.json')]),
      /unknown suite "nope"/,
    );
    await assert.rejects(
      run([
        '--model',
        dirs.unlearned,
        '--task',
        taskPath,
        '--suite',
        'tofu',
        '--set',
        'elN=0',
        '--out',
        join(root, 'x.json'),
      ]),
      /invalid evaluation option[\s\S]*elN/,
    );
    assert.deepEqual(parseEvalSettings(['a=1', 'b=true', 'c=x']), { a: 1, b: true, c: 'x' });
    assert.throws(() => parseEvalSettings(['novalue']), /invalid --set/);
  });
});
