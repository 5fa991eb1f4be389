#!/usr/bin/env python3
"""Roll out a trained neural jelly law on an unseen shape, speed and horizon, against the ground truth.

The law is trained by `ductile fit` on scenes/fit_neural_jelly_3d.json (a cube thrown onto a floor, 12 frames)
from the frames of the analytic truth (fixed corotated, E = 1e5 Pa, nu = 0.2). Here a sphere is thrown at
another velocity and spin for 24 frames (twice the training horizon) with (a) the truth, (b) the trained
network, (c) the untrained network (zero output layer: no stress). Prints the RMS position error of (b) and
(c) against (a) per frame. Usage:

  scripts/neural_generalization.py BUILD_DIR WEIGHTS.pt OUT_DIR
"""
import json
import os
import struct
import subprocess
import sys


def read_ply_xyz(path):
    """x, y, z of a binary little-endian PLY with float properties (as `ductile simulate` writes)."""
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    header = data[:end].decode().splitlines()
    count, props = 0, []
    for line in header:
        w = line.split()
        if w[:2] == ["element", "vertex"]:
            count = int(w[2])
        elif w[:1] == ["property"]:
            props.append(w[2])
    row = struct.Struct("<" + "f" * len(props))
    ix, iy, iz = props.index("x"), props.index("y"), props.index("z")
    pts = []
    for k in range(count):
        r = row.unpack_from(data, end + k * row.size)
        pts.append((r[ix], r[iy], r[iz]))
    return pts


def rms(a, b):
    return (sum((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2 for p, q in zip(a, b)) / len(a)) ** 0.5


def main():
    build, weights, out = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    base = json.load(open(os.path.join(root, "scenes", "fit_neural_jelly_3d.json")))
    base["time"]["frames"] = 24
    base["objects"][0]["shape"] = {"type": "sphere", "center": [0.5, 0.4, 0.5], "radius": 0.11}
    base["objects"][0]["velocity"] = [-1.2, -2.5, 0.8]
    base["objects"][0]["angular_velocity"] = [3, 0, -2]
    base.pop("gradient", None)
    neural = base["materials"][0]
    variants = {
        "truth": {"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 1e5, "nu": 0.2},
        "trained": dict(neural, weights=weights),
        "untrained": dict(neural),
    }
    frames = {}
    for name, material in variants.items():
        scene = dict(base, materials=[material], name=name)
        path = os.path.join(out, name + ".json")
        json.dump(scene, open(path, "w"), indent=1)
        subprocess.run([os.path.join(build, "ductile"), "simulate", path, "--out", os.path.join(out, name), "-q"],
                       check=True, stdout=subprocess.DEVNULL)
        d = os.path.join(out, name, "particles")
        frames[name] = [read_ply_xyz(os.path.join(d, f)) for f in sorted(os.listdir(d))]
    print("frame  RMS error trained [m]  RMS error untrained [m]")
    for f in range(1, len(frames["truth"])):
        t = frames["truth"][f]
        print("%5d  %21.3e  %23.3e" % (f, rms(frames["trained"][f], t), rms(frames["untrained"][f], t)))


if __name__ == "__main__":
    main()
