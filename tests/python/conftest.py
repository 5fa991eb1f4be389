"""Shared scenes for the Python tests: the module comes from the build folder (PYTHONPATH=<build>/python, set
by ctest) or from an installed package."""
import copy
import os

import pytest
import torch

import ductile

SOURCE_DIR = os.environ.get("DUCTILE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

# A 4 x 4 block of jelly (16 particles) thrown through an empty 2D box: small enough for exact gradchecks.
TINY_2D = {
    "format": 1, "dimension": 2, "name": "tiny_jelly",
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.0625, "boundary": {"surface": "slip"}},
    "time": {"dt": 1e-3, "frame_dt": 0.005, "frames": 2},
    "gravity": [0, -9.81],
    "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 1e4, "nu": 0.3}],
    "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.3, -0.5], "angular_velocity": 2.0,
                 "shape": {"type": "box", "center": [0.5, 0.6], "size": [0.125, 0.125]}}],
}


def tiny_scene(**material):
    doc = copy.deepcopy(TINY_2D)
    doc["materials"][0].update(material)
    return ductile.Scene.from_json(doc)


@pytest.fixture
def scene():
    return tiny_scene()


@pytest.fixture
def deformed(scene):
    """The tiny scene's initial state with a random velocity field, so that the jelly deforms (and its E
    matters) from the first step."""
    s = scene.initial_state()
    g = torch.Generator().manual_seed(0)
    return s["x"].clone(), s["v"] + 0.3 * torch.randn(s["v"].shape, generator=g, dtype=torch.float64)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
