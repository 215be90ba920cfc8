/**
 * PyTorch as an independent oracle (fixture written by src/io/make-safetensors-fixture.py with
 * torch 1.13, no safetensors package): reading F16/BF16 must give torch's float32 values, and
 * lethe's float32 -> F16/BF16 writer must give torch's bits. Tolerance: 0 bits, except that NaN
 * payloads are compared as NaN-ness only (torch canonicalises NaN; lethe keeps payload bits).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bitsOf } from '../../test/helpers/safetensors-files.ts';
import { CheckpointError } from '../errors.ts';
import { f32BitsToBf16Bits, f32BitsToF16Bits } from './half.ts';
import { SafetensorsFile } from './safetensors.ts';

const FIXTURE = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures', 'torch-half.safetensors');

const isNaN32 = (b: number) => (b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0;

test('torch fixture: header, metadata and dtypes', async () => {
  const file = await SafetensorsFile.open(FIXTURE);
  assert.equal(file.metadata.format, 'pt');
  assert.equal(file.info('f16_bits_as_f16').dtype, 'F16');
  assert.equal(file.info('bf16_bits_as_bf16').dtype, 'BF16');
  assert.equal(file.info('ints_i64').dtype, 'I64');
  // The F32 tensor after 1255 F16 values sits at a 2 (mod 4) offset: the copy path.
  assert.equal(file.info('f16_bits_as_f32').offset % 4, 2);
  await file.close();
});

for (const ranged of [false, true]) {
  const mode = ranged ? 'ranged' : 'whole-file';
  test(`torch fixture (${mode}): F16/BF16 decode equals torch .float() bit for bit`, async () => {
    const file = await SafetensorsFile.open(FIXTURE, { rangedThreshold: ranged ? 0 : undefined });
    for (const [half, ref] of [
      ['f16_bits_as_f16', 'f16_bits_as_f32'],
      ['bf16_bits_as_bf16', 'bf16_bits_as_f32'],
    ]) {
      const got = bitsOf((await file.read(half)).data as Float32Array);
      const want = bitsOf((await file.read(ref)).data as Float32Array);
      assert.equal(got.length, want.length);
      for (let i = 0; i < got.length; i++) {
        if (isNaN32(want[i])) assert.ok(isNaN32(got[i]), `${half}[${i}] should be NaN`);
        else assert.equal(got[i], want[i], `${half}[${i}]`);
      }
    }
    await file.close();
  });
}

test('torch fixture: lethe float32 -> F16/BF16 rounding equals torch .half()/.bfloat16()', async () => {
  const file = await SafetensorsFile.open(FIXTURE);
  const src = bitsOf((await file.read('source_f32')).data as Float32Array);
  // Decoded halves are exact, so re-encoding recovers torch's stored bits.
  const torchF16 = bitsOf((await file.read('source_as_f16')).data as Float32Array);
  const torchBf16 = bitsOf((await file.read('source_as_bf16')).data as Float32Array);
  let nans = 0;
  for (let i = 0; i < src.length; i++) {
    const f16 = f32BitsToF16Bits(src[i]);
    const bf16 = f32BitsToBf16Bits(src[i]);
    if (isNaN32(src[i])) {
      nans++;
      assert.ok((f16 & 0x7c00) === 0x7c00 && (f16 & 0x3ff) !== 0, `f16 of NaN [${i}]`);
      assert.ok(isNaN32(torchF16[i]) && isNaN32(bf16 << 16), `bf16 of NaN [${i}]`);
      continue;
    }
    assert.equal(f16, f32BitsToF16Bits(torchF16[i]), `F16 of 0x${src[i].toString(16)} [${i}]`);
    assert.equal(bf16, f32BitsToBf16Bits(torchBf16[i]), `BF16 of 0x${src[i].toString(16)} [${i}]`);
  }
  assert.ok(src.length > 250 && nans > 0, 'fixture covers many values including NaNs');
  await file.close();
});

test('torch fixture: I32 and in-range I64 read as Int32Array; out-of-range I64 is rejected', async () => {
  const file = await SafetensorsFile.open(FIXTURE);
  const want = [0, -1, 2147483647, -2147483648, 7, 42];
  for (const name of ['ints_i32', 'ints_i64']) {
    const t = await file.read(name);
    assert.ok(t.data instanceof Int32Array);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual([...t.data], want);
  }
  await assert.rejects(file.read('i64_out_of_range'), (err: unknown) => {
    assert.ok(err instanceof CheckpointError);
    assert.match(err.message, /torch-half\.safetensors, tensor "i64_out_of_range", element 1/);
    assert.match(err.message, /1099511627776/);
    return true;
  });
  await file.close();
});
