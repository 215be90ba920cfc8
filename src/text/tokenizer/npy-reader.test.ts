/**
 * Tests for src/io/npy.ts (kept here because this change owns only src/text and that one file;
 * move beside it as src/io/npy.test.ts when convenient). Hand-built v1/v2 files, big-endian data,
 * malformed headers, and the benchmark arrays when the shared data is present. Exact values.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { EXTRACTION_DIR, skipUnless } from '../../../test/helpers/shared-datasets.ts';
import { DataError } from '../../errors.ts';
import { parseNpy, readNpy } from '../../io/npy.ts';

/** A .npy file of the given version with `header` padded so the data starts at a multiple of 64. */
function npy(version: 1 | 2, header: string, data: Uint8Array): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = header;
  while ((pre + h.length + 1) % 64 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, h.length, true);
  else view.setUint32(8, h.length, true);
  out.set(Buffer.from(h, 'latin1'), pre);
  out.set(data, pre + h.length);
  return out;
}

test('npy: v1.0 little-endian uint16 matrix', () => {
  const values = new Uint16Array([1, 2, 3, 50256, 7, 65535]);
  const file = npy(
    1,
    "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }",
    new Uint8Array(values.buffer),
  );
  const a = parseNpy(file, 'm.npy');
  assert.equal(a.dtype, 'uint16');
  assert.deepEqual(a.shape, [2, 3]);
  assert.equal(a.fortranOrder, false);
  assert.deepEqual([...a.data], [...values]);
});

test('npy: v2.0 big-endian float32 vector, scalar shape, fortran flag', () => {
  const be = new Uint8Array(8);
  new DataView(be.buffer).setFloat32(0, 1.5, false);
  new DataView(be.buffer).setFloat32(4, -2.25, false);
  const a = parseNpy(npy(2, "{'descr': '>f4', 'fortran_order': True, 'shape': (2,), }", be));
  assert.equal(a.dtype, 'float32');
  assert.deepEqual([...a.data], [1.5, -2.25]);
  assert.equal(a.fortranOrder, true);
  const s = parseNpy(
    npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (), }", new Uint8Array([5, 0, 0, 0])),
  );
  assert.deepEqual(s.shape, []);
  assert.deepEqual([...s.data], [5]);
});

test('npy: malformed files are DataErrors naming the source', () => {
  const bad = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => parseNpy(bytes, 'x.npy'),
      (e: unknown) => e instanceof DataError && pattern.test(e.message) && e.message.includes('x.npy'),
    );
  bad(new Uint8Array(20), /bad magic/);
  bad(npy(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }", new Uint8Array(4)), /data shorter/);
  bad(
    npy(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)),
    /unsupported dtype/,
  );
  bad(npy(1, "{'descr': '<u2', 'shape': (1,), }", new Uint8Array(2)), /lacks a key/);
  assert.throws(() => readNpy('/nonexistent/file.npy'), DataError);
});

const skip = skipUnless(join(EXTRACTION_DIR, 'val_prefix.npy'));
test('npy: reads the extraction benchmark arrays', { skip }, () => {
  const a = readNpy(join(EXTRACTION_DIR, 'val_prefix.npy'));
  assert.equal(a.dtype, 'uint16');
  assert.deepEqual(a.shape, [1000, 50]);
  assert.ok(a.data.every((v) => (v as number) < 50257));
});
