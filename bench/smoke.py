#!/usr/bin/env python3
"""smoke.py - the benchmark smoke test: every workload of every bench-<name>
executable at its smoke size.

usage: smoke.py binary-trees.expected bench-EXE...

Passes when every run exits 0, every workload's check value is the same
for all allocators, and binary-trees prints exactly the expected text.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from benchlog import expected_text  # noqa: E402


def run(exe, workload):
    p = subprocess.run([exe, workload, "--mode", "smoke"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    expected, exes = sys.argv[1], sys.argv[2:]
    if not exes:
        sys.exit("smoke.py: no executables")
    listing = subprocess.run([exes[0], "--list"], capture_output=True,
                             text=True, check=True).stdout
    workloads = [ln.split()[0] for ln in listing.splitlines()
                 if ln and not ln[0].isspace()]
    failures = 0
    for w in workloads:
        checks = {}
        for exe in exes:
            name = os.path.basename(exe)
            rc, out, err = run(exe, w)
            if rc != 0:
                print("FAIL %s %s: exit %d\n%s" % (name, w, rc, err))
                failures += 1
                continue
            lines = out.splitlines()
            checks[name] = [ln.split()[1] for ln in lines
                            if ln.startswith("check ")]
            if w == "binary-trees":
                depth = next(int(ln.split("size ")[1].split()[0])
                             for ln in lines if ln.startswith("info workload"))
                want = expected_text(expected, depth)
                got = [ln for ln in lines if ln.split(" ", 1)[0] not in
                       ("info", "label", "raw", "sum", "check", "ops")]
                if got != want:
                    print("FAIL %s binary-trees output differs:\n%s" % (
                        name, "\n".join(got)))
                    failures += 1
        if len({tuple(v) for v in checks.values()}) > 1:
            print("FAIL %s: check values differ: %s" % (w, checks))
            failures += 1
        print("%-4s %-13s %d allocators" % (
            "ok" if not failures else "..", w, len(checks)))
    print("smoke: %d executables x %d workloads, %d failures" % (
        len(exes), len(workloads), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
