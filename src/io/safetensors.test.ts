/**
 * safetensors reader and writer: bit-exact round trips (tolerance 0 bits for F32; F16/BF16 equal
 * the scalar conversions exactly), zero-copy views, the forced ranged-read path, and every
 * malformed-file case raising a CheckpointError that names the file (and the tensor).
 */
import assert from 'node:assert/strict';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  assertNoTempFiles,
  bitsOf,
  fromBits,
  writeRawSafetensors,
} from '../../test/helpers/safetensors-files.ts';
import { withTempDir } from '../../test/helpers/temp-dir.ts';
import { CheckpointError, ShapeError } from '../errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { bf16BitsToF32Bits, f16BitsToF32Bits, f32BitsToBf16Bits, f32BitsToF16Bits } from './half.ts';
import { readSafetensors, SafetensorsFile, type TensorLike, writeSafetensors } from './safetensors.ts';

const specialBits = [
  0x00000000, 0x80000000, 0x3f800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fc00001, 0xffffffff, 0x7f800001,
  0x00000001, 0x007fffff, 0x7f7fffff, 0x3dcccccd,
];

function sample(): Map<string, TensorLike> {
  const ramp = new Float32Array(24).map((_, i) => (i - 11.5) / 7);
  return new Map<string, TensorLike>([
    ['special', { data: fromBits(specialBits), shape: [specialBits.length] }],
    ['model.layers.0.weight', { data: ramp, shape: [2, 3, 4] }],
    ['scalar', { data: new Float32Array([42.5]), shape: [] }],
    ['empty', { data: new Float32Array(0), shape: [0, 3] }],
    ['ids', { data: new Int32Array([-2147483648, -1, 0, 7, 2147483647]), shape: [5] }],
    ['0', { data: new Float32Array([1, 2]), shape: [2] }], // integer-like name: key order must hold
  ]);
}

