"""Cost of the Python module: a differentiable rollout (forward + backward) of a 2D jelly block with the
built-in neo_hookean material, with the same law written as a torch.nn.Module (material "python"), and the
forward simulator, in double precision on the CPU. Usage: PYTHONPATH=build/python python3 bench/python_rollout.py
[particles_per_side] [steps]"""
import json
import sys
import time

import torch

import ductile

side = int(sys.argv[1]) if len(sys.argv) > 1 else 32
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
E, nu = 1e4, 0.3
mu, lam = E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))
dx = 1 / 64
doc = {"format": 1, "dimension": 2, "domain": {"min": [0, 0], "max": [1, 1], "dx": dx},
       "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 1}, "gravity": [0, -9.81],
       "materials": [{"name": "jelly", "model": "neo_hookean", "density": 1000, "E": E, "nu": nu}],
       "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.5, -1], "angular_velocity": 3,
                    "shape": {"type": "box", "center": [0.5, 0.5], "size": [side * dx / 2] * 2}}]}
analytic = ductile.Scene.from_json(doc)
doc["materials"][0] = {"name": "jelly", "model": "python", "density": 1000, "wave_speed": 4}
python = ductile.Scene.from_json(doc)


class NeoHookean(torch.nn.Module):
    def forward(self, F):
        eye = torch.eye(F.shape[-1], dtype=F.dtype)
        return mu * (F @ F.transpose(-1, -2) - eye) + lam * torch.log(torch.linalg.det(F))[:, None, None] * eye


def timed(scene, **kw):
    best = (1e9, 1e9)
    for _ in range(3):
        v0 = scene.initial_state()["v"].requires_grad_(True)
        t0 = time.perf_counter()
        out = ductile.rollout(scene, steps, v0=v0, **kw)
        t1 = time.perf_counter()
        (out.x ** 2).sum().backward()
        t2 = time.perf_counter()
        best = min(best, (t1 - t0, t2 - t1))
    return best


n = analytic.initial_state()["x"].shape[0]
fa, ba = timed(analytic)
fp, bp = timed(python, modules={"jelly": NeoHookean()})
sim = ductile.Simulator(analytic, dtype=torch.float64)
t0 = time.perf_counter()
sim.step(steps)
fs = time.perf_counter() - t0
print(json.dumps({"particles": n, "steps": steps, "threads": torch.get_num_threads(),
                  "rollout_neo_hookean": {"forward_s": fa, "backward_s": ba},
                  "rollout_python_module": {"forward_s": fp, "backward_s": bp},
                  "simulator_forward_s": fs}, indent=1))
