#!/usr/bin/env python3
"""report.py - turn scripts/bench's log into the console table, a CSV of
every raw value, a Markdown report and PNG plots (plots.py, gnuplot).

Medians, minima and maxima are taken over every raw value of every round;
nothing is filtered out.  Every ratio is rgn's figure divided by the
other's: below 1 rgn is faster (or smaller), above 1 it is slower.

usage: report.py LOG --out DIR [--command TEXT] [--machine FILE]
                 [--expected binary-trees.expected]
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
from benchlib import (fmt, fmt_ratio, fmt_small, md_table, ratio, stats,  # noqa: E402
                      write_csv)
from benchlog import (BASE, OURS, competitors, expected_text,  # noqa: E402
                      faults_label, faults_per_op, medians, parse, row_label,
                      values)
from plots import plots  # noqa: E402

GOAL_REF = "apr-default"         # "APR" in the goals
GOAL_ALT = "apr"                 # shown beside it

# (text, workload, rgn's metric, reference, limit, the size the goal is set
# at or None).  reference (allocator, metric): rgn's median over that
# allocator's median of that metric must be <= limit (OURS: rgn's own
# figure, as the memset floor measured in rgn's process); None: rgn's
# median must be < limit.
GOALS = [
    ("allocate+write 8 B, cache-resident: rgn cursor API <= 1.1x the memset "
     "floor", "alloc", "allocc8_ns", (OURS, "floor8_ns"), 1.1, None),
    ("allocate+write 8 B, cache-resident: rgn cursor API <= 0.8x the textbook "
     "region", "alloc", "allocc8_ns", ("textbook", "alloc8_ns"), 0.8, None),
    ("allocate+write 8 B, cache-resident: rgn_alloc <= 1.0x the textbook "
     "region", "alloc", "alloc8_ns", ("textbook", "alloc8_ns"), 1.0, None),
    ("allocate+write 32 B, cache-resident: rgn cursor API <= 1.1x the memset "
     "floor", "alloc", "allocc32_ns", (OURS, "floor32_ns"), 1.1, None),
    ("allocate+write 32 B, cache-resident: rgn cursor API <= 0.8x the "
     "textbook region", "alloc", "allocc32_ns", ("textbook", "alloc32_ns"),
     0.8, None),
    ("allocate+write 32 B, cache-resident: rgn_alloc <= 1.0x the textbook "
     "region", "alloc", "alloc32_ns", ("textbook", "alloc32_ns"), 1.0, None),
    ("binary-trees depth 21: rgn time <= 0.60x APR's", "binary-trees",
     "bintree_s", (GOAL_REF, "bintree_s"), 0.60, 21),
    ("binary-trees depth 21: rgn peak RSS <= 0.55x APR's", "binary-trees",
     "peak_rss_mib", (GOAL_REF, "peak_rss_mib"), 0.55, 21),
    ("churn: rgn ns per cycle <= 1/8 of APR's", "churn", "churn_ns",
     (GOAL_REF, "churn_ns"), 0.125, None),
    ("destroying a region of 10 M small (32 B) objects: < 1 ms", "alloc",
     "free32_ms", None, 1.0, 10000000),
]

# ---- the summary table ---------------------------------------------------

def summary_rows(log):
    rows = []
    for key in log.rows:
        med = medians(log, key)
        mine = med.get(OURS)
        others = [(med[a], a) for a in competitors(log) if a in med]
        best = min(others) if others else (None, None)
        if key[1].startswith("floor"):
            # the memset floor: the same loop in every process, no ratios
            rows.append((row_label(log, key), mine, med.get(BASE), None,
                         None, None, None))
            continue
        rows.append((row_label(log, key), mine, med.get(BASE),
                     ratio(mine, med.get(BASE)), best[1], best[0],
                     ratio(mine, best[0])))
    return rows


def console_table(log):
    head = "%-40s %9s %9s %9s   %-15s %8s %9s" % (
        "", OURS, BASE, OURS + "/" + BASE, "best other", "", OURS + "/best")
    lines = [head, "-" * len(head)]
    last_w = None
    for key, r in zip(log.rows, summary_rows(log)):
        if last_w is not None and key[0] != last_w:
            lines.append("")
        last_w = key[0]
        label = r[0] if len(r[0]) <= 40 else r[0][:39] + "~"
        lines.append("%-40s %9s %9s %9s   %-15s %8s %9s" % (
            label, fmt(r[1]), fmt(r[2]), fmt_ratio(r[3]), r[4] or "-",
            fmt(r[5]), fmt_ratio(r[6])))
    return lines


# ---- page faults per operation ------------------------------------------

def fmt_faults(v):
    """Faults per operation: exact zero stays 0, values from 0.001 up as
    fmt() writes them, smaller ones as 5.2e-7 (they span seven orders of
    magnitude, from steady churn to first touch)."""
    if v is None:
        return "-"
    if v == 0 or abs(v) >= 0.001:
        return fmt(v) if v else "0"
    m, e = ("%.1e" % v).split("e")
    return "%se%d" % (m, int(e))


def faults_rows(log):
    """(key, a -> median faults per operation over the rounds) for every
    row of the main table whose window holds operations."""
    out = []
    for key in log.rows:
        per = faults_per_op(log, key)
        if per:
            out.append((key, {a: stats(v).median for a, v in per.items()}))
    return out


def faults_console(log):
    """The second console table: the main table's layout, page faults per
    operation instead of time.  "fewest other" is the competitor with the
    fewest."""
    rows = faults_rows(log)
    if not rows:
        return []
    head = "%-40s %9s %9s %9s   %-15s %8s %9s" % (
        "page faults per operation", OURS, BASE, OURS + "/" + BASE,
        "fewest other", "", OURS + "/fewest")
    lines = [head, "-" * len(head)]
    last_w = None
    for key, med in rows:
        if last_w is not None and key[0] != last_w:
            lines.append("")
        last_w = key[0]
        label = faults_label(log, key)
        label = label if len(label) <= 40 else label[:39] + "~"
        mine = med.get(OURS)
        others = [(med[a], a) for a in competitors(log) if a in med]
        best = min(others) if others else (None, None)
        lines.append("%-40s %9s %9s %9s   %-15s %8s %9s" % (
            label, fmt_faults(mine), fmt_faults(med.get(BASE)),
            fmt_ratio(ratio(mine, med.get(BASE))), best[1] or "-",
            fmt_faults(best[0]), fmt_ratio(ratio(mine, best[0]))))
    return lines


FAULTS_NOTE = """Page faults (minor + major) per operation, medians over the rounds,
counted with getrusage inside each process: a row's window is its
metric's warm-up and timed runs, the operations those runs did, and
nothing else (not the process's start-up, not the allocator's set-up, not
the printing).  The windows follow one another in one process, so memory
first touched in one row's window is not faulted in again in a later
row's unless the allocator gave it back: a row near 0 after one near
1e-3 is reuse, and about one fault per 4 KiB allocated means memory
returned and touched anew in every run.  "whole workload" rows add up
every window of the process.  Rows whose window holds no operations
(alloc's free-all rows: the release runs inside the alloc row's runs, and
its faults are counted there) are left out.
"""


def faults_md(log):
    rows = faults_rows(log)
    if not rows:
        return ""
    allocs = [a for a in log.allocators if any(a in m for _, m in rows)]
    table = [(faults_label(log, key),) + tuple(fmt_faults(m.get(a))
                                               for a in allocs)
             for key, m in rows]
    return ("## Page faults per operation\n\n" + FAULTS_NOTE + "\n" +
            md_block([""] + allocs, table))


PERF_EVENTS = (("task-clock", "task-clock (ms)", 1.0),
               ("page-faults", "page faults", 1.0),
               ("context-switches", "context switches", 1.0))


def cells_md(log):
    """Per cell, the whole process: perf stat's software counts (when
    scripts/bench had perf) beside the getrusage windows' total."""
    if not any(log.perf.values()):
        return ""
    out = ["## Every cell, the whole process (perf stat)\n\n"
           "`perf stat -e task-clock,page-faults,context-switches` around "
           "each cell's process, medians over the rounds: start-up, set-up "
           "and warm-up included.  \"faults/op\" divides the process's page "
           "faults by its `ops` count; \"in windows\" is the same from the "
           "getrusage windows alone (the table above), whose difference is "
           "what start-up and set-up cost.\n\n"]
    for w in log.workloads:
        rows = []
        win = faults_per_op(log, (w, "peak_rss_mib"))
        for a in log.allocators:
            ev = log.perf.get((w, a))
            if not ev:
                continue
            ops = [o for o in log.ops.get((w, a), {}).values() if o]
            pf = ev.get("page-faults")
            per = (stats(pf).median / stats(ops).median
                   if pf and ops else None)
            rows.append((a,) + tuple(
                fmt(stats(ev[e]).median) if ev.get(e) else "-"
                for e, _, _ in PERF_EVENTS) + (
                fmt_faults(per),
                fmt_faults(stats(win[a]).median) if a in win else "-"))
        if rows:
            out.append("### %s\n\n" % w)
            out.append(md_block(["allocator"] + [t for _, t, _ in PERF_EVENTS]
                                + ["faults/op", "in windows"], rows))
    return "".join(out)


