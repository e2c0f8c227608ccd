#!/usr/bin/env python3
"""strategy.py - run bench-strategy and write the strategy report.

    strategy.py --exe build-release/bench/bench-strategy --out DIR [--full]
                [--rounds N] [--command "scripts/bench ..."]
                [--serial-exe build-release/bench/serial/bench-serial]

Runs the sections (the quick subset by default, all eight with --full;
--sections LIST: only those, e.g. --sections compact),
and with --serial-exe the serialization formats beside section 6's image
(bench-serial: a quarter of its graph in the quick run, all of it with
--full),
writes DIR/strategy-<section>.csv (the exact commands on the first line,
then every raw row), PNG plots drawn by gnuplot, and DIR/strategy.md.
Every figure in the report is a median over rounds of one run in which
both strategies were measured side by side; ratios are contiguous over
blocks.  Nothing here is a hard-coded result.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
from benchlib import Samples, csv_lines, md_table, run, show, write_csv  # noqa: E402
from plots import gnuplot_terminal, plot  # noqa: E402

QUICK = ["alloc", "life", "inflate", "share", "image", "xref", "compact"]
FULL = ["alloc", "life", "maxlive", "inflate", "over32", "share", "image", "xref",
        "compact"]
WORKERS = 4     # processes sharing one image in section 5
INFLATE = ["blocks", "unmap", "cache", "cache-dontneed", "cache-free"]
MAXLIVE = ["blocks", "contig-1m", "contig-32g"]


def max_map_count():
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def runs_for(section, exe, full, rounds):
    """The commands (argv lists, environment additions) of one section."""
    if section == "serial":
        # exe is bench-serial: one million objects with --full, a quarter
        return [([exe, "--rounds", str(rounds)] + ([] if full else ["--scale", "0.25"]), {})]
    base = [exe, section] + (["--full"] if full else [])
    if section == "maxlive":
        # the block strategy in a 1 GiB space: at 32 GiB its limit would
        # need 32 GiB of RAM (one resident block per region)
        return [(base + ["--strategy", s], {"RGN_SPACE": "1G"} if s == "blocks" else {})
                for s in MAXLIVE]
    if section == "inflate":
        return [(base + ["--strategy", s], {}) for s in INFLATE]
    if section == "over32":
        return [(base + ["--strategy", s], {}) for s in ["blocks", "contig"]]
    if section == "share":
        return [(base + ["--workers", str(WORKERS)], {})]
    return [(base + ["--rounds", str(rounds)], {})]


def run_section(section, exe, full, rounds, out):
    rows, cmds = [], []
    for argv, env in runs_for(section, exe, full, rounds):
        cmds.append(show(argv, env))
        p = run(argv, env)
        sys.stderr.write("strategy: %s (%.1f s)\n" % (cmds[-1], p.seconds))
        if p.returncode != 0:
            sys.stderr.write("strategy: failed: %s\n" % p.stderr.strip())
        rows += [(f[0], f[1], f[2], int(f[3]), f[4], float(f[5]))
                 for f in csv_lines(p.stdout) if len(f) == 6]
    write_csv(os.path.join(out, "strategy-%s.csv" % section),
              ["command: %s" % " ; ".join(cmds)],
              ["section", "case", "strategy", "round", "metric", "value"],
              rows, "%s,%s,%s,%d,%s,%.10g")
    return rows


class Data(Samples):
    """The rows by (case, strategy, metric); .rows keeps them all."""

    def __init__(self, rows):
        super().__init__()
        self.rows = rows
        for r in rows:
            self.add((r[1], r[2], r[4]), r[5])


def fmt(v):
    return benchlib.fmt(v, none="n/a", digits=3)


def ratio(a, b):
    """a / b as text, two places (contiguous over blocks)."""
    return benchlib.fmt_ratio(benchlib.ratio(a, b), none="n/a", places=2)


# ---- sections ---------------------------------------------------------------------

def report_alloc(d, outdir, term):
    sizes = ["16", "64", "256", "4096", "65536"]
    lines = ["## 1. Allocation throughput by object size", "",
             "Each object is allocated and its first byte written, in a region "
             "already warmed by one pass and reset (its memory resident): "
             "ns per allocation, median of rounds.", ""]
    rows = []
    for s in sizes:
        b, c = d.median(s, "blocks", "alloc_ns"), d.median(s, "contig", "alloc_ns")
        rows.append(("%s B" % s, fmt(b), fmt(c), ratio(c, b), "%s / %s" % (
            fmt(d.median(s, "blocks", "faults_per_mib")),
            fmt(d.median(s, "contig", "faults_per_mib")))))
    lines += md_table(["object", "blocks (ns)", "contiguous (ns)",
                       "contiguous / blocks",
                       "page faults per MiB (blocks / contiguous)"], rows)
    if term:
        with open(os.path.join(outdir, "strategy-alloc.dat"), "w") as f:
            f.write("# size blocks contig (ns per allocation, medians)\n")
            for s in sizes:
                f.write("%s %g %g\n" % (s, d.median(s, "blocks", "alloc_ns") or 0,
                                        d.median(s, "contig", "alloc_ns") or 0))
        png = plot(outdir, "strategy-alloc", """set title "Allocation time by object size (median)"
