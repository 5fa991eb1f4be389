#!/usr/bin/env python3
"""Converts a neural material's weights from the LibTorch archive of earlier builds (`*_weights.pt`) to the
safetensors file that ductile writes now (docs/MATERIALS.md, "neural"), and reads either kind with numpy.

    scripts/convert_weights.py OLD.pt NEW.safetensors [--dtype F32|F64]
    scripts/convert_weights.py --show FILE             # architecture and tensor shapes

Reading a .pt file needs torch (it is a TorchScript archive); writing and reading safetensors needs only numpy
(the `safetensors` package opens the files as well). ductile itself still reads .pt files, in a separate process
first (docs/RELIABILITY.md), so converting is optional."""
import argparse
import json
import struct
import sys

import numpy as np

FORMAT = "ductile-neural-weights"
DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def read_safetensors(path):
    """(metadata, {name: array}) of a safetensors file, in a few lines of numpy."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
    return meta, tensors


def write_safetensors(path, meta, tensors):
    """A safetensors file: tensors in name order, the header padded with spaces to a multiple of 8 bytes."""
    header, chunks, at = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}[a.dtype]
        b = a.astype(DTYPES[dtype]).tobytes()
        header[name] = {"data_offsets": [at, at + len(b)], "dtype": dtype, "shape": list(a.shape)}
        chunks.append(b)
        at += len(b)
    if meta:
        header["__metadata__"] = meta
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-(8 + len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def number(x):
    """The shortest %g text that reads back as the same double (what ductile writes)."""
    for digits in range(1, 18):
        s = "%.*g" % (digits, x)
        if float(s) == x:
            return s
    return repr(float(x))


def read_archive(path):
    """(metadata, tensors) of a LibTorch archive written by earlier builds: 'meta' holds the architecture."""
    import torch

    state = {k: v.detach().cpu() for k, v in torch.jit.load(path, map_location="cpu").state_dict().items()}
    m = state.pop("meta").double().tolist()
    if len(m) == 5:
        m.append(1.0)  # files older than the strain scale: raw invariants
    meta = {"format": FORMAT, "version": "1", "dimension": str(int(m[0])), "width": str(int(m[1])),
            "depth": str(int(m[2])), "plastic": "true" if m[3] else "false", "plastic_scale": number(m[4]),
            "strain_scale": number(m[5])}
    return meta, {k: v.numpy() for k, v in state.items()}


def read_any(path):
    with open(path, "rb") as f:
        zip_archive = f.read(4) == b"PK\x03\x04"
    return read_archive(path) if zip_archive else read_safetensors(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--dtype", choices=["F32", "F64"], help="store the weights in this precision")
    ap.add_argument("--show", action="store_true", help="print the architecture and the tensors' shapes")
    a = ap.parse_args()
    meta, tensors = read_any(a.input)
    if a.show or not a.output:
        print(json.dumps(meta, indent=1))
        for k in sorted(tensors):
            print("%-20s %-8s %s" % (k, tensors[k].dtype, list(tensors[k].shape)))
        return 0
    if a.dtype:
        tensors = {k: v.astype(np.float32 if a.dtype == "F32" else np.float64) for k, v in tensors.items()}
    write_safetensors(a.output, meta, tensors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
