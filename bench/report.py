#!/usr/bin/env python3
"""report.py - set the results of the bench-core-* executables side by side.

Input: a log in which scripts/bench prefixed every line an executable
printed with its round number:

    <round> raw <allocator> <benchmark> <run> <value>
    <round> sum <allocator> <benchmark> <median> <min> <max>
    <round> info <text>

The per-executable "sum" lines are ignored: medians, minima and maxima are
taken here over all raw values of all rounds.  Prints the table, and writes
a Markdown report and a CSV of every raw value (no filtering) when asked.
"""
import argparse
import collections
import statistics
import sys

ALLOCATORS = ["rgn", "glibc", "jemalloc", "apr-default", "apr"]   # table order; rgn first

# benchmark key -> (label, kind); kind picks the words used for ratios
BENCHMARKS = [
    ("alloc32_ns", "alloc 32 B (ns)", "time"),
    ("alloc32_release_ms", "free all 32 B (ms)", "time"),
    ("cycle64_ns", "new+alloc64+del (ns)", "time"),
    ("peak_rss_mib", "peak RSS (MiB)", "size"),
]

# (description, benchmark, competitor, factor): rgn must be factor times
# faster than the competitor's median.
TARGETS = [
    ("rgn_alloc(32) >= 2x faster than glibc malloc(32)",
     "alloc32_ns", "glibc", 2.0),
    ("rgn new+alloc+destroy >= 5x faster than the APR pool cycle "
     "(apr_pool_create(&p, NULL) + apr_palloc + apr_pool_destroy)",
     "cycle64_ns", "apr-default", 5.0),
    ("rgn new+alloc+destroy >= 5x faster than tuned APR "
     "(unmanaged parent, no mutex; not an acceptance target)",
     "cycle64_ns", "apr", 5.0),
]

METHOD = """How it was measured (bench/core.c has the details):

- *alloc 32 B*: 32-byte allocations into one region, all kept alive; only
  the allocation loop is timed, in batches that store each pointer in a
  cache-resident buffer (the same for every allocator).  Untimed, each
  object then gets 8 bytes written, and malloc's pointers are saved for
  free().  *free all* is the destroy (or one free() per object) after it.
- *new+alloc64+del*: create a region, allocate 64 bytes, destroy it; for
  glibc and jemalloc the nearest thing, malloc(64) + free().
- rgn's retained free memory is raised to hold the whole alloc run, so the
  timed runs reuse the blocks of the warm-up run (shown below).
- APR twice: *apr-default* creates each pool with apr_pool_create(&p, NULL)
  (a child of the global pool, whose allocator takes a mutex); *apr* makes
  each pool a child of an unmanaged parent with its own allocator and no
  mutex, APR at its fastest.
- Peak RSS is per executable, both benchmarks; for glibc and jemalloc it
  includes the harness's pointer list.

"""


def parse(path):
    raw = collections.defaultdict(list)   # (alloc, bench) -> [(round, run, v)]
    info = collections.OrderedDict()      # text -> None, in first-seen order
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            rnd, kind = parts[0], parts[1]
            if kind == "raw" and len(parts) == 6:
                raw[(parts[2], parts[3])].append(
                    (int(rnd), int(parts[4]), float(parts[5])))
            elif kind == "info":
                info[" ".join(parts[2:])] = None
    return raw, list(info)


