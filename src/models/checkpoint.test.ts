/**
 * Model checkpoints on disk: saveModel → loadModel reproduces every weight and the logits bit for
 * bit (single file, sharded, and half-precision files whose values F16/BF16 holds exactly), and
 * every malformed folder is rejected with a CheckpointError (file-level problems) or a ConfigError
 * (config.json content) whose message names the file and, where there is one, the tensor or field.
 * The broken folders are built in temporary folders from the fixtures in test/fixtures/models/.
 * Tolerance: none — round trips are compared on float32 bit patterns.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CheckpointError, ConfigError, type LetheError } from '../errors.ts';
import { SafetensorsFile, type TensorLike, writeSafetensors } from '../io/safetensors.ts';
import { noGrad, Tensor } from '../tensor/index.ts';
import type { CausalLM } from './causal-lm.ts';
import { loadModel, saveModel } from './load.ts';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'models');
const fixture = (name: string) => join(FIXTURES, name);

/** Every fixture folder with the dtype its weights are stored in. */
const FOLDERS: [string, 'F32' | 'F16' | 'BF16'][] = [
  ['gpt2', 'F32'],
  ['gpt2-original', 'F32'],
  ['gpt2-f16', 'F16'],
  ['llama-gqa', 'F32'],
  ['llama-tied', 'F32'],
  ['qwen2', 'F32'],
  ['mistral', 'F32'],
  ['llama-bf16', 'BF16'],
  ['pythia', 'F32'],
  ['gpt-neox-v5', 'F32'],
  ['phi', 'F32'],
  ['gpt-neo', 'F32'],
];

const TORCH_NAMES = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lethe-models-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A temporary copy of a fixture folder (config.json and model.safetensors only). */
async function withFixtureCopy<T>(name: string, fn: (dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    for (const f of ['config.json', 'model.safetensors']) await cp(join(fixture(name), f), join(dir, f));
    return fn(dir);
  });
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function fixedIds(vocab: number): Tensor {
  const ids = new Int32Array(2 * 7);
  for (let i = 0; i < ids.length; i++) ids[i] = (i * 7 + 3) % vocab;
  return new Tensor(ids, [2, 7]);
}

/**
 * Same parameter names, shapes and float32 bit patterns; same config (but for the dtype fields,
 * which follow the weights written: `savedAs`); bit-identical logits.
 */
function assertSameModel(
  actual: CausalLM,
  expected: CausalLM,
  what: string,
  savedAs?: keyof typeof TORCH_NAMES,
): void {
  const a = actual.namedParameters();
  const e = expected.namedParameters();
  assert.deepEqual(
    a.map(([n]) => n),
    e.map(([n]) => n),
    `${what}: parameter names`,
  );
  for (let i = 0; i < e.length; i++) {
    const [name, p] = e[i];
    assert.deepEqual([...a[i][1].shape], [...p.shape], `${what}: ${name} shape`);
    assert.deepEqual(bits(a[i][1].f32), bits(p.f32), `${what}: ${name} bits`);
  }
  const expectedConfig: Record<string, unknown> = { ...expected.config };
  if (savedAs) {
    const keys = ['torch_dtype', 'dtype'].filter((k) => k in expectedConfig);
    for (const k of keys.length > 0 ? keys : ['torch_dtype']) expectedConfig[k] = TORCH_NAMES[savedAs];
  }
  assert.deepEqual(actual.config, expectedConfig, `${what}: config`);
  noGrad(() => {
    const ids = fixedIds(expected.vocabSize);
    const la = actual.forward(ids).logits!;
    const le = expected.forward(ids).logits!;
    assert.deepEqual(bits(la.f32), bits(le.f32), `${what}: logits bits`);
  });
}