# ---- goals -----------------------------------------------------------------

NOT_RUN = "not measured in this run"


def goals(log):
    """(verdict, text, detail) per goal; the verdict is PASS, MISS, or
    says the goal was not measured (never MISS for a size not run)."""
    out = []
    for text, w, m, ref, limit, size in GOALS:
        mine = (medians(log, (w, m)) if (w, m) in log.raw else {}).get(OURS)
        other = None
        if ref is not None:
            other = (medians(log, (w, ref[1])) if (w, ref[1]) in log.raw
                     else {}).get(ref[0])
        if mine is None or (ref is not None and not other):
            who, what = (OURS, m) if mine is None else ref
            out.append((NOT_RUN, text, "no %s figure from %s" % (what, who)))
            continue
        if ref is None:
            got, detail = mine, "rgn %s" % fmt(mine)
        else:
            got = mine / other
            who = "rgn's memset floor" if ref[0] == OURS else ref[0]
            detail = "%.3fx (rgn %s, %s %s" % (got, fmt(mine), who,
                                              fmt(other))
            if ref[0] == GOAL_REF:
                alt = (medians(log, (w, ref[1])) if (w, ref[1]) in log.raw
                       else {}).get(GOAL_ALT)
                if alt:
                    detail += "; against tuned apr %.3fx" % (mine / alt)
            detail += ")"
        n = log.size_n.get(w)
        if size is not None and n is not None and n != size:
            quick = "mode default" in log.sizes.get(w, "")
            out.append(("not measured at its size in the %s run"
                        % ("quick" if quick else "this"), text,
                        "the goal is set at size %d, this run's is %d "
                        "(run --full); there: %s" % (size, n, detail)))
            continue
        ok = got < limit if ref is None else got <= limit
        out.append(("PASS" if ok else "MISS", text, detail))
    return out


