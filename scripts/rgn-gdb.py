# rgn-gdb.py - gdb commands for programs using librgn; installed as
# <datadir>/rgn/rgn-gdb.py.  Load it with
#     (gdb) source /usr/local/share/rgn/rgn-gdb.py
#
#   rgn-ref [-active] REF [REGION]
#       The address a 32-bit reference decodes to.  REF is any expression;
#       with REGION (a region expression), relative to that region's base
#       (bump.base: a contiguous region's reservation); with -active,
#       through the active base (what RGN_AT uses: the global variable in
#       mode global, $gs_base in mode gs, $x28 in mode reg); otherwise
#       through the shared space's base (what rgn_ptr uses).  Sets $rgn_addr.
#   rgn-region REGION
#       A region's header, its spans (blocks backend) or reservation
#       (contiguous backend), its cleanups, and its subtree, one line per
#       region as rgn_report prints it.
#
# Everything is read from memory and from librgn's debug information
# (build types debug or debugoptimized): no function of the program is
# called, so the commands work on a core file as on a live process.  The
# space base comes from the library's globals: rgn_space_base_h_ (hidden,
# needs debug info) or, without it, through the exported pointer
# rgn_space_base_p_.  The decode mode is the one whose out-of-line
# allocation path (rgn_alloc_slow_<mode>) the program holds.

import gdb

BLOCK_SHIFT = 12
MAGIC = {0x52474E31: "live", 0x52474E30: "dead (destroyed or merged away)",
         0x52474E49: "an image, not a region"}
MAGIC_LIVE = 0x52474E31
BACKENDS = {0: "blocks", 1: "contig"}
TAG_LARGE = 2
CONTIG_GUARD = 4096
WALK_LIMIT = 1000000   # spans or regions followed before giving up


class RgnError(Exception):
    pass


def _eval(*exprs):
    """The first of exprs that gdb can evaluate, else None."""
    for e in exprs:
        try:
            return gdb.parse_and_eval(e)
        except gdb.error:
            pass
    return None


def _type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        raise RgnError("no debug information for %s: build librgn with "
                       "-Dbuildtype=debug or debugoptimized" % name)


def decode_mode():
    for m in ("global", "gs", "reg", "zero"):
        if _eval("&'rgn_alloc_slow_%s'" % m) is not None:
            return m
    raise RgnError("librgn is not loaded (no rgn_alloc_slow_<mode>)")


def space_base():
    v = _eval("(unsigned long)rgn_space_base_h_",
              "(unsigned long)**(char ***)&rgn_space_base_p_")
    if v is None:
        raise RgnError("cannot read the space base (rgn_space_base_h_)")
    return int(v)


def active_base(mode):
    if mode == "global":
        v = _eval("(unsigned long)rgn_active_base_h_",
                  "(unsigned long)**(char ***)&rgn_active_base_p_")
    elif mode == "gs":
        v = _eval("(unsigned long)$gs_base")
    elif mode == "reg":
        v = _eval("(unsigned long)$x28")
    else:
        v = gdb.Value(0)
    if v is None:
        raise RgnError("cannot read the active base of mode %s" % mode)
    return int(v)


def region_ptr(expr):
    """expr (a pointer or an address) as a struct rgn_region *."""
    t = _type("struct rgn_region").pointer()
    v = gdb.parse_and_eval(expr)
    if v.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        return v.cast(t)
    return gdb.Value(int(v)).cast(t)


def _hex(v):
    return "0x%x" % int(v)


def region_name(r):
    p = r["name"]
    if int(p) == 0:
        return None
    try:
        s = p.string(encoding="latin-1")
    except (gdb.error, gdb.MemoryError, UnicodeError):
        return "<unreadable name at %s>" % _hex(p)
    return "".join("?" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in s)


def label(r):
    n = region_name(r)
    return n if n is not None else _hex(r)


def space_geometry():
    g = _eval("rgn_space_g")
    if g is None:
        raise RgnError("no debug information for rgn_space_g")
    return int(g["base"]), g["desc"]


