#!/usr/bin/python3
"""
Independent oracle for lethe's float16/bfloat16 conversions and safetensors reader (dev-only:
lethe never needs Python).

Run:  /usr/bin/python3 src/io/make-safetensors-fixture.py      (Debian python3-torch 1.13)
Writes src/io/fixtures/torch-half.safetensors (< 20 KB); src/io/safetensors-torch.test.ts reads it.

The safetensors package is not installed, so the file is assembled by hand with struct + json
following the format (u64 LE header length, JSON header padded with spaces to 8 bytes, data).
Tensors are laid out in the order below, with no alignment effort, so some F32 tensors land at
offsets that are not 4-byte aligned and exercise the reader's copy path.

Tensors
- f16_bits_as_f16 / f16_bits_as_f32: a sweep of float16 bit patterns, and torch's float32 of each.
- bf16_bits_as_bf16 / bf16_bits_as_f32: the same for bfloat16.
- source_f32: float32 values chosen to hit every rounding case (ties, subnormals, overflow, NaN,
  infinities, signed zeros) plus random values and random bit patterns.
- source_as_f16 / source_as_bf16: torch's round-to-nearest-even conversions of source_f32.
- ints_i32, ints_i64 (in int32 range), i64_out_of_range (one value of 2^40).
Deterministic: fixed seed; re-running rewrites identical bytes with the same torch build.
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "torch-half.safetensors")


def raw(t):
    """(safetensors dtype, little-endian bytes) of a tensor."""
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        return ("F16" if t.dtype == torch.float16 else "BF16"), t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float32:
        return "F32", t.numpy().astype("<f4").tobytes()
    if t.dtype == torch.int32:
        return "I32", t.numpy().astype("<i4").tobytes()
    if t.dtype == torch.int64:
        return "I64", t.numpy().astype("<i8").tobytes()
    raise ValueError(t.dtype)


def source_values():
    g = torch.Generator().manual_seed(1234)
    f16_tie = [1 + 2**-11, 1 + 3 * 2**-11, 2048 + 1, 2048 + 3, -(1 + 2**-11)]
    bf16_tie = [1 + 2**-8, 1 + 3 * 2**-8, 256 + 1, 256 + 3]
    edges = [
        0.0, -0.0, 1.0, -2.0, 0.1, 1 / 3, 65504.0, 65519.0, 65520.0, 65536.0, -70000.0,
        2**-14, 2**-14 - 2**-24, 2**-24, 2**-25, 2**-25 + 2**-35, 3 * 2**-25, 2**-26, 5 * 2**-26,
        2**-15 + 2**-25, 3.4028234663852886e38, 1e-40, -1e-45, 2**-126,
        float("inf"), float("-inf"), float("nan"),
    ]
    scaled = torch.randn(120, generator=g) * torch.pow(2.0, torch.randint(-30, 20, (120,), generator=g).float())
    bits = torch.randint(-(2**31), 2**31, (120,), generator=g, dtype=torch.int64).to(torch.int32).view(torch.float32)
    fixed = torch.tensor(f16_tie + bf16_tie + edges, dtype=torch.float32)
    return torch.cat([fixed, scaled.float(), bits])


def main():
    f16_bits = torch.arange(0, 65536, 53, dtype=torch.int32).to(torch.int16)
    bf16_bits = torch.arange(0, 65536, 97, dtype=torch.int32).to(torch.int16)
    # The sweeps miss the special patterns; add them explicitly (as int16 bit patterns).
    specials = torch.tensor([0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x7E00,
                             0x7C01, 0xFE01, 0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0x0080, 0x007F],
                            dtype=torch.int32).to(torch.int16)
    f16 = torch.cat([f16_bits, specials]).view(torch.float16)
    bf16 = torch.cat([bf16_bits, specials]).view(torch.bfloat16)
    src = source_values()
    tensors = [
        ("f16_bits_as_f16", f16),
        ("f16_bits_as_f32", f16.float()),
        ("bf16_bits_as_bf16", bf16),
        ("bf16_bits_as_f32", bf16.float()),
        ("source_f32", src),
        ("source_as_f16", src.half()),
        ("source_as_bf16", src.bfloat16()),
        ("ints_i32", torch.tensor([[0, -1, 2147483647], [-2147483648, 7, 42]], dtype=torch.int32)),
        ("ints_i64", torch.tensor([[0, -1, 2147483647], [-2147483648, 7, 42]], dtype=torch.int64)),
        ("i64_out_of_range", torch.tensor([1, 2**40], dtype=torch.int64)),
    ]
    header = {"__metadata__": {"format": "pt", "made_by": "make-safetensors-fixture.py"}}
    blobs = []
    offset = 0
    for name, t in tensors:
        dtype, data = raw(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
