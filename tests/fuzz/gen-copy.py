#!/usr/bin/env python3
# gen-copy.py - writes the seed corpus of fuzz-copy (tests/fuzz/corpus-copy),
# one input per line of SEEDS, in the format fuzz-copy.c reads:
#   c0   source backend + 3 * destination backend + 9 * order + 18 * ONLY_SRC
#        (backends: 0 blocks, 1 contiguous, 2 heap; order 0 breadth, 1 depth),
#        + 36: rgn_copy is given no options at all
#   c1   bit 0 image, bit 1 compaction, bits 2-3 both set: no layout_of,
#        bit 6 tagged roots, bit 7 a second region of the space holds
#        objects too (a contiguous source: three more strings end it where
#        its read-write part ends), bits 4-5 both set and c2's bit 7: the
#        space filled first (c2's bits 0-3: 16 KiB steps left free)
#   c2   bits 0-1 the source's reservation (1 + n MiB), bit 4 a 1 MiB
#        destination reservation; also seeds the byte generator
#   u16  more of the generator's seed, u16 objects - 1
#   per object: kind (0 node, 1 string, 2 vector, 3 tagged vector,
#        4 union, 5 box, 6 aligned, 0x70 sized (0x70-0x7f all are; below
#        that modulo 7); +128: in the second region), how (a string's
#        length, a vector's count % 64, a union's flag in bit 0 (how 0xf0
#        and up: its trace callback names a field past the copy, bit 0
#        set: a local, both EINVAL), a box's
#        tag 0xf0: invalid layout, 0xe0: unknown; an aligned object's
#        alignment in bits 0-2: 0-2 16, 3-4 64, 5 4096, 6 24 and 7 8192
#        (both EINVAL), bit 3: allocated at it in the source too; a sized
#        object's variant in bit 0 (1: a tail of node references, their
#        count in bits 4-7) and its whole size in bits 1-3, see below),
#        for long strings a u16, for an aligned object its tail's length
#        (a byte), for a sized object two bytes: extra, plain bytes after
#        its fields and tail, and y, for the whole size
#   per reference field: selector and index (selector < 170 an object of
#        the right kind, < 195 null, < 210 far outside, < 220 the guard
#        page, < 245 into an object (one more byte: the granule), else a
#        bit flipped); per counted object (string, vector, tagged vector,
#        aligned, sized with a tail) one byte (0xf?: huge, 0xe?: over)
#   (an aligned object: a tag, its length, a node and a tagged object,
#   the tail's bytes; a tagged reference may name one)
#   (a sized object, tagged: a tag, whole (what the layout's size_of
#   returns), a node, a tagged object, a count (the tail variant's), the
#   tail's references, extra bytes; need = 20 + 4 * count, the object
#   need + extra bytes; whole by how's bits 1-3: 0-2 exactly that, 3
#   need + y % (extra + 1) (no more than the object), 4-5 1 + y % 64 past
#   its end (the copy reads on into what follows), 6 y % need and 7 zero
#   (both less than the fields: EINVAL))
#   the number of roots - 1, and each root as a reference field.
# Run: python3 tests/fuzz/gen-copy.py tests/fuzz/corpus-copy
import random
import struct
import sys

NREFS = {0: 3, 5: 1, 6: 2, 0x70: 2}


def program(sb, db, depth, only, flags, objs, garbage=0.0, over=None, roots=2, seed=1,
            bare=False, pad=0):
    rnd = random.Random(seed)
    out = bytearray([sb + 3 * db + 9 * depth + 18 * only + 36 * bare, flags, seed & 0xef])
    out += struct.pack('<HH', seed * 7919 & 0xffff, len(objs) - 1)
    for kind, how in objs:
        out += bytes([kind, how & 0xff])
        if kind & 0x7f == 1 and how > 0xff:
            out[-1] = 0xc0
            out += struct.pack('<H', how)
        if kind & 0x7f == 6:       # how's second byte: the tail's length
            out.append(how >> 8)
        if kind & 0x7f == 0x70:    # how's second and third bytes: extra and y
            out += bytes([how >> 8 & 0xff, how >> 16 & 0xff])

    def ref():
        if rnd.random() < garbage:
            sel = rnd.choice([200, 215, 230, 250])
            b = bytes([sel, rnd.randrange(256)])
            return b + bytes([rnd.randrange(256)]) if 220 <= sel < 245 else b
        if rnd.random() < 0.1:
            return bytes([180, 0])
        return bytes([rnd.randrange(170), rnd.randrange(256)])

    for i, (kind, how) in enumerate(objs + [(1, 0)] * pad):
        k = kind & 0x7f
        n = NREFS.get(k, 0)
        if k in (2, 3):
            n = how % 64
        if k == 4:
            n = how & 1
        if k == 0x70 and how & 1:
            n += how >> 4 & 15
        for _ in range(n):
            out += ref()
        if k in (1, 2, 3, 6) or (k == 0x70 and how & 1):
            out.append(over if over is not None and i == len(objs) - 1 else 0)
    out.append(roots - 1)
    for _ in range(roots):
        out += bytes([rnd.randrange(170), rnd.randrange(256)])
    return bytes(out)


