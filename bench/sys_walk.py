#!/usr/bin/env python3
"""sys_walk.py - the system-call wrapper benchmark for scripts/bench.

Generates a tree of small files once (in a temporary directory reused by
every round), checks that both walks read the same bytes, then runs
`sys-walk rgn` and `sys-walk glibc` as a process each, alternating which
goes first, for ROUNDS rounds.  Prints a table of medians (time, peak RSS)
side by side with the ratio rgn/glibc, appends the same table and every
raw value to DIR/report.md, and writes DIR/sys-walk.csv.  Each goal (rgn
against glibc) gets a verdict, PASS or MISS, on the console and in the
report.

usage: sys_walk.py SYS_WALK_EXE --out DIR [--rounds N] [--files N]
                   [--tmp DIR] [--log FILE]
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import Samples, md_table, rotated, run, write_csv  # noqa: E402

VARIANTS = ("rgn", "glibc")
METRICS = (("ms", "walk + read (ms)"), ("peak_rss_kib", "peak RSS (KiB)"))
# (text, metric, limit): rgn's median / glibc's must be <= limit
GOALS = (("sys-walk: rgn time <= 0.95x glibc's", "ms", 0.95),
         ("sys-walk: rgn peak RSS <= 1.0x glibc's", "peak_rss_kib", 1.0))


def verdicts(med):
    """(PASS or MISS, text, detail) per goal."""
    out = []
    for text, m, limit in GOALS:
        got = med["rgn"][m] / med["glibc"][m]
        out.append(("PASS" if got <= limit else "MISS", text,
                    "%.3fx (rgn %.1f, glibc %.1f)" % (
                        got, med["rgn"][m], med["glibc"][m])))
    return out


def line_of(exe, *args):
    return run([exe, *args], check=True).stdout.strip()


def parse(line):
    f = line.split()
    # "sys-walk VARIANT key value key value ..."
    return f[1], {f[i]: f[i + 1] for i in range(2, len(f) - 1, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("exe")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=20000)
    ap.add_argument("--tmp")
    ap.add_argument("--log")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="sys-walk-", dir=a.tmp)
    tree = os.path.join(tmp, "tree")
    raw = Samples()
    lines = []
    try:
        print("bench: sys-walk: generating %d files" % a.files, file=sys.stderr)
        line_of(a.exe, "gen", tree, str(a.files))
        lines.append(line_of(a.exe, "check", tree))
        facts = None
        for r in range(a.rounds):
            for v in rotated(VARIANTS, r):
                print("bench: sys-walk round %d/%d %s" % (r + 1, a.rounds, v),
                      file=sys.stderr)
                line = line_of(a.exe, v, tree)
                lines.append("%d %s" % (r + 1, line))
                name, kv = parse(line)
                for m, _ in METRICS:
                    raw.add((name, m), float(kv[m]))
                got = (kv["files"], kv["bytes"], kv["checksum"])
                if facts is None:
                    facts = got
                elif got != facts:
                    sys.exit("sys-walk: %s read something else: %s against %s"
                             % (v, got, facts))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = {v: {m: raw.median(v, m) for m, _ in METRICS} for v in VARIANTS}
    title = ("sys-walk: walk %s files (%s bytes) and read each into memory, "
             "median of %d rounds" % (facts[0], facts[1], a.rounds))
    head = "%-22s %12s %12s %12s" % ("", "rgn", "glibc", "rgn/glibc")
    table = [title, head, "-" * len(head)]
    for m, label in METRICS:
        table.append("%-22s %12.1f %12.1f %12.3f" % (
            label, med["rgn"][m], med["glibc"][m],
            med["rgn"][m] / med["glibc"][m]))
    goal_list = verdicts(med)
    print()
    print("\n".join(table))
    print("\nsys-walk goals (verdicts: PASS or MISS):")
    for status, text, detail in goal_list:
        print("  %s  %s: %s" % (status, text, detail))

    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "sys-walk.csv"),
              ["%s %s" % (a.exe, " ".join(sys.argv[2:]))],
              ["round", "variant", "metric", "value"],
              [(i + 1, v, m, x) for v in VARIANTS for m, _ in METRICS
               for i, x in enumerate(raw.values(v, m))], "%d,%s,%s,%g")
    if a.log:
        with open(a.log, "a") as f:
            f.writelines("sys-walk %s\n" % l for l in lines)
    with open(os.path.join(a.out, "report.md"), "a") as f:
        f.write("\n## System-call wrappers: sys-walk\n\n")
        f.write("`bench/sys-walk.c`: a tree of %s small files in directories of "
                "100, walked and read whole, each directory's files kept until "
                "it is done.  *rgn*: `rgn_list_dir` and `rgn_read_file` into a "
                "child region per directory.  *glibc*: `opendir`/`readdir` with "
                "`strdup`'d names, each file in a `malloc`'d buffer sized by "
                "`fstat`, freed on the way out.  One process per run, the two "
                "alternating; peak RSS is the program's `VmHWM` (`ru_maxrss` "
                "would count the parent's memory from before the exec).  Medians "
                "of %d rounds; raw values in `sys-walk.csv`.\n\n"
                % (facts[0], a.rounds))
        f.write("\n".join(md_table(["", "rgn", "glibc", "rgn/glibc"], [
            (label, "%.1f" % med["rgn"][m], "%.1f" % med["glibc"][m],
             "%.3f" % (med["rgn"][m] / med["glibc"][m]))
            for m, label in METRICS])) + "\n")
        f.write("\nGoals:\n\n")
        f.write("".join("- **%s** %s: %s\n" % g for g in goal_list))
        f.write("\nEvery run: " + "; ".join(
            "%s %s" % (v, ", ".join("%g" % x for x in raw.values(v, "ms")))
            for v in VARIANTS) + " ms.\n")


if __name__ == "__main__":
    main()
