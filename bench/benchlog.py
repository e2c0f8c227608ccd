"""benchlog.py - read the log scripts/bench writes, for report.py and
plots.py.

Every line an executable printed is prefixed with "<round> <allocator>
<workload>" (the kinds of lines are described in bench/harness.h), and
scripts/bench adds "cg" lines with cachegrind's totals and "fail" lines.
"""
import collections
import statistics

OURS = "rgn"                     # the allocator the ratios are about
BASE = "glibc"                   # the ratio everyone knows

PROGRAM_KINDS = ("info", "label", "raw", "sum", "check", "ops")


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
                    try:
                        log.size_n[w] = int(text.split(" size ")[1].split()[0])
                    except (IndexError, ValueError):
                        pass
                else:
                    log.info[a][text] = None
            elif kind == "cg":
                # cg <mode> <ops> <event> <count> <event> <count> ...
                ev = dict(zip(parts[3::2], (int(x) for x in parts[4::2])))
                log.cg[(w, a)][parts[1]] = (int(parts[2] or 0), ev)
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


def summarise(vals):
    vs = [v for _, _, v in vals]
    return statistics.median(vs), min(vs), max(vs), len(vs)


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    if a >= 0.01:
        return "%.3f" % v
    return "%.2g" % v


def fmt_small(v):
    """Per-operation counts: differences of two runs, so tiny values are
    noise and may even come out negative."""
    return "<0.001" if abs(v) < 0.001 else fmt(v)


def fmt_ratio(r):
    if r is None:
        return "-"
    if r >= 100:
        return "%.0fx" % r
    if r >= 10:
        return "%.1fx" % r
    if r >= 0.01:
        return "%.2fx" % r
    return "%.1gx" % r


def ratio(a, b):
    return a / b if a is not None and b else None


def row_label(log, key):
    w, m = key
    if m == "peak_rss_mib":
        return "peak RSS, %s (MiB)" % w
    if m.startswith("perf_"):
        return "perf %s, %s" % (m[5:], w)
    return log.labels.get(key, "%s %s" % (w, m))


def competitors(log):
    return [a for a in log.allocators if a.split("-")[0] != OURS]


def medians(log, key):
    return {a: summarise(v)[0] for a, v in log.raw[key].items()}