set ylabel "ns per allocation"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
plot 'strategy-alloc.dat' using 2:xtic(1) title 'blocks', '' using 3 title 'contiguous'
""", term)
        if png:
            lines += ["", "![allocation by size](%s)" % png]
    small = [d.median(s, "contig", "alloc_ns") / d.median(s, "blocks", "alloc_ns")
             for s in sizes[:3] if d.median(s, "blocks", "alloc_ns")]
    big_b, big_c = d.median("65536", "blocks", "alloc_ns"), d.median("65536", "contig", "alloc_ns")
    if small and big_b and big_c:
        lines += ["", "Small objects take the same inline bump path on both "
                  "(contiguous / blocks %.2fx to %.2fx over 16 to 256 B). "
                  "Objects of 64 KiB are above the block backend's large-object "
                  "threshold (32 KiB), so each takes a span of its own; in a "
                  "contiguous region they are one more bump: %s against %s ns "
                  "(%s)." % (min(small), max(small), fmt(big_c), fmt(big_b),
                             ratio(big_c, big_b))]
    return lines


LIFE = ["blocks", "contig-cache-32g", "contig-cache-keep", "contig-cache-free",
        "contig-unmap-1m", "contig-unmap-32g"]
LIFE_SAYS = {
    "blocks": "blocks (thread's spare region)",
    "contig-cache-32g": "contiguous 32 GiB, cache, DONTNEED",
    "contig-cache-keep": "contiguous 32 GiB, cache, pages kept",
    "contig-cache-free": "contiguous 32 GiB, cache, MADV_FREE",
    "contig-unmap-1m": "contiguous 1 MiB, unmap",
    "contig-unmap-32g": "contiguous 32 GiB, unmap",
}


def report_life(d, outdir, term):
    b = d.median("create_alloc_destroy", "blocks", "cycle_ns")
    lines = ["## 2. Region life cycle", "",
             "*create + first allocation (64 B) + destroy*, in a loop; *fill 4 MiB "
             "warm*: create, allocate and touch 4 MiB, destroy, in a loop, so that "
             "the memory of the last cycle is there for the next (the contiguous "
             "regions retain 1 MiB; what lies above goes back as the policy says).", ""]
    bw = d.median("fill_4m_warm", "blocks", "cycle_us")
    rows = []
    for s in LIFE:
        c = d.median("create_alloc_destroy", s, "cycle_ns")
        w = d.median("fill_4m_warm", s, "cycle_us")
        rows.append((LIFE_SAYS[s], fmt(c), ratio(c, b),
                     fmt(w) if w else "(too small)", ratio(w, bw) if w else ""))
    lines += md_table(["strategy", "create+alloc+destroy (ns)", "vs blocks",
                       "fill 4 MiB warm (µs)", "vs blocks"], rows)
    if term:
        with open(os.path.join(outdir, "strategy-life.dat"), "w") as f:
            f.write("# strategy cycle_ns (median)\n")
            for s in LIFE:
                f.write('"%s" %g\n' % (LIFE_SAYS[s],
                                       d.median("create_alloc_destroy", s, "cycle_ns") or 0))
        png = plot(outdir, "strategy-life", """set termoption noenhanced
set title "create + alloc 64 B + destroy (median)"
set ylabel "ns per cycle"
set logscale y
set style data histogram
set style fill solid 0.8 border -1
set xtics rotate by -20
set key off
plot 'strategy-life.dat' using 2:xtic(1) linetype 2
""", term)
        if png:
            lines += ["", "![life cycle](%s)" % png]
    lines += ["", "**Page costs measured through rgn** (a contiguous region of "
              "1 GiB, 64 MiB touched page by page; ns per 4 KiB page):", ""]
    lines += md_table(["first touch", "resident page",
                       "rgn_reset with DONTNEED, re-touch",
                       "with MADV_FREE, re-touch"],
                      [[fmt(d.median("page", "contig", m)) for m in (
                          "first_touch_ns", "resident_touch_ns",
                          "dontneed_retouch_ns", "free_retouch_ns")]])
    u, k = d.median("create_alloc_destroy", "contig-unmap-32g", "cycle_ns"), \
        d.median("create_alloc_destroy", "contig-cache-32g", "cycle_ns")
    if u and k and b:
        lines += ["", "A reservation of its own costs system calls: mmap, one "
                  "mprotect and munmap make a 32 GiB region's cycle %s ns, %s the "
                  "block backend's; the reuse cache brings it to %s ns (%s), a "
                  "locked cache pop and push." % (fmt(u), ratio(u, b), fmt(k), ratio(k, b))]
    return lines


def report_maxlive(d):
    lines = ["## 3. Maximum live regions", "",
             "Regions created until creation fails, in one process each "
             "(contiguous: RGN_RELEASE_UNMAP, no cap; blocks: in a 1 GiB space, "
             "since at 32 GiB the limit needs one resident 4 KiB block per region, "
             "32 GiB of RAM).", ""]
    says = {"blocks": "blocks, 1 GiB space", "contig-1m": "contiguous, 1 MiB each",
            "contig-32g": "contiguous, 32 GiB each"}
    rows = []
    for s in MAXLIVE:
        n = d.median("limit", s, "regions")
        if n is None:
            continue
        e = d.median("limit", s, "errno")
        rows.append((says[s], "%d" % n, "ENOMEM" if e == 12 else "%d" % e,
                     fmt(d.median("limit", s, "create_ns")),
                     fmt(d.median("limit", s, "rss_mib")),
                     "works" if d.median("limit", s, "malloc_64m_ok") else "fails",
                     fmt(d.median("limit", s, "destroy_all_ms"))))
    lines += md_table(["strategy", "regions", "errno", "ns per create",
                       "RSS (MiB)", "malloc(64 MiB) after", "destroy all (ms)"],
                      rows)
    n32, n1, nb = (d.median("limit", s, "regions") for s in ("contig-32g", "contig-1m", "blocks"))
    if n32 and n1 and nb:
        lines += ["", "A 47-bit address space holds %d reservations of 32 GiB beside "
                  "the shared space (whose own reservation is the same size); small reservations stop at %d, where each "
                  "region's three mappings (guard, read-write part, rest) reach the "
                  "kernel's mapping limit (vm.max_map_count, %s here).  Either way the failure is ENOMEM "
                  "from rgn_new_with, and the live-reservation cap "
                  "(rgn_contig_config.max_live) makes it happen earlier on "
                  "purpose.  The block strategy holds a region per 4 KiB block of "
                  "its space (%d in 1 GiB, about %.1f million in 32 GiB), limited by "
                  "memory, not by address space or mappings." % (
                      n32, n1, max_map_count(), nb, nb * 32 / 1e6)]
    return lines


def report_inflate(d, outdir, term):
    says = {"blocks": "blocks", "unmap": "contiguous, unmap",
            "cache": "contiguous, cache, pages kept",
            "cache-dontneed": "contiguous, cache + DONTNEED",
            "cache-free": "contiguous, cache + MADV_FREE"}
    lines = ["## 4. Long-running inflation", "",
             "10,000 region lifetimes, 16 alive at a time, each destroying a "
             "random slot's region and filling a new one: 94 % of 4-64 KiB, 6 % of "
             "64 KiB-4 MiB, 0.1 % of 256 MiB (in 4 KiB objects; the 256 MiB one "
             "whole).  Contiguous regions reserve 1 GiB each and retain 1 MiB; "
             "the block space keeps its default 64 MiB retain limit.  RSS above "
             "the program's start, sampled every 50 lifetimes.", ""]
    lines += md_table(["strategy", "peak RSS (MiB)", "final RSS (MiB)", "time (ms)"],
                      [(says[s], fmt(d.median("summary", s, "peak_rss_mib")),
                        fmt(d.median("summary", s, "final_rss_mib")),
                        fmt(d.median("summary", s, "time_ms"))) for s in INFLATE])
    if term:
        with open(os.path.join(outdir, "strategy-inflate.dat"), "w") as f:
            f.write("# lifetime " + " ".join(INFLATE) + " (RSS MiB)\n")
            steps = sorted({r[3] for r in d.rows if r[1] == "rss"})
            for st in steps:
                vals = []
                for s in INFLATE:
                    v = [r[5] for r in d.rows if r[1] == "rss" and r[2] == s and r[3] == st]
                    vals.append("%g" % v[0] if v else "NaN")
                f.write("%d %s\n" % (st, " ".join(vals)))
        cols = ", ".join("'strategy-inflate.dat' using 1:%d with lines title '%s'" %
                         (i + 2, says[s]) for i, s in enumerate(INFLATE))
        kept, lazy = (d.median("summary", s, "final_rss_mib") for s in ("cache", "cache-free"))
        # say so when one line hides the other (measured, not assumed)
        hidden = (" (the MADV_FREE line lies on the pages-kept one)"
                  if kept and lazy and abs(kept - lazy) <= 0.02 * max(kept, lazy) else "")
        png = plot(outdir, "strategy-inflate", """set termoption noenhanced
