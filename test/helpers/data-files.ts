/** Test helpers for src/data: writers of small JSONL and `.npy` files for hand-built datasets. */
import { writeFile } from 'node:fs/promises';

/** Write records (values, or raw strings taken as-is) one per line. */
export async function writeLines(path: string, lines: unknown[]): Promise<void> {
  await writeFile(path, `${lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')}\n`);
}

/** Bytes of a NumPy v1.0 C-order little-endian uint16 array. */
export function npyUint16(rows: number, cols: number, value: (r: number, c: number) => number): Uint8Array {
  let header = `{'descr': '<u2', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + rows * cols * 2);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const data = new DataView(out.buffer, 10 + header.length);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) data.setUint16((r * cols + c) * 2, value(r, c), true);
  return out;
}