/** Names and dtypes of the tensors stored in a safetensors file. */
async function storedTensors(path: string): Promise<Map<string, string>> {
  const file = await SafetensorsFile.open(path);
  try {
    return new Map(file.names().map((n) => [n, file.info(n).dtype]));
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// round trips

for (const [name, dtype] of FOLDERS) {
  test(`${name}: saveModel → loadModel is bit-exact (weights, config, logits)`, async () => {
    const { model: original } = await loadModel(fixture(name));
    await withTempDir(async (dir) => {
      await saveModel(dir, original);
      assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model.safetensors']);
      // Saved under the canonical HF names (the original-GPT-2 folder gains "transformer."), F32,
      // without buffers or a tied head.
      const stored = await storedTensors(join(dir, 'model.safetensors'));
      assert.deepEqual(
        [...stored.keys()].sort(),
        original
          .namedParameters()
          .map(([n]) => n)
          .sort(),
        `${name}: stored names`,
      );
      assert.deepEqual(new Set(stored.values()), new Set(['F32']), `${name}: stored dtype`);
      const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
      assert.equal(config.model_type, original.modelType);
      const { model: reloaded } = await loadModel(dir);
      assertSameModel(reloaded, original, `${name} round trip`, 'F32');
    });
    if (dtype !== 'F32') {
      // Values read from F16/BF16 are exactly representable there: saving in the same dtype loses nothing.
      await withTempDir(async (dir) => {
        await saveModel(dir, original, { dtype });
        const stored = await storedTensors(join(dir, 'model.safetensors'));
        assert.deepEqual(new Set(stored.values()), new Set([dtype]), `${name}: stored dtype`);
        assertSameModel((await loadModel(dir)).model, original, `${name} ${dtype} round trip`, dtype);
      });
    }
  });
}

test('gpt-neo: a file saved from GPTNeoModel (no "transformer." prefix) loads as the same model', async () => {
  const { model: original } = await loadModel(fixture('gpt-neo'));
  const file = await SafetensorsFile.open(join(fixture('gpt-neo'), 'model.safetensors'));
  const tensors = new Map<string, TensorLike>();
  try {
    for (const n of file.names()) {
      if (file.info(n).dtype !== 'BOOL') tensors.set(n.replace(/^transformer\./, ''), await file.read(n));
    }
  } finally {
    await file.close();
  }
  assert.ok(tensors.has('h.1.attn.attention.q_proj.weight') && tensors.has('wte.weight'));
  await withTempDir(async (dir) => {
    await cp(join(fixture('gpt-neo'), 'config.json'), join(dir, 'config.json'));
    await writeSafetensors(join(dir, 'model.safetensors'), tensors);
    assertSameModel((await loadModel(dir)).model, original, 'gpt-neo without prefix');
  });
});

for (const name of ['gpt2', 'llama-gqa', 'qwen2']) {
  test(`${name}: a sharded save (small maxShardBytes) loads back identically`, async () => {
    const { model: original } = await loadModel(fixture(name));
    await withTempDir(async (dir) => {
      await saveModel(dir, original, { maxShardBytes: 4096 });
      const files = (await readdir(dir)).sort();
      const shards = files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f));
      assert.ok(shards.length >= 3, `${name}: expected several shards, found ${files.join(', ')}`);
      assert.ok(files.includes('model.safetensors.index.json'), `${name}: index written`);
      assert.ok(!files.includes('model.safetensors'), `${name}: no single-file weights beside the shards`);
      assertSameModel((await loadModel(dir)).model, original, `${name} sharded round trip`, 'F32');
      // Saving again unsharded replaces the shards.
      await saveModel(dir, original);
      assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model.safetensors']);
      assertSameModel((await loadModel(dir)).model, original, `${name} re-saved unsharded`, 'F32');
    });
  });
}

// ---------------------------------------------------------------------------------------------
// malformed folders

/** loadModel(dir) rejects with `cls` and a message containing every string in `mentions`. */
async function assertLoadFails(
  dir: string,
  cls: typeof CheckpointError | typeof ConfigError,
  mentions: string[],
  what: string,
): Promise<void> {
  await assert.rejects(
    loadModel(dir),
    (err: Error) => {
      assert.ok(err instanceof cls, `${what}: expected a ${cls.name}, got ${err.name}: ${err.message}`);
      for (const m of mentions) {
        assert.ok(
          err.message.includes(m),
          `${what}: message should mention ${JSON.stringify(m)}:\n${err.message}`,
        );
      }
      return true;
    },
    `${what}: loadModel should fail`,
  );
}

/** Rewrite a folder's model.safetensors (as F32) from its tensors after `edit`. */
async function rewriteWeights(
  dir: string,
  edit: (tensors: Map<string, TensorLike>) => void,
): Promise<string> {
  const path = join(dir, 'model.safetensors');
  const file = await SafetensorsFile.open(path);
  const tensors = new Map<string, TensorLike>();
  try {
    for (const [n, t] of await file.readAll()) tensors.set(n, { data: t.data.slice(), shape: t.shape });
  } finally {
    await file.close();
  }
  edit(tensors);
  await writeSafetensors(path, tensors, { metadata: { format: 'pt' } });
  return path;
}

async function rewriteConfig(
  dir: string,
  edit: (config: Record<string, unknown>) => unknown,
): Promise<string> {
  const path = join(dir, 'config.json');
  const config = JSON.parse(await readFile(path, 'utf8'));
  await writeFile(path, JSON.stringify(edit(config) ?? config));
  return path;
}

/** The tensor whose data ends last in a safetensors file (the one a truncation cuts). */
async function lastTensor(path: string): Promise<string> {
  const file = await SafetensorsFile.open(path);
  try {
    const infos = file.names().map((n) => file.info(n));
    return infos.reduce((a, b) => (b.offset + b.byteLength > a.offset + a.byteLength ? b : a)).name;
  } finally {
    await file.close();
  }
}