async function expectCheckpointError(
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<CheckpointError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${err}`);
    for (const p of parts) assert.ok(err.message.includes(p), `message lacks "${p}":\n${err.message}`);
    return err;
  }
  assert.fail('expected a CheckpointError');
}

test('F32/I32 write -> read round trip is bit-exact (NaN payloads, -0, inf, subnormals)', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'a.safetensors');
    const input = sample();
    await writeSafetensors(path, input, { metadata: { format: 'pt', note: 'x' } });
    await assertNoTempFiles(dir);
    const file = await SafetensorsFile.open(path);
    assert.deepEqual({ ...file.metadata }, { format: 'pt', note: 'x' });
    assert.deepEqual(file.names(), [...input.keys()].sort());
    for (const [name, t] of input) {
      const got = await file.read(name);
      assert.deepEqual(got.shape, t.shape, name);
      if (t.data instanceof Float32Array) {
        assert.equal(got.dtype, 'F32');
        assert.ok(got.data instanceof Float32Array);
        assert.deepEqual(bitsOf(got.data as Float32Array), bitsOf(t.data), name);
      } else {
        assert.equal(got.dtype, 'I32');
        assert.deepEqual(got.data, t.data);
      }
    }
    await file.close();
  });
});

test('writer: sorted keys, 8-byte aligned space padding, aligned F32 data', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'b.safetensors');
    await writeSafetensors(
      path,
      {
        z: { data: new Float32Array([1]), shape: [1] },
        a: { data: new Float32Array([1, 2, 3]), shape: [3] },
      },
      { dtype: (name) => (name === 'a' ? 'F16' : 'F32'), metadata: { format: 'pt' } },
    );
    const bytes = await readFile(path);
    const n = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + n) % 8, 0);
    const text = bytes.subarray(8, 8 + n).toString('utf8');
    assert.match(text, /^\{"__metadata__":\{"format":"pt"\},"a":.*,"z":.*\} *$/);
    const header = JSON.parse(text);
    // F32 is laid out before the 2-byte F16 tensor, so it starts 4-byte aligned.
    assert.deepEqual(header.z.data_offsets, [0, 4]);
    assert.deepEqual(header.a, { dtype: 'F16', shape: [3], data_offsets: [4, 10] });
  });
});

test('F16 and BF16 writes round to nearest even and read back as float32', async () => {
  await withTempDir(async (dir) => {
    const values = fromBits([0x3f808000, 0x3f818000, 0x477fe000, 0x7f800001, 0x33000000, 0x80000000]);
    for (const dtype of ['F16', 'BF16'] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      await writeSafetensors(path, { x: { data: values, shape: [2, 3] } }, { dtype });
      const got = (await readSafetensors(path)).get('x')!;
      assert.equal(got.dtype, dtype);
      assert.deepEqual(got.shape, [2, 3]);
      const bits = bitsOf(got.data as Float32Array);
      for (let i = 0; i < values.length; i++) {
        const u = bitsOf(values)[i];
        const want =
          dtype === 'F16' ? f16BitsToF32Bits(f32BitsToF16Bits(u)) : bf16BitsToF32Bits(f32BitsToBf16Bits(u));
        assert.equal(bits[i], want, `${dtype} element ${i}`);
      }
    }
  });
});

test('whole-file reads are zero-copy views for aligned F32; unaligned F32 is copied', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'c.safetensors');
    await writeSafetensors(path, sample());
    const file = await SafetensorsFile.open(path);
    assert.equal(file.ranged, false);
    const a = await file.read('model.layers.0.weight');
    const b = await file.read('special');
    assert.equal(a.data.buffer, b.data.buffer, 'both views share the file buffer');
    assert.equal(a.data.buffer.byteLength, (await stat(path)).size);
    await file.close();

    // A 1-element F16 tensor first pushes the F32 tensor to offset 2 (mod 4): must copy, same values.
    const f16one = Buffer.from(new Uint16Array([0x3c00]).buffer);
    const f32 = Buffer.from(new Float32Array([1.5, -2.25]).buffer);
    const raw = await writeRawSafetensors(
      dir,
      'unaligned.safetensors',
      {
        h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        f: { dtype: 'F32', shape: [2], data_offsets: [2, 10] },
      },
      Buffer.concat([f16one, f32]),
    );
    const map = await readSafetensors(raw);
    assert.deepEqual([...map.get('f')!.data], [1.5, -2.25]);
    assert.equal(map.get('f')!.data.byteOffset % 4, 0);
    assert.deepEqual([...map.get('h')!.data], [1]);
  });
});

test('forced ranged reads (threshold 0) give the same bits, one buffer per tensor', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'r.safetensors');
    const input = sample();
    await writeSafetensors(path, input);
    await writeSafetensors(join(dir, 'r16.safetensors'), input, { dtype: 'BF16' });
    const whole = await readSafetensors(join(dir, 'r16.safetensors'));
    const file = await SafetensorsFile.open(path, { rangedThreshold: 0 });
    assert.equal(file.ranged, true);
    for (const [name, t] of input) {
      const got = await file.read(name);
      assert.equal(got.data.buffer.byteLength, t.data.byteLength, `${name} has its own buffer`);
      if (t.data instanceof Float32Array) assert.deepEqual(bitsOf(got.data as Float32Array), bitsOf(t.data));
      else assert.deepEqual(got.data, t.data);
    }
    await file.close();
    const ranged16 = await readSafetensors(join(dir, 'r16.safetensors'), { rangedThreshold: 0 });
    for (const [name, t] of whole) assert.deepEqual(ranged16.get(name)!.data, t.data);
    await assertNoTempFiles(dir);
  });
});

test('a file truncated after open fails the ranged read with a CheckpointError', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'shrink.safetensors');
    await writeSafetensors(path, sample());
    const file = await SafetensorsFile.open(path, { rangedThreshold: 0 });
    await truncate(path, (await stat(path)).size - 8);
    const last = file.names().sort((x, y) => file.info(y).offset - file.info(x).offset)[0];
    await expectCheckpointError(file.read(last), 'truncated', path, `"${last}"`);
    await file.close();
  });
});

test('unknown tensor name and reads after close are CheckpointErrors', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'n.safetensors');
    await writeSafetensors(path, sample());
    const file = await SafetensorsFile.open(path);
    await expectCheckpointError(file.read('nope'), 'nope', path, 'scalar');
    await file.close();
    await expectCheckpointError(file.read('scalar'), 'closed', path);
    await expectCheckpointError(
      SafetensorsFile.open(join(dir, 'missing.safetensors')),
      'missing.safetensors',
    );
  });
});

test('writer rejects data that does not fill its shape, and bad names', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'bad.safetensors');
    await assert.rejects(
      writeSafetensors(path, { x: { data: new Float32Array(5), shape: [2, 3] } }),
      ShapeError,
    );
    await assert.rejects(
      writeSafetensors(path, { __metadata__: { data: new Float32Array(1), shape: [1] } }),
      ShapeError,
    );
    await assertNoTempFiles(dir);
  });
});

// ---- malformed files: each must be a CheckpointError naming the file (and tensor, if any) ----

const f32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
const eight = new Uint8Array(8);

const malformed: { name: string; header: unknown; data?: Uint8Array; length?: bigint; parts: string[] }[] = [
  { name: 'absurd header length', header: { x: f32x2 }, data: eight, length: 2n ** 40n, parts: ['absurd'] },
  { name: 'header length beyond file', header: { x: f32x2 }, data: eight, length: 4096n, parts: ['beyond'] },
  { name: 'header not JSON', header: '{"x": {"dtype": "F32",', parts: ['not valid JSON'] },
  { name: 'header not an object', header: '[1, 2, 3]', parts: ['not a JSON object'] },
  { name: 'header invalid UTF-8', header: '{"x": 1}', parts: ['UTF-8'] },
  {
    name: 'unknown dtype',
    header: { x: { dtype: 'F31', shape: [2], data_offsets: [0, 8] } },
    data: eight,
    parts: ['unknown dtype', '"x"', 'F31'],
  },
  {
    name: 'shape/offset mismatch',
    header: { x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 8] } },
    data: eight,
    parts: ['does not match shape', '"x"', '16 bytes'],
  },
  {
    name: 'offsets out of range',
    header: { x: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } },
    data: eight,
    parts: ['out of range', '"x"'],
  },
  {
    name: 'overlapping offsets',
    header: { a: f32x2, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
    data: new Uint8Array(12),
    parts: ['overlapping', '"a"', '"b"'],
  },
  {
    name: 'negative dim',
    header: { x: { dtype: 'F32', shape: [-1, 2], data_offsets: [0, 8] } },
    data: eight,
    parts: ['bad shape', '"x"'],
  },
  {
    name: 'non-integer dim',
    header: { x: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } },
    data: eight,
    parts: ['bad shape', '"x"'],
  },
  {
    name: 'huge shape',
    header: { x: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 8] } },
    data: eight,
    parts: ['shape too large', '"x"'],
  },
  {
    name: 'begin after end',
    header: { x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } },
    data: eight,
    parts: ['data_offsets', '"x"'],
  },
  {
    name: 'non-string metadata',
    header: { __metadata__: { step: 3 }, x: f32x2 },
    data: eight,
    parts: ['__metadata__', 'step'],
  },
  {
    name: 'entry not an object',
    header: { x: [1, 2] },
    parts: ['bad tensor entry', '"x"'],
  },
];

for (const c of malformed) {
  test(`malformed safetensors: ${c.name}`, async () => {
    await withTempDir(async (dir) => {
      const file = `${c.name.replaceAll(/[^a-z]+/g, '-')}.safetensors`;
      let path: string;
      if (c.name === 'header invalid UTF-8') {
        // A lone 0xff byte inside a JSON string: invalid UTF-8 that JSON.parse alone would accept.
        path = await writeRawSafetensors(dir, file, c.header, new Uint8Array(0));
        const bytes = await readFile(path);
        bytes[10] = 0xff;
        await writeFile(path, bytes);
      } else {
        path = await writeRawSafetensors(dir, file, c.header, c.data ?? new Uint8Array(0), c.length);
      }
      await expectCheckpointError(SafetensorsFile.open(path), file, ...c.parts);
    });
  });
}

test('malformed safetensors: file shorter than 8 bytes', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'tiny.safetensors');
    await writeFile(path, new Uint8Array([1, 2, 3]));
    await expectCheckpointError(SafetensorsFile.open(path), 'tiny.safetensors', 'too short');
  });
});

test('malformed safetensors: truncated file (data cut short) names the tensor', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'cut.safetensors');
    await writeSafetensors(path, { a: { data: new Float32Array(8), shape: [8] } });
    await truncate(path, (await stat(path)).size - 4);
    const err = await expectCheckpointError(SafetensorsFile.open(path), 'cut.safetensors', '"a"');
    assert.match(err.message, /truncated/);
  });
});

test('unsupported dtype fails on read, naming file and tensor; the rest still reads', async () => {
  await withTempDir(async (dir) => {
    const path = await writeRawSafetensors(
      dir,
      'u8.safetensors',
      { b: { dtype: 'U8', shape: [4], data_offsets: [8, 12] }, f: f32x2 },
      new Uint8Array(12),
    );
    const file = await SafetensorsFile.open(path);
    assert.deepEqual([...(await file.read('f')).data], [0, 0]);
    await expectCheckpointError(file.read('b'), 'u8.safetensors', '"b"', 'unsupported dtype U8');
    await file.close();
  });
});

test("lethe's Tensor is accepted by the writer as it is", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 't.safetensors');
    const w = new Tensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const ids = new Tensor(new Int32Array([3, 1]), [2]);
    await writeSafetensors(
      path,
      new Map([
        ['w', w],
        ['ids', ids],
      ]),
    );
    const back = await readSafetensors(path);
    const t = new Tensor(back.get('w')!.data, back.get('w')!.shape);
    assert.deepEqual(t.toArray(), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual([...back.get('ids')!.data], [3, 1]);
  });
});
