"""scripts/convert_weights.py: a LibTorch weights archive of earlier builds converted to the safetensors file
ductile writes now, read back with numpy (docs/MATERIALS.md, "Weights file")."""
import os
import subprocess
import sys

import numpy as np
import torch

from conftest import SOURCE_DIR

SCRIPTS = os.path.join(SOURCE_DIR, "scripts")
sys.path.insert(0, SCRIPTS)
import convert_weights  # noqa: E402


def test_legacy_archive_converts_to_the_bundled_safetensors_file(tmp_path):
    legacy = os.path.join(SOURCE_DIR, "tests", "materials", "data", "jelly_3d_legacy.pt")
    out = str(tmp_path / "jelly.safetensors")
    subprocess.run([sys.executable, os.path.join(SCRIPTS, "convert_weights.py"), legacy, out], check=True)
    # the same bytes as the converted seed that the C++ tests compare with ductile's own writer
    seed = os.path.join(SOURCE_DIR, "fuzz", "corpus", "weights", "jelly_3d.safetensors")
    assert open(out, "rb").read() == open(seed, "rb").read()
    meta, tensors = convert_weights.read_safetensors(out)
    assert meta["format"] == "ductile-neural-weights"
    assert (meta["dimension"], meta["width"], meta["depth"], meta["plastic"]) == ("3", "64", "2", "false")
    assert meta["strain_scale"] == "1"  # an archive of before the strain scale
    state = torch.jit.load(legacy, map_location="cpu").state_dict()
    assert sorted(tensors) == sorted(k for k in state if k != "meta")
    for name, a in tensors.items():
        assert a.dtype == np.float64
        assert np.array_equal(a, state[name].numpy())


def test_round_trip_in_single_precision(tmp_path):
    legacy = os.path.join(SOURCE_DIR, "tests", "materials", "data", "plasticine_3d_legacy.pt")
    meta, tensors = convert_weights.read_any(legacy)
    assert meta["plastic"] == "true" and meta["strain_scale"] == "0.0795"
    out = str(tmp_path / "p.safetensors")
    convert_weights.write_safetensors(out, meta, {k: v.astype(np.float32) for k, v in tensors.items()})
    meta2, back = convert_weights.read_safetensors(out)
    assert meta2 == meta
    for k, v in tensors.items():
        assert back[k].dtype == np.float32 and np.array_equal(back[k], v.astype(np.float32))
