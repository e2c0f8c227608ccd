#!/usr/bin/env python3
"""smoke.py - the benchmark smoke test: every workload of every bench-<name>
executable at its smoke size.

usage: smoke.py binary-trees.expected bench-EXE...

Passes when every run exits 0, every workload's check value is the same
for all allocators, and binary-trees prints exactly the expected text.
"""
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from benchlib import run  # noqa: E402
from benchlog import PROGRAM_KINDS, expected_text, workload_size  # noqa: E402


def main():
    expected, exes = sys.argv[1], sys.argv[2:]
    if not exes:
        sys.exit("smoke.py: no executables")
    listing = run([exes[0], "--list"], check=True).stdout
    workloads = [ln.split()[0] for ln in listing.splitlines()
                 if ln and not ln[0].isspace()]
    failures = 0
    for w in workloads:
        checks = {}
        for exe in exes:
            name = os.path.basename(exe)
            p = run([exe, w, "--mode", "smoke"], timeout=60)
            if p.returncode != 0:
                print("FAIL %s %s: exit %d\n%s" % (name, w, p.returncode,
                                                  p.stderr))
                failures += 1
                continue
            lines = p.stdout.splitlines()
            checks[name] = [ln.split()[1] for ln in lines
                            if ln.startswith("check ")]
            if w == "binary-trees":
                depth = next(workload_size(ln) for ln in lines
                             if ln.startswith("info workload"))
                want = expected_text(expected, depth)
                got = [ln for ln in lines
                       if ln.split(" ", 1)[0] not in PROGRAM_KINDS]
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
