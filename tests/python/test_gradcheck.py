"""torch.autograd.gradcheck (double precision, central differences against the tape's backward pass) through
ductile.rollout: initial positions and velocities, a material parameter, gravity, the per-step external force,
and the parameters of a torch.nn.Module driving a "python" material."""
import json

import torch
from torch.autograd import gradcheck

import ductile
from conftest import TINY_2D

STEPS = 8


def _check(fn, *inputs, atol=1e-7):
    assert gradcheck(fn, inputs, eps=1e-6, atol=atol, rtol=1e-5)


def test_gradcheck_initial_state(scene, deformed):
    x0, v0 = (t.clone().requires_grad_(True) for t in deformed)
    _check(lambda x, v: ductile.rollout(scene, STEPS, x0=x, v0=v, record=[3, STEPS])[:2], x0, v0)


def test_gradcheck_material_parameter_and_gravity(scene, deformed):
    x0, v0 = deformed
    s = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)  # E = 1e4 * s: a relative step
    g = torch.tensor([0.5, -9.81], dtype=torch.float64, requires_grad=True)

    def f(s, g):
        out = ductile.rollout(scene, STEPS, x0=x0, v0=v0, params={"materials/jelly/E": 1e4 * s, "gravity": g},
                              checkpoint="every:3")
        return out.x, out.v
    _check(f, s, g)


def test_gradcheck_external_force(scene, deformed):
    x0, v0 = deformed
    force = (0.01 * torch.randn(STEPS, 16, 2, dtype=torch.float64)).requires_grad_(True)
    _check(lambda f: ductile.rollout(scene, STEPS, x0=x0, v0=v0, force=f)[:2], force)


class InvariantStress(torch.nn.Module):
    """tau = a(f) (F F^T - I) + b(f) I with f = (tr(F F^T) - D, det F - 1) and a, b from a small bias-free MLP
    plus a base stiffness: stress-free at rest, rotation-equivariant."""

    def __init__(self, base=2e3, width=8):
        super().__init__()
        self.mlp = torch.nn.Sequential(torch.nn.Linear(2, width, bias=False), torch.nn.Tanh(),
                                       torch.nn.Linear(width, 2, bias=False))
        self.base = base

    def forward(self, F):
        d = F.shape[-1]
        eye = torch.eye(d, dtype=F.dtype)
        b = F @ F.transpose(-1, -2)
        f = torch.stack([b.diagonal(dim1=-2, dim2=-1).sum(-1) - d, torch.linalg.det(F) - 1], -1)
        ab = self.base * (1 + self.mlp(f))
        return ab[:, :1, None] * (b - eye) + ab[:, 1:, None] * f[:, 1:, None] * eye


def python_material_scene():
    doc = json.loads(json.dumps(TINY_2D))
    doc["materials"][0] = {"name": "jelly", "model": "python", "density": 1000, "wave_speed": 3}
    return ductile.Scene.from_json(doc)


def test_gradcheck_module_parameters(deformed):
    scene = python_material_scene()
    net = InvariantStress().double()
    torch.nn.init.normal_(net.mlp[2].weight, std=0.3)
    x0, v0 = deformed

    # gradcheck perturbs its inputs in place: the inputs are the module's own parameters, which the rollout
    # reads at every stress evaluation and differentiates through the module's autograd graph. The outputs
    # move by about 3e-5 per unit weight: atol 1e-9 makes a 1e-4 relative error in the gradient fail.
    def f(*params):
        out = ductile.rollout(scene, STEPS, x0=x0, v0=v0, modules={"jelly": net})
        return out.x, out.v
    _check(f, *net.parameters(), atol=1e-9)


def test_python_material_reproduces_the_analytic_one(deformed):
    """A module computing neo-Hookean stress gives the trajectory of the built-in neo_hookean material."""
    E, nu = 1e4, 0.3
    mu, lam = E / (2 * (1 + nu)), E * nu / ((1 + nu) * (1 - 2 * nu))

    class NeoHookean(torch.nn.Module):
        def forward(self, F):
            eye = torch.eye(F.shape[-1], dtype=F.dtype)
            logJ = torch.log(torch.linalg.det(F))[:, None, None]
            return mu * (F @ F.transpose(-1, -2) - eye) + lam * logJ * eye

    x0, v0 = deformed
    analytic = ductile.rollout(tiny_nh(), STEPS, x0=x0, v0=v0)
    learned = ductile.rollout(python_material_scene(), STEPS, x0=x0, v0=v0, modules={"jelly": NeoHookean()})
    assert torch.allclose(learned.x, analytic.x, rtol=0, atol=1e-13)
    assert torch.allclose(learned.v, analytic.v, rtol=0, atol=1e-11)


def tiny_nh():
    doc = json.loads(json.dumps(TINY_2D))
    doc["materials"][0].update({"model": "neo_hookean"})
    return ductile.Scene.from_json(doc)