def blocks_spans(r):
    """The spans of a blocks region, newest first: (block, len, tag, own)."""
    sbase, desc = space_geometry()
    b = r.cast(_type("struct rgn_blk_region").pointer()).dereference()
    own = (int(r) - sbase) >> BLOCK_SHIFT
    x = int(b["head"])
    spans = []
    while x != own:
        if len(spans) >= WALK_LIMIT:
            raise RgnError("span chain longer than %d: damaged?" % WALK_LIMIT)
        d = desc[x]
        spans.append((x, int(d["len"]), int(d["tag"]), False))
        x = int(d["next"])
    own_len = 1 if int(r["blocks"]) == 1 else int(desc[own]["len"])
    spans.append((own, own_len, 1, True))
    return spans


def stats(r):
    """rgn_region_stats of r alone, as a dict."""
    st = {"backend": int(r["backend"]), "large": 0, "chunks": 0,
          "reserved": 0, "committed": 0}
    cur, start = int(r["bump"]["cur"]), int(r["chunk_start"])
    if st["backend"] == 0:
        b = r.cast(_type("struct rgn_blk_region").pointer()).dereference()
        st["used"] = int(b["used_done"]) + cur - start
        st["blocks"] = int(r["blocks"])
        for _, _, tag, own in blocks_spans(r):
            if tag == TAG_LARGE and not own:
                st["large"] += 1
            else:
                st["chunks"] += 1
    elif st["backend"] == 1:
        c = r.cast(_type("struct contig_region").pointer()).dereference()
        st["used"] = cur - start
        st["committed"] = int(c["resv"]["committed"])
        st["reserved"] = int(c["resv"]["size"])
        st["blocks"] = (st["committed"] - CONTIG_GUARD) >> BLOCK_SHIFT
        st["chunks"] = 1
    else:
        raise RgnError("region %s: unknown backend %d" % (_hex(r), st["backend"]))
    n = 0
    c = r["cleanups"]
    while int(c):
        n += int(c["fn"]) != 0
        c = c["next"]
    st["cleanups"] = n
    return st


def walk(top):
    """top's subtree in depth-first order, children as linked (newest
    first): (region, depth, parent index), without recursion."""
    out = [(top, 0, -1)]
    parents = [0]          # index of the entry at each depth on the path
    x, depth = top, 0
    while True:
        if int(x["child"]):
            x, depth = x["child"], depth + 1
        else:
            while int(x) != int(top) and not int(x["next"]):
                x, depth = x["parent"], depth - 1
            if int(x) == int(top):
                return out
            x = x["next"]
        del parents[depth:]
        out.append((x, depth, parents[depth - 1]))
        parents.append(len(out) - 1)
        if len(out) > WALK_LIMIT:
            raise RgnError("more than %d regions: damaged tree?" % WALK_LIMIT)


def report_lines(top):
    entries = walk(top)
    st = [stats(r) for r, _, _ in entries]
    sub = [[s["used"], s["blocks"], 1] for s in st]
    for i in range(len(entries) - 1, 0, -1):
        p = entries[i][2]
        for k in range(3):
            sub[p][k] += sub[i][k]
    lines = []
    for (r, depth, _), s, t in zip(entries, st, sub):
        ind = "  " * min(depth, 32) + ("+%d " % depth if depth > 32 else "")
        line = "%s%s: %s used=%d subtree=%d blocks=%d chunks=%d large=%d cleanups=%d" % (
            ind, label(r), BACKENDS[s["backend"]], s["used"], t[0], s["blocks"],
            s["chunks"], s["large"], s["cleanups"])
        if s["backend"] == 1:
            line += " reserved=%d committed=%d" % (s["reserved"], s["committed"])
        lines.append(line)
    lines.append("Grand total: regions=%d used=%d blocks=%d" % (sub[0][2], sub[0][0], sub[0][1]))
    return lines


