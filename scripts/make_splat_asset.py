#!/usr/bin/env python3
"""Generates the bundled 3D Gaussian Splatting asset assets/splats/jelly_bean.ply (standard library only).

A capsule-shaped "jelly bean" of anisotropic Gaussians in the 3DGS PLY layout of Kerbl et al. (2023):
x y z, nx ny nz, f_dc_0..2 (degree-0 spherical harmonics), opacity (logit), scale_0..2 (log standard
deviations), rot_0..3 (quaternion w x y z). Colours are stripes along the long axis; each Gaussian is flattened
along the surface normal so the bean looks smooth in a splat viewer. Deterministic (fixed seed).
Usage: scripts/make_splat_asset.py [output.ply]
"""
import math
import random
import struct
import sys

SH_C0 = 0.28209479177387814  # rgb = 0.5 + SH_C0 * f_dc


def quat_from_matrix(m):
    """Unit quaternion (w, x, y, z) of a rotation matrix given as rows."""
    t = m[0][0] + m[1][1] + m[2][2]
    if t > 0:
        s = math.sqrt(t + 1.0) * 2
        return (0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s)
    i = max(range(3), key=lambda k: m[k][k])
    j, k = (i + 1) % 3, (i + 2) % 3
    s = math.sqrt(1.0 + m[i][i] - m[j][j] - m[k][k]) * 2
    q = [0.0, 0.0, 0.0, 0.0]
    q[0] = (m[k][j] - m[j][k]) / s
    q[1 + i] = 0.25 * s
    q[1 + j] = (m[j][i] + m[i][j]) / s
    q[1 + k] = (m[k][i] + m[i][k]) / s
    return tuple(q)


def normalize(v):
    n = math.sqrt(sum(c * c for c in v))
    return [c / n for c in v]


def cross(a, b):
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "assets/splats/jelly_bean.ply"
    rng = random.Random(7)
    radius, half_len = 0.05, 0.05  # capsule along x: cylinder of half length 0.05 m with hemispherical caps
    stripes = [(0.95, 0.25, 0.3), (1.0, 0.85, 0.2), (0.3, 0.75, 0.4), (0.3, 0.5, 0.95)]
    rows = []
    while len(rows) < 3000:
        # uniform points in the capsule's bounding box, kept inside; surface-near ones flattened
        p = [rng.uniform(-half_len - radius, half_len + radius), rng.uniform(-radius, radius),
             rng.uniform(-radius, radius)]
        axis_x = max(-half_len, min(half_len, p[0]))
        d = [p[0] - axis_x, p[1], p[2]]
        r = math.sqrt(sum(c * c for c in d))
        if r > radius or r < 1e-6:
            continue
        n = normalize(d)
        # an orthonormal frame with the normal as the third axis
        t = normalize(cross(n, [0.0, 0.0, 1.0] if abs(n[2]) < 0.9 else [1.0, 0.0, 0.0]))
        b = cross(n, t)
        rot = [[t[0], b[0], n[0]], [t[1], b[1], n[1]], [t[2], b[2], n[2]]]  # columns t, b, n
        q = quat_from_matrix(rot)
        shell = r / radius
        s_tan = 0.006 if shell > 0.8 else 0.008
        s_nrm = 0.002 if shell > 0.8 else 0.008
        stripe = stripes[int((p[0] + half_len + radius) / (2 * (half_len + radius)) * 8) % len(stripes)]
        f_dc = [(c * (0.85 + 0.15 * shell) - 0.5) / SH_C0 for c in stripe]
        opacity = math.log(0.9 / 0.1)
        rows.append(p + n + f_dc + [opacity] + [math.log(s_tan), math.log(s_tan), math.log(s_nrm)] + list(q))
    names = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2", "opacity", "scale_0", "scale_1",
             "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    header = "ply\nformat binary_little_endian 1.0\ncomment 3D Gaussian splats made by scripts/make_splat_asset.py\n"
    header += f"element vertex {len(rows)}\n" + "".join(f"property float {n}\n" for n in names) + "end_header\n"
    with open(out, "wb") as f:
        f.write(header.encode("ascii"))
        for row in rows:
            f.write(struct.pack("<%df" % len(names), *row))
    print(f"wrote {len(rows)} Gaussians to {out}")


if __name__ == "__main__":
    main()
