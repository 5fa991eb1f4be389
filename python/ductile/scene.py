"""Scenes: a JSON document (docs/SCENE_FORMAT.md) loaded from a file, a string or a dict, validated by the C++
core with every default filled in."""
import json
import os

import torch

from . import _core


class Scene:
    """A validated scene. Build one with Scene.load(path) or Scene.from_json(str | dict)."""

    def __init__(self, document):
        self._doc = document

    @classmethod
    def load(cls, path, overrides=None):
        """Reads a scene file; overrides: ["materials.jelly.E=2e4", ...] as `ductile simulate --set`."""
        return cls(_core.load_scene_file(os.fspath(path), list(overrides or [])))

    @classmethod
    def from_json(cls, source, base_dir=".", overrides=None, name="<python>"):
        """A scene from JSON text or a dict; relative file paths in it resolve against base_dir."""
        text = source if isinstance(source, str) else json.dumps(source)
        return cls(_core.load_scene_text(text, os.fspath(base_dir), list(overrides or []), name))

    def with_overrides(self, *assignments):
        """A copy with `path=value` assignments applied (JSON pointer or dotted path)."""
        return Scene.from_json(self._doc.json_text, self._doc.base_dir, list(assignments), self._doc.path)

    @property
    def json(self):
        """The validated document (a new dict; edit it and call Scene.from_json to change the scene)."""
        return json.loads(self._doc.json_text)

    dim = property(lambda self: self._doc.dim, doc="2 or 3")
    dt = property(lambda self: self._doc.dt, doc="time step [s]")
    frame_dt = property(lambda self: self._doc.frame_dt, doc="time between frames [s]")
    steps_per_frame = property(lambda self: self._doc.steps_per_frame)
    frames = property(lambda self: self._doc.frames, doc="frames the scene asks for")
    path = property(lambda self: self._doc.path)
    warnings = property(lambda self: list(self._doc.warnings))

    @property
    def actuators(self):
        """The names of the robot's actuators (section "actuators"; [] for none): the columns of
        rollout(actuation=...)."""
        return [a["name"] for a in self.json.get("actuators", [])]

    def initial_state(self, dtype=torch.float64):
        """The sampled initial particles: dict of tensors x, v [n, D], mass, material, object [n] and, in a robot
        scene, actuator [n] (the particle's actuator index, -1 for passive particles)."""
        core = _core.Rollout(self._doc, _dtype_name(dtype), "cpu", "sqrt", _bridges_for(self, None, dtype))
        return {k: torch.from_numpy(v) for k, v in core.initial().items()}

    def __repr__(self):
        return f"Scene({self.path!r}, {self.dim}D, dt={self.dt:g} s, {self.frames} frames)"


def _dtype_name(dtype):
    if dtype == torch.float64:
        return "float64"
    if dtype == torch.float32:
        return "float32"
    raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {dtype}")


def _bridges_for(scene, modules, dtype):
    """Bridges for the scene's "python" materials: the given modules, or stand-ins that only let the scene be
    sampled (initial_state) and say what is missing when asked for a stress."""
    from .material import ModuleBridge
    bridges = {name: ModuleBridge(m, dtype, name) for name, m in (modules or {}).items()}
    if modules is None:
        for m in scene.json.get("materials", []):
            if m.get("model") == "python":
                bridges[m["name"]] = ModuleBridge(None, dtype, m["name"])
    return bridges
