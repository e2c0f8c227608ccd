"""benchlog.py - read the log scripts/bench writes, for report.py,
plots.py and smoke.py (statistics and formatting: benchlib.py).

Every line an executable printed is prefixed with "<round> <allocator>
<workload>" (the kinds of lines are described in bench/harness.h), and
scripts/bench adds "cg" lines with cachegrind's totals, "perf <event>
<value>" lines with perf stat's software counts for the whole process,
and "fail" lines.
Lines that do not start with a round number (sys_walk.py's, appended to
the same log) are not the driver's and are skipped.
"""
import collections
import re

from benchlib import stats

OURS = "rgn"                     # the allocator the ratios are about
BASE = "glibc"                   # the ratio everyone knows

PROGRAM_KINDS = ("info", "label", "raw", "sum", "check", "ops", "faults")


class Log:
    def __init__(self):
        self.raw = collections.defaultdict(lambda: collections.defaultdict(list))
        self.labels = {}
        self.checks = collections.defaultdict(lambda: collections.defaultdict(set))
        self.info = collections.defaultdict(dict)      # alloc -> {line: None}
        self.sizes = {}                                 # workload -> info text
        self.size_n = {}                                # workload -> size
        self.output = collections.defaultdict(list)     # (w, a, round) -> lines
        self.cg = collections.defaultdict(dict)         # (w, a) -> mode -> ...
        # (w, metric) -> a -> [(round, minor, major, ops)]: the metric's
        # window (harness.h); in the order the windows came
        self.faults = collections.defaultdict(lambda: collections.defaultdict(list))
        self.ops = collections.defaultdict(dict)        # (w, a) -> round -> ops
        self.perf = collections.defaultdict(             # (w, a) -> event ->
            lambda: collections.defaultdict(list))      # [value per round]
        self.failures = []
        self.allocators, self.workloads, self.rows = [], [], []


def parse(path):
    log = Log()

    def seen(lst, x):
        if x not in lst:
            lst.append(x)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            head = line.split(" ", 3)
            if len(head) < 3:
                continue
            if not head[0].isdigit():
                continue
            rnd, a, w = head[0], head[1], head[2]
            rest = head[3] if len(head) > 3 else ""
            parts = rest.split()
            kind = parts[0] if parts else ""
            seen(log.allocators, a)
            seen(log.workloads, w)
            if kind == "raw" and len(parts) == 4:
                key = (w, parts[1])
                seen(log.rows, key)
                log.raw[key][a].append((int(rnd), int(parts[2]),
                                        float(parts[3])))
            elif kind == "label":
                log.labels.setdefault((w, parts[1]), " ".join(parts[2:]))
            elif kind == "check":
                log.checks[w][a].add(parts[1])
            elif kind == "info":
                text = " ".join(parts[1:])
                if text.startswith("workload "):
                    log.sizes[w] = text
                    n = workload_size(text)
                    if n is not None:
                        log.size_n[w] = n
                else:
                    log.info[a][text] = None
            elif kind == "cg":
                # cg <mode> <ops> <event> <count> <event> <count> ...
                ev = dict(zip(parts[3::2], (int(x) for x in parts[4::2])))
                log.cg[(w, a)][parts[1]] = (int(parts[2] or 0), ev)
            elif kind == "faults" and len(parts) == 5:
                log.faults[(w, parts[1])][a].append(
                    (int(rnd), int(parts[2]), int(parts[3]), int(parts[4])))
            elif kind == "ops" and len(parts) == 2:
                log.ops[(w, a)][int(rnd)] = int(parts[1])
            elif kind == "perf" and len(parts) == 3:
                try:
                    log.perf[(w, a)][parts[1]].append(float(parts[2]))
                except ValueError:
                    pass
            elif kind == "fail":
                log.failures.append("%s %s: %s" % (a, w, " ".join(parts[1:])))
            elif kind not in PROGRAM_KINDS:
                log.output[(w, a, rnd)].append(rest)
    return log


def expected_text(path, depth):
    """The lines of binary-trees.expected after '# depth N', up to the
    next blank line, or None when the file or the depth is missing."""
    lines, inside = [], False
    if not path:
        return None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "# depth %d" % depth:
                inside = True
            elif inside and not line:
                break
            elif inside:
                lines.append(line)
    return lines or None


def workload_size(text):
    """N from the driver's "info workload W, mode M, size N (...)" text
    (with or without "info "), or None."""
    try:
        return int(text.split(" size ")[1].split()[0])
    except (IndexError, ValueError):
        return None


def values(vals):
    """The values of a log.raw list of (round, run, value)."""
    return [v for _, _, v in vals]


def row_label(log, key):
    w, m = key
    if m == "peak_rss_mib":
        return "peak RSS, %s (MiB)" % w
    if m.startswith("perf_"):
        return "perf %s, %s" % (m[5:], w)
    return log.labels.get(key, "%s %s" % (w, m))


def faults_per_op(log, key):
    """a -> [page faults (minor + major) per operation, one per round] in
    the window of key's metric; for peak_rss_mib, whose own window holds
    no operations, the whole workload (every window of the process).
    Windows without operations give nothing."""
    w, m = key
    out = {}
    if m == "peak_rss_mib":
        total = collections.defaultdict(lambda: [0, 0])
        for (w2, _), by_a in log.faults.items():
            if w2 != w:
                continue
            for a, wins in by_a.items():
                for rnd, minor, major, ops in wins:
                    t = total[(a, rnd)]
                    t[0] += minor + major
                    t[1] += ops
        for (a, rnd), (f, ops) in sorted(total.items()):
            if ops:
                out.setdefault(a, []).append(f / ops)
        return out
    for a, wins in log.faults.get(key, {}).items():
        v = [(minor + major) / ops for _, minor, major, ops in wins if ops]
        if v:
            out[a] = v
    return out


def faults_label(log, key):
    """The row's label for the page faults table: the main table's, less
    its unit."""
    if key[1] == "peak_rss_mib":
        return "whole workload, %s" % key[0]
    return re.sub(r"\s*\([^()]*\)$", "", row_label(log, key))


def competitors(log):
    return [a for a in log.allocators if a.split("-")[0] != OURS]


def medians(log, key):
    return {a: stats(values(v)).median for a, v in log.raw[key].items()}
