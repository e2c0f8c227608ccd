#!/usr/bin/env python3
"""heap.py - the heap section: rgn's heap regions against malloc-style
allocators, in whole programs and in a free-heavy churn.

    heap.py --build DIR --out DIR [--full] [--rounds N] [--command TEXT]

Rows (each cell a process of its own; every round runs every row, the
allocators in an order rotated each round):
  Lua         DIR/examples/rgn-lua on bench/lua/*.lua and, as one cell,
              every tests/lua/*.lua in turn: RGN_LUA_ALLOC=rgn (the state
              in one heap region) against RGN_LUA_ALLOC=libc with glibc's
              malloc, with jemalloc and with mimalloc preloaded
  speedtest1  SQLite's speedtest1 (scripts/speedtest1 names it) with
              DIR/examples/librgn-sqlite.so preloaded against SQLite's
              default (glibc), jemalloc and mimalloc preloaded
  churn       DIR/bench/heap-churn-<allocator> churn (heap-churn.c)
  destroy     DIR/bench/heap-churn-<allocator> destroy
Whatever is missing is skipped, with a line saying what and why.  Time
and peak RSS of the program cells come from /usr/bin/time around each
(wall time measured here, peak RSS its %M: the child's ru_maxrss); the
churn and destroy figures are the program's own (VmHWM for RSS).

Writes DIR/heap.csv (the commands, then every raw value), DIR/heap.md
(the tables, the goals, the set-up) and prints the tables.
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import (Samples, fmt, fmt_ratio, md_table, ratio, rotated,  # noqa: E402
                      run, show, write_csv)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIME = "/usr/bin/time"

# Sizes: (default, --full, --smoke).  The default keeps the section to
# about a minute of the default run; --full is the size the figures are
# quoted at; --smoke only shows that every row runs (CI).
SIZES = {
    "binary-trees.lua": ("12", "16", "6"),   # depth 14: about 1 s
    "strings.lua": ("0.3", "1", "0.01"),     # scale 1: about 1 s
    "tables.lua": ("0.3", "1", "0.01"),
    "speedtest1": ("10", "50", "1"),
    "churn_slots": (1 << 16, 1 << 20, 1 << 10),
    "churn_steps": (4000000, 20000000, 20000),
    "destroy_objects": (10000000, 10000000, 10000),
}
CHURN_ALLOCATORS = ["rgn", "glibc", "jemalloc", "mimalloc", "talloc"]
PROGRAM_ALLOCATORS = ["rgn", "glibc", "jemalloc", "mimalloc"]
GOAL_DESTROY_OBJECTS = 10000000
# tests/lua programs that are not for timing
LUA_TESTS_LEFT_OUT = {
    "memory.lua": "it allocates until the allocator fails, under the limits "
                  "its own test sets (RGN_SPACE, ulimit -v); unlimited, it "
                  "takes all the machine's memory",
}
RETAIN_ALL = "2G"                # more than the destroy row's objects take
RETAIN_ROW = "destroy, RGN_RETAIN=" + RETAIN_ALL


def preload_libs():
    """name -> path of the shared malloc libraries to preload (Debian's)."""
    libs = {}
    for name, so in (("jemalloc", "libjemalloc.so.2"), ("mimalloc", "libmimalloc.so.2")):
        hits = sorted(glob.glob("/usr/lib/*/" + so) + glob.glob("/usr/lib/" + so))
        if hits:
            libs[name] = hits[0]
    return libs


def pkgver(p):
    """The installed version (the first architecture's, when several are)."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}\\n", p],
                       capture_output=True, text=True)
    v = r.stdout.split()
    return v[0] if r.returncode == 0 and v else "not installed"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


class Cell:
    """One (row, allocator) cell: a command, its environment additions,
    and how its figures are read ("time": /usr/bin/time around it;
    "self": the program's metric,value lines)."""

    def __init__(self, row, alloc, argv, env=None, kind="time", cwd=None):
        self.row, self.alloc, self.argv = row, alloc, [str(a) for a in argv]
        self.env, self.kind, self.cwd = env or {}, kind, cwd


class Bench:
    def __init__(self, build, mode, rounds):
        self.build, self.mode, self.rounds = build, mode, rounds
        self.full = mode == 1
        self.rows = []           # row names, in table order
        self.cells = {}          # row -> [Cell]
        self.what = {}           # row -> what it runs (for the report)
        self.skipped = []        # lines: what was skipped and why
        self.setup = []          # lines: how each competitor was set up
        self.data = Samples()    # (row, alloc, metric) -> values
        self.raw = []            # (row, alloc, round, metric, value)
        self.outputs = {}        # (row, alloc) -> set of stdout texts
        self.failures = []
        self.row_info = {}       # row -> what the program said of its work
        self.tmp = tempfile.mkdtemp(prefix="rgn-heap-")

    def size(self, key):
        return SIZES[key][self.mode]

    def skip(self, text):
        self.skipped.append(text)
        sys.stderr.write("heap: skipped: %s\n" % text)

    def add(self, row, what, cells):
        if cells:
            self.rows.append(row)
            self.cells[row] = cells
            self.what[row] = what

    # ---- the rows ------------------------------------------------------------

    def program_envs(self, rgn_env, base_env, label):
        """(allocator, environment) of the program rows: rgn's, then the
        default malloc, then jemalloc and mimalloc preloaded."""
        libs = preload_libs()
        envs = [("rgn", rgn_env), ("glibc", dict(base_env))]
        for name in ("jemalloc", "mimalloc"):
            if name in libs:
                e = dict(base_env)
                e["LD_PRELOAD"] = libs[name]
                envs.append((name, e))
            else:
                self.skip("%s: %s preloaded (lib%s.so.2 not found: package "
                          "lib%s2 missing)" % (label, name, name,
                                               "mimalloc2.0" if name == "mimalloc" else name))
        return envs

    def lua_rows(self):
        exe = os.path.join(self.build, "examples", "rgn-lua")
        if not os.access(TIME, os.X_OK):
            self.skip("Lua rows: %s is missing (package time)" % TIME)
            return
        if not os.access(exe, os.X_OK):
            self.skip("Lua rows: %s was not built (examples/rgn-lua absent "
                      "from this tree, or liblua5.4-dev missing)" % exe)
            return
        envs = self.program_envs({"RGN_LUA_ALLOC": "rgn"}, {"RGN_LUA_ALLOC": "libc"}, "Lua")
        self.setup.append("Lua: `%s`, one binary; RGN_LUA_ALLOC=rgn puts the "
                          "whole lua_State in one heap region, RGN_LUA_ALLOC=libc "
                          "gives Lua realloc/free from the C library: glibc's, or "
                          "jemalloc's or mimalloc's through LD_PRELOAD (%s)" % (
                              os.path.relpath(exe, ROOT),
                              ", ".join("%s=%s" % (a, e["LD_PRELOAD"])
                                        for a, e in envs if "LD_PRELOAD" in e) or "none"))
        for prog in ("binary-trees.lua", "strings.lua", "tables.lua"):
            path = os.path.join(ROOT, "bench", "lua", prog)
            if not os.path.exists(path):
                self.skip("Lua %s: bench/lua/%s absent" % (prog, prog))
                continue
            arg = self.size(prog)
            row = "lua %s %s" % (prog[:-4], arg)
            self.add(row, "rgn-lua bench/lua/%s %s" % (prog, arg),
                     [Cell(row, a, [exe, path, arg], e, cwd=ROOT) for a, e in envs])
        tests = sorted(t for t in glob.glob(os.path.join(ROOT, "tests", "lua", "*.lua"))
                       if os.path.basename(t) not in LUA_TESTS_LEFT_OUT)
        if not tests:
            self.skip("Lua tests: no tests/lua/*.lua in this tree")
            return
        if not self.full:
            self.skip("Lua tests: run with --full only (tens of seconds a cell)")
            return
        for t, why in LUA_TESTS_LEFT_OUT.items():
            if os.path.exists(os.path.join(ROOT, "tests", "lua", t)):
                self.skip("Lua tests: %s left out: %s" % (t, why))
        # one cell: every test program in turn, stopping at a failure;
        # /usr/bin/time's %M is then the largest of them
        loop = ('for f do "$0" "$f" >/dev/null || { echo "$f failed" >&2; '
                'exit 1; }; done')
        row = "lua tests (%d programs)" % len(tests)
        self.add(row, "every tests/lua/*.lua in turn, one process each, "
                 "under one sh: %s" % ", ".join(os.path.basename(t) for t in tests),
                 [Cell(row, a, ["sh", "-c", loop, exe] + tests, e, cwd=ROOT)
                  for a, e in envs])

    def sqlite_rows(self):
        so = os.path.join(self.build, "examples", "librgn-sqlite.so")
        script = os.path.join(ROOT, "scripts", "speedtest1")
        if not os.access(TIME, os.X_OK):
            self.skip("speedtest1: %s is missing (package time)" % TIME)
            return
        if not os.access(so, os.R_OK):
            self.skip("speedtest1: %s was not built (examples/rgn-sqlite absent "
                      "from this tree, or libsqlite3-dev missing)" % so)
            return
        if not os.access(script, os.X_OK):
            self.skip("speedtest1: scripts/speedtest1 absent from this tree")
            return
        p = run([script], cwd=ROOT)
        exe = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        if p.returncode != 0 or not os.access(exe, os.X_OK):
            self.skip("speedtest1: scripts/speedtest1 gave no binary (exit %d: %s)" % (
                p.returncode, (p.stderr.strip().splitlines() or ["?"])[-1]))
            return
        envs = self.program_envs({"LD_PRELOAD": so}, {}, "speedtest1")
        n = self.size("speedtest1")
        row = "speedtest1 --size %s" % n
        self.setup.append("speedtest1: `%s` (from scripts/speedtest1), run in an "
                          "empty temporary directory; rgn: LD_PRELOAD=%s (SQLite's "
                          "allocations in a heap region); default: SQLite's own "
                          "malloc calls, glibc; jemalloc and mimalloc through "
                          "LD_PRELOAD" % (exe, os.path.relpath(so, ROOT)))
        self.add(row, "speedtest1 --size %s" % n,
                 [Cell(row, a, [exe, "--size", n], e, cwd=self.tmp) for a, e in envs])

    def churn_rows(self):
        cells_c, cells_d = [], []
        slots, steps = self.size("churn_slots"), self.size("churn_steps")
        objects = self.size("destroy_objects")
        for a in CHURN_ALLOCATORS:
            exe = os.path.join(self.build, "bench", "heap-churn-" + a)
            if not os.access(exe, os.X_OK):
                self.skip("churn and destroy: %s was not built (its package is "
                          "missing)" % os.path.basename(exe))
                continue
            cells_c.append(Cell("churn", a, [exe, "churn", "--slots", slots,
                                             "--steps", steps], kind="self"))
            cells_d.append(Cell("destroy", a, [exe, "destroy", "--objects", objects],
                                kind="self"))
        self.add("churn", "heap-churn churn --slots %d --steps %d" % (slots, steps), cells_c)
        self.add("destroy", "heap-churn destroy --objects %d" % objects, cells_d)
        # rgn again, its retain limit above what the region holds: the
        # destroy without the purge of what lies over the limit
        rgn = [c for c in cells_d if c.alloc == "rgn"]
        if rgn:
            self.add(RETAIN_ROW, "RGN_RETAIN=%s heap-churn destroy --objects %d" % (
                RETAIN_ALL, objects),
                [Cell(RETAIN_ROW, "rgn", rgn[0].argv, {"RGN_RETAIN": RETAIN_ALL},
                      kind="self")])

    # ---- running --------------------------------------------------------------

    def run_cell(self, c, rnd):
        if c.kind == "self":
            p = run(c.argv, c.env, cwd=c.cwd)
            if p.returncode != 0:
                return self.fail(c, rnd, p)
            first = True
            for line in p.stdout.splitlines():
                f = line.split(",", 1)
                if f[0] == "info":
                    # the first names the allocator, the others the workload
                    if rnd == 0 and c.row == "churn" and first:
                        self.setup.append("%s (churn, destroy): %s" % (c.alloc, f[1]))
                    elif not first and rnd == 0:
                        self.row_info.setdefault(c.row, f[1])
                    first = False
                    continue
                if f[0] == "check":
                    self.outputs.setdefault((c.row, c.alloc), set()).add(f[1])
                    continue
                if len(f) == 2:
                    self.record(c, rnd, f[0], float(f[1]))
            return
        stat = os.path.join(self.tmp, "time")
        p = run([TIME, "-f", "%M", "-o", stat] + c.argv, c.env, cwd=c.cwd)
        if p.returncode != 0:
            return self.fail(c, rnd, p)
        with open(stat) as f:
            kib = [int(x) for x in f.read().split() if x.isdigit()]
        self.record(c, rnd, "time_s", p.seconds)
        if kib:
            self.record(c, rnd, "peak_rss_mib", kib[-1] / 1024)
        self.outputs.setdefault((c.row, c.alloc), set()).add(p.stdout)
        m = re.search(r"SQLite\s+(\d+\.\d+\.\d+)", p.stdout + p.stderr)
        if m:
            self.sqlite_version = m.group(1)

    def record(self, c, rnd, metric, value):
        self.data.add((c.row, c.alloc, metric), value)
        self.raw.append((c.row, c.alloc, rnd + 1, metric, value))

    def fail(self, c, rnd, p):
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        self.failures.append("round %d, %s, %s: exit %d: %s" % (
            rnd + 1, c.row, c.alloc, p.returncode, last))
        sys.stderr.write("heap: FAILED %s\n" % self.failures[-1])

    def run_all(self):
        total = self.rounds * sum(len(self.cells[r]) for r in self.rows)
        done = 0
        for rnd in range(self.rounds):
            for row in self.rows:
                for c in rotated(self.cells[row], rnd):
                    done += 1
                    sys.stderr.write("heap: round %d/%d  %-28s %-9s %d cells left\n" % (
                        rnd + 1, self.rounds, row, c.alloc, total - done + 1))
                    self.run_cell(c, rnd)


# ---- the report -------------------------------------------------------------------

def cell_text(st, unit_fmt=fmt):
    if st is None:
        return "-"
    if st.n == 1:
        return unit_fmt(st.median)
    return "%s (%s–%s)" % (unit_fmt(st.median), unit_fmt(st.lo), unit_fmt(st.hi))


def metric_of(row):
    if row == "churn":
        return "ns_per_pair", "ns per alloc+free pair"
    if row.startswith("destroy"):
        return "destroy_ms", "ms to drop the heap"
    return "time_s", "s"


def tables(b):
    allocs = [a for a in CHURN_ALLOCATORS
              if any(c.alloc == a for r in b.rows for c in b.cells[r])]
    head = ["", "unit"] + allocs + ["rgn / glibc", "rgn / mimalloc"]
    trows, rrows = [], []
    for row in b.rows:
        m, unit = metric_of(row)
        med = {a: b.data.median(row, a, m) for a in allocs}
        trows.append([row, unit] + [cell_text(b.data.stats(row, a, m)) for a in allocs] +
                     [fmt_ratio(ratio(med.get("rgn"), med.get("glibc"))),
                      fmt_ratio(ratio(med.get("rgn"), med.get("mimalloc")))])
        med = {a: b.data.median(row, a, "peak_rss_mib") for a in allocs}
        rrows.append([row, "MiB"] + [cell_text(b.data.stats(row, a, "peak_rss_mib"))
                                     for a in allocs] +
                     [fmt_ratio(ratio(med.get("rgn"), med.get("glibc"))),
                      fmt_ratio(ratio(med.get("rgn"), med.get("mimalloc")))])
    return head, trows, rrows


def goals(b):
    out = []
    d = b.data

    def verdict(ok):
        return "n/a" if ok is None else ("PASS" if ok else "MISS")

    for row in b.rows:
        if not row.startswith("lua"):
            continue
        r, g, mi = (d.median(row, a, "time_s") for a in ("rgn", "glibc", "mimalloc"))
        rr, rg = d.median(row, "rgn", "peak_rss_mib"), d.median(row, "glibc", "peak_rss_mib")
        q = ratio(r, g)
        out.append((verdict(None if q is None else q <= 0.9),
                    "%s: time <= 0.9x glibc's" % row,
                    "%s (rgn %s s, glibc %s s)" % (fmt_ratio(q), fmt(r), fmt(g))))
        q = ratio(r, mi)
        out.append((verdict(None if q is None else q <= 1.0),
                    "%s: time no slower than mimalloc" % row,
                    "%s (mimalloc %s s)" % (fmt_ratio(q), fmt(mi))))
        q = ratio(rr, rg)
        out.append((verdict(None if q is None else q <= 1.1),
                    "%s: peak RSS <= 1.1x glibc's" % row,
                    "%s (rgn %s MiB, glibc %s MiB)" % (fmt_ratio(q), fmt(rr), fmt(rg))))
    if not any(r.startswith("lua") for r in b.rows):
        out.append(("n/a", "Lua: time <= 0.9x glibc, <= mimalloc, RSS <= 1.1x glibc",
                    "not measured: the Lua rows were skipped"))
    st = [r for r in b.rows if r.startswith("speedtest1")]
    if st:
        r, g = d.median(st[0], "rgn", "time_s"), d.median(st[0], "glibc", "time_s")
        q = ratio(r, g)
        out.append((verdict(None if q is None else q <= 1.0),
                    "%s: time <= 1.0x SQLite's default" % st[0],
                    "%s (rgn %s s, default %s s)" % (fmt_ratio(q), fmt(r), fmt(g))))
    else:
        out.append(("n/a", "speedtest1: time <= 1.0x SQLite's default",
                    "not measured: the speedtest1 row was skipped"))
    r, mi = d.median("churn", "rgn", "ns_per_pair"), d.median("churn", "mimalloc", "ns_per_pair")
    q = ratio(r, mi)
    out.append((verdict(None if q is None else q < 1.0),
                "free-heavy churn: faster than mimalloc",
                "%s (rgn %s ns, mimalloc %s ns per pair)" % (fmt_ratio(q), fmt(r), fmt(mi))
                if q is not None else "not measured"))
    r = d.median("destroy", "rgn", "destroy_ms")
    k = d.median(RETAIN_ROW, "rgn", "destroy_ms")
    n = b.size("destroy_objects")
    at = "" if n == GOAL_DESTROY_OBJECTS else " [measured at %d objects]" % n
    goal = "destroy of %d M live objects: under 1 ms" % (GOAL_DESTROY_OBJECTS // 1000000)
    # two set-ups, two verdicts: the retain limit raised to hold the heap
    # (what bench/adapt-rgn.h does for every row of the main suite, as the
    # other allocators keep their freed memory too), and rgn's default,
    # where the purge of what lies over the limit runs inside rgn_destroy
    out.append((verdict(None if k is None else k < 1.0),
                goal + " (retain limit above the heap, as in the main suite)",
                "rgn %s ms with RGN_RETAIN=%s%s" % (fmt(k), RETAIN_ALL, at)
                if k is not None else "not measured"))
    out.append((verdict(None if r is None else r < 1.0),
                goal + " (default retain limit: the purge is inside)",
                "rgn %s ms with the default retain limit%s" % (fmt(r), at)
                if r is not None else "not measured"))
    return out


def report(b, out, command, seconds):
    head, trows, rrows = tables(b)
    gl = goals(b)
    md = ["# rgn: heap regions against malloc", "",
          "Command: `%s` (%s, %d rounds, %.0f s).  Raw values: `heap.csv`, the "
          "commands on its first lines.  Every cell is a process of its own; "
          "each round runs every row, the allocators in an order rotated each "
          "round.  Figures are medians, with min–max over rounds; ratios are "
          "rgn's median over the other's (below 1: rgn faster or smaller)." % (
              command, ("default sizes", "full sizes", "smoke sizes")[b.mode], b.rounds, seconds),
          "", "## Time", ""]
    md += md_table(head, trows) + ["", "## Peak RSS", ""]
    md += md_table(head, rrows) + ["", "## Goals", ""]
    md += md_table(["verdict", "goal", "measured"], gl)
    md += ["", "## Rows", ""] + ["- **%s**: `%s`%s" % (
        r, b.what[r], " (%s)" % b.row_info[r] if r in b.row_info else "") for r in b.rows]
    md += ["- **churn**: a table of slots, half filled, then random steps: an "
           "occupied slot's object is freed, an empty slot gets a new object; "
           "sizes 60 % 16–64 B, 25 % 65–256 B, 10 % 257–1024 B, 5 % 1025–4096 B "
           "(mean about 250 B), seed 42, one warm-up pass of a quarter of the "
           "steps; ns per allocation+free pair, peak RSS from VmHWM.",
           "- **destroy**: live objects of 16, 32, 48, 64 B in turn, then the whole "
           "heap dropped, timed alone: rgn_destroy of the heap region, "
           "mi_heap_destroy, jemalloc's arena.<i>.reset (of an arena made for "
           "it), talloc_free of the context; glibc has no such call, its figure is "
           "the objects freed one by one (its RSS includes the list of their "
           "pointers, 8 bytes each).  RSS is the peak, before the drop.",
           "- APR is left out: a pool cannot free one object, and a sub-pool per "
           "object (8 KiB at least each) is not how APR programs free objects "
           "one by one; they do not, they clear a pool."]
    # rgn's purge inside destroy
    for row in ("destroy", RETAIN_ROW):
        pm = b.data.median(row, "rgn", "purged_in_destroy_mib")
        if pm is not None:
            md += ["- %s: the timed rgn_destroy gave %s MiB back to the OS in %s "
                   "madvise calls%s, and %s MiB stayed retained." % (
                       "rgn, default retain limit (64 MiB)" if row == "destroy" else
                       "rgn, RGN_RETAIN=" + RETAIN_ALL, fmt(pm),
                       "%.0f" % (b.data.median(row, "rgn", "purges_in_destroy") or 0),
                       " (the purge of the free blocks above the retain limit is "
                       "part of rgn_destroy, so of its time)" if pm > 0 else "",
                       fmt(b.data.median(row, "rgn", "retained_after_mib")))]
    md += ["", "## Set-up", ""]
    md += ["- " + s for s in b.setup]
    for p in ("libc6", "libjemalloc2", "libmimalloc2.0", "libtalloc2", "liblua5.4-0",
              "libsqlite3-0", "time"):
        md.append("- package %s: %s" % (p, pkgver(p)))
    if getattr(b, "sqlite_version", None):
        md.append("- speedtest1 reports SQLite %s" % b.sqlite_version)
    md += ["- load average (1, 5, 15 min) at the start: %s; at the end: %s "
           "(other work on the machine falls on every allocator alike through the "
           "rotation, but widens the min–max)" % tuple(b.load)]
    md += ["- peak RSS of the program rows: `/usr/bin/time -f %M` (the child's "
           "ru_maxrss, which starts from time's own small image, about 1–2 MiB)"]
    notes = []
    for row in b.rows:
        if row.startswith("speedtest1"):
            continue             # it prints its own timings
        outs = {a: v for (r, a), v in b.outputs.items() if r == row}
        texts = set().union(*outs.values()) if outs else set()
        if len(texts) > 1:
            notes.append("%s: the output differs between cells (%s)" % (
                row, ", ".join("%s: %d distinct" % (a, len(v)) for a, v in outs.items())))
        elif texts:
            notes.append("%s: the same output (or check value) from every cell" % row)
    md += ["", "## Checks", ""] + ["- " + n for n in notes]
    if b.skipped:
        md += ["", "## Skipped", ""] + ["- " + s for s in b.skipped]
    if b.failures:
        md += ["", "## Failures", ""] + ["- " + f for f in b.failures]
    md.append("")
    with open(os.path.join(out, "heap.md"), "w") as f:
        f.write("\n".join(md))
    cmds = ["%s %s: %s" % (r, c.alloc, show(c.argv, c.env)) for r in b.rows for c in b.cells[r]]
    write_csv(os.path.join(out, "heap.csv"), cmds,
              ["row", "allocator", "round", "metric", "value"], b.raw, "%s,%s,%d,%s,%g")
    # the console
    print("\n".join(["heap: time"] + md_table(head, trows) + ["", "heap: peak RSS"] +
                    md_table(head, rrows) + ["", "heap: goals"] +
                    md_table(["verdict", "goal", "measured"], gl)))
    for s in b.skipped:
        print("heap: skipped: " + s)
    for f in b.failures:
        print("heap: FAILED " + f)
    print("heap report: %s" % os.path.join(out, "heap.md"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny sizes; exit 1 if any cell failed")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--command", default="bench/heap.py")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    b = Bench(os.path.abspath(a.build), 2 if a.smoke else 1 if a.full else 0,
              a.rounds)
    t0 = time.time()
    b.load = [loadavg()]
    b.lua_rows()
    b.sqlite_rows()
    b.churn_rows()
    b.run_all()
    b.load.append(loadavg())
    report(b, a.out, a.command, time.time() - t0)
    if a.smoke and b.failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
