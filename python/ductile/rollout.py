"""Differentiable rollouts: ductile.rollout runs the scene on the C++ tape (core/tape.h) inside a
torch.autograd.Function. Its outputs (positions and velocities at the recorded steps) are tensors whose
gradients flow back, through the tape's backward pass seeded with dL/dx and dL/dv (Tape::set_output_adjoints),
to the initial state, named scene parameters, per-step external forces, a soft robot's per-step actuator
activations and the parameters of torch.nn.Modules driving "python" materials. The tape keeps checkpoints per `checkpoint`, so memory stays bounded."""
from typing import NamedTuple

import numpy as np
import torch

from . import _core
from .scene import _bridges_for, _dtype_name


class Trajectory(NamedTuple):
    """x, v: [n, D] at the last step, or [len(record), n, D] at the recorded steps; steps: the steps recorded;
    stats: the tape's steps, checkpoint interval, one state's and the peak memory [bytes], forward time [s];
    after loss.backward() also the states recomputed and the backward time [s] (the dict is updated)."""
    x: torch.Tensor
    v: torch.Tensor
    steps: list
    stats: dict


def _np(t):
    return None if t is None else t.detach().cpu().double().contiguous().numpy()


class _Job:
    """What one rollout needs besides its tensors (autograd.Function takes them as plain arguments)."""

    def __init__(self, scene, steps, param_names, bridges, record, dtype, backend, checkpoint):
        self.scene, self.steps, self.param_names, self.bridges = scene, steps, param_names, bridges
        self.record, self.dtype, self.backend, self.checkpoint = record, dtype, backend, checkpoint
        self.core = None
        self.stats = {}  # the tape's, refreshed after forward and after each backward
        self.device = torch.device("cpu")  # of the outputs


class _RolloutFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, job, x0, v0, force, actuation, *tensors):
        n_params = len(job.param_names)
        params = {name: _np(t).reshape(-1) for name, t in zip(job.param_names, tensors[:n_params])}
        job.core = _core.Rollout(job.scene._doc, _dtype_name(job.dtype), job.backend, job.checkpoint, job.bridges)
        states = job.core.forward(job.steps, _np(x0), _np(v0), params, _np(force), _np(actuation), job.record)
        xs = torch.stack([torch.from_numpy(x) for x, _ in states]).to(job.device)
        vs = torch.stack([torch.from_numpy(v) for _, v in states]).to(job.device)
        ctx.job = job
        job.stats.update(job.core.stats())
        ctx.shapes = [None if t is None else (t.shape, t.dtype, t.device)
                      for t in (x0, v0, force, actuation) + tensors]
        return xs, vs

    @staticmethod
    def backward(ctx, gxs, gvs):
        job = ctx.job
        seeds = [(t, _np(gxs[k]), _np(gvs[k])) for k, t in enumerate(job.record)]
        modules = [name for name, b in job.bridges.items() if b.size]
        wrt = list(job.param_names) + [f"materials/{name}/weights" for name in modules]
        g = job.core.backward(seeds, wrt)
        job.stats.update(job.core.stats())

        def out(a, k):
            if a is None or ctx.shapes[k] is None or not ctx.needs_input_grad[k + 1]:
                return None
            shape, dtype, device = ctx.shapes[k]
            return torch.from_numpy(np.asarray(a)).to(device=device, dtype=dtype).reshape(shape)

        grads = [out(g["x"], 0), out(g["v"], 1), out(g.get("force"), 2), out(g.get("actuation"), 3)]
        grads += [out(g["params"][name], 4 + i) for i, name in enumerate(job.param_names)]
        k = 4 + len(job.param_names)
        for name in modules:
            flat = torch.from_numpy(g["params"][f"materials/{name}/weights"])
            for part in job.bridges[name].split(flat):
                grads.append(part if ctx.needs_input_grad[k + 1] else None)
                k += 1
        return (None, *grads)


def rollout(scene, steps=None, *, x0=None, v0=None, params=None, force=None, actuation=None, modules=None,
            record=None, checkpoint="sqrt", backend="cpu", dtype=torch.float64):
    """Runs `steps` time steps (default: the scene's frames) of `scene` on the gradient tape.

    x0, v0: initial positions and velocities [n, D] (default: the scene's sampled particles, in
        scene.initial_state() order).
    params: {name: tensor}, set before the run: "materials/<m>/<p>" (E, nu, density, yield_stress, ...),
        "gravity", "colliders/<c>/velocity", "objects/<o>/velocity", ... (docs/GRADIENTS.md lists them), and
        in a robot scene "actuators/<a>/strength" [Pa].
    force: per-step external force on every particle [steps, n, D] [N] (momentum += dt * force in each step's
        particle-to-grid transfer).
    actuation: the activations of a robot scene's actuators (its "actuators" section, docs/ROBOTS.md) per step,
        [steps, len(scene.actuators)]: actuator k adds the active stress a[t, k] * strength_k * (F f)(F f)^T
        to its particles in step t (kernels/actuation.h); the designed range is [-1, 1] (e.g. torch.tanh of
        free parameters), positive contracts along the fiber. None: the actuators stay idle.
    modules: {material name: torch.nn.Module} for materials of model "python" (F [B, D, D] -> tau [B, D, D]).
    record: None for the last step only, an int k for every k-th step (0, k, 2k, ..., and the last), or a list
        of steps.
    checkpoint: "sqrt" (default), "all", "every:K" or "budget:2GB" (docs/GRADIENTS.md).

    Returns a Trajectory (x, v, steps, stats), x and v on the device of the first tensor input (CUDA with
    backend="cuda" and no tensor input, else the CPU). Every tensor input that requires grad receives its
    gradient, on its own device, in loss.backward(); so do the modules' parameters.
    """
    if steps is None:
        steps = scene.frames * scene.steps_per_frame
    steps = int(steps)
    if record is None:
        at, squeeze = [steps], True
    elif isinstance(record, int):
        if record < 1:
            raise ValueError(f"record: expected an interval >= 1, got {record}")
        at, squeeze = sorted(set(range(0, steps + 1, record)) | {steps}), False
    else:
        at, squeeze = [int(t) for t in record], False
    modules = dict(modules or {})
    bridges = _bridges_for(scene, modules, dtype)
    params = dict(params or {})
    names = list(params)
    as_tensor = (lambda t: None if t is None else torch.as_tensor(t, dtype=dtype))
    tensors = [as_tensor(params[k]) for k in names]
    weights = [p for name in bridges for p in bridges[name].params]
    job = _Job(scene, steps, names, bridges, at, dtype, backend, checkpoint)
    # outputs on the device of the tensor inputs (the tape's data moves through host memory)
    given = [t for t in [x0, v0, force, actuation, *tensors] if isinstance(t, torch.Tensor)]
    if given:
        job.device = given[0].device
    elif backend == "cuda" or (backend == "auto" and _core.cuda_available):
        job.device = torch.device("cuda")
    xs, vs = _RolloutFunction.apply(job, as_tensor(x0), as_tensor(v0), as_tensor(force), as_tensor(actuation),
                                    *tensors, *weights)
    stats = job.stats
    if squeeze:
        return Trajectory(xs[0], vs[0], at, stats)
    return Trajectory(xs, vs, at, stats)
