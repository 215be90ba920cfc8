/**
 * Hugging Face folders: write -> read round trip (weights bit-exact, JSON files equal), single
 * file vs sharded layouts replacing each other, the "config.json means complete" invariant under
 * a failed write, and every read failure a CheckpointError naming the file.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoTempFiles, bitsOf } from '../../test/helpers/safetensors-files.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { CheckpointError } from '../errors.ts';
import { readHfFolder, writeHfFolder } from './hf-folder.ts';
import { SafetensorsFile, type TensorLike } from './safetensors.ts';
import { ShardedSafetensors } from './sharded.ts';

const config = { model_type: 'gpt2', n_layer: 1, n_embd: 4, vocab_size: 8 };

function weights(): Map<string, TensorLike> {
  return new Map<string, TensorLike>([
    ['transformer.wte.weight', { data: new Float32Array(32).map((_, i) => i / 3), shape: [8, 4] }],
    ['transformer.ln_f.weight', { data: new Float32Array([1, -0, NaN, Infinity]), shape: [4] }],
    ['transformer.ln_f.bias', { data: new Float32Array(4).fill(0.5), shape: [4] }],
  ]);
}

async function expectCheckpointError(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${err}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message lacks "${p}":\n${err.message}`);
    return true;
  });
}

test('write -> read round trip of a complete folder', async () => {
  await withTempDir(async (root) => {
    const dir = join(root, 'nested', 'model');
    const tokenizer = { version: '1.0', model: { type: 'BPE' } };
    await writeHfFolder(dir, {
      config,
      tensors: weights(),
      generationConfig: { max_new_tokens: 16 },
      tokenizerJson: tokenizer,
    });
    assert.deepEqual((await readdir(dir)).sort(), [
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
    ]);
    const folder = await readHfFolder(dir);
    assert.deepEqual(folder.config, config);
    assert.deepEqual(folder.generationConfig, { max_new_tokens: 16 });
    assert.equal(folder.tokenizerJsonPath, join(dir, 'tokenizer.json'));
    assert.deepEqual(JSON.parse(await readFile(folder.tokenizerJsonPath!, 'utf8')), tokenizer);
    assert.ok(folder.weights instanceof SafetensorsFile);
    assert.equal(folder.weights.metadata.format, 'pt', 'transformers requires format=pt');
    for (const [name, t] of weights()) {
      assert.deepEqual(
        bitsOf((await folder.weights.read(name)).data as Float32Array),
        bitsOf(t.data as Float32Array),
      );
    }
    await folder.weights.close();
    await assertNoTempFiles(dir);
  });
});

test('sharded and single-file saves replace each other without stale weight files', async () => {
  await withTempDir(async (dir) => {
    await writeHfFolder(dir, { config, tensors: weights() }, { maxShardBytes: 64 });
    let files = (await readdir(dir)).sort();
    assert.ok(files.includes('model.safetensors.index.json'));
    assert.ok(!files.includes('model.safetensors'));
    const sharded = await readHfFolder(dir);
    assert.ok(sharded.weights instanceof ShardedSafetensors);
    assert.deepEqual([...(await sharded.weights.read('transformer.ln_f.bias')).data], [0.5, 0.5, 0.5, 0.5]);
    await sharded.weights.close();

    await writeHfFolder(dir, { config, tensors: weights() }, { maxShardBytes: 1 << 20 });
    files = (await readdir(dir)).sort();
    assert.deepEqual(files, ['config.json', 'model.safetensors']);
    const single = await readHfFolder(dir);
    assert.ok(single.weights instanceof SafetensorsFile);
    await single.weights.close();
  });
});

test('a failed write into an existing folder leaves no config.json (never config + half weights)', async () => {
  await withTempDir(async (dir) => {
    // An earlier complete save, then a directory where the weights file goes: the new save's
    // weights rename fails mid-write.
    const blocked = join(dir, 'blocked');
    await writeHfFolder(blocked, { config, tensors: weights() });
    await rm(join(blocked, 'model.safetensors'));
    await mkdir(join(blocked, 'model.safetensors'), { recursive: true });
    await assert.rejects(writeHfFolder(blocked, { config, tensors: weights() }));
    const files = await readdir(blocked);
    assert.ok(!files.includes('config.json'), `config.json must be gone: ${files}`);
    await assertNoTempFiles(blocked);
    await expectCheckpointError(readHfFolder(blocked), 'config.json', 'interrupted');
  });
});

test('invalid inputs to writeHfFolder fail before the folder changes', async () => {
  await withTempDir(async (dir) => {
    await writeHfFolder(dir, { config, tensors: weights() });
    const bad = new Map<string, TensorLike>([['w', { data: new Float32Array(3), shape: [2, 2] }]]);
    await assert.rejects(writeHfFolder(dir, { config, tensors: bad }));
    await assert.rejects(
      writeHfFolder(dir, { config: [] as unknown as Record<string, unknown>, tensors: weights() }),
    );
    assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model.safetensors']);
  });
});

test('read errors name the file and list what was found', async () => {
  await withTempDir(async (root) => {
    await expectCheckpointError(readHfFolder(join(root, 'absent')), 'absent', 'no such folder');

    const noConfig = join(root, 'no-config');
    await mkdir(noConfig);
    await writeFile(join(noConfig, 'model.safetensors'), '');
    await expectCheckpointError(readHfFolder(noConfig), 'config.json', 'files: model.safetensors');

    const badJson = join(root, 'bad-json');
    await mkdir(badJson);
    await writeFile(join(badJson, 'config.json'), '{"model_type": ');
    await expectCheckpointError(readHfFolder(badJson), join(badJson, 'config.json'), 'malformed JSON');

    const arrayConfig = join(root, 'array-config');
    await mkdir(arrayConfig);
    await writeFile(join(arrayConfig, 'config.json'), '[]');
    await expectCheckpointError(readHfFolder(arrayConfig), 'config.json', 'an array');

    const noWeights = join(root, 'no-weights');
    await mkdir(noWeights);
    await writeFile(join(noWeights, 'config.json'), JSON.stringify(config));
    await writeFile(join(noWeights, 'pytorch_model.bin'), '');
    await expectCheckpointError(
      readHfFolder(noWeights),
      'no safetensors weights',
      'files: config.json, pytorch_model.bin',
      'lethe reads safetensors only',
    );

    const badGen = join(root, 'bad-gen');
    await writeHfFolder(badGen, { config, tensors: weights() });
    await writeFile(join(badGen, 'generation_config.json'), 'nope');
    await expectCheckpointError(readHfFolder(badGen), 'generation_config.json', 'malformed JSON');

    const badWeights = join(root, 'bad-weights');
    await mkdir(badWeights);
    await writeFile(join(badWeights, 'config.json'), JSON.stringify(config));
    await writeFile(join(badWeights, 'model.safetensors'), 'garbage!garbage!');
    await expectCheckpointError(readHfFolder(badWeights), join(badWeights, 'model.safetensors'));
  });
});