class RgnRef(gdb.Command):
    """rgn-ref [-active] REF [REGION]: the address a 32-bit reference decodes to.
Without REGION or -active, through the shared space's base (rgn_ptr);
with REGION, through that region's base (rgn_ptr_in); with -active,
through the active base (RGN_AT).  Sets $rgn_addr to the address."""

    def __init__(self):
        super().__init__("rgn-ref", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        active = bool(argv) and argv[0] == "-active"
        if active:
            argv = argv[1:]
        if len(argv) not in (1, 2) or (active and len(argv) != 1):
            raise gdb.GdbError("usage: rgn-ref [-active] REF [REGION]")
        try:
            ref = int(gdb.parse_and_eval(argv[0]))
            if not 0 <= ref <= 0xFFFFFFFF:
                raise RgnError("%d is not a 32-bit reference" % ref)
            mode = decode_mode()
            where = ""
            if len(argv) == 2:
                r = region_ptr(argv[1])
                base = int(r["bump"]["base"])
                where = "region %s %s" % (_hex(r), label(r))
            elif active:
                base = active_base(mode)
                where = "active base, mode %s" % mode
            else:
                base = 0 if mode == "zero" else space_base()
                where = "shared space, mode %s" % mode
            addr = base + (ref << 3)
            msg = "ref 0x%x -> 0x%x (%s, base 0x%x)" % (ref, addr, where, base)
            if ref == 0:
                msg += ", the null reference (faults when used)"
            elif len(argv) == 1 and not active:
                sbase, _ = space_geometry()
                blk = (addr - sbase) >> BLOCK_SHIFT
                top = _eval("rgn_blocks_g.top")
                msg += ", block %d" % blk
                if top is not None and not 0 < blk < int(top):
                    msg += ", beyond anything ever allocated"
        except RgnError as e:
            raise gdb.GdbError("rgn-ref: %s" % e)
        gdb.set_convenience_variable("rgn_addr",
                                     gdb.Value(addr).cast(_type("char").pointer()))
        print(msg)


class RgnRegion(gdb.Command):
    """rgn-region REGION: a region's header, spans or reservation, cleanups
and subtree (one line per region, as rgn_report prints them)."""

    def __init__(self):
        super().__init__("rgn-region", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError("usage: rgn-region REGION")
        try:
            self.show(region_ptr(arg))
        except RgnError as e:
            raise gdb.GdbError("rgn-region: %s" % e)
        except gdb.MemoryError as e:
            raise gdb.GdbError("rgn-region: unreadable memory (%s)" % e)

    def show(self, r):
        h = r.dereference()
        magic = int(h["magic"])
        name = region_name(h) if magic in MAGIC and magic != 0x52474E49 else None
        print("region %s%s: %s" % (_hex(r), ' "%s"' % name if name is not None else "",
                                   MAGIC.get(magic, "not a region (magic 0x%x)" % magic)))
        if magic != MAGIC_LIVE:
            return
        be = int(h["backend"])
        print("  backend %s; bump cur %s end %s base %s; chunk_start %s" % (
            BACKENDS.get(be, "?%d" % be), _hex(h["bump"]["cur"]), _hex(h["bump"]["end"]),
            _hex(h["bump"]["base"]), _hex(h["chunk_start"])))
        print("  parent %s, first child %s, next %s, prev %s" % (
            _hex(h["parent"]), _hex(h["child"]), _hex(h["next"]), _hex(h["prev"])))
        if int(h["tail_floor"]) and int(h["tail_at"]) == int(h["bump"]["cur"]):
            print("  tail pending at %s (floor %s)" % (_hex(h["tail_at"]), _hex(h["tail_floor"])))
        s = stats(r)
        print("  used %d bytes; %d blocks, %d chunks, %d large, %d cleanups" % (
            s["used"], s["blocks"], s["chunks"], s["large"], s["cleanups"]))
        if be == 0:
            sbase, _ = space_geometry()
            b = r.cast(_type("struct rgn_blk_region").pointer()).dereference()
            cur = int(b["chunk"])
            print("  spans, newest first:")
            for blk, n, tag, own in blocks_spans(r):
                kind = "own block, header" if own else ("large" if tag == TAG_LARGE else "chunk")
                print("    block %d at 0x%x: %d block%s, %s%s" % (
                    blk, sbase + (blk << BLOCK_SHIFT), n, "" if n == 1 else "s", kind,
                    ", current chunk" if blk == cur else ""))
        else:
            c = r.cast(_type("struct contig_region").pointer()).dereference()
            v = c["resv"]
            print("  reservation %s: %d bytes, %d committed, guard %d; retain %d, release %d" % (
                _hex(v["base"]), int(v["size"]), int(v["committed"]), int(v["guard"]),
                int(c["retain"]), int(c["release"])))
        cl = h["cleanups"]
        if int(cl):
            print("  cleanups, newest first:")
        n = 0
        while int(cl) and n < WALK_LIMIT:
            fn = cl["fn"]
            print("    %s" % ("cancelled" if not int(fn) else "%s arg %s" % (fn, _hex(cl["arg"]))))
            cl = cl["next"]
            n += 1
        print("  tree:")
        for line in report_lines(r):
            print("    " + line)


RgnRef()
RgnRegion()