# ---- correctness -------------------------------------------------------------

def correctness(log, expected_path):
    notes = []
    for w in log.workloads:
        checks = {a: v for a, v in log.checks[w].items()}
        values = set().union(*checks.values()) if checks else set()
        if len(values) == 1:
            notes.append("%s: the same check value from all %d allocators (%s)"
                         % (w, len(checks), next(iter(values))))
        elif values:
            notes.append("%s: CHECK VALUES DIFFER: %s" % (w, "; ".join(
                "%s %s" % (a, ",".join(sorted(v))) for a, v in checks.items())))
    outs = {k: v for k, v in log.output.items() if k[0] == "binary-trees"}
    if outs:
        depth = log.size_n.get("binary-trees")
        want = expected_text(expected_path, depth) if depth else None
        texts = {tuple(v) for v in outs.values()}
        if want is not None:
            bad = sorted({a for (w, a, r), v in outs.items() if v != want})
            notes.append("binary-trees depth %d: %s" % (
                depth, "output exactly as expected for every allocator and "
                "round (%d runs)" % len(outs) if not bad else
                "OUTPUT DIFFERS from the expected text for " + ", ".join(bad)))
        else:
            notes.append("binary-trees depth %s: %s (no expected text for "
                         "this depth)" % (depth, "the same output from every "
                                         "run" if len(texts) == 1 else
                                         "OUTPUTS DIFFER between runs"))
    return notes


