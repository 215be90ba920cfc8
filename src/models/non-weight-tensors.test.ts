/**
 * Tensors in real checkpoints that are not weights — causal-mask buffers (`attn.bias`,
 * `attn.masked_bias`, GPT-Neo's `attn.attention.bias`, GPT-NeoX's `attention.bias`) and rotary
 * caches (`rotary_emb.inv_freq`) — are recognised by name and never read, whatever dtype they are
 * stored in (BOOL, U8, F16, BF16, which lethe cannot or need not decode). A tensor that is neither
 * a weight nor a known buffer is still an error naming it. Logits are compared exactly.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeRawSafetensors } from '../../test/helpers/safetensors-files.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { CheckpointError } from '../errors.ts';
import { Tensor } from '../tensor/index.ts';
import { loadModel } from './load.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'models');
const BYTES: Record<string, number> = { BOOL: 1, U8: 1, F16: 2, BF16: 2, F32: 4 };

type Extra = [name: string, dtype: string, shape: number[]];

/** Copy a fixture folder, adding extra tensors (filled with ones-ish bytes) to its safetensors. */
async function withExtras(fixture: string, extras: Extra[], dir: string): Promise<void> {
  const raw = new Uint8Array(await readFile(join(FIXTURES, fixture, 'model.safetensors')));
  const n = Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(raw.subarray(8, 8 + n)).toString('utf8'));
  const data = raw.subarray(8 + n);
  const parts = [data];
  let offset = data.length;
  for (const [name, dtype, shape] of extras) {
    const size = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + size] };
    parts.push(new Uint8Array(size).fill(1));
    offset += size;
  }
  await writeRawSafetensors(dir, 'model.safetensors', header, Buffer.concat(parts));
  await copyFile(join(FIXTURES, fixture, 'config.json'), join(dir, 'config.json'));
}

const cases: [string, Extra[]][] = [
  [
    'gpt2',
    [
      ['transformer.h.0.attn.bias', 'BOOL', [1, 1, 11, 11]],
      ['transformer.h.1.attn.masked_bias', 'F16', []],
    ],
  ],
  ['llama-gqa', [['model.layers.0.self_attn.rotary_emb.inv_freq', 'BF16', [4]]]],
  [
    'gpt-neox-v5',
    [
      ['gpt_neox.layers.0.attention.bias', 'U8', [1, 1, 16, 16]],
      ['gpt_neox.layers.1.attention.masked_bias', 'F32', []],
      ['gpt_neox.layers.1.attention.rotary_emb.inv_freq', 'F16', [2]],
    ],
  ],
  ['phi', [['model.layers.1.self_attn.rotary_emb.inv_freq', 'BF16', [2]]]],
  ['gpt-neo', [['transformer.h.0.attn.attention.bias', 'U8', [1, 1, 11, 11]]]],
];

const ids = new Tensor(Int32Array.of(3, 1, 4, 1, 5, 9), [1, 6]);

for (const [fixture, extras] of cases) {
  test(`${fixture}: buffers in ${[...new Set(extras.map((e) => e[1]))].join('/')} are skipped by name`, async () => {
    const reference = (await loadModel(join(FIXTURES, fixture))).model.forward(ids).logits!.f32;
    await withTempDir(async (dir) => {
      await withExtras(fixture, extras, dir);
      const { model } = await loadModel(dir);
      for (const [name] of extras) assert.ok(model.nonWeightTensors.test(name), name);
      assert.deepEqual(model.forward(ids).logits!.f32, reference);
    });
  });
}

test('a tensor that is neither a weight nor a known buffer is an error naming it', async () => {
  await withTempDir(async (dir) => {
    await withExtras('phi', [['model.layers.0.self_attn.mystery', 'F32', [3]]], dir);
    await assert.rejects(
      loadModel(dir),
      (e: Error) =>
        e instanceof CheckpointError &&
        /unexpected tensors: model.layers.0.self_attn.mystery/.test(e.message),
    );
  });
  await withTempDir(async (dir) => {
    await withExtras('pythia', [['gpt_neox.layers.0.attention.mask_of_some_kind', 'BOOL', [4]]], dir);
    await assert.rejects(
      loadModel(dir),
      (e: Error) =>
        e instanceof CheckpointError && /mask_of_some_kind/.test(e.message) && /BOOL/.test(e.message),
    );
  });
});

test('the Pythia fixture carries exactly the buffers a Pythia checkpoint does, none of them loaded', async () => {
  const { model } = await loadModel(join(FIXTURES, 'pythia'));
  const header = await readFile(join(FIXTURES, 'pythia', 'model.safetensors'));
  const n = Number(header.readBigUInt64LE(0));
  const names = Object.keys(JSON.parse(header.subarray(8, 8 + n).toString('utf8'))).filter(
    (k) => k !== '__metadata__',
  );
  const skipped = names.filter((k) => model.nonWeightTensors.test(k)).sort();
  assert.deepEqual(skipped, [
    'gpt_neox.layers.0.attention.bias',
    'gpt_neox.layers.0.attention.masked_bias',
    'gpt_neox.layers.0.attention.rotary_emb.inv_freq',
    'gpt_neox.layers.1.attention.bias',
    'gpt_neox.layers.1.attention.masked_bias',
    'gpt_neox.layers.1.attention.rotary_emb.inv_freq',
  ]);
  assert.equal(names.length - skipped.length, model.namedParameters().length);
});
