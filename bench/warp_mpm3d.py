"""NVIDIA Warp CPU baseline for `ductile bench`: the scene of bench/taichi_mpm3d.py (the Taichi MPM benchmark's
mpm3d J-fluid) written as Warp kernels and run on Warp's "cpu" device, timed the same way (warm-up steps
excluded). Warp has no MLS-MPM example of its own (shared/reference/performance.md section 5), so this is a
line-by-line port of the Taichi kernel: dense grid, particles unsorted, float atomics in P2G.

Scene: unit cube, n_grid = G, N = G^3 / 4 particles uniformly random in [0.15, 0.55]^3, dt = 8e-5,
p_vol = (dx/2)^2, p_rho = 1, J-fluid with E = 400 (tau = E (J - 1) I), gravity 9.8 m/s^2 along -y, walls
3 cells thick that zero the outward velocity.

Warp's CPU device runs each launch on one thread without SIMD (NVIDIA/warp issues #1309, #339); --threads is
reported but cannot change that.

    bench/setup_peers.sh            # a virtual environment with taichi and warp-lang (benchmark only)
    bench/.peers/bin/python bench/warp_mpm3d.py --grid 64 --steps 20 [--json out.json]
"""
import argparse
import json
import time

import numpy as np
import warp as wp


@wp.func
def weights(fx: wp.vec3):
    w0 = 0.5 * wp.cw_mul(wp.vec3(1.5) - fx, wp.vec3(1.5) - fx)
    w1 = wp.vec3(0.75) - wp.cw_mul(fx - wp.vec3(1.0), fx - wp.vec3(1.0))
    w2 = 0.5 * wp.cw_mul(fx - wp.vec3(0.5), fx - wp.vec3(0.5))
    return wp.mat33(w0[0], w1[0], w2[0], w0[1], w1[1], w2[1], w0[2], w1[2], w2[2])  # row d: axis d


@wp.kernel
def clear(grid_v: wp.array3d(dtype=wp.vec3), grid_m: wp.array3d(dtype=float)):
    i, j, k = wp.tid()
    grid_v[i, j, k] = wp.vec3(0.0)
    grid_m[i, j, k] = 0.0


@wp.kernel
def p2g(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), C: wp.array(dtype=wp.mat33),
        J: wp.array(dtype=float), grid_v: wp.array3d(dtype=wp.vec3), grid_m: wp.array3d(dtype=float),
        dx: float, inv_dx: float, dt: float, p_vol: float, p_mass: float, E: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    base = wp.vec3i(int(Xp[0] - 0.5), int(Xp[1] - 0.5), int(Xp[2] - 0.5))
    fx = Xp - wp.vec3(float(base[0]), float(base[1]), float(base[2]))
    w = weights(fx)
    stress = -dt * 4.0 * E * p_vol * (J[p] - 1.0) * inv_dx * inv_dx
    affine = wp.identity(n=3, dtype=float) * stress + p_mass * C[p]
    mv = p_mass * v[p]
    for a in range(3):
        for b in range(3):
            for c in range(3):
                dpos = (wp.vec3(float(a), float(b), float(c)) - fx) * dx
                weight = w[0, a] * w[1, b] * w[2, c]
                wp.atomic_add(grid_v, base[0] + a, base[1] + b, base[2] + c, weight * (mv + affine * dpos))
                wp.atomic_add(grid_m, base[0] + a, base[1] + b, base[2] + c, weight * p_mass)


@wp.kernel
def grid_op(grid_v: wp.array3d(dtype=wp.vec3), grid_m: wp.array3d(dtype=float), n_grid: int, dt: float,
            gravity: float, bound: int):
    i, j, k = wp.tid()
    vv = grid_v[i, j, k]
    m = grid_m[i, j, k]
    if m > 0.0:
        vv = vv / m
    vv = vv - wp.vec3(0.0, dt * gravity, 0.0)
    I = wp.vec3i(i, j, k)
    for d in range(3):
        if (I[d] < bound and vv[d] < 0.0) or (I[d] > n_grid - bound and vv[d] > 0.0):
            vv[d] = 0.0
    grid_v[i, j, k] = vv


