"""Small training loops through ductile.rollout: fitting a material's E to an observed trajectory, and an
open-loop controller (a per-step force buffer) that moves a jelly's centre of mass to a target."""
import math

import torch

import ductile
from conftest import tiny_scene

STEPS = 20


def test_fit_youngs_modulus(deformed):
    scene = tiny_scene()
    x0, v0 = deformed
    with torch.no_grad():
        observed = ductile.rollout(scene, STEPS, x0=x0, v0=v0, params={"materials/jelly/E": torch.tensor(2e4)},
                                   record=5).x
    log_E = torch.tensor(math.log(5e3), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_E], max_iter=20, line_search_fn="strong_wolfe")
    losses = []

    def closure():
        opt.zero_grad()
        x = ductile.rollout(scene, STEPS, x0=x0, v0=v0, params={"materials/jelly/E": log_E.exp()}, record=5).x
        loss = 1e6 * ((x - observed) ** 2).sum()  # [mm^2]
        loss.backward()
        losses.append(loss.item())
        return loss
    opt.step(closure)
    assert losses[-1] < 1e-8 * losses[0]
    assert abs(log_E.exp().item() / 2e4 - 1) < 1e-5


def test_train_open_loop_force_controller(scene):
    n = scene.initial_state()["x"].shape[0]
    target = torch.tensor([0.52, 0.60], dtype=torch.float64)
    # one force per step [100 N] on every particle (about 1 kg each)
    u = torch.zeros(STEPS, 2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([u], lr=0.05)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        out = ductile.rollout(scene, STEPS, force=100 * u[:, None, :].expand(STEPS, n, 2))
        loss = ((out.x.mean(0) - target) ** 2).sum()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]