# ---- cachegrind ----------------------------------------------------------------

def cachegrind(log):
    """(w, a) -> (Ir, D1 misses, LL misses) per operation, from the
    difference between the two sizes."""
    out = {}
    for (w, a), modes in log.cg.items():
        if "grind" not in modes or "grind2" not in modes:
            continue
        (o1, e1), (o2, e2) = modes["grind"], modes["grind2"]
        if o2 <= o1:
            continue

        def per(*names):
            return sum(e2.get(n, 0) - e1.get(n, 0) for n in names) / (o2 - o1)
        out[(w, a)] = (per("Ir"), per("D1mr", "D1mw"),
                       per("ILmr", "DLmr", "DLmw"))
    return out


# ---- writing ---------------------------------------------------------------------

METHOD = """\
## How it was measured

- Every (workload, allocator) cell is a process of its own (`bench-<allocator>
  <workload>`), run once per round; rounds go round the allocators in a
  rotated order, so that noise on the machine falls on all of them alike.
  Peak RSS is the process's high-water mark (`VmHWM`, which unlike
  `ru_maxrss` does not include the shell that started it), so it belongs to
  that cell alone.
- Medians and min–max are over every timed run of every round.  Workloads
  other than binary-trees do one untimed warm-up run in each process first,
  so the timed runs use memory the allocator already holds.
- Ratios are rgn's median divided by the other's: below 1 rgn is faster or
  smaller.  "best other" is the competitor with the lowest median in that
  row.
- malloc-style allocators (glibc, jemalloc, tcmalloc) free every object, as a
  program written for them would: binary-trees and the compiler passes walk
  their trees, the request handler frees from its list of objects.  Region
  allocators drop a region whole.  In *alloc*, their pointer list (8 bytes
  per object) is part of their RSS.
- rgn's retained free memory is raised to what the workload holds at its
  peak, so that blocks freed in the warm-up are reused rather than faulted
  in again (glibc keeps freed memory in its heaps, APR in its free lists).
  The textbook region and obstack take their chunks from glibc malloc, whose
  trim threshold is raised the same way (`mallopt(M_TRIM_THRESHOLD, ...)`),
  as a user tuning them would; by default glibc would hand the pages back
  after every destroy and fault them in again.  The last section lists each
  allocator's set-up.
- *alloc* times allocating each object and writing all of it (every word),
  as a program initialising it would, so that page faults and cache misses
  of fresh memory count for every allocator alike.  Its *memset floor* rows
  time the same loop with the allocation replaced by the next address of a
  buffer already written once: the cost of the writes alone.  The floor
  does not depend on the allocator (every process measures its own).  The
  8 and 32 B sizes run twice: in 1 MiB regions made and dropped over and
  over (cache-resident), and in one region of N objects (the labels give the
  bytes live; at --full, 320 MiB at 32 B).  Rows marked "cursor API" are
  rgn's inline bump cursor.
- APR twice: *apr-default* creates every pool with `apr_pool_create(&p,
  NULL)`, a child of the global pool whose allocator takes a mutex; *apr*
  makes every pool a child of an unmanaged, mutex-free parent per thread,
  APR at its fastest.  The goals use apr-default as "APR".
- jemalloc-arena: an arena per region (`arenas.create` once, then reused),
  `mallocx(MALLOCX_ARENA(i) | MALLOCX_TCACHE_NONE)`, and `arena.<i>.reset`
  to drop it.  mimalloc-heap: `mi_heap_new` / `mi_heap_malloc` /
  `mi_heap_destroy`.  talloc: `talloc_new(NULL)` / `talloc_size` /
  `talloc_free`.  obstack: `obstack_init` / `obstack_alloc` /
  `obstack_free`.  textbook: 16 KiB malloc'd chunks, chained.
- Strings: `rgn_format` for rgn; for the others, formatted into a stack
  buffer and copied into memory from the allocator.
- binary-trees follows the Benchmarks Game's rules and prints its exact
  output; region allocators take a region per group of trees and reset it
  after each tree.  rgn's nodes are two 32-bit references (8 bytes), every
  other allocator's two pointers (16 bytes).
- Page faults per operation are counted by the program itself
  (getrusage, every thread): a metric's window is its warm-up and timed
  runs, divided by the operations done in them, so the process's start-up
  and the allocator's set-up stay out.  A warm-up is where a fresh process
  first touches its memory; the timed runs fault again only when the
  allocator gave memory back.  With perf, `perf stat -e
  task-clock,page-faults,context-switches` around each process gives the
  whole-process figures beside them.
- Cachegrind figures (with `--cachegrind`) are simulated: each cell runs at
  two sizes under valgrind and the difference is divided by the difference
  in operations, so start-up costs cancel out.
"""


