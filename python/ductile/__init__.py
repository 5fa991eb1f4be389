"""ductile: a differentiable MLS-MPM simulator for Python and PyTorch (docs/PYTHON.md).

    scene = ductile.Scene.load("scenes/jelly_drop.json")
    sim = ductile.Simulator(scene)            # forward simulation, state as torch tensors
    out = ductile.rollout(scene, steps, params={"materials/jelly/E": E})   # differentiable
"""
import torch  # first: the C++ core links the same LibTorch libraries this package loads

from . import _core

if _core.torch_version != torch.__version__:
    raise ImportError(
        f"ductile was built against torch {_core.torch_version} but torch {torch.__version__} is installed; "
        "rebuild it with this torch: pip install --no-build-isolation . (docs/PYTHON.md)")

from ._core import Error, material_models  # noqa: E402
from .material import ModuleBridge  # noqa: E402
from .rollout import Trajectory, rollout  # noqa: E402
from .scene import Scene  # noqa: E402
from .simulator import ParticleState, Simulator  # noqa: E402

__version__ = _core.__version__
cuda_available = _core.cuda_available

__all__ = ["Error", "ModuleBridge", "ParticleState", "Scene", "Simulator", "Trajectory", "cuda_available",
           "material_models", "rollout"]
