#!/usr/bin/env python3
"""decode.py - pointer compression: raw 64-bit pointers against rgn's
32-bit references, in every decode mode built on this machine.

    decode.py --exe LABEL=PATH [--exe ...] --out DIR [--full] [--grind]
              [--rounds N] [--command "scripts/bench ..."]

Each PATH is a bench-chase built in one decode mode with one compiler
(LABEL is "compiler/mode").  Every run measures both sides in the same
process, so each ratio is ref over raw under the same conditions.  Writes
DIR/decode.csv (the exact commands on the first line, then every raw
row), DIR/decode.md and PNG plots; with --grind (implied by --full),
cachegrind D1 and LL misses per hop for one working set beyond L2, from
two runs per cell (with and without the hops, so that set-up cancels).
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Samples, cachegrind, csv_lines, md_table, run, show,  # noqa: E402
                      write_csv)
from plots import gnuplot_terminal, plot  # noqa: E402

QUICK = {"sizes": "32K,1M,16M", "bst": "64K"}
FULL = {"sizes": "32K,128K,512K,2M,8M,32M,128M,512M,1G", "bst": "1K,64K,1M,4M"}
GRIND_WS = "8M"          # beyond the 2 MiB L2 of this machine's cores
GRIND_HOPS = 1000000
# cachegrind simulates two levels; its last level is set to one core's
# L2 here (2 MiB, 16-way), the level an 8 MiB working set overflows (the
# VM reports a 480 MiB L3, which would hide every miss)
GRIND_LL = "2097152,16,64"
SMALL = 2 << 20          # "fits in L1/L2": at most 2 MiB of raw nodes
LARGE = 4 << 20          # the "4 MiB and more" goal


def human(n):
    n = int(n)
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d %siB" % (n >> shift, unit)
    return str(n)


def grind(exe, variant, hops):
    """(D1 misses, LL misses) of one --one run under cachegrind."""
    ev, err = cachegrind([exe, "--one", "random", variant, GRIND_WS, str(hops)],
                         {"RGN_SPACE": "1G"}, ["--LL=" + GRIND_LL])
    if ev is None:
        return None, err
    return (ev.get("D1mr", 0) + ev.get("D1mw", 0),
            ev.get("DLmr", 0) + ev.get("DLmw", 0)), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", action="append", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--grind", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--command", default="bench/decode.py")
    a = ap.parse_args()
    cfg = FULL if a.full else QUICK
    exes = [e.split("=", 1) for e in a.exe]
    os.makedirs(a.out, exist_ok=True)

    rows, cmds = [], []
    for label, exe in exes:
        argv = [exe, "--sizes", cfg["sizes"], "--bst", cfg["bst"],
                "--rounds", str(a.rounds)]
        cmds.append(show(argv))
        sys.stderr.write("decode: %s\n" % cmds[-1])
        p = run(argv)
        if p.returncode != 0:
            sys.stderr.write("decode: %s failed: %s\n" % (label, p.stderr.strip()))
            continue
        for f in csv_lines(p.stdout):
            if f[0] == "chase":
                rows.append((label, "chase/" + f[2], int(f[3]), f[4], float(f[6])))
            elif f[0] == "bst":
                rows.append((label, "bst", int(f[2]), f[3], float(f[5])))

    grinds = {}
    if a.grind or a.full:
        for label, exe in exes:
            per = {}
            for variant in ("raw", "ref"):
                with_hops, err = grind(exe, variant, GRIND_HOPS)
                base, err0 = grind(exe, variant, 0) if with_hops else (None, err)
                if with_hops and base:
                    per[variant] = tuple((w - b) / GRIND_HOPS
                                         for w, b in zip(with_hops, base))
                else:
                    per[variant] = err or err0
            grinds[label] = per
            sys.stderr.write("decode: cachegrind %s done\n" % label)

    write_csv(os.path.join(a.out, "decode.csv"),
              ["%s; per binary: %s" % (a.command, " | ".join(cmds))],
              ["build", "test", "size", "variant", "ns"], rows,
              "%s,%s,%d,%s,%.4f")

    # medians per (build, test, size, variant)
    samples = Samples()
    for label, test, size, var, ns in rows:
        samples.add((label, test, size, var), ns)
    med = samples.medians()
    labels = [l for l, _ in exes]
    tests = sorted({(t, s) for _, t, s, _ in med}, key=lambda x: (x[0], x[1]))

    md = ["# Pointer compression: raw pointers against rgn references", "",
          "Command: `%s`" % a.command, "",
          "Each build is bench-chase compiled with one compiler in one decode "
          "mode; each process measures raw 64-bit pointers (16-byte list "
          "nodes, 24-byte tree nodes) and rgn references (8-byte list nodes, "
          "16-byte tree nodes) side by side, %d rounds, alternating which goes "
          "first.  Figures are medians in ns per hop (chase) or per lookup "
          "(bst); *ratio* is ref / raw, below 1 when references are faster.  "
          "The size is the raw side's working set (N nodes x 16 bytes; the "
          "ref side holds the same N nodes in half of it); for bst it is the "
          "number of keys." % a.rounds, ""]
    table = []
    for t, s in tests:
        cells = [t, human(s) if t != "bst" else s]
        for l in labels:
            raw, ref = med.get((l, t, s, "raw")), med.get((l, t, s, "ref"))
            if raw is None or ref is None:
                cells += ["", "", ""]
            else:
                cells += ["%.2f" % raw, "%.2f" % ref, "**%.2f**" % (ref / raw)]
        table.append(cells)
    md += md_table(["test", "size"] + [h for l in labels
                                       for h in ("%s raw" % l, "ref", "ratio")],
                   table, numeric=True)
    md.append("")

    # the goals, for the best build on each size class
    def best_ratio(pred):
        out = {}
        for l in labels:
            rs = [med[(l, t, s, "ref")] / med[(l, t, s, "raw")]
                  for t, s in tests if t.startswith("chase") and pred(s)
                  and (l, t, s, "raw") in med and (l, t, s, "ref") in med]
            if rs:
                out[l] = max(rs)
        return out
    small, large = best_ratio(lambda s: s <= SMALL), best_ratio(lambda s: s >= LARGE)
    md.append("Goals (chase, worst ratio over the sizes of the class, per build):")
    md.append("")
    md += md_table(["build", "worst ratio, working set <= 2 MiB (goal <= 1.10)",
                    "worst ratio, working set >= 4 MiB (goal <= 0.85)"],
                   [(l, "%.2f" % small[l] if l in small else "-",
                     "%.2f" % large[l] if l in large else "-") for l in labels],
                   numeric=True)
    md.append("")

    if grinds:
        md.append("Cachegrind, random chase over %s (raw side), misses per hop "
                  "(simulated: D1 as detected, the last level set to one "
                  "core's 2 MiB L2; %d hops, set-up subtracted):"
                  % (GRIND_WS.replace("M", " MiB"), GRIND_HOPS))
        md.append("")
        table = []
        for l in labels:
            g = grinds.get(l, {})
            cells = [l]
            for v in ("raw", "ref"):
                x = g.get(v)
                cells += (["%.3f" % x[0], "%.3f" % x[1]] if isinstance(x, tuple)
                          else ["n/a (%s)" % (x or "?"), ""])
            table.append(cells)
        md += md_table(["build", "raw D1", "raw LL", "ref D1", "ref LL"], table,
                       numeric=True)
        md.append("")

    term = gnuplot_terminal()
    if term:
        for pattern in ("random", "sequential"):
            t = "chase/" + pattern
            sizes = sorted({s for tt, s in tests if tt == t})
            if not sizes:
                continue
            name = "decode-" + pattern
            with open(os.path.join(a.out, name + ".dat"), "w") as f:
                f.write("# size " + " ".join("%s-raw %s-ref" % (l, l) for l in labels) + "\n")
                for s in sizes:
                    vals = []
                    for l in labels:
                        for v in ("raw", "ref"):
                            x = med.get((l, t, s, v))
                            vals.append("%g" % x if x is not None else "NaN")
                    f.write("%d %s\n" % (s, " ".join(vals)))
            names = " ".join("%s:raw %s:ref" % (l, l) for l in labels)
            script = """set title "%s pointer chase: ns per hop (lower is better)"
set xlabel "working set of the raw side (bytes)"
set ylabel "ns per hop"
set logscale xy
set grid
set key outside right top noenhanced
plot for [i=1:%d] '%s.dat' using 1:(column(i+1)) with linespoints title word("%s", i) linetype i
""" % (pattern, 2 * len(labels), name, names)
            png = plot(a.out, name, script, term)
            if png:
                md.append("![%s](%s)" % (name, png))
                md.append("")
    with open(os.path.join(a.out, "decode.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