test('a truncated model.safetensors names the file and the tensor it cuts', async () => {
  for (const name of ['llama-gqa', 'gpt2-f16']) {
    await withFixtureCopy(name, async (dir) => {
      const path = join(dir, 'model.safetensors');
      const cut = await lastTensor(path);
      const size = (await readFile(path)).byteLength;
      await truncate(path, size - 10);
      await assertLoadFails(dir, CheckpointError, [path, cut], `${name} cut by 10 bytes`);
      await truncate(path, 40); // inside the header
      await assertLoadFails(dir, CheckpointError, [path], `${name} cut inside the header`);
      await truncate(path, 5); // inside the length prefix
      await assertLoadFails(dir, CheckpointError, [path], `${name} cut inside the length prefix`);
      await truncate(path, 0);
      await assertLoadFails(dir, CheckpointError, [path], `${name} empty file`);
    });
  }
});

test('corrupted safetensors header bytes name the file', async () => {
  await withFixtureCopy('qwen2', async (dir) => {
    const path = join(dir, 'model.safetensors');
    const good = await readFile(path);
    const corrupt = async (patch: (b: Buffer) => void, what: string, mentions: string[] = []) => {
      const bytes = Buffer.from(good);
      patch(bytes);
      await writeFile(path, bytes);
      await assertLoadFails(dir, CheckpointError, [path, ...mentions], what);
    };
    await corrupt((b) => b.fill(0x23, 8, 20), 'ASCII garbage at the start of the JSON');
    await corrupt((b) => b.fill(0xff, 30, 34), 'invalid UTF-8 inside the JSON');
    await corrupt((b) => b.writeBigUInt64LE(1n << 40n, 0), 'absurd header length');
    await corrupt((b) => b.writeBigUInt64LE(b.readBigUInt64LE(0) + 64n, 0), 'header length past the JSON');
    // A shape edited in place to a larger one of the same text width: its data size no longer matches.
    const text = good.toString('latin1');
    const key = '"model.norm.weight":{"dtype":"F32","shape":[16]';
    const at = text.indexOf(key);
    assert.ok(at > 0, 'fixture header holds model.norm.weight as expected');
    await corrupt(
      (b) => b.write(key.replace('[16]', '[61]'), at, 'latin1'),
      'shape inconsistent with data_offsets',
      ['model.norm.weight'],
    );
  });
});

test('a tensor with the wrong shape names the file, the tensor and both shapes', async () => {
  await withFixtureCopy('llama-gqa', async (dir) => {
    const path = await rewriteWeights(dir, (t) => {
      const k = t.get('model.layers.1.self_attn.k_proj.weight')!; // (8, 16) stored as (16, 8)
      t.set('model.layers.1.self_attn.k_proj.weight', { data: k.data, shape: [16, 8] });
    });
    await assertLoadFails(
      dir,
      CheckpointError,
      [path, 'model.layers.1.self_attn.k_proj.weight', '[8, 16]', '[16, 8]'],
      'transposed k_proj',
    );
  });
  await withFixtureCopy('gpt2-original', async (dir) => {
    const path = await rewriteWeights(dir, (t) => {
      const w = t.get('h.0.attn.c_attn.weight')!; // Conv1D (16, 48): stored as Linear's (48, 16)
      t.set('h.0.attn.c_attn.weight', { data: w.data, shape: [48, 16] });
    });
    await assertLoadFails(
      dir,
      CheckpointError,
      [path, 'h.0.attn.c_attn.weight', '[48, 16]'],
      'c_attn as (out, in)',
    );
  });
});

test('a missing tensor names the file and the tensor', async () => {
  for (const [name, key] of [
    ['mistral', 'model.layers.1.mlp.down_proj.weight'],
    ['qwen2', 'model.layers.0.self_attn.v_proj.bias'],
    ['llama-gqa', 'lm_head.weight'], // untied: the head is required
    ['gpt2', 'transformer.wpe.weight'],
  ] as const) {
    await withFixtureCopy(name, async (dir) => {
      const path = await rewriteWeights(dir, (t) => {
        assert.ok(t.delete(key), `${name} stores ${key}`);
      });
      await assertLoadFails(dir, CheckpointError, [path, key], `${name} without ${key}`);
    });
  }
});

test('an unexpected extra tensor names the file and the tensor', async () => {
  for (const [name, key] of [
    ['llama-tied', 'model.layers.0.self_attn.extra_proj.weight'],
    ['qwen2', 'model.layers.0.self_attn.o_proj.bias'], // qwen2 has no o_proj bias
    ['mistral', 'model.layers.2.input_layernorm.weight'], // a third layer; config says 2
  ] as const) {
    await withFixtureCopy(name, async (dir) => {
      const path = await rewriteWeights(dir, (t) => {
        t.set(key, { data: new Float32Array(16), shape: [16] });
      });
      await assertLoadFails(dir, CheckpointError, [path, key], `${name} with ${key}`);
    });
  }
});

