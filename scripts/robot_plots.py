#!/usr/bin/env python3
"""Plots the robot demonstrations of scripts/robot_demo.sh: the loss against simulated episode steps for Adam
(gradients through the simulation) and CMA-ES (best so far), one panel per robot, as an SVG.

    python3 scripts/robot_plots.py OUT_DIR docs/figures/robots_training.svg     (needs matplotlib)
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def history(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return [int(r["simulated_steps"]) for r in rows], [float(r["loss"]) for r in rows]


def main():
    out, fig_path = sys.argv[1], sys.argv[2]
    robots = [r for r in ("walker_2d", "quadruped_2d", "quadruped_3d", "crawler_3d")
              if os.path.exists(os.path.join(out, f"{r}_adam", "history.csv"))]
    fig, axes = plt.subplots(1, len(robots), figsize=(4 * len(robots), 3.2), squeeze=False)
    for ax, robot in zip(axes[0], robots):
        s, l = history(os.path.join(out, f"{robot}_adam", "history.csv"))
        ax.plot([x / 1000 for x in s], l, label="Adam (gradients)")
        p = os.path.join(out, f"{robot}_cmaes", "history.csv")
        if os.path.exists(p):
            s, l = history(p)
            best, b = [], float("inf")
            for v in l:
                b = min(b, v)
                best.append(b)
            ax.plot([x / 1000 for x in s], best, label="CMA-ES (best so far)")
        ax.set_title(robot)
        ax.set_xlabel("simulated steps [thousands]")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(fig_path)
    print(fig_path)


if __name__ == "__main__":
    main()
