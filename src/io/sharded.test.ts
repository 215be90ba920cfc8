/**
 * Sharded checkpoints: round trip through HF-named shards and the index (bit-exact, tolerance 0),
 * shard packing, the index written last (a failure before it leaves no index), and malformed
 * indexes raising CheckpointErrors that name the files.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertNoTempFiles, bitsOf } from '../../test/helpers/safetensors-files.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { CheckpointError } from '../errors.ts';
import { SafetensorsFile, type TensorLike, writeSafetensors } from './safetensors.ts';
import { openSafetensors, ShardedSafetensors, shardFileName, writeSafetensorsSharded } from './sharded.ts';

function tensors(): Map<string, TensorLike> {
  const make = (n: number, seed: number) => new Float32Array(n).map((_, i) => Math.sin(seed * 100 + i));
  return new Map<string, TensorLike>([
    ['a.weight', { data: make(64, 1), shape: [8, 8] }], // 256 bytes
    ['b.weight', { data: make(64, 2), shape: [64] }], // 256
    ['c.bias', { data: make(16, 3), shape: [16] }], // 64
    ['d.big', { data: make(200, 4), shape: [10, 20] }], // 800 (> max: a shard of its own)
    ['e.ids', { data: new Int32Array([1, -2, 3]), shape: [3] }], // 12
  ]);
}

test('shardFileName follows Hugging Face naming', () => {
  assert.equal(shardFileName('model', 1, 3), 'model-00001-of-00003.safetensors');
  assert.equal(shardFileName('model', 12, 123), 'model-00012-of-00123.safetensors');
});

test('sharded write -> read round trip is bit-exact, lazily per tensor', async () => {
  await withTempDir(async (dir) => {
    const input = tensors();
    const result = await writeSafetensorsSharded(dir, input, {
      maxShardBytes: 600,
      metadata: { format: 'pt' },
    });
    const n = result.shardFiles.length;
    assert.ok(n >= 3, `expected several shards, got ${n}`);
    assert.deepEqual(
      result.shardFiles,
      Array.from({ length: n }, (_, i) => shardFileName('model', i + 1, n)),
    );
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [...result.shardFiles, 'model.safetensors.index.json'].sort(),
    );
    const index = JSON.parse(await readFile(result.indexPath, 'utf8'));
    assert.equal(index.metadata.total_size, 256 + 256 + 64 + 800 + 12);
    assert.deepEqual(Object.keys(index.weight_map).sort(), [...input.keys()].sort());

    // Every shard respects the limit unless it holds a single oversized tensor.
    for (const f of result.shardFiles) {
      const shard = await SafetensorsFile.open(join(dir, f));
      const bytes = shard.names().reduce((s, name) => s + shard.info(name).byteLength, 0);
      assert.ok(bytes <= 600 || shard.names().length === 1, `${f} holds ${bytes} bytes`);
      assert.equal(shard.metadata.format, 'pt');
      await shard.close();
    }

    const source = await openSafetensors(result.indexPath);
    assert.ok(source instanceof ShardedSafetensors);
    assert.deepEqual(source.names(), [...input.keys()].sort());
    assert.equal(source.info('d.big').file, join(dir, index.weight_map['d.big']));
    for (const [name, t] of input) {
      const got = await source.read(name);
      assert.deepEqual(got.shape, t.shape);
      if (t.data instanceof Float32Array) assert.deepEqual(bitsOf(got.data as Float32Array), bitsOf(t.data));
      else assert.deepEqual(got.data, t.data);
    }
    await source.close();

    // The ranged path through shards gives the same values.
    const ranged = await ShardedSafetensors.open(result.indexPath, { rangedThreshold: 0 });
    const all = await ranged.readAll();
    assert.deepEqual(all.get('b.weight')!.data, input.get('b.weight')!.data);
    await ranged.close();
  });
});

test('a failure before the index is renamed leaves shards but no index and no temp files', async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      writeSafetensorsSharded(dir, tensors(), {
        maxShardBytes: 600,
        beforeRename: () => {
          throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    const files = await readdir(dir);
    assert.ok(!files.includes('model.safetensors.index.json'));
    assert.ok(files.some((f) => f.startsWith('model-00001-of-')));
    await assertNoTempFiles(dir);
  });
});

async function expectIndexError(dir: string, index: unknown, ...parts: string[]): Promise<void> {
  const path = join(dir, 'model.safetensors.index.json');
  await writeFile(path, typeof index === 'string' ? index : JSON.stringify(index));
  await assert.rejects(ShardedSafetensors.open(path), (err: unknown) => {
    assert.ok(err instanceof CheckpointError, String(err));
    for (const p of parts) assert.ok(err.message.includes(p), `message lacks "${p}":\n${err.message}`);
    return true;
  });
}

test('malformed sharded checkpoints raise CheckpointErrors naming the files', async () => {
  await withTempDir(async (dir) => {
    await writeSafetensors(join(dir, 'model-00001-of-00001.safetensors'), {
      x: { data: new Float32Array(2), shape: [2] },
    });
    const shard = 'model-00001-of-00001.safetensors';
    await expectIndexError(dir, '{"weight_map": ', 'model.safetensors.index.json', 'not valid JSON');
    await expectIndexError(dir, { metadata: {} }, 'model.safetensors.index.json', 'bad index');
    await expectIndexError(dir, { weight_map: {} }, 'empty weight_map');
    await expectIndexError(dir, { weight_map: { x: '../x.safetensors' } }, 'bad shard file name', '../x');
    await expectIndexError(
      dir,
      { weight_map: { x: 'model-00002-of-00002.safetensors' } },
      'missing shard',
      'model-00002-of-00002.safetensors',
    );
    await expectIndexError(
      dir,
      { weight_map: { x: shard, y: shard } },
      'tensor "y" missing from shard',
      shard,
    );
    // A corrupt shard reports the shard's own file name.
    await writeFile(join(dir, 'model-00001-of-00002.safetensors'), new Uint8Array(4));
    await expectIndexError(
      dir,
      { weight_map: { x: 'model-00001-of-00002.safetensors' } },
      'model-00001-of-00002.safetensors',
      'too short',
    );
    await rm(join(dir, 'model.safetensors.index.json'));
    await assert.rejects(ShardedSafetensors.open(join(dir, 'model.safetensors.index.json')), CheckpointError);
  });
});
