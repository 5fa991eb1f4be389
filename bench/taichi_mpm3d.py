"""Taichi CPU baseline for `ductile bench`: the scene of the Taichi MPM benchmark (taichi_benchmark suites/mpm,
taichi examples/simulation/mpm3d.py) on `ti.cpu`, timed the same way (warm-up steps excluded).

Scene: unit cube, n_grid = G, N = G^3 / 4 particles uniformly random in [0.15, 0.55]^3, dt = 8e-5,
p_vol = (dx/2)^2, p_rho = 1, J-fluid with E = 400 (tau = E (J - 1) I), gravity 9.8 m/s^2 along -y, walls
3 cells thick that zero the outward velocity. Dense grid, particles unsorted (as in the Taichi benchmark).

    pip install taichi==1.7.4
    python3 bench/taichi_mpm3d.py --grid 64 --steps 50 --threads 2 [--json out.json]
"""
import argparse
import json
import time

import taichi as ti


def run(n_grid, steps, warmup, threads):
    ti.init(arch=ti.cpu, cpu_max_num_threads=threads, default_fp=ti.f32, random_seed=20261129,
            offline_cache=False)
    dim = 3
    n = n_grid**dim // 4
    dx, inv_dx = 1.0 / n_grid, float(n_grid)
    dt = 8e-5
    p_vol = (dx * 0.5)**2
    p_mass = p_vol * 1.0
    E, gravity, bound = 400.0, 9.8, 3

    x = ti.Vector.field(dim, float, n)
    v = ti.Vector.field(dim, float, n)
    C = ti.Matrix.field(dim, dim, float, n)
    J = ti.field(float, n)
    grid_v = ti.Vector.field(dim, float, (n_grid,) * dim)
    grid_m = ti.field(float, (n_grid,) * dim)

    @ti.kernel
    def init():
        for p in x:
            x[p] = ti.Vector([ti.random() for _ in range(dim)]) * 0.4 + 0.15
            v[p] = ti.Vector.zero(float, dim)
            C[p] = ti.Matrix.zero(float, dim, dim)
            J[p] = 1.0

    @ti.kernel
    def substep():
        # clear the dense grid
        for I in ti.grouped(grid_m):
            grid_v[I] = ti.Vector.zero(float, dim)
            grid_m[I] = 0.0
        # P2G: quadratic B-splines, MLS-MPM affine momentum with the J-fluid stress
        for p in x:
            Xp = x[p] * inv_dx
            base = int(Xp - 0.5)
            fx = Xp - base
            w = [0.5 * (1.5 - fx)**2, 0.75 - (fx - 1)**2, 0.5 * (fx - 0.5)**2]
            stress = -dt * 4 * E * p_vol * (J[p] - 1) * inv_dx * inv_dx
            affine = ti.Matrix.identity(float, dim) * stress + p_mass * C[p]
            for offset in ti.static(ti.grouped(ti.ndrange(*((3,) * dim)))):
                dpos = (offset - fx) * dx
                weight = 1.0
                for d in ti.static(range(dim)):
                    weight *= w[offset[d]][d]
                grid_v[base + offset] += weight * (p_mass * v[p] + affine @ dpos)
                grid_m[base + offset] += weight * p_mass
        # grid: momentum to velocity, gravity, walls
        for I in ti.grouped(grid_m):
            if grid_m[I] > 0:
                grid_v[I] /= grid_m[I]
            grid_v[I][1] -= dt * gravity
            cond = (I < bound) & (grid_v[I] < 0) | (I > n_grid - bound) & (grid_v[I] > 0)
            grid_v[I] = ti.select(cond, 0, grid_v[I])
        # G2P: APIC velocity and affine field, advection, J update
        for p in x:
            Xp = x[p] * inv_dx
            base = int(Xp - 0.5)
            fx = Xp - base
            w = [0.5 * (1.5 - fx)**2, 0.75 - (fx - 1)**2, 0.5 * (fx - 0.5)**2]
            new_v = ti.Vector.zero(float, dim)
            new_C = ti.Matrix.zero(float, dim, dim)
            for offset in ti.static(ti.grouped(ti.ndrange(*((3,) * dim)))):
                dpos = (offset - fx) * dx
                weight = 1.0
                for d in ti.static(range(dim)):
                    weight *= w[offset[d]][d]
                g_v = grid_v[base + offset]
                new_v += weight * g_v
                new_C += 4 * weight * g_v.outer_product(dpos) * inv_dx * inv_dx
            v[p] = new_v
            x[p] += dt * new_v
            J[p] *= 1 + dt * new_C.trace()
            C[p] = new_C

    init()
    for _ in range(warmup):
        substep()
    ti.sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        substep()
    ti.sync()
    seconds = time.perf_counter() - t0
    return {"scene": "taichi_mpm3d_fluid", "particles": n, "grid": n_grid, "threads": threads,
            "steps": steps, "seconds": seconds, "particle_steps_per_second": n * steps / seconds}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json")
    a = ap.parse_args()
    r = run(a.grid, a.steps, a.warmup, a.threads)
    print(f"taichi {'.'.join(map(str, ti.__version__))} cpu: N={r['particles']} G={r['grid']} threads={r['threads']} "
          f"steps={r['steps']} {r['seconds']:.3f} s {r['particle_steps_per_second'] / 1e6:.2f} M p-steps/s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
