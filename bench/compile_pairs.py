#!/usr/bin/env python3
"""Compile times of two flag sets, measured in pairs (docs/BENCHMARKS.md, "Build time").

On a shared machine the same compile can take 1.8 times as long an hour later, so each file is compiled with
both flag sets at the same moment, one on each core, and each compile is timed to its own end. The commands
come from BUILD_DIR/compile_commands.json (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON); each variant
appends its flags to the file's command (g++ and clang keep the last -O), and the objects go to a temporary
folder.

  bench/compile_pairs.py build --files '/apps/' --a=-O3 --b=-O1
"""
import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", help="build folder with compile_commands.json")
    ap.add_argument("--files", default=".", help="regular expression on the source paths (default: all)")
    ap.add_argument("--a", default="", help="flags appended for variant A, e.g. -O3")
    ap.add_argument("--b", default="", help="flags appended for variant B, e.g. -O1")
    args = ap.parse_args()
    with open(f"{args.build}/compile_commands.json") as f:
        entries = [e for e in json.load(f) if re.search(args.files, e["file"])]
    if not entries:
        sys.exit(f"compile_pairs: no source in {args.build}/compile_commands.json matches {args.files!r}")
    total = {"a": 0.0, "b": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'A s':>7} {'B s':>7}  source (A: {args.a or 'as built'}, B: {args.b or 'as built'})")
        for i, e in enumerate(entries):
            base = re.sub(r" -o \S+", "", e["command"])
            runs = {}
            start = time.time()
            for key, flags in (("a", args.a), ("b", args.b)):
                cmd = f"{base} {flags} -o {shlex.quote(f'{tmp}/{key}{i}.o')}"
                # a process group each, so that a failure stops the other compile with its shell
                runs[key] = subprocess.Popen(cmd, shell=True, cwd=e["directory"], start_new_session=True)
            took = {}
            while len(took) < 2:
                time.sleep(0.02)
                for key, p in runs.items():
                    if key not in took and p.poll() is not None:
                        took[key] = time.time() - start
                        if p.returncode != 0:
                            for other in runs.values():
                                if other.poll() is None:
                                    os.killpg(other.pid, signal.SIGKILL)
                                    other.wait()
                            sys.exit(f"compile_pairs: variant {key.upper()} of {e['file']} failed")
            for key in total:
                total[key] += took[key]
            print(f"{took['a']:7.1f} {took['b']:7.1f}  {e['file']}", flush=True)
        print(f"{total['a']:7.1f} {total['b']:7.1f}  total of {len(entries)} files")


if __name__ == "__main__":
    main()