test('weights that do not fit config.json are reported as wrong shapes', async () => {
  await withFixtureCopy('llama-tied', async (dir) => {
    await rewriteConfig(dir, (c) => {
      c.vocab_size = 30;
    });
    await assertLoadFails(
      dir,
      CheckpointError,
      [join(dir, 'model.safetensors'), 'model.embed_tokens.weight', '[30, 16]', '[29, 16]'],
      'vocab_size 30 for a 29-token embedding',
    );
  });
});

test('config.json that is not JSON names the file', async () => {
  await withFixtureCopy('gpt2', async (dir) => {
    const path = join(dir, 'config.json');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length / 2));
    await assertLoadFails(dir, CheckpointError, [path], 'half a config.json');
    await writeFile(path, '["gpt2"]');
    await assertLoadFails(dir, CheckpointError, [path], 'config.json holding an array');
  });
});

test('config.json with an unsupported model_type names the file and lists the supported types', async () => {
  await withFixtureCopy('llama-gqa', async (dir) => {
    const path = await rewriteConfig(dir, (c) => {
      c.model_type = 'bert';
    });
    await assertLoadFails(
      dir,
      ConfigError,
      [path, 'model_type', 'bert', 'gpt2, gpt_neo, gpt_neox, llama, mistral, phi, qwen2'],
      'bert',
    );
    await rewriteConfig(dir, (c) => {
      delete c.model_type;
    });
    await assertLoadFails(
      dir,
      ConfigError,
      [path, 'model_type', 'gpt2, gpt_neo, gpt_neox, llama, mistral, phi, qwen2'],
      'no model_type',
    );
  });
});

test('config.json with a field of the wrong type names the file and the field', async () => {
  const cases: [string, string, unknown][] = [
    ['llama-gqa', 'hidden_size', '16'],
    ['qwen2', 'tie_word_embeddings', 'yes'],
    ['mistral', 'rope_theta', null],
    ['gpt2', 'n_layer', 2.5],
    ['gpt2', 'layer_norm_epsilon', '1e-5'],
  ];
  for (const [name, field, value] of cases) {
    await withFixtureCopy(name, async (dir) => {
      const path = await rewriteConfig(dir, (c) => {
        c[field] = value;
      });
      await assertLoadFails(dir, ConfigError, [path, field], `${name} ${field} = ${JSON.stringify(value)}`);
    });
  }
});

test('errors carry structured details as well as the message', async () => {
  await withFixtureCopy('llama-gqa', async (dir) => {
    await rewriteWeights(dir, (t) => {
      t.delete('model.norm.weight');
    });
    await assert.rejects(loadModel(dir), (err: LetheError) => {
      assert.ok(err instanceof CheckpointError);
      assert.equal(err.details.where, join(dir, 'model.safetensors'));
      assert.match(err.details.found ?? '', /missing tensors: model\.norm\.weight/);
      return true;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Loader strictness: mixed naming schemes, integer weights, unimplemented GPT-2 attention options.

test('a checkpoint naming one parameter twice (old and new GPT-2 names) is rejected', async () => {
  await withFixtureCopy('gpt2-original', async (dir) => {
    const path = await rewriteWeights(dir, (t) => {
      const w = t.get('wte.weight')!;
      t.set('transformer.wte.weight', { data: new Float32Array(w.data.length).fill(7), shape: w.shape });
    });
    await assertLoadFails(dir, CheckpointError, [path, 'wte.weight'], 'wte.weight twice');
  });
});

test('integer tensors are not accepted as float weights', async () => {
  await withFixtureCopy('llama-gqa', async (dir) => {
    const path = await rewriteWeights(dir, (t) => {
      const w = t.get('model.norm.weight')!;
      t.set('model.norm.weight', { data: Int32Array.from(w.data, (x) => Math.round(x)), shape: w.shape });
    });
    await assertLoadFails(dir, CheckpointError, [path, 'model.norm.weight'], 'I32 norm weight');
  });
});

test('GPT-2 attention options lethe does not implement are rejected, not ignored', async () => {
  for (const [field, value] of [
    ['scale_attn_weights', false],
    ['scale_attn_by_inverse_layer_idx', true],
  ] as const) {
    await withFixtureCopy('gpt2', async (dir) => {
      const path = await rewriteConfig(dir, (c) => {
        c[field] = value;
      });
      await assertLoadFails(dir, ConfigError, [path, field], `${field}: ${value}`);
    });
  }
});