def mix(n, seed, kinds=(0, 0, 0, 1, 1, 2, 3, 4, 5), other=False, aligns=(0, 3, 5),
        wholes=(0, 3, 4)):
    rnd = random.Random(seed)
    objs = []
    for _ in range(n):
        k = rnd.choice(kinds)
        if k == 7:
            # kind 0x70: either variant (up to 15 references in the tail),
            # the whole size by a mode from wholes, up to 40 extra bytes
            how = (rnd.randrange(2) | rnd.choice(wholes) << 1 | rnd.randrange(16) << 4 |
                   rnd.randrange(41) << 8 | rnd.randrange(256) << 16)
            k = 0x70
        elif k == 6:
            # an alignment from aligns, half of them placed at it in the
            # source, a tail of up to 60 bytes
            how = rnd.choice(aligns) | rnd.randrange(2) << 3 | rnd.randrange(61) << 8
        else:
            how = {0: 0, 1: rnd.randrange(40), 2: rnd.randrange(1, 8), 3: rnd.randrange(1, 8),
                   4: rnd.randrange(2) | 2, 5: 0}[k]
        objs.append((k | (0x80 if other and rnd.random() < 0.3 else 0), how))
    return objs


B, C, H = 0, 1, 2
ALIGNED = (0, 0, 1, 3, 4, 5, 6, 6, 6)     # nodes, strings, tagged kinds: aligned the most
SIZED = (0, 0, 1, 3, 7, 7, 7)             # nodes, strings, tagged vectors: sized the most
IMAGE, COMPACT, NOLAYOUT, HOG, TAGGED, OTHER = 1, 2, 0x0c, 0x30, 0x40, 0x80
SEEDS = {
    'blocks-blocks-breadth-shared': program(B, B, 0, 0, IMAGE | COMPACT, mix(60, 1, (0, 0, 1))),
    'blocks-contig-depth-tagged': program(B, C, 1, 0, TAGGED | IMAGE, mix(80, 2), seed=2),
    'blocks-heap-only-src': program(B, H, 0, 1, OTHER | COMPACT, mix(60, 3, other=True), seed=3),
    'contig-blocks-depth-compact': program(C, B, 1, 0, IMAGE | COMPACT, mix(100, 4), seed=4),
    'contig-contig-tail-past-end': program(C, C, 0, 0, 0, mix(40, 5, (0, 1, 2)), garbage=0.1,
                                           over=0xe7, seed=5),
    'contig-heap-depth': program(C, H, 1, 1, COMPACT, mix(120, 6), seed=6),
    'heap-blocks-depth-only-src': program(H, B, 1, 1, OTHER, mix(70, 7, other=True), seed=7),
    'heap-contig-garbage': program(H, C, 0, 0, IMAGE, mix(90, 8), garbage=0.15, seed=8),
    'heap-heap-bad-tag': program(H, H, 1, 0, IMAGE | TAGGED, mix(30, 9) + [(5, 0xf0)], seed=9),
    'blocks-contig-only-src-einval': program(B, C, 0, 1, 0, mix(20, 10), seed=10),
    'blocks-blocks-space-full': program(B, B, 1, 0, HOG, [(1, 0xff00)] * 40 + mix(40, 11),
                                        seed=0x9f),
    'blocks-heap-no-layout-of': program(B, H, 0, 0, NOLAYOUT | TAGGED, mix(30, 12), seed=12),
    'blocks-blocks-huge-count': program(B, B, 0, 0, 0, mix(30, 13, (0, 1, 2)), over=0xff,
                                        seed=13),
    'blocks-contig-no-options': program(B, C, 0, 0, 0, mix(50, 14, (0, 1, 2)), bare=True,
                                        seed=14),
    'contig-contig-end-at-step': program(C, C, 0, 0, OTHER | IMAGE, mix(50, 15, (0, 0, 1)),
                                         garbage=0.2, pad=3, seed=15),
    'blocks-contig-aligned': program(B, C, 0, 0, TAGGED | IMAGE, mix(80, 16, ALIGNED),
                                     seed=16),
    'heap-contig-aligned-depth': program(H, C, 1, 0, TAGGED | IMAGE | COMPACT,
                                         mix(80, 17, ALIGNED), seed=17),
    'contig-contig-aligned-compact': program(C, C, 0, 0, IMAGE | COMPACT,
                                             mix(100, 18, ALIGNED), seed=18),
    'contig-blocks-aligned-depth': program(C, B, 1, 0, TAGGED | COMPACT,
                                           mix(60, 19, ALIGNED, aligns=(2, 5)), seed=19),
    'blocks-heap-aligned-page': program(B, H, 0, 0, TAGGED | IMAGE | COMPACT,
                                        mix(40, 26, ALIGNED, aligns=(5,)), seed=26),
    'heap-heap-aligned-only-src': program(H, H, 1, 1, OTHER | TAGGED,
                                          mix(60, 22, ALIGNED, other=True), seed=22),
    'contig-contig-aligned-garbage': program(C, C, 1, 0, TAGGED | IMAGE,
                                             mix(60, 39, ALIGNED), garbage=0.03, seed=39),
    'heap-contig-aligned-root': program(H, C, 0, 0, TAGGED | IMAGE, mix(40, 24, ALIGNED),
                                        seed=24),
    'blocks-blocks-bad-align-24': program(B, B, 0, 0, TAGGED | IMAGE | COMPACT,
                                          mix(30, 24, ALIGNED, aligns=(0, 3, 6)), seed=24),
    'heap-contig-bad-align-8192': program(H, C, 1, 0, TAGGED | IMAGE,
                                          mix(30, 26, ALIGNED, aligns=(0, 3, 7)), seed=26),
    'blocks-blocks-sized': program(B, B, 0, 0, TAGGED | IMAGE, mix(60, 40, SIZED), seed=40),
    'heap-contig-sized-depth': program(H, C, 1, 0, TAGGED | IMAGE, mix(60, 41, SIZED),
                                       seed=41),
    'contig-heap-sized-compact': program(C, H, 0, 0, TAGGED | COMPACT, mix(60, 42, SIZED),
                                         seed=42),
    'contig-contig-sized-image': program(C, C, 1, 0, TAGGED | IMAGE | COMPACT,
                                         mix(80, 43, SIZED), seed=43),
    'blocks-heap-sized-too-small': program(B, H, 0, 0, TAGGED | IMAGE,
                                           mix(30, 44, SIZED, wholes=(0, 6)), seed=44),
    'heap-blocks-sized-zero': program(H, B, 1, 0, TAGGED | COMPACT,
                                      mix(30, 45, SIZED, wholes=(0, 7)), seed=45),
    # whole between the fixed part and the end of its 15 references: EINVAL
    'heap-heap-sized-short-tail': program(H, H, 0, 0, TAGGED,
                                          mix(10, 47, (0, 3)) + [(0x70, 0xfd | 50 << 16)] * 6,
                                          seed=47),
    # a union whose trace callback names a field outside its copy: EINVAL
    'blocks-contig-union-stray-past': program(B, C, 0, 0, TAGGED | IMAGE,
                                              mix(30, 52) + [(4, 0xf0)] * 4, seed=52),
    'heap-heap-union-stray-local': program(H, H, 1, 0, TAGGED | COMPACT,
                                           mix(30, 49) + [(4, 0xf1)] * 4, seed=49),
    'blocks-contig-sized-huge-count': program(B, C, 0, 0, TAGGED,
                                              mix(20, 46, SIZED) + [(0x70, 0x31 | 8 << 8)],
                                              over=0xff, seed=46),
}

if __name__ == '__main__':
    for name, data in SEEDS.items():
        with open(f'{sys.argv[1]}/{name}', 'wb') as f:
            f.write(data)
