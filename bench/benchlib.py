"""benchlib.py - what the benchmark scripts share: running benchmark
programs, the statistics taken over their values, number formatting,
Markdown tables and CSV files.

Used by report.py, plots.py, smoke.py, strategy.py, decode.py and
sys_walk.py (benchlog.py reads the driver's log on top of it).  Plain
Python 3 standard library.
"""
import collections
import os
import shlex
import statistics
import subprocess
import tempfile
import time

# ---- running cells ----------------------------------------------------------


def show(argv, env=None):
    """A command as a shell would take it, environment additions first."""
    pre = " ".join("%s=%s" % kv for kv in sorted((env or {}).items()))
    return (pre + " " if pre else "") + " ".join(shlex.quote(str(a))
                                                 for a in argv)


def run(argv, env=None, timeout=None, check=False, cwd=None):
    """Run one cell: a process of its own, its output captured as text.

    env adds to (never replaces) this process's environment.  Returns the
    subprocess.CompletedProcess with .seconds, its wall-clock time; with
    check, a non-zero exit raises CalledProcessError."""
    e = None
    if env:
        e = dict(os.environ)
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.run([str(a) for a in argv], capture_output=True,
                       text=True, env=e, timeout=timeout, check=check,
                       cwd=cwd)
    p.seconds = time.monotonic() - t0
    return p


def csv_lines(text):
    """The comma-separated fields of every line of a program's output."""
    return [line.split(",") for line in text.splitlines()]


def rotated(items, r):
    """items in the order of round r: rotated by r, so that over the
    rounds each one goes first in turn (two items alternate)."""
    items = list(items)
    k = r % len(items) if items else 0
    return items[k:] + items[:k]


def cachegrind(argv, env=None, options=()):
    """Run argv under cachegrind's cache simulation: (totals, None), the
    totals a dict of event name (Ir, D1mr, DLmw, ...) to count, or
    (None, the last line valgrind printed) when it failed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg")
        p = run(["valgrind", "--tool=cachegrind", "--cache-sim=yes",
                 *options, "--cachegrind-out-file=" + out, *argv], env)
        if p.returncode != 0 or not os.path.exists(out):
            return None, (p.stderr.strip().splitlines() or ["?"])[-1]
        return cachegrind_totals(out), None


def cachegrind_totals(path):
    """Event name -> count from the 'events:' and 'summary:' lines of a
    cachegrind output file."""
    names, vals = [], []
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith("summary:"):
                vals = [int(x) for x in line.split()[1:]]
    return dict(zip(names, vals))


# ---- statistics ---------------------------------------------------------------

Stats = collections.namedtuple("Stats", "median lo hi n")


def stats(values):
    """Median, minimum, maximum and count of every value: nothing is
    filtered out."""
    vs = list(values)
    return Stats(statistics.median(vs), min(vs), max(vs), len(vs))


def ratio(a, b):
    """a / b, or None when either is missing (or b is 0)."""
    return a / b if a is not None and b else None


class Samples(dict):
    """Values collected by key (a tuple: case, variant, metric, ...), in
    the order they came."""

    def add(self, key, value):
        self.setdefault(tuple(key), []).append(value)

    def values(self, *key):
        return self.get(key, [])

    def median(self, *key):
        v = self.get(key)
        return statistics.median(v) if v else None

    def stats(self, *key):
        v = self.get(key)
        return stats(v) if v else None

    def medians(self):
        return {k: statistics.median(v) for k, v in self.items() if v}


# ---- numbers as text ------------------------------------------------------------


def fmt(v, none="-", digits=None):
    """Three or so significant figures: 1234, 12.3, 1.23, and below 1
    either three decimals (0.012, tiny values two significant figures)
    or, with digits, that many significant figures."""
    if v is None:
        return none
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    if digits:
        return "%.*g" % (digits, v)
    if a >= 0.01:
        return "%.3f" % v
    return "%.2g" % v


def fmt_small(v):
    """Per-operation counts: differences of two runs, so tiny values are
    noise and may even come out negative."""
    return "<0.001" if abs(v) < 0.001 else fmt(v)


def fmt_ratio(r, none="-", places=None):
    """A ratio with an x: as many places as its size needs, or a fixed
    number of places."""
    if r is None:
        return none
    if places is not None:
        return "%.*fx" % (places, r)
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    if r >= 0.01:
        return "%.2fx" % r
    return "%.1gx" % r


# ---- Markdown and CSV ---------------------------------------------------------------


def md_table(head, rows, numeric=False):
    """The lines of a Markdown table.  numeric: the first column to the
    left, the others to the right ('|---|---:|'); otherwise every column
    as the renderer likes ('| --- | --- |').  An empty heading (over a
    column of labels) is written '| |', an empty cell '|  |'."""
    if numeric:
        rule = "|" + "|".join("---" if i == 0 else "---:"
                              for i in range(len(head))) + "|"
    else:
        rule = "|" + "|".join(" --- " for _ in head) + "|"
    heading = "|" + "|".join(" %s " % c if str(c) else " " for c in head) + "|"
    return ([heading, rule] +
            ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def write_csv(path, comments, columns, rows, row_format):
    """A CSV file: '# ' comment lines (the command first), the column
    names, then every row through row_format (a %-format)."""
    with open(path, "w") as f:
        for c in comments:
            f.write("# %s\n" % c)
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(row_format % tuple(r) + "\n")

