/**
 * Saved folders are complete HF folders: tokenizer_config.json, special_tokens_map.json and
 * generation_config.json are written for models made here (from the tokenizer's special tokens)
 * and copied through byte for byte (with chat_template.jinja) when the tokenizer was loaded from
 * a folder that had them; the config's dtype field tells the truth about the written weights.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { CheckpointError } from '../errors.ts';
import { buildModel, cloneModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import { loadPretrained, savePretrained } from './pretrained.ts';
import { trainByteLevelBpe } from './tokenizer/train-bpe.ts';

const COMPANIONS = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

function madeHere() {
  const corpus = Array.from({ length: 40 }, (_, i) => `the cat ${i} sat on the mat<|endoftext|>`);
  const tokenizer = trainByteLevelBpe(corpus, { vocabSize: 280, specialTokens: ['<|endoftext|>'] });
  const model = buildModel(
    {
      model_type: 'gpt_neox',
      vocab_size: 280,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 16,
      max_position_embeddings: 32,
      dtype: 'bfloat16',
    },
    new Rng(1),
  );
  return { model, tokenizer };
}

const read = (dir: string, name: string) => readFile(join(dir, name), 'utf8');

test('a model made here is saved with tokenizer_config, special_tokens_map and generation_config', async () => {
  const { model, tokenizer } = madeHere();
  await withTempDir(async (root) => {
    const dir = join(root, 'made');
    await savePretrained(dir, model, tokenizer);
    const files = await readdir(dir);
    for (const f of [...COMPANIONS, 'config.json', 'model.safetensors', 'tokenizer.json']) {
      assert.ok(files.includes(f), `${f} written`);
    }
    const tc = JSON.parse(await read(dir, 'tokenizer_config.json'));
    assert.equal(tc.eos_token, '<|endoftext|>');
    assert.equal(tc.model_max_length, 32);
    assert.equal(tc.pad_token, null, 'no pad token: written as "none", not left to inference');
    assert.deepEqual(JSON.parse(await read(dir, 'special_tokens_map.json')), {
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
    });
    const gen = JSON.parse(await read(dir, 'generation_config.json'));
    assert.equal(gen.eos_token_id, tokenizer.eosId);
    assert.equal(
      JSON.parse(await read(dir, 'config.json')).dtype,
      'float32',
      'dtype names the F32 weights written',
    );

    // Loading and saving again reproduces every companion file exactly, and the special tokens.
    const loaded = await loadPretrained(dir);
    assert.equal(loaded.tokenizer.eosId, tokenizer.eosId);
    assert.equal(loaded.tokenizer.padId, tokenizer.padId);
    const again = join(root, 'again');
    await savePretrained(again, cloneModel(loaded.model), loaded.tokenizer);
    for (const f of COMPANIONS) assert.equal(await read(again, f), await read(dir, f), f);
  });
});

test('load → save copies the source folder’s companion files through byte for byte', async () => {
  const { model, tokenizer } = madeHere();
  await withTempDir(async (root) => {
    const src = join(root, 'src');
    await savePretrained(src, model, tokenizer);
    // Files as another tool writes them: extra keys, a chat template, other formatting.
    const own: Record<string, string> = {
      'tokenizer_config.json': `{"add_bos_token": false, "eos_token": "<|endoftext|>", "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}", "model_max_length": 2048}`,
      'special_tokens_map.json': `{\n    "eos_token": {"content": "<|endoftext|>", "lstrip": false},\n    "additional_special_tokens": []\n}\n`,
      'generation_config.json': `{"do_sample": true, "temperature": 0.7, "eos_token_id": 0, "transformers_version": "4.44.2"}`,
      'chat_template.jinja': '{{ messages[0].content }}\n',
    };
    for (const [f, text] of Object.entries(own)) await writeFile(join(src, f), text);
    const loaded = await loadPretrained(src);
    assert.equal(loaded.companions['chat_template.jinja'], own['chat_template.jinja']);
    // A changed model (fine-tuned, unlearned) saved with the loaded tokenizer keeps the files.
    const out = join(root, 'out');
    await savePretrained(out, cloneModel(loaded.model), loaded.tokenizer);
    for (const [f, text] of Object.entries(own)) assert.equal(await read(out, f), text, f);
  });
});

test('a malformed companion file is an error naming it', async () => {
  const { model, tokenizer } = madeHere();
  await withTempDir(async (dir) => {
    await savePretrained(dir, model, tokenizer);
    await writeFile(join(dir, 'special_tokens_map.json'), '{"eos_token": ');
    await assert.rejects(
      loadPretrained(dir),
      (e: Error) => e instanceof CheckpointError && /special_tokens_map\.json/.test(e.message),
    );
  });
});
