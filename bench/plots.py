"""plots.py - the PNG plots of the reports, drawn by gnuplot: the main
report's (plots()), and the means to draw one (gnuplot_terminal(),
plot()) for strategy.py and decode.py.

Each plot leaves its data (.dat) and script (.gp) beside the picture, so it
can be redrawn or changed by hand.
"""
import os
import re
import shutil
import sys

from benchlib import run, stats
from benchlog import BASE, values

COLORS = ["#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939",
          "#8c6d31", "#843c39"]


def gnuplot_terminal():
    gp = shutil.which("gnuplot")
    if not gp:
        return None
    p = run([gp, "-e", "set terminal pngcairo"])
    if p.returncode == 0 and not p.stderr.strip():
        return "pngcairo size 1100,560 font ',10'"
    return "png size 1100,560"


def plot(outdir, name, script, term):
    """Write name.gp and run it; line type i has the i-th colour."""
    with open(os.path.join(outdir, name + ".gp"), "w") as f:
        f.write("set terminal %s\nset output '%s.png'\n" % (term, name))
        f.write('cols = "%s"\n' % " ".join(COLORS))
        f.write("do for [i=1:%d] { set linetype i linecolor rgb word(cols, i) "
                "linewidth 1.5 }\n" % len(COLORS))
        f.write(script)
    p = run(["gnuplot", name + ".gp"], cwd=outdir)
    if p.returncode != 0:
        sys.stderr.write("report.py: gnuplot %s.gp: %s" % (name, p.stderr))
        return None
    return name + ".png"


def clustered(outdir, name, title, ylabel, keys, allocs, value, term,
              logscale=True):
    """Bars: one group per key, one bar per allocator, with min-max
    error bars; value(key, a) -> (median, min, max) or None."""
    with open(os.path.join(outdir, name + ".dat"), "w") as f:
        f.write("# group " + " ".join("%s lo hi" % a for a in allocs) + "\n")
        for key, label in keys:
            cells = []
            for a in allocs:
                v = value(key, a)
                cells.append("%g %g %g" % v if v else "NaN NaN NaN")
            f.write('"%s" %s\n' % (label, " ".join(cells)))
    script = """set title "%s"
set ylabel "%s"
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top
set grid ytics
set xtics rotate by -20 noenhanced
set key noenhanced
%s
plot for [i=1:%d] '%s.dat' using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) \\
     title word("%s", i) linetype i
""" % (title, ylabel, "set logscale y" if logscale else "set yrange [0:*]",
       len(allocs), name, " ".join(allocs))
    return plot(outdir, name, script, term)


def plots(log, outdir):
    term = gnuplot_terminal()
    if not term:
        return [], "gnuplot is not installed: no plots"
    made = []
    allocs = log.allocators

    def cell(key, a):
        v = log.raw.get(key, {}).get(a)
        return stats(values(v))[:3] if v else None

    # allocation cost by size
    # allocate + write in one region: alloc8d_ns, alloc32d_ns, alloc128_ns,
    # alloc1k_ns, alloc8k_ns (alloc8_ns and alloc32_ns are cache-resident)
    sizes = []
    for k in log.rows:
        m = re.fullmatch(r"alloc(\d+)(k?)(d?)_ns", k[1])
        if k[0] == "alloc" and m:
            size = int(m.group(1)) * (1024 if m.group(2) else 1)
            if m.group(3) or size > 32:
                sizes.append((k, size))
    if sizes:
        with open(os.path.join(outdir, "alloc-by-size.dat"), "w") as f:
            f.write("size " + " ".join(allocs) + "\n")
            for key, size in sizes:
                f.write("%d %s\n" % (size, " ".join(
                    "%g" % cell(key, a)[0] if cell(key, a) else "NaN"
                    for a in allocs)))
        made.append(plot(outdir, "alloc-by-size", """set title "allocate + write by size (one region, objects kept alive; median)"
set xlabel "object size (bytes)"
set ylabel "ns per object"
set logscale x 2
set logscale y 10
set key outside right top noenhanced
set grid
plot for [i=2:%d] 'alloc-by-size.dat' using 1:i with linespoints \\
     linetype (i-1) linewidth 2 title columnheader(i)
""" % (len(allocs) + 1), term))

    # every time metric but the per-size ones, relative to glibc
    keys = [k for k in log.rows if k[1] != "peak_rss_mib"
            and not k[1].startswith("perf_") and k[0] != "alloc"]
    keys += [k for k in log.rows if k[1] in ("alloc32_ns", "free32_ms")]
    if keys and any(BASE in log.raw[k] for k in keys):
        def rel(key, a):
            s, b = cell(key, a), cell(key, BASE)
            return tuple(x / b[0] for x in s) if s and b else None
        made.append(clustered(
            outdir, "time-vs-glibc",
            "time relative to glibc malloc (median, min-max; lower is better)",
            "time / glibc's", [(k, k[1].rsplit("_", 1)[0]) for k in keys],
            allocs, rel, term))

    rss = [k for k in log.rows if k[1] == "peak_rss_mib"]
    if rss:
        made.append(clustered(outdir, "peak-rss",
                              "peak RSS per cell (process running one workload)",
                              "MiB", [(k, k[0]) for k in rss], allocs, cell,
                              term))

    bt = ("binary-trees", "bintree_s")
    if bt in log.raw:
        depth = log.size_n.get("binary-trees", "?")
        with open(os.path.join(outdir, "binary-trees.dat"), "w") as f:
            for i, a in enumerate(allocs):
                t, m = cell(bt, a), cell(("binary-trees", "peak_rss_mib"), a)
                if t and m:
                    f.write('%g %g "%s" %d\n' % (m[0], t[0], a, i + 1))
        made.append(plot(outdir, "binary-trees", """set title "binary-trees depth %s: time and peak RSS (medians)"
set xlabel "peak RSS (MiB)"
set ylabel "seconds"
set grid
set key off
set offsets graph 0.05, graph 0.15, graph 0.08, graph 0.05
plot 'binary-trees.dat' using 1:2:4 with points pt 7 ps 2 linecolor variable, \\
     '' using 1:2:3 with labels offset 1.2,0.6 left noenhanced
""" % depth, term))
    return [m for m in made if m], None
