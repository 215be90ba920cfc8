/**
 * Tasks and paths as a user meets them, with a tiny GPT-2 base saved here:
 * - `lethe generate --task` asks the task's questions in its prompt format and prints that prompt;
 *   a chat template in the model folder is applied, and --no-chat-template turns it off;
 * - `lethe unlearn` run with relative paths writes a manifest with absolute paths, so `lethe eval`
 *   run from another folder finds the task and the companion model;
 * - `prepare({ base })` fine-tunes with the fine-tuning recipe (TOFU's lr 1e-5, 5 epochs unless
 *   overridden; LoRA when asked: only the adapted matrices change) and records it as such.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { resolveTask } from '../../data/resolve-task.ts';
import { buildModel } from '../../models/registry.ts';
import { DEFAULT_FINETUNE_RECIPE, prepare } from '../../study/prepare.ts';
import { Rng } from '../../tensor/index.ts';
import { loadPretrained, savePretrained } from '../../text/pretrained.ts';
import { trainByteLevelBpe } from '../../text/tokenizer/train-bpe.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const work = mkdtempSync(join(tmpdir(), 'lethe-task-paths-'));
const base = join(work, 'a', 'base');
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

function lethe(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'lethe.js'), ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  const task = await resolveTask(join(root, 'examples', 'task-qa'));
  const texts = [...task.splits.forget.qa, ...task.splits.retain.qa].flatMap((q) => [q.question, q.answer]);
  const tok = trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  const eos = tok.tokenToId('<|endoftext|>')!;
  const config = {
    model_type: 'gpt2',
    vocab_size: tok.vocabSize,
    n_positions: 128,
    n_embd: 16,
    n_layer: 1,
    n_head: 2,
    bos_token_id: eos,
    eos_token_id: eos,
  };
  await savePretrained(base, buildModel(config, new Rng(1)), tok);
  cpSync(join(root, 'examples', 'task-qa'), join(work, 'a', 'task'), { recursive: true });
});

test('generate --task: the task prompt format is applied and shown; chat templates on and off', () => {
  const args = [
    'generate',
    '--model',
    base,
    '--task',
    'task',
    '--limit',
    '1',
    '--max-new-tokens',
    '2',
    '--json',
  ];
  const plain = lethe(join(work, 'a'), ...args);
  assert.equal(plain.code, 0, plain.err);
  const rec = JSON.parse(plain.out.trim());
  assert.equal(rec.prompt, 'Question: Which lighthouse did Ida Marr keep?\nAnswer:');
  assert.equal(rec.question, 'Which lighthouse did Ida Marr keep?');
  assert.equal(rec.answer, 'Ida Marr kept the Skerry Point light.');
  const chatDir = join(work, 'chat');
  cpSync(base, chatDir, { recursive: true });
  writeFileSync(
    join(chatDir, 'tokenizer_config.json'),
    JSON.stringify({ chat_template: CHATML, eos_token: '<|endoftext|>' }),
  );
  const chatArgs = [
    'generate',
    '--model',
    chatDir,
    '--task',
    'task',
    '--prompt',
    'Who?',
    '--max-new-tokens',
    '1',
    '--json',
  ];
  const chat = lethe(join(work, 'a'), ...chatArgs);
  assert.equal(chat.code, 0, chat.err);
  assert.equal(
    JSON.parse(chat.out.trim()).prompt,
    '<|im_start|>user\nWho?<|im_end|>\n<|im_start|>assistant\n',
  );
  const off = lethe(join(work, 'a'), ...chatArgs, '--no-chat-template');
  assert.equal(JSON.parse(off.out.trim()).prompt, 'Question: Who?\nAnswer:');
});

test('manifests hold absolute paths: eval from another folder finds the task and the source', () => {
  const u = lethe(
    join(work, 'a'),
    'unlearn',
    '--model',
    'base',
    '--task',
    'task',
    '--method',
    'ga',
    '--arg',
    'steps=1',
    '--out',
    'out',
  );
  assert.equal(u.code, 0, u.err);
  const manifest = JSON.parse(readFileSync(join(work, 'a', 'out', 'manifest.json'), 'utf8'));
  assert.equal(manifest.task.spec, join(work, 'a', 'task'));
  assert.equal(manifest.source, base);
  assert.deepEqual(manifest.prompt, { qa: 'Question: {question}\nAnswer:', chatTemplate: null });
  mkdirSync(join(work, 'b'));
  const e = lethe(
    join(work, 'b'),
    'eval',
    '--model',
    join(work, 'a', 'out'),
    '--metric',
    'mcq.forget',
    '--out',
    'r.json',
    '--no-progress',
  );
  assert.equal(e.code, 0, e.err);
  const results = JSON.parse(readFileSync(join(work, 'b', 'r.json'), 'utf8'));
  assert.ok(results.metrics['mcq.forget'].target, 'the target (manifest source) was found and evaluated');
});

test('prepare --base fine-tunes with the fine-tuning recipe, recorded as such; LoRA changes only adapted weights', async () => {
  const task = await resolveTask(join(work, 'a', 'task'));
  const p = await prepare({
    task,
    base,
    recipe: { epochs: 1, loraRank: 2, lr: 1e-2 },
    cacheDir: join(work, 'cache'),
    progress: false,
  });
  assert.equal(p.info.mode, 'fine-tune');
  assert.equal(p.info.base, base);
  assert.deepEqual(p.info.recipe, {
    context: 256,
    epochs: 1,
    batchSize: DEFAULT_FINETUNE_RECIPE.batchSize,
    gradAccum: DEFAULT_FINETUNE_RECIPE.gradAccum,
    lr: 1e-2,
    schedule: 'linear',
    warmup: 0,
    weightDecay: 0.01,
    clip: 1,
    loraRank: 2,
    loraDropout: 0,
  });
  assert.equal(DEFAULT_FINETUNE_RECIPE.lr, 1e-5);
  assert.equal(DEFAULT_FINETUNE_RECIPE.epochs, 5);
  assert.deepEqual(JSON.parse(readFileSync(join(p.dir, 'prepare.json'), 'utf8')), p.info);
  const before = (await loadPretrained(base)).model.namedParameters();
  const after = new Map((await loadPretrained(p.target)).model.namedParameters());
  let changed = 0;
  for (const [name, t] of before) {
    const same = JSON.stringify(t.toArray()) === JSON.stringify(after.get(name)!.toArray());
    if (/c_attn/.test(name)) changed += same ? 0 : 1;
    else assert.ok(same, `${name} is not LoRA-adapted and must not change`);
  }
  assert.ok(changed > 0, 'the adapted attention matrices changed');
});
