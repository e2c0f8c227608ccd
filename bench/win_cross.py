#!/usr/bin/env python3
"""bench/win_cross.py - the Windows leg of the benchmark (scripts/bench
--cross win64): the driver's alloc, churn and binary-trees workloads,
built with mingw-w64, run under wine for rgn and for the C runtime's
malloc (msvcrt.dll, the process heap), each (workload, allocator) cell a
process of its own, the allocators' order rotated each round.  Prints,
for every metric, both medians and the ratio C runtime / rgn (above 1:
rgn takes less), and writes results.csv (every raw value) and table.txt
into the output folder.  Peak RSS is left out of the table (wine does
not track the peak working set).

The times are wine's on Linux: wine's heap behind msvcrt's malloc,
VirtualAlloc as Linux mappings.  They say how the two allocators compare
in this build, not what either costs on Windows itself.

mimalloc is not in this comparison: Debian ships it for the host
architecture only (libmimalloc-dev), with no mingw-w64 build.
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

WINE = "/usr/lib/wine/wine64"
ALLOCATORS = ["rgn", "crt"]
WORKLOADS = ["alloc", "churn", "binary-trees"]
NOTE = ("note: times under wine, not on Windows: wine's heap stands behind "
        "msvcrt's malloc and VirtualAlloc is a Linux mapping; the ratios "
        "compare the two allocators in this build, the absolute figures "
        "are not Windows' own")
NO_RSS = ("note: peak RSS left out: wine's PeakWorkingSetSize does not follow "
          "the process's memory (8.6 MiB reported with 61 MiB live)")
# what wine does not measure (results.csv keeps it all the same)
SKIP = {"peak_rss_mib"}
NO_MIMALLOC = ("note: mimalloc left out: Debian packages it for the host "
               "only (libmimalloc-dev), with no mingw-w64 build")


def run_cell(exe, workload, mode, log):
    """One process: its metrics {name: (label, [raw...])} and checks."""
    cmd = [WINE, exe, workload, "--mode", mode]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    log.write("$ %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
    if p.returncode != 0:
        sys.exit("win_cross: %s %s failed (%d):\n%s" %
                 (os.path.basename(exe), workload, p.returncode, p.stderr))
    metrics, labels, checks = {}, {}, []
    for line in p.stdout.splitlines():
        f = line.split(" ", 2)
        if f[0] == "label" and len(f) == 3:
            labels[f[1]] = f[2]
        elif f[0] == "raw":
            m = re.match(r"raw (\S+) \d+ (\S+)", line)
            metrics.setdefault(m.group(1), []).append(float(m.group(2)))
        elif f[0] == "check":
            checks.append(f[1])
    return {k: (labels.get(k, k), v) for k, v in metrics.items()}, checks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the build's bench/ folder")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", default="default", choices=["default", "full", "smoke"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="scripts/bench --cross win64")
    ap.add_argument("workloads", nargs="*")
    a = ap.parse_args()
    workloads = a.workloads or WORKLOADS
    for w in workloads:
        if w not in WORKLOADS:
            sys.exit("win_cross: %s is not one of %s" % (w, ", ".join(WORKLOADS)))
    os.makedirs(a.out, exist_ok=True)
    exes = {x: os.path.join(a.bin, "bench-%s.exe" % x) for x in ALLOCATORS}

    # values[(workload, metric, allocator)] = [raw values of every round]
    values, labels, checks = {}, {}, {}
    with open(os.path.join(a.out, "log.txt"), "w") as log:
        log.write("# %s\n" % a.command)
        for r in range(a.rounds):
            for w in workloads:
                order = ALLOCATORS[r % 2:] + ALLOCATORS[:r % 2]
                for x in order:
                    print("bench: round %d/%d %s %s" % (r + 1, a.rounds, w, x),
                          file=sys.stderr)
                    ms, ck = run_cell(exes[x], w, a.mode, log)
                    checks.setdefault((w, x), ck)
                    for k, (label, v) in ms.items():
                        labels[(w, k)] = label
                        values.setdefault((w, k, x), []).extend(v)

    # the same work: every allocator's checks agree
    for w in workloads:
        if checks.get((w, "rgn")) != checks.get((w, "crt")):
            sys.exit("win_cross: %s: rgn and crt disagree on the checks" % w)

    rows = []
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["workload", "metric", "allocator", "run", "value"])
        for (w, k, x), v in sorted(values.items()):
            for i, val in enumerate(v):
                out.writerow([w, k, x, i + 1, val])
    for w in workloads:
        for (ww, k) in sorted(labels):
            if ww != w or k in SKIP or (w, k, "rgn") not in values or \
               (w, k, "crt") not in values:
                continue
            rg = statistics.median(values[(w, k, "rgn")])
            cr = statistics.median(values[(w, k, "crt")])
            ratio = cr / rg if rg else float("nan")
            rows.append((w, k, rg, cr, ratio, labels[(w, k)]))

    lines = ["Windows leg (mingw-w64, wine), mode %s, %d round%s: medians, "
             "and C runtime malloc / rgn (above 1: rgn takes less)"
             % (a.mode, a.rounds, "" if a.rounds == 1 else "s"), ""]
    lines.append("%-13s %-26s %12s %12s %8s" % ("workload", "metric", "rgn", "crt",
                                                 "crt/rgn"))
    for w, k, rg, cr, ratio, label in rows:
        lines.append("%-13s %-26s %12.4g %12.4g %8.2f" % (w, k, rg, cr, ratio))
    lines += ["", "metrics:"]
    for w, k, _, _, _, label in rows:
        lines.append("  %s %s: %s" % (w, k, label))
    lines += ["", NOTE, NO_RSS, NO_MIMALLOC]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "table.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    print("bench: results in %s/" % a.out, file=sys.stderr)


if __name__ == "__main__":
    main()