set title "RSS over 10,000 region lifetimes%s"
set xlabel "lifetime"
set ylabel "RSS above start (MiB)"
set key top left
plot %s
""" % (hidden, cols), term)
        if png:
            lines += ["", "![inflation](%s)" % png]
    k, dn, fr, b = (d.median("summary", s, "final_rss_mib")
                    for s in ("cache", "cache-dontneed", "cache-free", "blocks"))
    if None not in (k, dn, fr, b):
        lines += ["", "Does every region become maximally inflated?  With the reuse "
                  "cache and no purge, %s: a reservation that once held a 256 MiB "
                  "lifetime keeps those pages resident for every later small region "
                  "that reuses it, and RSS ends at %s MiB.  With MADV_FREE it ends "
                  "at %s MiB: %s.  Purging above the retained size with DONTNEED "
                  "(the default) ends at %s MiB, and the block strategy, whose "
                  "256 MiB objects are spans given back to the shared space, at "
                  "%s MiB." % (
                      "yes" if k > 4 * max(dn, b, 1) else "not here",
                      fmt(k), fmt(fr),
                      "the kernel takes lazily freed pages only under memory "
                      "pressure, so RSS stays as high as with no purge at all"
                      if fr > 0.8 * k else "the kernel took the lazily freed pages back",
                      fmt(dn), fmt(b))]
    return lines


def report_over32(d):
    lines = ["## 5. More than 32 GiB live", ""]
    if d.median("live", "contig", "live_gib") is not None or \
            d.median("live", "blocks", "live_gib") is not None:
        lines += report_over32_one(d) + [""]
    lines += report_share(d)
    return lines


def report_share(d):
    """K processes, each with its own 32 GiB space, reading one image."""
    sup = d.median("share", "parent", "supported")
    lines = ["### K processes, one shared image", ""]
    if sup is None:
        return lines + ["(not measured: the share run gave no rows)"]
    if sup < 0:
        return lines + ["Not measured: no memfd on this system (errno %d)." % -sup]
    img = d.median("share", "parent", "image_mib")
    k = int(d.median("share", "parent", "workers"))
    workers = ["worker-%d" % i for i in range(k)]
    lines += ["A parent builds a list of 64-byte nodes in a contiguous region, "
              "writes it with rgn_image_write into rgn_image_memfd's file, seals it "
              "(rgn_image_seal) and keeps no copy.  %d worker processes (fork, then "
              "exec of bench-strategy in its worker mode: each a fresh process "
              "with a space of its own) each open the image (one mmap of the "
              "sealed file), walk all of it, allocate %s MiB in a block region of "
              "their own space and write it; then, while all %d hold the image, "
              "each reads `/proc/self/smaps_rollup` and the image's own lines of "
              "`/proc/self/smaps`." % (k, fmt(d.median("share", workers[0],
                                                     "private_alloc_mib")), k), ""]
    rows, sums = [], {}
    for w in workers:
        vals = [d.median("share", w, m) for m in
                ("space_gib", "rss_mib", "pss_mib", "image_rss_mib", "image_pss_mib",
                 "shared_clean_mib", "shared_dirty_mib", "private_dirty_mib",
                 "walk_ms")]
        for m, v in zip(("rss", "pss", "irss", "ipss"), vals[1:5]):
            sums[m] = sums.get(m, 0) + (v or 0)
        rows.append([w] + [fmt(v) for v in vals])
    lines += md_table(["process", "space (GiB)", "RSS (MiB)", "PSS (MiB)",
                       "image RSS", "image PSS", "Shared_Clean", "Shared_Dirty",
                       "Private_Dirty", "walk (ms)"], rows)
    ok = all(d.median("share", w, "walk_sum") == d.median("share", "parent", "walk_sum")
             and d.median("share", w, "nodes") == d.median("share", "parent", "nodes")
             for w in workers)
    space = sum(d.median("share", w, "space_gib") or 0 for w in workers)
    lines += ["",
              "Image: %s MiB (%s million nodes; write %s ms, seal with its checksum "
              "pass %s ms).  Every walk %s the parent's checksum.  The image's "
              "pages show under Shared_Dirty: a memfd's pages are memory "
              "(shmem), never clean file pages." % (
                  fmt(img), fmt((d.median("share", "parent", "nodes") or 0) / 1e6),
                  fmt(d.median("share", "parent", "write_ms")),
                  fmt(d.median("share", "parent", "seal_ms")),
                  "matched" if ok else "did NOT match"),
              "",
              "| sum over the %d workers | MiB |" % k, "| --- | --- |",
              "| RSS | %s |" % fmt(sums["rss"]),
              "| PSS | %s |" % fmt(sums["pss"]),
              "| image RSS (K x image: what private copies would cost) | %s |" % fmt(sums["irss"]),
              "| image PSS (the image counted once) | %s |" % fmt(sums["ipss"]),
              "",
              "Each worker's RSS counts the whole image (%s MiB of it); its PSS "
              "counts 1/%d of it (%s MiB), so the workers' PSS adds up to the image "
              "once (%s MiB) plus what each allocated itself, where %d private "
              "copies would take %s MiB.  That is the answer this report gives to "
              "\"more than 32 GiB\": %d processes hold %s GiB of reference space "
              "between them (a 32-bit reference reaches 32 GiB in each), each "
              "allocating in its own, and all read one sealed image whose memory "
              "is counted once." % (
                  fmt(d.median("share", workers[0], "image_rss_mib")), k,
                  fmt(d.median("share", workers[0], "image_pss_mib")),
                  fmt(sums["ipss"]), k, fmt(k * (img or 0)), k, fmt(space))]
    return lines


def report_over32_one(d):
    lines = ["1 GiB objects, one page touched in every MiB (sparse), until 40 GiB "
             "are live or allocation fails.", ""]
    rows = []
    for s in ("blocks", "contig"):
        g = d.median("live", s, "live_gib")
        if g is None:
            continue
        e = d.median("live", s, "errno")
        rows.append((s, fmt(g), "%d" % d.median("live", s, "regions"),
                     "ENOMEM" if e == 12 else
                     ("reached 40 GiB" if e == 0 else "errno %d" % e),
                     fmt(d.median("live", s, "rss_mib")),
                     fmt(d.median("live", s, "time_ms"))))
    lines += md_table(["strategy", "live (GiB)", "regions", "outcome",
                       "RSS (MiB)", "time (ms)"], rows)
    g = d.median("live", "blocks", "live_gib")
    if g is not None:
        lines += ["", "The block strategy stops at its space: %s GiB, then rgn_alloc "
                  "returns NULL with ENOMEM (the out-of-memory handler is called "
                  "first); every later allocation that needs new blocks fails the "
                  "same way until memory is given back.  A 32-bit reference cannot "
                  "reach past 32 GiB, so a larger space would need wider references. "
                  "Contiguous regions each have their own reference range of up to "
                  "32 GiB: the total is bounded by the address space (section 3)." % fmt(g)]
    return lines


def report_image(d, serial=None):
    lines = ["## 6. Serialization", "",
             "A binary tree of nodes with 32-bit references (children and a name "
             "string) built in a contiguous region, written with rgn_image_write, "
             "mapped back with rgn_image_open at another address, and walked; the "
             "walk's checksum must match the original's.", ""]
    lines += md_table(["image (MiB)", "write (ns/byte)", "open (ns/byte)",
                       "walk original (ms)", "walk mapped (ms)"],
                      [(fmt((d.median("roundtrip", "contig", "bytes") or 0) / 2**20),
                        fmt(d.median("roundtrip", "contig", "write_ns_per_byte")),
                        fmt(d.median("roundtrip", "contig", "open_ns_per_byte")),
                        fmt(d.median("roundtrip", "contig", "walk_original_ms")),
                        fmt(d.median("roundtrip", "contig", "walk_mapped_ms")))])
    ws = d.median("roundtrip", "blocks", "write_supported")
    lines += ["", "The file is the region's bytes with a one-page header, so "
              "writing is one writev (page-cache bandwidth, and a checksum of "
              "the body) and opening checks that checksum, then maps a file "
              "sealed against shrinking (a memfd, as in the table below) or "
              "reads any other (this temporary file) into memory of its own.  "
              "For the block strategy "
              "rgn_image_write fails with %s: a block region's objects are spread "
              "over blocks of the shared space, mixed with other regions', and its "
              "references are space offsets, so an image needs a tracing copy "
              "that moves the live objects into one contiguous range and rewrites "
              "their references: rgn_image_write_graph, the tracing copy's rows "
              "in the table below, which pays a walk and a copy of every object "
              "where the contiguous write pays nothing per object." %
              ("ENOTSUP" if ws == -95 else "errno %s" % fmt(ws))]
    if serial is not None:
        lines += [""] + report_serial(serial)
    return lines


SERIAL = ["rgn-contig", "rgn-trace", "rgn-trace-dfs", "rgn-trace-overlap", "rgn-trace-compiled",
          "rgn-trace-compiled-overlap", "capnp", "flatbuffers", "msgpack-unpack", "msgpack-inplace"]
SERIAL_SAYS = {
    "rgn-contig": "rgn contiguous region, raw image (build not timed)",
    "rgn-trace": "rgn tracing copy of a block region to an image (breadth-first)",
    "rgn-trace-dfs": "rgn tracing copy, depth-first",
    "rgn-trace-overlap": "rgn tracing copy, breadth-first, written on a second "
                         "thread as it is copied (RGN_COPY_OVERLAP)",
    "rgn-trace-compiled": "rgn tracing copy compiled for the graph's types "
                          "(rgn_copier), one thread, then rgn_image_write",
    "rgn-trace-compiled-overlap": "rgn tracing copy compiled (rgn_copier_begin_image), "
                                  "written on a second thread as it is copied",
    "capnp": "Cap'n Proto",
    "flatbuffers": "FlatBuffers",
    "msgpack-unpack": "msgpack-c, msgpack_unpack_next (zone)",
    "msgpack-inplace": "msgpack-c, in-place parse",
}


def report_serial(d):
    """The formats' table (bench-serial's rows), under section 6."""
    fmts = [f for f in SERIAL if d.median("graph", f, "bytes") is not None]
    skipped = [f for f in SERIAL if d.median("graph", f, "skipped")]
    if not fmts and not skipped:
        return ["(bench-serial was not run: no table of serialization formats.)"]
    objects = d.median("graph", fmts[0], "objects") if fmts else None
    sums = {}
    for f in fmts:
        hi, lo = d.values("graph", f, "checksum_hi"), d.values("graph", f, "checksum_lo")
        sums[f] = {int(h) << 32 | int(v) for h, v in zip(hi, lo)}
    every = set().union(*sums.values()) if sums else set()
    lines = ["### Serialization formats, one graph", "",
             "bench-serial: %s objects (three quarters nodes with two child "
             "references, a name and a 32-bit value; a quarter strings of 4 to "
             "32 bytes); 1 in 15 nodes is a leaf shared by about 7 parents, "
             "every string is named by 3 nodes.  Each format builds its message "
             "from plain arrays and writes it to a memfd (build+write, per "
             "object of the graph and per byte written), then maps the file and "
             "walks every node from the root, into shared ones each time they "
             "are reached, computing a checksum that must equal the arrays' "
             "(open+traverse).  Formats that cannot share write a shared object "
             "again for every parent: the duplicated column.  Medians over rounds." %
             ("{:,}".format(int(objects)) if objects else "n/a"), ""]
    rows = []
    for f in fmts:
        def m(metric, f=f):
            return d.median("graph", f, metric)
        ok = all(v == 1 for v in d.values("graph", f, "checksum_ok"))
        dup = m("duplicated_objects")
        rows.append((SERIAL_SAYS.get(f, f),
                     "kept" if m("shares") else "duplicated",
                     "{:,}".format(int(m("written_objects"))),
                     "{:,}".format(int(dup)) if dup else "0",
                     fmt((m("bytes") or 0) / 2**20),
                     fmt(m("build_write_ns_per_object")),
                     fmt(m("build_write_ns_per_byte")),
                     fmt(m("write_ms")),
                     fmt(m("again_ms")),
                     fmt(m("again_cpu_ms")),
                     fmt(m("open_traverse_ms")),
                     fmt(m("open_ms")),
                     fmt(m("trusted_open_traverse_ms")),
                     ("agrees" if ok and len(every) == 1 else "DIFFERS")))
    lines += md_table(["format", "sharing", "objects written", "duplicated",
                       "output (MiB)", "build+write (ns/object)",
                       "build+write (ns/byte)", "write alone (ms)", "write again (ms)", "its CPU time (ms)",
                       "open+traverse (ms)", "of which open (ms)",
                       "trusted open+traverse (ms)", "checksum"], rows)
    notes = []
    if len(every) == 1:
        notes.append("Every format's walk gives the checksum 0x%016x." % next(iter(every)))
    elif every:
        notes.append("The checksums DIFFER: %s." % ", ".join(
            "%s 0x%016x" % (f, v) for f in fmts for v in sorted(sums[f])))
    if d.median("graph", "rgn-contig", "again_ms") is not None:
        notes.append("Write again: the same write made a second time at once, "
                     "into another memfd (for the traced rows the whole call: "
                     "copy and write), so that the kernel has read the "
                     "message's pages once before; on some virtual machines "
                     "its first read of a page the program has just written "
                     "traps to the hypervisor, and the first write then costs "
                     "several times the second.  Which state a first write "
                     "finds depends on the machine and on what ran before it, "
                     "so the goal below compares the two second writes.  Its "
                     "CPU time (rgn's rows) counts every thread of the process.  "
                     "A traced row's second call is timed between two raw writes "
                     "of the same graph built in a contiguous region (their pages "
                     "read once before): the goal judges the call against the "
                     "mean of those two, round by round, and takes the median "
                     "of the rounds' ratios, because rows seconds apart can "
                     "meet this guest at different speeds.")
    v = d.median("graph", "flatbuffers", "verify_ms")
    if v is not None:
        notes.append("FlatBuffers' Verifier, run once per round outside the timed "
                     "part: %s ms (it checks a shared table again for every offset "
                     "that reaches it)." % fmt(v))
    if d.median("graph", "msgpack-unpack", "open_ms") is not None:
        notes.append("msgpack_unpack_next, which makes the whole message into "
                     "msgpack_object trees in a zone, counts as that row's open; "
                     "the in-place row parses the mapped bytes as it walks.")
    u = d.median("graph", "rgn-contig", "untimed_build_ms")
    if u is not None:
        notes.append("The rgn row writes the region as it is: its graph is the "
                     "program's own in-memory data, built with rgn_alloc in %s ms "
                     "that the table leaves out; its open includes "
                     "rgn_image_open's checksum of the whole body." % fmt(u))
    if d.median("graph", "rgn-trace", "trusted_open_traverse_ms") is not None:
        notes.append("The trusted column opens the same rgn image again with "
                     "RGN_IMAGE_TRUSTED (no body checksum, the header still "
                     "checked; the two opens take turns going first) and walks "
                     "it, as FlatBuffers' row reads its buffer (its Verifier "
                     "runs outside the timed part).")
    ca = [(f, d.median("graph", f, "copy_alone_ns_per_object"))
          for f in ("rgn-trace", "rgn-trace-dfs", "rgn-trace-compiled")]
    ca = [(f, v) for f, v in ca if v is not None]
    if ca:
        notes.append("The tracing copy alone, into a contiguous region whose "
                     "pages are resident (a copy made and the region reset "
                     "first), without the file: %s ns per object." % ", ".join(
                         "%s %s" % (SERIAL_SAYS.get(f, f), fmt(v)) for f, v in ca))
    failed = [f for f in SERIAL if d.median("graph", f, "objects") is not None
              and f not in fmts]
    if failed:
        notes.append("Failed in every round (bench-serial's message is in the "
                     "log): %s." % "; ".join(SERIAL_SAYS.get(f, f) for f in failed))
    if skipped:
        notes.append("Not built (the package or code generator was missing at "
                     "configure time): %s." % "; ".join(SERIAL_SAYS.get(f, f) for f in skipped))
    lines += [""] + [" ".join(notes)] if notes else []
    lines += [""] + serial_goals(d, objects)
    return lines


# The rows the 2x goal judges: bench-serial's name, what the goal's line
# calls it, and its verdict's label.
TWO_X_ROWS = [
    ("rgn-trace", "one thread, written again", "one thread"),
    ("rgn-trace-overlap", "written beside the copy on a second thread (RGN_COPY_OVERLAP)",
     "overlapped"),
    ("rgn-trace-compiled", "compiled (rgn_copier) on one thread", "compiled"),
    ("rgn-trace-compiled-overlap", "compiled and written beside the copy",
     "compiled overlapped"),
]


def serial_goals(d, objects):
    """The serialization goals, at the size they are set at (1 M objects)."""
    def m(f, metric):
        return d.median("graph", f, metric)
    tr = m("rgn-trace", "build_write_ns_per_object")
    if tr is None:
        return []
    if not objects or int(objects) != 1000000:
        return ["Goals (set at 1,000,000 objects): not measured at their size in "
                "this run (%s objects; `--full` runs them)." %
                ("{:,}".format(int(objects)) if objects else "n/a")]

    def verdict(ok):
        return "PASS" if ok else "MISS"
    alone = m("rgn-trace", "copy_alone_ns_per_object")
    calone = m("rgn-trace-compiled", "copy_alone_ns_per_object")
    raw_o = m("rgn-contig", "build_write_ns_per_object")
    again = {f: m(f, "again_ms") for f in ("rgn-trace", "rgn-contig")}
    if alone is not None and None not in again.values():
        per = 1e6 / objects
        rows = [("tracing copy with sharing at most 10 ns per object",
                 "the copy alone %s ns; copied and written as an image %s ns, "
                 "%s written again (the raw write of the same bytes alone: %s "
                 "ns, %s again)" %
                 (fmt(alone), fmt(tr), fmt(again["rgn-trace"] * per), fmt(raw_o),
                  fmt(again["rgn-contig"] * per)), verdict(alone <= 10))]
        if calone is not None:
            rows[0] = (rows[0][0], rows[0][1] + "; compiled (rgn_copier), the copy "
                       "alone %s ns" % fmt(calone),
                       "%s tables, %s compiled" % (rows[0][2], verdict(calone <= 10)))
    elif alone is not None:
        rows = [("tracing copy with sharing at most 10 ns per object",
                 "the copy alone %s ns; copied and written as an image %s ns "
                 "(the raw write of the same bytes alone: %s ns)" %
                 (fmt(alone), fmt(tr), fmt(raw_o)), verdict(alone <= 10))]
    else:
        rows = [("tracing copy with sharing at most 10 ns per object",
                 "%s ns" % fmt(tr), verdict(tr <= 10))]
    raw, trb = m("rgn-contig", "build_write_ns_per_byte"), m("rgn-trace", "build_write_ns_per_byte")
    raw2, trb2 = m("rgn-contig", "again_ns_per_byte"), m("rgn-trace", "again_ns_per_byte")
    raw_cpu = m("rgn-contig", "again_cpu_ms")
    if raw2 and trb2 and raw and trb:
        # like for like: both second calls, the pages read by the kernel
        # once.  The verdict takes each traced call's ratio to the raw
        # write of the same graph timed just before and just after it
        # (again_pair_ratio, median over rounds): rows run seconds apart
        # on a guest whose speed changes by the second, so the ratio of
        # two rows' medians is given beside it but not judged.  The rows
        # with a second thread also give their CPU time, every thread's.
        said, ok = [], []
        for f, name, short in TWO_X_ROWS:
            b2, b1 = m(f, "again_ns_per_byte"), m(f, "build_write_ns_per_byte")
            if not (b2 and b1):
                continue
            pr, c = m(f, "again_pair_ratio"), m(f, "again_cpu_ms")
            text = "%s: %s ns/byte, %sx the raw row" % (name, fmt(b2), fmt(b2 / raw2))
            if pr is not None:
                text += ", %sx the raw write beside it" % fmt(pr)
            text += " (first writes %sx)" % fmt(b1 / raw)
            if "overlap" in f and c and raw_cpu:
                text += ", its CPU time %sx the raw write's" % fmt(c / raw_cpu)
            said.append(text)
            ok.append((verdict((pr if pr is not None else b2 / raw2) <= 2), short))
        rows.append(("within 2x the contiguous raw write per byte", "; ".join(said),
                     ok[0][0] if len(ok) == 1 else ", ".join("%s %s" % v for v in ok)))
    elif raw and trb:
        rows.append(("within 2x the contiguous raw write per byte",
                     "%s against %s ns/byte: %sx" % (fmt(trb), fmt(raw), fmt(trb / raw)),
                     verdict(trb <= 2 * raw)))
    fb, ot = m("flatbuffers", "open_traverse_ms"), m("rgn-trace", "open_traverse_ms")
    tt, fv = m("rgn-trace", "trusted_open_traverse_ms"), m("flatbuffers", "verify_ms")
    if fb and ot and tt and fv:
        # like for like: FlatBuffers' timed open checks nothing, so it
        # meets rgn's trusted open; rgn's checked open meets the Verifier
        rows.append(("open + traverse at least as fast as FlatBuffers",
                     "neither checking its input: %s ms (rgn, trusted open) against "
                     "%s; both checking: %s (rgn, body checksum) against %s "
                     "(FlatBuffers, Verifier %s + open + traverse)" %
                     (fmt(tt), fmt(fb), fmt(ot), fmt(fb + fv), fmt(fv)),
                     verdict(tt <= fb and ot <= fb + fv)))
    elif fb and ot:
        rows.append(("open + traverse at least as fast as FlatBuffers",
                     "%s against %s ms" % (fmt(ot), fmt(fb)), verdict(ot <= fb)))
    sizes = {f: m(f, "bytes") for f in ("rgn-trace", "capnp", "flatbuffers", "msgpack-inplace")}
    if all(v is not None for v in sizes.values()):
        rows.append(("the smallest output of the four",
                     ", ".join("%s %s MiB" % (f, fmt(v / 2**20)) for f, v in sizes.items()),
                     verdict(sizes["rgn-trace"] == min(sizes.values()))))
    return ["Goals:", ""] + md_table(["goal", "measured", "verdict"], rows)


def report_xref(d):
    says = {"blocks-ref": "blocks: 32-bit ref into the parent",
            "contig-ptr": "contiguous: 8-byte pointer into the parent",
            "contig-copy": "contiguous: copy the string, 32-bit ref"}
    b = d.median("child_into_parent", "blocks-ref", "node_ns")
    lines = ["## 7. Cross-region references", "",
             "A parent region holds a dictionary of 4096 strings; each request is "
             "a child region that builds a list of 2000 nodes naming random "
             "entries, then walks it.  A block-space reference is valid in every "
             "block region, so a node is two 32-bit refs.  A contiguous child "
             "cannot hold a reference into its parent (refs count from each "
             "region's own base): it stores a raw pointer, or copies the string "
             "in to stay self-contained (what an image needs).", ""]
    rows = []
    for s in ("blocks-ref", "contig-ptr", "contig-copy"):
        v = d.median("child_into_parent", s, "node_ns")
        rows.append((says[s], fmt(v), ratio(v, b),
                     fmt(d.median("child_into_parent", s, "bytes_per_node"))))
    lines += md_table(["variant", "ns per node", "vs blocks", "bytes per node"],
                      rows)
    bb, pb, cb = (d.median("child_into_parent", s, "bytes_per_node")
                  for s in ("blocks-ref", "contig-ptr", "contig-copy"))
    if bb and pb and cb:
        lines += ["", "What it costs the contiguous side is memory and "
                  "self-containment: a pointer doubles the node (%s "
                  "against %s bytes) and the child is no longer position-independent "
                  "(its image would hold addresses of this process); a copy keeps "
                  "32-bit refs but takes %s bytes a node here.  Time per node is in "
                  "the table (the block variant encodes each ref against the "
                  "global base, reloaded after every call)." % (fmt(pb), fmt(bb), fmt(cb))]
    return lines


CHURN = ["blocks-compact", "contig-compact", "blocks-none", "contig-none"]
CHURN_SAYS = {"blocks-compact": "blocks, compacted every 5 rounds",
              "contig-compact": "contiguous, compacted every 5 rounds",
              "blocks-none": "blocks, never compacted",
              "contig-none": "contiguous, never compacted"}


def churn_series(d):
    """{strategy: {round: median held MiB}} of the long run."""
    got = {}
    for r in d.rows:
        if r[1] == "churn_series":
            got.setdefault(r[2], {}).setdefault(r[3], []).append(r[5])
    return {s: {k: sorted(v)[len(v) // 2] for k, v in steps.items()}
            for s, steps in got.items()}


def report_compact(d, outdir, term):
    def m(cas, s, metric):
        return d.median(cas, s, metric)

    live = m("once", "blocks", "live_mib")
    objects = None
    if live:
        objects = live * 2**20 / 264 * 2   # a record and its payload each
    lines = ["## 8. Compaction", "",
             "rgn_compact on a live graph among garbage, block, contiguous and "
             "heap regions side by side (contiguous: a 32 GiB reservation, "
             "RGN_RELEASE_UNMAP; the block space keeps its default retain limit).  "
             "The graph is a list of %s records of 8 bytes (a next reference and "
             "a payload reference), each with a 256-byte payload (%s MiB live, "
             "%s objects); after each record and its payload the build allocates "
             "nine more of the same shape and drops them, so that nine tenths of "
             "the region is garbage lying between live objects and every live "
             "object moves; the heap region frees its garbage one by one once the "
             "graph is built, so that nine tenths of every page is free and no "
             "page can go back.  *dense* is the same graph with no garbage: the copy's "
             "own cost.  Held is the region's read-write memory "
             "(rgn_region_stats: blocks or committed pages); RSS is the process's "
             "above the round's start, read from /proc/self/statm after "
             "rgn_space_trim, so that freed blocks are really given back.  A walk "
             "reads every record and every word of its payload in list order "
             "(best of three, after an untimed one), before and after the "
             "compaction, which copies in the default (breadth-first) order: each "
             "record's targets together, so the next record and then the "
             "record's payload follow it.  Far steps: the share of the "
             "walk's steps (record to payload, record to next record) that land "
             "more than a page away, a measure of layout that the machine's "
             "noise does not move.  Objects are records and payloads alike." % (
                 "{:,}".format(int(round(objects / 2))) if objects else "n/a",
                 fmt(live), "{:,}".format(int(round(objects))) if objects else "n/a"),
             ""]
    rows = []

    def line(label, cas, metric, scale=1.0, compare=True):
        b, c, h = (m(cas, s, metric) for s in ("blocks", "contig", "heap"))
        rows.append((label, fmt(b * scale if b is not None else None),
                     fmt(c * scale if c is not None else None),
                     fmt(h * scale if h is not None else None),
                     ratio(c, b) if compare else "",
                     ratio(h, b) if compare else ""))

    line("region held before (MiB)", "once", "held_before_mib")
    line("RSS before (MiB)", "once", "rss_before_mib")
    line("rgn_compact (ms)", "once", "compact_ms")
    line("ns per live object", "once", "compact_ns_per_object")
    line("ns per live byte", "once", "compact_ns_per_byte")
    line("ns per byte held before", "once", "compact_ns_per_held_byte")
    line("region held after (MiB)", "once", "held_after_mib")
    line("RSS after (MiB)", "once", "rss_after_mib")
    line("walk before (ns per record)", "once", "walk_before_ns")
    line("walk after (ns per record)", "once", "walk_after_ns")
    line("far steps before (%)", "once", "far_steps_before", 100, False)
    line("far steps after (%)", "once", "far_steps_after", 100, False)
    line("dense graph: ns per live object", "dense", "compact_ns_per_object")
    line("dense graph: walk before / after (ns per record)", "dense", "walk_before_ns")
    # the dense row shows both walks in one cell pair
    rows[-1] = (rows[-1][0],) + tuple(
        "%s / %s" % (fmt(m("dense", s, "walk_before_ns")), fmt(m("dense", s, "walk_after_ns")))
        for s in ("blocks", "contig", "heap")) + ("", "")
    lines += ["### One compaction", ""]
    lines += md_table(["", "blocks", "contiguous", "heap", "contiguous / blocks",
                       "heap / blocks"], rows)

    notes = []
    for s, says in (("blocks", "block"), ("contig", "contiguous"), ("heap", "heap")):
        wb, wa = m("once", s, "walk_before_ns"), m("once", s, "walk_after_ns")
        hb, ha = m("once", s, "held_before_mib"), m("once", s, "held_after_mib")
        rb, ra = m("once", s, "rss_before_mib"), m("once", s, "rss_after_mib")
        if None in (wb, wa, hb, ha, rb, ra):
            continue
        notes.append("In the %s region compaction takes the held memory from %s "
                     "to %s MiB (RSS %s to %s MiB) and the walk from %s to %s ns "
                     "a record (%s)." % (says, fmt(hb), fmt(ha), fmt(rb), fmt(ra),
                                         fmt(wb), fmt(wa), ratio(wa, wb)))
    on, dn = m("once", "blocks", "compact_ns_per_object"), m("dense", "blocks", "compact_ns_per_object")
    oh, dh = m("once", "blocks", "compact_ns_per_held_byte"), m("dense", "blocks", "compact_ns_per_held_byte")
    if on and dn and oh and dh:
        notes.append("Garbage between the live objects is paid for although it is "
                     "never copied: in a block region a live object costs %s ns "
                     "among nine tenths garbage and %s ns with none (%s ns against "
                     "%s ns per byte the region held before the call).  The "
                     "forwarding table takes half the bytes of every 512 bytes of "
                     "source the graph touches (fresh zeroed pages), and the garbage's "
                     "pages go back to the kernel within the call; the contiguous "
                     "region copies out and back, twice the copying for the same "
                     "table." % (fmt(on), fmt(dn), fmt(oh), fmt(dh)))
    if notes:
        lines += [""] + [" ".join(notes)]

    lines += ["", "### Long run", ""]
    n_live = m("churn", "blocks-compact", "live_mib")
    ser = churn_series(d)
    steps = max((max(v) for v in ser.values()), default=0)
    lines += ["test_compact_churn's workload, larger: %s MiB of live records "
              "(as above, built newest first); each round a tenth of them get a "
              "new 256-byte payload (the old one becomes garbage) and scratch "
              "eight times that is allocated and dropped, %d rounds; compacted "
              "after every fifth round (the last included), or never.  Held and "
              "RSS at the end; the walk then reads the list as above." % (
                  fmt(n_live), steps), ""]
    rows = []
    for s in CHURN:
        lv, h = m("churn", s, "live_mib"), m("churn", s, "held_mib")
        rows.append((CHURN_SAYS[s], fmt(lv), fmt(h),
                     ("%.2fx" % (h / lv)) if h is not None and lv else "n/a",
                     fmt(m("churn", s, "peak_held_mib")),
                     fmt(m("churn", s, "rss_mib")),
                     fmt(m("churn", s, "walk_ns")),
                     fmt(100 * m("churn", s, "far_steps"))
                     if m("churn", s, "far_steps") is not None else "n/a",
                     fmt(m("churn", s, "time_ms")),
                     fmt(m("churn", s, "compact_total_ms"))))
    lines += md_table(["strategy", "live (MiB)", "held at end (MiB)", "held / live",
                       "peak held (MiB)", "RSS at end (MiB)", "walk (ns per record)",
                       "far steps (%)",
                       "run (ms)", "of which rgn_compact (ms)"], rows)
    if ser and steps:
        # the rounds before and after a compaction: first, middle, last
        pick = sorted({k for j in (1, steps // 10, steps // 5) if j >= 1
                       for k in (5 * j - 1, 5 * j) if 1 <= k <= steps})
        srows = []
        for s in CHURN:
            if s in ser:
                srows.append([CHURN_SAYS[s]] + [fmt(ser[s].get(k)) for k in pick])
        lines += ["", "Held memory (MiB, median over rounds) at the end of a "
                  "round (*c*: the round ends with a compaction):", ""]
        lines += md_table(["strategy"] + [str(k) + (" c" if k % 5 == 0 else "")
                                          for k in pick], srows)
        if term:
            with open(os.path.join(outdir, "strategy-compact.dat"), "w") as f:
                f.write("# round " + " ".join(CHURN) + " (held MiB, medians)\n")
                for k in range(1, steps + 1):
                    f.write("%d %s\n" % (k, " ".join(
                        "%g" % ser[s][k] if s in ser and k in ser[s] else "NaN"
                        for s in CHURN)))
            cols = ", ".join("'strategy-compact.dat' using 1:%d with lines title '%s'" %
                             (i + 2, CHURN_SAYS[s]) for i, s in enumerate(CHURN))
            png = plot(outdir, "strategy-compact", """set termoption noenhanced