def md_block(head, rows):
    return "\n".join(md_table(head, rows, numeric=True)) + "\n\n"


def csv_rows(log):
    """Every raw value, then cachegrind's totals (round 0, run 1)."""
    for key in log.rows:
        for a in log.allocators:
            for rnd, run, v in log.raw[key].get(a, []):
                yield rnd, a, key[0], key[1], run, v
    for (w, m), by_a in log.faults.items():
        for a in log.allocators:
            for rnd, minor, major, ops in by_a.get(a, []):
                for name, v in (("minor", minor), ("major", major),
                                ("ops", ops)):
                    yield rnd, a, w, "faults_%s_%s" % (name, m), 1, v
    for (w, a), events in log.perf.items():
        for e, vals in events.items():
            for i, v in enumerate(vals):
                yield i + 1, a, w, "perf_" + e, 1, v
    for (w, a), modes in sorted(log.cg.items()):
        for mode, (ops, ev) in sorted(modes.items()):
            yield 0, a, w, "cg_%s_ops" % mode, 1, int(ops)
            for e, n in ev.items():
                yield 0, a, w, "cg_%s_%s" % (mode, e), 1, int(n)


def save_csv(log, path, command, machine):
    comments = (["command: %s" % command] + list(machine) +
                ["%s: %s" % (a, i) for a in log.allocators for i in log.info[a]])
    write_csv(path, comments, ["round", "allocator", "workload", "metric",
                               "run", "value"],
              csv_rows(log), "%d,%s,%s,%s,%d,%r")


