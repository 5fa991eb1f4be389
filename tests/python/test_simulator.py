"""Scenes and forward simulation from Python: loading, building, stepping, state tensors, outputs, errors."""
import json
import math
import os

import pytest
import torch

import ductile
from conftest import SOURCE_DIR, TINY_2D, tiny_scene


def test_scene_from_file_dict_and_text():
    s = ductile.Scene.load(os.path.join(SOURCE_DIR, "scenes", "toss_target_2d.json"))
    assert s.dim == 2 and s.frames == 20 and s.dt > 0
    assert s.json["materials"][0]["name"] == "jelly"
    d = ductile.Scene.from_json(TINY_2D)
    t = ductile.Scene.from_json(json.dumps(TINY_2D))
    assert d.json == t.json
    stiffer = d.with_overrides("materials.jelly.E=2e4")
    assert stiffer.json["materials"][0]["E"] == 2e4 and d.json["materials"][0]["E"] == 1e4


def test_bad_scene_names_the_json_pointer():
    doc = json.loads(json.dumps(TINY_2D))
    doc["materials"][0]["E"] = -5
    with pytest.raises(ductile.Error, match="/materials/0/E"):
        ductile.Scene.from_json(doc)
    with pytest.raises(ductile.Error, match="scene.json: cannot open"):
        ductile.Scene.load("/nonexistent/scene.json")


def test_simulator_steps_and_state_tensors(scene):
    sim = ductile.Simulator(scene, dtype=torch.float64)
    n = sim.num_particles
    assert n == 16
    s0 = sim.state()
    assert s0.x.shape == (n, 2) and s0.F.shape == (n, 2, 2) and s0.material.dtype == torch.int32
    assert torch.allclose(s0.F, torch.eye(2, dtype=torch.float64).expand(n, 2, 2))
    sim.step(10)
    assert sim.steps == 10 and abs(sim.time - 0.01) < 1e-12
    s1 = sim.state()
    # the jelly moved with its velocity and fell
    dx = (s1.x - s0.x).mean(0)
    assert 0.001 < float(dx[0]) < 0.005 and float(dx[1]) < -0.005
    # accessors agree with state(); one state()'s tensors share one copy (views: no copy between them)
    assert torch.equal(sim.positions(), s1.x) and torch.equal(sim.velocities(), s1.v)
    assert s1.x.data_ptr() != s1.v.data_ptr() and s1.x.stride() == (1, n)


def test_storage_views_share_the_simulator_memory(scene):
    sim = ductile.Simulator(scene, dtype=torch.float32)
    sim.step(3)
    st = sim.storage()
    assert st["x"].shape == (2, 16) and st["x"].dtype == torch.float32 and st["id"].dtype == torch.int32
    # storage order -> scene order through id
    x = torch.empty(16, 2)
    x[st["id"].long()] = st["x"].T
    assert torch.equal(x, sim.positions())
    # a write into the view is a write into the simulator (zero copy)
    st["v"][:] = 0
    assert float(sim.velocities().abs().max()) == 0


def test_set_state_and_rollout_agree_with_simulator(scene, deformed):
    x0, v0 = deformed
    sim = ductile.Simulator(scene, dtype=torch.float64)
    sim.set_state(x=x0, v=v0)
    sim.step(10)
    out = ductile.rollout(scene, 10, x0=x0, v0=v0)
    assert torch.allclose(out.x, sim.positions(), rtol=0, atol=1e-12)
    assert torch.allclose(out.v, sim.velocities(), rtol=0, atol=1e-10)


def test_run_writes_frames_and_summary(scene, tmp_path):
    sim = ductile.Simulator(scene)
    summary = sim.run(frames=2, out_dir=tmp_path / "run")
    files = sorted(os.listdir(tmp_path / "run" / "particles"))
    assert files == ["frame_00000.ply", "frame_00001.ply", "frame_00002.ply"]
    s = json.load(open(summary))
    assert s["status"] == "completed" and s["steps"] == 2 * scene.steps_per_frame
    sim.write_ply(tmp_path / "one.ply")
    assert open(tmp_path / "one.ply", "rb").read(3) == b"ply"


def test_python_material_needs_its_module():
    doc = json.loads(json.dumps(TINY_2D))
    doc["materials"][0] = {"name": "jelly", "model": "python", "density": 1000, "wave_speed": 3}
    scene = ductile.Scene.from_json(doc)
    assert scene.initial_state()["x"].shape == (16, 2)
    with pytest.raises(ductile.Error, match="no module"):
        ductile.Simulator(scene)
    with pytest.raises(ductile.Error, match="no material 'other'"):
        ductile.Simulator(scene, modules={"jelly": torch.nn.Identity(), "other": torch.nn.Identity()})