@wp.kernel
def g2p(x: wp.array(dtype=wp.vec3), v: wp.array(dtype=wp.vec3), C: wp.array(dtype=wp.mat33),
        J: wp.array(dtype=float), grid_v: wp.array3d(dtype=wp.vec3), dx: float, inv_dx: float, dt: float):
    p = wp.tid()
    Xp = x[p] * inv_dx
    base = wp.vec3i(int(Xp[0] - 0.5), int(Xp[1] - 0.5), int(Xp[2] - 0.5))
    fx = Xp - wp.vec3(float(base[0]), float(base[1]), float(base[2]))
    w = weights(fx)
    new_v = wp.vec3(0.0)
    new_C = wp.mat33(0.0)
    for a in range(3):
        for b in range(3):
            for c in range(3):
                dpos = (wp.vec3(float(a), float(b), float(c)) - fx) * dx
                weight = w[0, a] * w[1, b] * w[2, c]
                g_v = grid_v[base[0] + a, base[1] + b, base[2] + c]
                new_v = new_v + weight * g_v
                new_C = new_C + 4.0 * weight * wp.outer(g_v, dpos) * inv_dx * inv_dx
    v[p] = new_v
    x[p] = x[p] + dt * new_v
    J[p] = J[p] * (1.0 + dt * wp.trace(new_C))
    C[p] = new_C


def run(n_grid, steps, warmup, threads):
    wp.init()
    dev = "cpu"
    n = n_grid**3 // 4
    dx, inv_dx = 1.0 / n_grid, float(n_grid)
    dt = 8e-5
    p_vol = (dx * 0.5)**2
    p_mass = p_vol * 1.0
    E, gravity, bound = 400.0, 9.8, 3
    rng = np.random.default_rng(20261129)
    x = wp.array((rng.random((n, 3)) * 0.4 + 0.15).astype(np.float32), dtype=wp.vec3, device=dev)
    v = wp.zeros(n, dtype=wp.vec3, device=dev)
    C = wp.zeros(n, dtype=wp.mat33, device=dev)
    J = wp.array(np.ones(n, dtype=np.float32), dtype=float, device=dev)
    grid_v = wp.zeros((n_grid,) * 3, dtype=wp.vec3, device=dev)
    grid_m = wp.zeros((n_grid,) * 3, dtype=float, device=dev)
    shape = (n_grid,) * 3

    def substep():
        wp.launch(clear, dim=shape, inputs=[grid_v, grid_m], device=dev)
        wp.launch(p2g, dim=n, inputs=[x, v, C, J, grid_v, grid_m, dx, inv_dx, dt, p_vol, p_mass, E], device=dev)
        wp.launch(grid_op, dim=shape, inputs=[grid_v, grid_m, n_grid, dt, gravity, bound], device=dev)
        wp.launch(g2p, dim=n, inputs=[x, v, C, J, grid_v, dx, inv_dx, dt], device=dev)

    for _ in range(warmup):  # the first launch compiles the kernels
        substep()
    wp.synchronize_device(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        substep()
    wp.synchronize_device(dev)
    seconds = time.perf_counter() - t0
    xs = x.numpy()
    if not np.all(np.isfinite(xs)):
        raise SystemExit("warp_mpm3d: non-finite particle positions")
    return {"scene": "warp_mpm3d_fluid", "warp": wp.config.version, "particles": n, "grid": n_grid,
            "threads": threads, "steps": steps, "seconds": seconds,
            "particle_steps_per_second": n * steps / seconds, "mean_y": float(xs[:, 1].mean())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    r = run(a.grid, a.steps, a.warmup, a.threads)
    print(f"warp {r['warp']} cpu: N={r['particles']} G={r['grid']} (one thread) steps={r['steps']} "
          f"{r['seconds']:.3f} s {r['particle_steps_per_second'] / 1e6:.2f} M p-steps/s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