def write_md(log, path, args, machine, console, goal_list, notes, grind,
             pictures, plot_note, faults):
    rounds = max((r for d in log.raw.values() for v in d.values()
                  for r, _, _ in v), default=0)
    with open(path, "w") as f:
        f.write("# rgn against the allocators users would pick instead\n\n")
        f.write("Command: `%s` (%d round%s).  Every figure below was "
                "measured in this run; raw values are in "
                "[results.csv](results.csv), program output in "
                "[log.txt](log.txt).\n\n" % (args.command, rounds,
                                              "" if rounds == 1 else "s"))
        skipped = [m.split(":", 1)[1].strip() for m in machine
                   if m.startswith("skipped:")]
        if skipped:
            f.write("Not measured: %s.\n\n" % skipped[0])
        f.write("## Summary\n\nMedians; ratios are rgn / other (below 1: "
                "rgn is faster or smaller).\n\n```\n%s\n```\n\n"
                % "\n".join(console))
        if faults:
            f.write("Page faults per operation in the same rows (details: "
                    "[below](#page-faults-per-operation)):\n\n```\n%s\n"
                    "```\n\n" % "\n".join(faults))
        f.write("## Goals\n\n")
        for status, text, detail in goal_list:
            f.write("- **%s** %s: %s\n" % (status, text, detail))
        f.write("\nThe sys-walk goals (rgn against glibc) have their verdicts "
                "in its own section, when it runs.\n")
        f.write("\n## Correctness\n\n")
        f.write("".join("- %s\n" % n for n in notes))
        if log.failures:
            f.write("\nFailed cells:\n\n")
            f.write("".join("- %s\n" % x for x in log.failures))
        f.write("\n## Plots\n\n")
        if plot_note:
            f.write("%s.\n\n" % plot_note)
        for p in pictures:
            f.write("![%s](%s)\n\n" % (p[:-4], p))

        f.write(faults_md(log))
        f.write(cells_md(log))
        f.write("## Every allocator\n\n")
        for key in log.rows:
            vals = log.raw[key]
            med = medians(log, key)
            mine = med.get(OURS)
            f.write("### %s\n\n" % row_label(log, key))
            rows = []
            for a in log.allocators:
                if a not in vals:
                    continue
                m, lo, hi, n = stats(values(vals[a]))
                rows.append((a, fmt(m), "%s–%s" % (fmt(lo), fmt(hi)), n,
                             "" if a == OURS else fmt_ratio(ratio(mine, m))))
            f.write(md_block(["allocator", "median", "min–max", "runs",
                              "rgn / this"], rows))
        one, two = ("request", "request_us"), ("threads", "threads2_us")
        if one in log.raw and two in log.raw:
            f.write("### Scaling: two threads against one\n\n"
                    "Requests served per second by two threads at once, "
                    "divided by one thread's (2.00 is perfect scaling).\n\n")
            m1, m2 = medians(log, one), medians(log, two)
            f.write(md_block(["allocator", "speed-up"], [
                (a, "%.2f" % (2 * m1[a] / m2[a])) for a in log.allocators
                if a in m1 and a in m2 and m2[a]]))
        if grind:
            f.write("## Cachegrind (simulated, per operation)\n\n")
            f.write("Instructions, D1 misses and LL misses per operation "
                    "(what an operation is: see each workload's file; "
                    "binary-trees: a node of the iteration trees).\n\n")
            for w in log.workloads:
                rows = [(a,) + tuple(fmt_small(x) for x in grind[(w, a)]) +
                        ("" if a == OURS or (w, OURS) not in grind else
                         fmt_ratio(ratio(grind[(w, OURS)][0], grind[(w, a)][0])),)
                        for a in log.allocators if (w, a) in grind]
                if rows:
                    f.write("### %s\n\n" % w)
                    f.write(md_block(["allocator", "Ir/op", "D1 miss/op",
                                      "LL miss/op", "rgn Ir / this"], rows))
        f.write(METHOD)
        f.write("\n## Machine\n\n")
        f.write("".join("- %s\n" % m for m in machine))
        f.write("\n## How each allocator is set up\n\n")
        f.write("What each executable printed about itself (its `info` "
                "lines): version, how a region is made and dropped, and "
                "every setting changed from the allocator's default.\n\n")
        for a in log.allocators:
            setup = [i for i in log.info[a] if i.startswith("allocator ")]
            rest = [i for i in log.info[a] if i not in setup]
            f.write("- **%s**: %s\n" % (a, "; ".join(
                i[len("allocator "):] for i in setup) or
                "printed no set-up line"))
            f.write("".join("  - %s\n" % i for i in rest))
        f.write("\nWorkloads:\n\n")
        for w in log.workloads:
            if w in log.sizes:
                f.write("- %s\n" % log.sizes[w])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--out", required=True, help="the output folder")
    ap.add_argument("--command", default="", help="the command that ran")
    ap.add_argument("--machine", help="file of 'key: value' machine lines")
    ap.add_argument("--expected", help="binary-trees.expected")
    args = ap.parse_args()

    log = parse(args.log)
    if not log.rows:
        sys.exit("report.py: no results in %s" % args.log)
    machine = []
    if args.machine:
        with open(args.machine) as f:
            machine = [ln.rstrip("\n") for ln in f if ln.strip()]

    console = console_table(log)
    faults = faults_console(log)
    goal_list = goals(log)
    notes = correctness(log, args.expected)
    grind = cachegrind(log)
    pictures, plot_note = plots(log, args.out)

    print("\n".join(console))
    if faults:
        print()
        print("\n".join(faults))
    print("\ngoals (verdicts: PASS, MISS, or not measured):")
    for status, text, detail in goal_list:
        print("  %s  %s: %s" % (status, text, detail))
    print("\ncorrectness:")
    for n in notes:
        print("  " + n)
    for x in log.failures:
        print("  FAILED: " + x)
    for m in machine:
        if m.startswith(("perf:", "skipped:")):
            print(m)

    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write("\n".join(console) + "\n")
        if faults:
            f.write("\n" + "\n".join(faults) + "\n")
    save_csv(log, os.path.join(args.out, "results.csv"), args.command,
             machine)
    write_md(log, os.path.join(args.out, "report.md"), args, machine, console,
             goal_list, notes, grind, pictures, plot_note, faults)


if __name__ == "__main__":
    main()
