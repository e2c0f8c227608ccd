#!/usr/bin/env python3
"""smoke.py - the benchmark smoke test: every workload of every bench-<name>
executable at its smoke size.

usage: smoke.py binary-trees.expected bench-EXE...

Passes when every run exits 0, every workload's check value is the same
for all allocators, binary-trees prints exactly the expected text, every
run reports its page faults over some operations (harness.h's "faults"
lines), and report.py turns the runs' log into its tables, the page
faults table among them.
"""
import os
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from benchlib import run  # noqa: E402
from benchlog import PROGRAM_KINDS, expected_text, workload_size  # noqa: E402


def report(log):
    """Run report.py on the smoke runs' log; 1 when it fails or leaves
    out the page faults table."""
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as out:
        path = os.path.join(out, "log.txt")
        with open(path, "w") as f:
            f.write("\n".join(log) + "\n")
        p = run([sys.executable, os.path.join(here, "report.py"), path,
                 "--out", out, "--command", "smoke"], timeout=120)
        md = os.path.join(out, "report.md")
        text = open(md).read() if os.path.exists(md) else ""
    if p.returncode != 0 or "## Page faults per operation" not in text:
        print("FAIL report.py on the smoke runs (exit %d):\n%s%s" % (
            p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        return 1
    print("ok   report.py on the smoke runs")
    return 0


def main():
    expected, exes = sys.argv[1], sys.argv[2:]
    if not exes:
        sys.exit("smoke.py: no executables")
    listing = run([exes[0], "--list"], check=True).stdout
    workloads = [ln.split()[0] for ln in listing.splitlines()
                 if ln and not ln[0].isspace()]
    failures = 0
    log = []
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
            alloc = name[len("bench-"):] if name.startswith("bench-") else name
            log += ["1 %s %s %s" % (alloc, w, ln) for ln in lines]
            if not any(ln.startswith("faults ") and ln.split()[-1] != "0"
                       for ln in lines):
                print("FAIL %s %s: no page-fault window with operations" % (
                    name, w))
                failures += 1
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
    failures += report(log)
    print("smoke: %d executables x %d workloads, %d failures" % (
        len(exes), len(workloads), failures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