def fmt(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.2g" % v


def ratio_text(v, base, kind):
    if base is None or base == 0 or v == 0:
        return "-"
    r = v / base
    if abs(r - 1) < 0.005:
        return "1.00"
    more, less = ("slower", "faster") if kind == "time" else ("more", "less")
    word = more if r > 1 else less
    r = r if r > 1 else 1 / r
    return "%sx %s" % ("%.0f" % r if r >= 100 else "%.1f" % r if r >= 10
                       else "%.2f" % r, word)


def summarise(raw):
    """(alloc, bench) -> (median, min, max, n)."""
    out = {}
    for key, vals in raw.items():
        vs = [v for _, _, v in vals]
        out[key] = (statistics.median(vs), min(vs), max(vs), len(vs))
    return out


def table(summary, allocators):
    head = "%-22s %-10s %9s %17s   %s" % (
        "benchmark", "allocator", "median", "min..max", "ratio vs rgn")
    lines = [head, "-" * len(head)]
    for bench, label, kind in BENCHMARKS:
        present = [a for a in allocators if (a, bench) in summary]
        if not present:
            continue
        base = summary.get(("rgn", bench), (None,))[0]
        for i, a in enumerate(present):
            med, lo, hi, _ = summary[(a, bench)]
            lines.append("%-22s %-10s %9s %17s   %s" % (
                label if i == 0 else "", a, fmt(med),
                "%s..%s" % (fmt(lo), fmt(hi)), ratio_text(med, base, kind)))
    return lines


def targets(summary):
    lines = []
    for text, bench, other, factor in TARGETS:
        mine = summary.get(("rgn", bench))
        theirs = summary.get((other, bench))
        if not mine or not theirs:
            lines.append("n/a   %s (not measured)" % text)
            continue
        got = theirs[0] / mine[0]
        lines.append("%-5s %s: measured %.2fx" % (
            "PASS" if got >= factor else "MISS", text, got))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--md", help="write the Markdown report here")
    ap.add_argument("--csv", help="write every raw value here")
    ap.add_argument("--command", default="", help="the command that ran")
    ap.add_argument("--machine", help="file of 'key: value' machine lines")
    args = ap.parse_args()

    raw, info = parse(args.log)
    if not raw:
        sys.exit("report.py: no results in %s" % args.log)
    seen = {a for a, _ in raw}
    allocators = [a for a in ALLOCATORS if a in seen] + sorted(
        seen - set(ALLOCATORS))
    summary = summarise(raw)
    machine = []
    if args.machine:
        with open(args.machine) as f:
            machine = [ln.rstrip("\n") for ln in f if ln.strip()]

    rounds = max(r for vals in raw.values() for r, _, _ in vals)
    tab = table(summary, allocators)
    tgt = targets(summary)
    print("\n".join(tab))
    print()
    print("targets (information only):")
    print("\n".join("  " + t for t in tgt))

    if args.csv:
        with open(args.csv, "w") as f:
            f.write("# command: %s\n" % args.command)
            for m in machine:
                f.write("# %s\n" % m)
            for i in info:
                f.write("# %s\n" % i)
            f.write("round,allocator,benchmark,run,value\n")
            for (a, b) in sorted(raw, key=lambda k: (
                    allocators.index(k[0]), k[1])):
                for rnd, run, v in raw[(a, b)]:
                    f.write("%d,%s,%s,%d,%s\n" % (rnd, a, b, run, v))

    if args.md:
        with open(args.md, "w") as f:
            f.write("# rgn core benchmark\n\n")
            f.write("Command: `%s`\n\n" % args.command)
            f.write("Medians, minima and maxima over every timed run of "
                    "every round (%d rounds, allocators interleaved; each "
                    "executable does one untimed warm-up run per benchmark)."
                    "\n\n" % rounds)
            f.write("```\n%s\n```\n\n" % "\n".join(tab))
            f.write(METHOD)
            f.write("Targets (information only):\n\n")
            f.write("".join("- %s\n" % t for t in tgt))
            f.write("\n## Machine\n\n")
            f.write("".join("- %s\n" % m for m in machine))
            f.write("\n## Allocators and settings\n\n")
            f.write("".join("- %s\n" % i for i in info))
            f.write("\n## Raw values\n\n")
            for bench, label, _ in BENCHMARKS:
                f.write("### %s\n\n" % label)
                for a in allocators:
                    vals = raw.get((a, bench))
                    if not vals:
                        continue
                    by_round = collections.defaultdict(list)
                    for rnd, _, v in vals:
                        by_round[rnd].append(fmt(v))
                    f.write("- %s: %s\n" % (a, " | ".join(
                        "round %d: %s" % (r, " ".join(by_round[r]))
                        for r in sorted(by_round))))
                f.write("\n")


if __name__ == "__main__":
    main()
