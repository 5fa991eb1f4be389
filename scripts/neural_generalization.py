#!/usr/bin/env python3
"""The generalization study of issue 4 (item 4b; docs/FITTING.md, "Does a trained law generalize?").

For each of NCLaw's four materials (jelly, plasticine, sand, water; ground truth from the project's analytic
materials at NCLaw's values):
  1. simulate the truth on ONE training trajectory, the cube of scenes/fit_<material>_3d.json, with the
     particle state in the frames (outputs.state, for teacher forcing);
  2. train a fresh neural law on it with `ductile fit --teacher-forcing` (growing windows, Adam), for at most
     --iterations iterations or --minutes of wall time (the run is stopped there; its last saved weights are
     used). The materials named by --plastic get the learned plastic return mapping ("plastic": true); with
     --strain-scale data (the default) the network's inputs are normalized by the strain scale e of the
     training trajectory: the 90th percentile, over particles and frames, of the largest |invariant| of the
     observed F (F^T F - I and det F - 1), and its stress scale is E e (outputs of order one);
  3. fit the best analytic elastic baseline, fixed corotated (E, nu), to the same trajectory (L-BFGS);
  4. roll out the truth, the trained law, the untrained law (a fresh network: no stress) and the fitted
     elastic model on unseen cases, each over twice the training horizon: the cube at another velocity and
     spin, a sphere, and a mesh (assets/meshes/bunny.obj), and print the RMS position error against the truth
     per frame.
Writes OUT/<material>/... (scenes, runs, logs, train.json, results.json), OUT/results_<materials>.md and plots
OUT/<material>.svg and .png (matplotlib, when installed). Results: docs/FITTING.md.

  scripts/neural_generalization.py BUILD_DIR OUT_DIR [--materials jelly,sand] [--iterations 300]
                                   [--minutes 15] [--stage all|train|eval] [--plastic plasticine,sand,water]
                                   [--strain-scale data|raw]
"""
import argparse
import copy
import json
import math
import os
import signal
import struct
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# NCLaw's four settings: the training scene, its truth (--set overrides), the neural material's stress scale
# and wave speed, the elastic baseline's start, and the Adam learning rate.
SETTINGS = {
    "jelly": {"sets": {"E": 1e5, "nu": 0.2}, "scale": 1e5, "wave": 10.5, "E0": 1e5},
    "plasticine": {"sets": {"E": 3e5, "nu": 0.25, "yield_stress": 5e3}, "scale": 3e5, "wave": 19.0, "E0": 3e5},
    "sand": {"sets": {"E": 1e6, "nu": 0.2, "friction_angle": 25}, "scale": 1e6, "wave": 33.3, "E0": 1e6},
    "water": {"sets": {"bulk_modulus": 83333.33333333333, "viscosity": 0}, "scale": 1e5, "wave": 9.2,
              "E0": 1e5},
}
# Unseen cases: shape, initial velocity and spin (the training cubes move at about (1..3, -2..-3, 0.5)).
CASES = {
    "cube_new_velocity": {"shape": None, "velocity": [-1.0, -3.5, -0.8], "angular_velocity": [3, 1, 0]},
    "sphere": {"shape": {"type": "sphere", "center": [0.5, 0.36, 0.5], "radius": 0.11},
               "velocity": [-1.2, -2.5, 0.8], "angular_velocity": [3, 0, -2]},
    "bunny": {"shape": "bunny", "velocity": [0.6, -2.0, -1.2], "angular_velocity": [0, 3, 1]},
}


def read_ply_xyz(path, names=("x", "y", "z")):
    """The named properties (x, y, z) of a binary little-endian PLY with float properties (as `ductile simulate`
    writes)."""
    with open(path, "rb") as f:
        data = f.read()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    count, props = 0, []
    for line in data[:end].decode().splitlines():
        w = line.split()
        if w[:2] == ["element", "vertex"]:
            count = int(w[2])
        elif w[:1] == ["property"]:
            props.append(w[2])
    row = struct.Struct("<" + "f" * len(props))
    ix = [props.index(n) for n in names]
    return [tuple(r[i] for i in ix) for r in (row.unpack_from(data, end + k * row.size) for k in range(count))]