set title "Memory held by a region replacing a tenth of its data each round"
set xlabel "round"
set ylabel "held (MiB)"
set key top left
plot %s
""" % cols, term)
            if png:
                lines += ["", "![held over rounds](%s)" % png]
    verdict = []
    for s in ("blocks-compact", "contig-compact"):
        lv, h = m("churn", s, "live_mib"), m("churn", s, "held_mib")
        if lv and h is not None:
            verdict.append("%s: %s (%.2fx live)" % (
                "PASS" if h <= 1.5 * lv else "MISS", CHURN_SAYS[s], h / lv))
    hn, hc = m("churn", "blocks-none", "held_mib"), m("churn", "blocks-compact", "held_mib")
    hp = m("churn", "blocks-compact", "peak_held_mib")
    if hn and hc and hp and n_live:
        lines += ["", "Compacted, the region ends holding what is live (the goal: "
                  "within 1.5x); between compactions it grows by five rounds' "
                  "garbage, to %s MiB (%.1fx live) just before each.  Left alone it "
                  "holds everything it ever allocated, %s MiB after %d rounds, "
                  "%.0fx the live bytes, and its walk crosses that garbage: half "
                  "its steps go from a record to a payload allocated rounds later, "
                  "pages away.  A compaction lays the list out again in walk order "
                  "(the block region's far steps are its chunk boundaries, one in "
                  "256 KiB)." % (fmt(hp), hp / n_live, fmt(hn), steps, hn / n_live)]
    if verdict:
        lines += [""] + ["    " + v for v in verdict]
    return lines


def write_sections(out, md, sections, d, term, serial):
    """strategy.md of the sections named by --sections alone."""
    reports = {"alloc": lambda: report_alloc(d, out, term),
               "life": lambda: report_life(d, out, term),
               "maxlive": lambda: report_maxlive(d),
               "inflate": lambda: report_inflate(d, out, term),
               "over32": lambda: report_over32(d),
               "image": lambda: report_image(d, serial),
               "xref": lambda: report_xref(d),
               "compact": lambda: report_compact(d, out, term)}
    for s in FULL:
        if s in sections:
            md += reports[s]() + [""]
    with open(os.path.join(out, "strategy.md"), "w") as f:
        f.write("\n".join(md))
    print("strategy report: %s" % os.path.join(out, "strategy.md"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exe", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--command", default="bench/strategy.py")
    ap.add_argument("--serial-exe", default=None,
                    help="bench-serial: the formats' table in section 6")
    ap.add_argument("--sections", default=None,
                    help="only these sections, comma-separated (e.g. compact)")
    a = ap.parse_args()
    rounds = a.rounds or (5 if a.full else 3)
    os.makedirs(a.out, exist_ok=True)
    sections = a.sections.split(",") if a.sections else (FULL if a.full else QUICK)
    if not set(sections) <= set(FULL):
        ap.error("--sections: one or more of %s" % ",".join(FULL))
    rows = []
    t0 = time.time()
    for s in sections:
        rows += run_section(s, a.exe, a.full, rounds, a.out)
    d = Data(rows)
    serial = None
    if a.serial_exe and "image" in sections:
        serial = Data(run_section("serial", a.serial_exe, a.full, rounds, a.out))
    term = gnuplot_terminal()
    md = ["# rgn: block strategy against contiguous strategy", "",
          "Command: `%s` (%s, %d rounds; %s).  Raw rows: `strategy-<section>.csv`, "
          "each with the commands that made it on its first line.  Figures are "
          "medians over rounds; ratios are contiguous / blocks.  Built with the "
          "release tree of the main report (machine and versions in "
          "`machine.txt` beside this file)." % (
              a.command, ("sections %s only" % ", ".join(sections)) if a.sections
              else "all eight sections" if a.full else
              "quick subset: sections 1, 2, 4, 6, 7, 8 and the shared image of 5; "
              "`--full` adds 3 and the rest of 5",
              rounds, "%.0f s" % (time.time() - t0)), ""]
    if not term:
        md += ["(gnuplot is not installed: no plots.)", ""]
    if a.sections:
        write_sections(a.out, md, sections, d, term, serial)
        return
    md += report_alloc(d, a.out, term) + [""]
    md += report_life(d, a.out, term) + [""]
    if "maxlive" in sections:
        md += report_maxlive(d) + [""]
    md += report_inflate(d, a.out, term) + [""]
    if "over32" in sections or "share" in sections:
        md += report_over32(d) + [""]
    md += report_image(d, serial) + [""]
    md += report_xref(d) + [""]
    md += report_compact(d, a.out, term) + [""]
    with open(os.path.join(a.out, "strategy.md"), "w") as f:
        f.write("\n".join(md))
    print("strategy report: %s" % os.path.join(a.out, "strategy.md"))


if __name__ == "__main__":
    main()