def test_errors_in_a_module_reach_the_caller(deformed):
    doc = json.loads(json.dumps(TINY_2D))
    doc["materials"][0] = {"name": "jelly", "model": "python", "density": 1000, "wave_speed": 3}
    scene = ductile.Scene.from_json(doc)

    class Broken(torch.nn.Module):
        def forward(self, F):
            raise ZeroDivisionError("inside the module")
    with pytest.raises(ZeroDivisionError, match="inside the module"):
        ductile.rollout(scene, 2, modules={"jelly": Broken()})
    with pytest.raises(ValueError, match=r"expected a stress tensor of shape \(16, 2, 2\), got \(16, 4\)"):
        ductile.Simulator(scene, modules={"jelly": lambda F: F.reshape(-1, 4)}, dtype=torch.float64).step()
    with pytest.raises(TypeError, match="module.to"):
        ductile.rollout(scene, 2, modules={"jelly": torch.nn.Linear(2, 2)}, dtype=torch.float64)


def test_bad_inputs_are_named(scene):
    with pytest.raises(ductile.Error, match=r"x0: expected shape \(16, 2\), got \(15, 2\)"):
        ductile.rollout(scene, 2, x0=torch.zeros(15, 2))
    with pytest.raises(ductile.Error, match="materials/jelly/stiffness"):
        ductile.rollout(scene, 2, params={"materials/jelly/stiffness": torch.tensor(1.0)})
    with pytest.raises(ductile.Error, match="force"):
        ductile.rollout(scene, 2, force=torch.zeros(3, 16, 2))
    with pytest.raises(ductile.Error, match="checkpoint"):
        ductile.rollout(scene, 2, checkpoint="often")
    x = scene.initial_state()["x"].clone()
    x[3, 1] = float("nan")
    with pytest.raises(ductile.Error, match="particle 3"):
        ductile.rollout(scene, 2, x0=x)


def test_checkpointing_keeps_the_rollout_memory_bounded(scene, deformed):
    """400 steps: "sqrt" keeps about 2 sqrt(T) states where "all" keeps T, recomputes the rest in backward()
    and gives the same gradient; "budget:" holds the tape under its budget."""
    x0, v0 = deformed
    T, out, grads = 400, {}, {}
    for policy in ("all", "sqrt", "budget:200KB"):
        E = torch.tensor(1e4, dtype=torch.float64, requires_grad=True)
        r = ductile.rollout(scene, T, x0=x0, v0=v0, params={"materials/jelly/E": E}, checkpoint=policy)
        r.x.sum().backward()
        out[policy], grads[policy] = r.stats, E.grad
    state = out["all"]["state_bytes"]
    assert out["all"]["peak_bytes"] > T * state and out["all"]["recomputed"] == 0
    assert out["sqrt"]["interval"] == 20
    assert out["sqrt"]["peak_bytes"] < 2.5 * math.sqrt(T) * state + (out["all"]["peak_bytes"] - T * state)
    assert out["sqrt"]["recomputed"] > 0 and out["sqrt"]["backward_seconds"] > 0
    assert out["budget:200KB"]["peak_bytes"] <= 200e3
    for policy in ("sqrt", "budget:200KB"):
        torch.testing.assert_close(grads[policy], grads["all"], rtol=1e-12, atol=0)


def test_cuda_backend(scene):
    """Without a usable GPU, backend="cuda" is a ductile.Error saying so (and "auto" falls back to the CPU);
    with one, the simulator's storage() views are CUDA tensors and a rollout on the GPU gives the CPU's
    trajectory and gradient."""
    if not ductile.cuda_available:
        for make in (lambda: ductile.Simulator(scene, backend="cuda"),
                     lambda: ductile.rollout(scene, 2, backend="cuda")):
            with pytest.raises(ductile.Error, match="backend: 'cuda' asked but no CUDA device is usable"):
                make()
        assert ductile.Simulator(scene, backend="auto").storage()["x"].device.type == "cpu"
        return
    sim = ductile.Simulator(scene, backend="cuda")
    sim.step(3)
    assert all(t.device.type == "cuda" for t in sim.storage().values())
    E = {b: torch.tensor(1e4, dtype=torch.float64, requires_grad=True) for b in ("cpu", "cuda")}
    x = {}
    for b in ("cpu", "cuda"):
        r = ductile.rollout(scene, 8, params={"materials/jelly/E": E[b]}, backend=b)
        r.x.sum().backward()
        x[b] = r.x.cpu()
    torch.testing.assert_close(x["cuda"], x["cpu"], rtol=0, atol=1e-10)
    torch.testing.assert_close(E["cuda"].grad, E["cpu"].grad, rtol=1e-8, atol=0)