def strain_scale_of(run_dir):
    """The 90th percentile, over particles and frames 1.., of max |f_i(F)| with f = (F^T F - I, det F - 1)."""
    d = os.path.join(run_dir, "particles")
    names = ["F%d%d" % (i, j) for i in range(3) for j in range(3)]
    peaks = []
    for f in sorted(os.listdir(d))[1:]:
        if not f.endswith(".ply"):
            continue
        for r in read_ply_xyz(os.path.join(d, f), names):
            F = [r[0:3], r[3:6], r[6:9]]
            C = [[sum(F[k][i] * F[k][j] for k in range(3)) - (i == j) for j in range(3)] for i in range(3)]
            J = (F[0][0] * (F[1][1] * F[2][2] - F[1][2] * F[2][1]) - F[0][1] * (F[1][0] * F[2][2] - F[1][2] * F[2][0])
                 + F[0][2] * (F[1][0] * F[2][1] - F[1][1] * F[2][0]))
            peaks.append(max([abs(C[i][j]) for i in range(3) for j in range(i, 3)] + [abs(J - 1)]))
    peaks.sort()
    return peaks[int(0.9 * (len(peaks) - 1))]


def rms(a, b):
    if len(a) != len(b):
        raise RuntimeError("point counts differ: %d and %d" % (len(a), len(b)))
    return math.sqrt(sum((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 + (p[2] - q[2]) ** 2
                         for p, q in zip(a, b)) / len(a))


def frames_of(run_dir):
    d = os.path.join(run_dir, "particles")
    return [read_ply_xyz(os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".ply")]


def weights_file(fit_dir, name):
    """The weights `ductile fit` saved for material `name`: <name>_weights.safetensors (.pt in earlier builds)."""
    for ext in (".safetensors", ".pt"):
        path = os.path.join(fit_dir, "%s_weights%s" % (name, ext))
        if os.path.exists(path):
            return path
    return os.path.join(fit_dir, "%s_weights.safetensors" % name)


def save(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(path + ".tmp", path)


class Study:
    def __init__(self, args):
        self.ductile = os.path.abspath(os.path.join(args.build, "ductile"))
        self.out = os.path.abspath(args.out)
        self.args = args

    def run(self, cmd, log, timeout=None):
        """Runs cmd (niced by the caller's environment), output to log; returns (code, seconds, timed out)."""
        t0 = time.time()
        with open(log, "w") as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                code, timed_out = p.wait(timeout=timeout), False
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGTERM)  # the fit's files are rewritten atomically per iteration
                code, timed_out = p.wait(), True
        return code, time.time() - t0, timed_out

    def scene(self, name):
        s = json.load(open(os.path.join(ROOT, "scenes", "fit_%s_3d.json" % name)))
        s.pop("description", None)
        return s

    def truth_material(self, name, base):
        m = copy.deepcopy(base["materials"][0])
        m.update(SETTINGS[name]["sets"])
        return m

    def neural_material(self, name, weights=None, options=None):
        m = {"name": name, "model": "neural", "density": 1000, "wave_speed": SETTINGS[name]["wave"],
             "stress_scale": SETTINGS[name]["scale"]}
        m.update(options or {})
        if weights:
            m["weights"] = weights
        return m

    def elastic_material(self, name, E, nu):
        return {"name": name, "model": "fixed_corotated", "density": 1000, "E": E, "nu": nu}

    def write_scene(self, path, base, material, wrt=None, frames=None, case=None, state=False):
        s = copy.deepcopy(base)
        s["materials"] = [material]
        if wrt:
            s["gradient"] = {"wrt": wrt, "checkpoint": "sqrt"}
        else:
            s.pop("gradient", None)
        if frames:
            s["time"]["frames"] = frames
        if state:
            s["outputs"] = {"state": True}
        if case:
            obj = s["objects"][0]
            obj["velocity"], obj["angular_velocity"] = case["velocity"], case["angular_velocity"]
            c = obj["shape"].get("center", [0.45, 0.36, 0.5])
            if case["shape"] == "bunny":
                # bunny.obj spans about 0.95 x 0.6 x 0.9 m around (-0.003, 0, 0.208): scaled to about 0.28 m
                sc = 0.3
                obj["shape"] = {"type": "mesh", "file": os.path.join(ROOT, "assets", "meshes", "bunny.obj"),
                                "scale": sc, "translate": [c[0] + sc * 0.003, c[1] + 0.01, c[2] - sc * 0.208]}
            elif case["shape"]:
                obj["shape"] = case["shape"]
        save(path, s)
        return path

    def train(self, name):
        d = os.path.join(self.out, name)
        os.makedirs(d, exist_ok=True)
        base = self.scene(name)
        rec = {"material": name}
        truth_scene = self.write_scene(os.path.join(d, "truth_cube.json"), base, self.truth_material(name, base),
                                       state=True)
        code, _, _ = self.run([self.ductile, "simulate", truth_scene, "--out", os.path.join(d, "truth_cube"),
                               "-q"], os.path.join(d, "truth_cube.log"))
        if code:
            raise RuntimeError("%s: the truth failed (see %s/truth_cube.log)" % (name, d))
        # the elastic baseline: fixed corotated (E, nu) fitted to the same trajectory
        el_scene = self.write_scene(os.path.join(d, "elastic.json"), base,
                                    self.elastic_material(name, SETTINGS[name]["E0"], 0.3))
        E0 = SETTINGS[name]["E0"]
        cmd = [self.ductile, "fit", el_scene, "--observed", os.path.join(d, "truth_cube"), "--out",
               os.path.join(d, "elastic_fit"), "--iterations", "30",
               "--param", "materials/%s/E:log:%g:%g" % (name, E0 / 30, min(E0 * 3, 2e6)),
               "--param", "materials/%s/nu:linear:0.05:0.45" % name]
        code, secs, _ = self.run(cmd, os.path.join(d, "elastic_fit.log"))
        hist = json.load(open(os.path.join(d, "elastic_fit", "fit_state.json")))["history"]
        rec["elastic"] = {"command": " ".join(cmd[1:]), "exit": code, "wall_s": round(secs, 1),
                          "iterations": hist[-1]["iteration"], "loss_start": hist[0]["loss"],
                          "loss": hist[-1]["loss"], "E": hist[-1]["values"][0], "nu": hist[-1]["values"][1]}
        # the neural law, teacher-forced on growing windows; the options (plastic, strain scale) go with it
        options = {}
        if name in self.args.plastic.split(","):
            options["plastic"] = True
        if self.args.strain_scale == "data":
            # inputs of order one, and outputs too: the stress scale becomes the characteristic stress E e
            e = float("%.3g" % strain_scale_of(os.path.join(d, "truth_cube")))
            options["strain_scale"] = e
            options["stress_scale"] = float("%.3g" % (SETTINGS[name]["scale"] * e))
        rec["neural_options"] = options
        nn_scene = self.write_scene(os.path.join(d, "neural.json"), base, self.neural_material(name, None, options),
                                    wrt=["materials/%s/weights" % name])
        a = self.args
        cmd = [self.ductile, "fit", nn_scene, "--observed", os.path.join(d, "truth_cube"), "--out",
               os.path.join(d, "neural_fit"), "--optimizer", "adam", "--lr", str(a.lr), "--lr-decay",
               str(a.lr_decay), "--iterations", str(a.iterations), "--teacher-forcing", "--window",
               str(a.window), "--grow-every", str(a.grow_every)]
        code, secs, timed_out = self.run(cmd, os.path.join(d, "neural_fit.log"), timeout=a.minutes * 60)
        hist = json.load(open(os.path.join(d, "neural_fit", "fit_state.json")))["history"]
        rec["neural"] = {"command": " ".join(cmd[1:]), "exit": code, "stopped_at_time_limit": timed_out,
                         "wall_s": round(secs, 1), "iterations": hist[-1]["iteration"],
                         "loss_start": hist[0]["loss"], "loss": hist[-1]["loss"],
                         "weights": weights_file(os.path.join(d, "neural_fit"), name)}
        # the loss of the trained law over the whole training trajectory (no teacher forcing)
        full = os.path.join(d, "neural_full_rollout")
        code, _, _ = self.run([self.ductile, "fit", nn_scene, "--observed", os.path.join(d, "truth_cube"),
                               "--out", full, "--optimizer", "adam", "--iterations", "0", "--set",
                               "materials.%s.weights=%s" % (name, rec["neural"]["weights"])],
                              os.path.join(d, "neural_full_rollout.log"))
        if code == 0:
            rec["neural"]["full_rollout_loss"] = json.load(open(os.path.join(full, "fit_state.json")))[
                "history"][0]["loss"]
        save(os.path.join(d, "train.json"), rec)
        return rec

    def evaluate(self, name):
        d = os.path.join(self.out, name)
        rec = json.load(open(os.path.join(d, "train.json")))
        base = self.scene(name)
        frames = 2 * base["time"]["frames"]
        variants = {
            "truth": self.truth_material(name, base),
            "trained": self.neural_material(name, rec["neural"]["weights"], rec.get("neural_options")),
            "untrained": self.neural_material(name, None, rec.get("neural_options")),
            "elastic_fit": self.elastic_material(name, rec["elastic"]["E"], rec["elastic"]["nu"]),
        }
        rec["cases"] = {}
        for case_name, case in [("cube_training", None)] + list(CASES.items()):
            runs = {}
            for v, mat in variants.items():
                sc = self.write_scene(os.path.join(d, "%s_%s.json" % (case_name, v)), base, mat, frames=frames,
                                      case=case)
                run_dir = os.path.join(d, "%s_%s" % (case_name, v))
                code, secs, _ = self.run([self.ductile, "simulate", sc, "--out", run_dir, "-q"],
                                         os.path.join(d, "%s_%s.log" % (case_name, v)))
                # a failed rollout (a particle left the domain) keeps the frames written before the failure
                runs[v] = frames_of(run_dir) if os.path.isdir(os.path.join(run_dir, "particles")) else []
            truth = runs["truth"]
            if len(truth) != frames + 1:
                raise RuntimeError("%s: the truth of %s failed (see its log)" % (name, case_name))
            res = {"particles": len(truth[0]), "frames": frames, "rms": {}, "failed_after_frame": {}}
            for v in ("trained", "untrained", "elastic_fit"):
                res["rms"][v] = [rms(runs[v][f], truth[f]) for f in range(min(len(runs[v]), len(truth)))]
                if len(runs[v]) < len(truth):
                    res["failed_after_frame"][v] = len(runs[v]) - 1
            rec["cases"][case_name] = res
        save(os.path.join(d, "results.json"), rec)
        self.plot(name, rec)
        return rec

    def plot(self, name, rec):
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return
        cases = list(rec["cases"].keys())
        fig, axes = plt.subplots(1, len(cases), figsize=(4 * len(cases), 3.4), sharey=True)
        train_frames = rec["cases"][cases[0]]["frames"] // 2
        for ax, c in zip(axes, cases):
            for v, style in (("trained", "C0-"), ("untrained", "C3--"), ("elastic_fit", "C2-.")):
                e = rec["cases"][c]["rms"][v]
                if len(e) > 1:
                    ax.semilogy(range(1, len(e)), [max(x, 1e-9) for x in e[1:]], style, label=v.replace("_", " "))
                if v in rec["cases"][c].get("failed_after_frame", {}) and len(e) > 1:
                    ax.semilogy([len(e) - 1], [max(e[-1], 1e-9)], style[:2] + "x", ms=8)  # the rollout failed here
            ax.axvline(train_frames, color="0.6", lw=0.8)
            ax.set_title(c.replace("_", " ") + (" (2x horizon)" if c == "cube_training" else ""))
            ax.set_xlabel("frame")
        axes[0].set_ylabel("RMS position error [m]")
        axes[0].legend(fontsize=8)
        fig.suptitle("%s: neural law trained on one cube trajectory (frames 1..%d, grey line)" % (name, train_frames))
        fig.tight_layout()
        fig.savefig(os.path.join(self.out, "%s.svg" % name))
        fig.savefig(os.path.join(self.out, "%s.png" % name), dpi=80)
        plt.close(fig)


def table(results):
    lines = []
    for name, rec in results.items():
        n, e = rec["neural"], rec["elastic"]
        lines.append("### %s\n" % name)
        lines.append("neural options: %s\n" % json.dumps(rec.get("neural_options", {})))
        lines.append("training: %d Adam iterations in %.0f s%s, loss %.3g -> %.3g (teacher-forced windows); whole "
                     "rollout of the training cube: %s. Elastic fit: E = %.4g, nu = %.3f, loss %.3g -> %.3g, %d "
                     "L-BFGS iterations in %.0f s.\n" % (
                         n["iterations"], n["wall_s"], " (stopped at the time limit)" if n["stopped_at_time_limit"]
                         else "", n["loss_start"], n["loss"], "%.3g m^2" % n["full_rollout_loss"]
                         if "full_rollout_loss" in n else "n/a", e["E"], e["nu"], e["loss_start"], e["loss"],
                         e["iterations"], e["wall_s"]))
        for c, res in rec["cases"].items():
            F = res["frames"]
            cols = sorted(set([1, F // 4, F // 2, 3 * F // 4, F]))
            lines.append("%s (%d particles), RMS error [m] at frame | %s |" % (
                c, res["particles"], " | ".join(str(f) for f in cols)))
            lines.append("|---|" + "---|" * len(cols))
            for v in ("trained", "untrained", "elastic_fit"):
                r = res["rms"][v]
                lines.append("| %s | %s |" % (v.replace("_", " "), " | ".join(
                    "%.2e" % r[f] if f < len(r) else "failed" for f in cols)))
            lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build")
    ap.add_argument("out")
    ap.add_argument("--materials", default="jelly,plasticine,sand,water")
    ap.add_argument("--iterations", type=int, default=300)
    ap.add_argument("--minutes", type=float, default=15, help="wall-time limit of each neural training")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-decay", type=float, default=0.996)
    ap.add_argument("--window", type=int, default=2)
    ap.add_argument("--grow-every", type=int, default=40)
    ap.add_argument("--stage", default="all", choices=["all", "train", "eval"])
    ap.add_argument("--plastic", default="plasticine,sand,water",
                    help="materials whose law gets the learned plastic return mapping ('' for none)")
    ap.add_argument("--strain-scale", default="data", choices=["data", "raw"],
                    help="normalize the network's invariants by the training trajectory's strain (data) or not")
    args = ap.parse_args()
    study = Study(args)
    os.makedirs(study.out, exist_ok=True)
    results = {}
    for name in args.materials.split(","):
        if args.stage in ("all", "train"):
            t0 = time.time()
            study.train(name)
            print("%s: trained in %.0f s" % (name, time.time() - t0), flush=True)
        if args.stage in ("all", "eval"):
            results[name] = study.evaluate(name)
    if results:
        text = table(results)
        with open(os.path.join(study.out, "results_%s.md" % "_".join(results)), "w") as f:
            f.write(text + "\n")
        print(text)


if __name__ == "__main__":
    main()
