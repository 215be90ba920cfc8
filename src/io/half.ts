/**
 * IEEE binary16 (float16) and bfloat16 <-> float32 conversions, done on bit patterns so that
 * every case is exact and explicit: zeros keep their sign, subnormals are decoded exactly and
 * produced by correct rounding, overflow goes to infinity, NaN stays NaN (payload bits are kept
 * as far as the narrower format holds them, and the quiet bit is set so a NaN never collapses to
 * infinity). Float32 -> narrow rounds to nearest, ties to even, like PyTorch and NumPy.
 * The bulk functions work on Uint32Array views of float32 data so NaN payloads survive (writing a
 * NaN through a JS number may canonicalise it).
 */

/** float16 bits -> float32 bits (exact; every float16 value is a float32 value). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal: value = mant * 2^-24. Shift the leading 1 up to the implicit-bit position, which
  // moves the float32 exponent down one step per shift from that of 2^-14.
  let e = 113; // float32 biased exponent of 2^-14
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** float32 bits -> float16 bits, rounding to nearest even. */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // Keep the top payload bits and force the quiet bit so NaN cannot turn into infinity.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7c00 | 0x200 | (mant >>> 13);
  }
  const e = exp - 112; // float16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Result is subnormal (or zero): drop 13 bits for the mantissa width plus (1 - e) more for
    // the exponent shortfall. Below half the smallest subnormal (2^-25) everything rounds to 0.
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    // A carry out of the subnormal range lands on the smallest normal, which is correct.
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  // A carry out of the mantissa bumps the exponent; out of the largest exponent gives 0x7c00 (inf).
  return sign | half;
}

/** bfloat16 bits -> float32 bits (exact: bfloat16 is the top half of a float32). */
export function bf16BitsToF32Bits(b: number): number {
  return (b << 16) >>> 0;
}

/** float32 bits -> bfloat16 bits, rounding to nearest even. */
export function f32BitsToBf16Bits(x: number): number {
  x >>>= 0;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40;
  // Adding 0x7fff plus the lowest kept bit rounds half to even; overflow carries into the
  // exponent and reaches infinity exactly when it should.
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** A float16 bit pattern as a number. */
export function halfToFloat(h: number): number {
  scratchU32[0] = f16BitsToF32Bits(h);
  return scratchF32[0];
}

/** The float16 bit pattern nearest to `v` (after rounding `v` to float32). */
export function floatToHalf(v: number): number {
  scratchF32[0] = v;
  return f32BitsToF16Bits(scratchU32[0]);
}

/** A bfloat16 bit pattern as a number. */
export function bfloat16ToFloat(b: number): number {
  scratchU32[0] = bf16BitsToF32Bits(b);
  return scratchF32[0];
}

/** The bfloat16 bit pattern nearest to `v` (after rounding `v` to float32). */
export function floatToBfloat16(v: number): number {
  scratchF32[0] = v;
  return f32BitsToBf16Bits(scratchU32[0]);
}

// 65,536 entries (256 KiB), built on first use: decoding by table lookup is several times faster
// than branching per element, which matters for multi-GiB float16 checkpoints.
let f16Table: Uint32Array | null = null;
function f16ToF32Table(): Uint32Array {
  if (f16Table === null) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

/** Decode float16 values into float32 storage (`dst.length` must equal `src.length`). */
export function decodeF16(src: Uint16Array, dst: Float32Array): void {
  const table = f16ToF32Table();
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
}

/** Decode bfloat16 values into float32 storage (`dst.length` must equal `src.length`). */
export function decodeBf16(src: Uint16Array, dst: Float32Array): void {
  const out = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] << 16;
}

/** Encode float32 values as float16 (round to nearest even). */
export function encodeF16(src: Float32Array, dst: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToF16Bits(bits[i]);
}

/** Encode float32 values as bfloat16 (round to nearest even). */
export function encodeBf16(src: Float32Array, dst: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = f32BitsToBf16Bits(bits[i]);
}
