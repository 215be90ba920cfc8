/**
 * float16 / bfloat16 conversions against hand-computed bit patterns. Exact: tolerance 0 bits.
 * (safetensors-torch.test.ts checks the same functions against PyTorch as an independent oracle.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bf16BitsToF32Bits,
  bfloat16ToFloat,
  decodeF16,
  encodeBf16,
  encodeF16,
  f16BitsToF32Bits,
  f32BitsToBf16Bits,
  f32BitsToF16Bits,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
} from './half.ts';

const hex = (n: number) => `0x${n.toString(16)}`;

test('float32 -> float16 rounds to nearest even, with subnormals, overflow and specials', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff], // largest finite
    [65519, 0x7bff], // below the halfway point to 65536
    [65520, 0x7c00], // tie with an odd mantissa rounds up into infinity
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [1 + 2 ** -11, 0x3c00], // tie -> even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // tie -> even (up)
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24 -> even (0)
    [2 ** -25 + 2 ** -40, 0x0001], // just above the tie
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 ulps -> even (2)
    [2 ** -15 + 2 ** -25, 0x0200], // subnormal tie -> even
    [2 ** -26, 0x0000],
    [1e-40, 0x0000], // float32 subnormal
    [-1e-40, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
  ];
  for (const [v, bits] of cases) assert.equal(hex(floatToHalf(v)), hex(bits), `floatToHalf(${v})`);
});

test('float32 NaN payloads stay NaN in float16 and bfloat16 (never infinity)', () => {
  assert.equal(hex(f32BitsToF16Bits(0x7f800001)), '0x7e00'); // payload only in dropped bits
  assert.equal(hex(f32BitsToF16Bits(0xffc02000)), '0xfe01'); // sign and top payload kept
  assert.equal(hex(f32BitsToBf16Bits(0x7f800001)), '0x7fc0');
  assert.equal(hex(f32BitsToBf16Bits(0xff812345)), '0xffc1');
});

test('float16 -> float32 is exact for normals, subnormals and specials', () => {
  const cases: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0400, 2 ** -14],
    [0x03ff, 2 ** -14 - 2 ** -24],
    [0x0001, 2 ** -24],
    [0x8001, -(2 ** -24)],
    [0x0200, 2 ** -15],
    [0x3555, 0.333251953125],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, v] of cases) assert.equal(halfToFloat(bits), v, `halfToFloat(${hex(bits)})`);
  assert.ok(Object.is(halfToFloat(0x8000), -0));
  assert.equal(hex(f16BitsToF32Bits(0x7e00)), '0x7fc00000');
  assert.equal(hex(f16BitsToF32Bits(0xfd01)), '0xffa02000'); // signalling NaN payload kept
});

test('every float16 value survives float16 -> float32 -> float16', () => {
  for (let h = 0; h < 65536; h++) {
    const back = f32BitsToF16Bits(f16BitsToF32Bits(h));
    const nan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    // NaNs come back quiet (bit 9 set), the rest bit-exact.
    assert.equal(back, nan ? h | 0x200 : h, `pattern ${hex(h)}`);
  }
});

test('float32 -> bfloat16 rounds to nearest even; bfloat16 -> float32 is exact', () => {
  const cases: [number, number][] = [
    [0x3f800000, 0x3f80], // 1
    [0x3f808000, 0x3f80], // tie -> even (down)
    [0x3f818000, 0x3f82], // tie -> even (up)
    [0x3f808001, 0x3f81], // above the tie
    [0x3dcccccd, 0x3dcd], // 0.1
    [0xc0000000, 0xc000], // -2
    [0x7f7fffff, 0x7f80], // float32 max rounds up to infinity
    [0x7f7f8000, 0x7f80], // tie with odd mantissa into infinity
    [0x7f800000, 0x7f80],
    [0xff800000, 0xff80],
    [0x7fc00000, 0x7fc0],
    [0x000116c2, 0x0001], // float32 subnormal (1e-40)
    [0x00800000, 0x0080], // 2^-126
    [0x80000000, 0x8000],
  ];
  for (const [f, b] of cases) assert.equal(hex(f32BitsToBf16Bits(f)), hex(b), `bf16(${hex(f)})`);
  assert.equal(hex(bf16BitsToF32Bits(0xc000)), '0xc0000000');
  assert.equal(bfloat16ToFloat(0x3f80), 1);
  assert.equal(floatToBfloat16(-2), 0xc000);
  assert.equal(bfloat16ToFloat(0x0001), 2 ** -133);
});

test('bulk encode/decode match the scalar functions', () => {
  const src = new Float32Array([0, -0, 1, 65520, 2 ** -25, 3 * 2 ** -25, 1e-40, Infinity, NaN, 0.1]);
  const f16 = new Uint16Array(src.length);
  const bf16 = new Uint16Array(src.length);
  encodeF16(src, f16);
  encodeBf16(src, bf16);
  const u32 = new Uint32Array(src.buffer);
  for (let i = 0; i < src.length; i++) {
    assert.equal(f16[i], f32BitsToF16Bits(u32[i]));
    assert.equal(bf16[i], f32BitsToBf16Bits(u32[i]));
  }
  const back = new Float32Array(src.length);
  decodeF16(f16, back);
  const backBits = new Uint32Array(back.buffer);
  for (let i = 0; i < src.length; i++) assert.equal(backBits[i], f16BitsToF32Bits(f16[i]));
});
