"""Forward simulation from Python: the C++ Simulator (the fast backend: particles stored in cell order,
OpenMP on the CPU or CUDA), its state as torch tensors, and outputs written like `ductile simulate`."""
import os
from dataclasses import dataclass

import torch

from . import _core
from .scene import _bridges_for, _dtype_name


@dataclass
class ParticleState:
    """Particles in the scene's order: x, v [n, D]; C, F [n, D, D]; plastic, mass, vol0 [n]; material, object
    [n] (int32), at `time` [s] after `steps` steps. The tensors are views of one host copy of the state."""
    x: torch.Tensor
    v: torch.Tensor
    C: torch.Tensor
    F: torch.Tensor
    plastic: torch.Tensor
    mass: torch.Tensor
    vol0: torch.Tensor
    material: torch.Tensor
    object: torch.Tensor
    time: float
    steps: int


class Simulator:
    """ductile.Simulator(scene, backend="cpu", dtype=torch.float32, modules=None).

    backend: "cpu", "cuda" or "auto"; modules: {material name: torch.nn.Module} for materials of model
    "python" (ductile.material). Not differentiable: use ductile.rollout for gradients."""

    def __init__(self, scene, backend="cpu", dtype=torch.float32, modules=None):
        self.scene, self.dtype = scene, dtype
        self._modules = dict(modules or {})
        self._core = _core.Simulator(scene._doc, _dtype_name(dtype), backend,
                                     _bridges_for(scene, self._modules, dtype))

    def step(self, n=1):
        """Advances n time steps (raises ductile.Error naming the step, stage and particle on a fault)."""
        self._core.step(int(n))

    time = property(lambda self: self._core.time, doc="simulated time [s]")
    steps = property(lambda self: self._core.steps, doc="time steps taken")
    num_particles = property(lambda self: self._core.particles)

    def state(self):
        """The whole state (ParticleState): one copy from the device, in the scene's particle order (the
        backend stores particles sorted by cell); every tensor is a view of that copy, no further copy."""
        s = self._core.state()
        t = {k: torch.from_numpy(v) for k, v in s.items()}
        return ParticleState(time=self.time, steps=self.steps, **t)

    def positions(self):
        """x [n, D] (a copy of the device state, see state())."""
        return self.state().x

    def velocities(self):
        """v [n, D] (a copy, see state())."""
        return self.state().v

    def deformation_gradients(self):
        """F [n, D, D] (a copy, see state())."""
        return self.state().F

    def affine_velocities(self):
        """C [n, D, D], APIC's affine velocity field (a copy, see state())."""
        return self.state().C

    def material_ids(self):
        """Material index per particle [n] (int32, a copy); names in scene.json["materials"]."""
        return self.state().material

    def set_state(self, x=None, v=None):
        """Replaces positions and/or velocities ([n, D] tensors or arrays, scene order)."""
        as_np = (lambda a: None if a is None else torch.as_tensor(a).detach().cpu().double().numpy())
        self._core.set_state(as_np(x), as_np(v))

    def storage(self):
        """Zero-copy tensors of the simulator's own memory, on its device (CPU or CUDA): x, v [D, n]; C, F
        [D, D, n]; plastic, mass, material [n]; id [n]. Storage order: slot q holds particle id[q]. They are
        valid until the next step() (which writes the other of two buffers and re-sorts); writing into them
        changes the simulation."""
        return {k: torch.from_dlpack(a) for k, a in self._core.storage().items()}

    def write_ply(self, path):
        """Writes the current particles as a PLY file (atomically), with the columns of `ductile simulate`."""
        self._core.write_ply(os.fspath(path))

    def run(self, frames=None, out_dir="out/python", every=1):
        """Simulates `frames` frames (default: the scene's) and writes out_dir/scene.json,
        out_dir/particles/frame_NNNNN.ply and out_dir/summary.json; returns the summary's path. On a fault the
        frames written so far stay and the summary says "failed: ..."."""
        return self._core.run(self.scene.frames if frames is None else int(frames), os.fspath(out_dir), int(every))

    def __repr__(self):
        return f"Simulator({self.num_particles} particles, t={self.time:g} s, {self.steps} steps)"
