/*
 * serial.h - what bench-serial's formats share: one round's figures and
 * the table of formats (serial.c), each a function of its own source
 * file (C or C++).  A format whose package was missing at configure
 * time is in the table without a function, and says why.
 */
#ifndef BENCH_SERIAL_H
#define BENCH_SERIAL_H

#include <stdint.h>
#include <stdlib.h>

#include "../common.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One round of one format: times in ns, sizes in bytes. */
struct serial_result {
	double build_ns;      /* the message made from the arrays (0: not timed) */
	double write_ns;      /* written to the file */
	double open_ns;       /* mapped (or read) and ready to walk */
	double traverse_ns;   /* the checksum walk */
	double verify_ns;     /* a check outside the timed part (0: none) */
	double untimed_ns;    /* work left out of the figures (rgn: building) */
	double copy_ns;       /* rgn's tracing copy alone, into warm memory,
	                         timed apart (0: not measured) */
	double again_ns;      /* the write (for rgn's traced rows the whole
	                         timed call) made again into another file,
	                         the message's pages read by the kernel once
	                         by then (0: not measured) */
	double again_cpu_ns;  /* rgn: the CPU time of again_ns, every thread
	                         of the process (0: not measured) */
	double pair_ns;       /* rgn's traced rows: the raw write of the same
	                         graph from a contiguous region, just before
	                         and just after again_ns (the mean; 0: not
	                         measured) */
	double trusted_open_ns, trusted_traverse_ns;
	                      /* rgn: opened again without the body's
	                         checksum, and walked (0: not measured) */
	uint64_t bytes;       /* the file */
	uint64_t checksum;
	uint64_t visits;      /* nodes the walk reached (shared ones each time) */
	uint64_t written;     /* nodes + strings the file holds */
	uint64_t distinct;    /* with check: distinct nodes the walk reached */
};

/* One round: build from g, write to fd (an empty file of the caller's),
 * map it back, walk it.  check: also count distinct nodes (not timed).
 * 0, or -1 after a message on stderr. */
typedef int serial_round_fn(const struct graph *g, int fd, int check,
                            struct serial_result *res);

serial_round_fn serial_capnp, serial_flatbuffers, serial_msgpack_unpack,
	serial_msgpack_inplace;

/* An empty memfd: the file a round writes to, and again_ns's second
 * one.  An fd, or -1 after a message. */
int serial_memfd(void);

/* n bytes from p written to fd, however many write calls it takes.  0 or
 * -1 (errno). */
int serial_write_all(int fd, const void *p, size_t n);

/* The same n bytes written again into a memfd of their own, timed: ns, or
 * 0 after a message.  On some virtual machines the kernel's first read
 * of a page the program has just written costs a trap to the hypervisor
 * (an 18 MB write from fresh pages measured 29 ms there, 2-4 ms from the
 * same pages again), so every row says both. */
double serial_write_again(const void *p, size_t n);

/* A set of indexes (offsets / granule): distinct nodes reached. */
struct serial_seen {
	uint64_t *bits;
	uint64_t count;
};

static inline int serial_seen_init(struct serial_seen *s, uint64_t n)
{
	s->count = 0;
	s->bits = (uint64_t *)calloc(n / 64 + 1, sizeof *s->bits);
	return s->bits ? 0 : -1;
}

static inline void serial_seen_mark(struct serial_seen *s, uint64_t i)
{
	uint64_t m = (uint64_t)1 << (i % 64);

	if (!(s->bits[i / 64] & m)) {
		s->bits[i / 64] |= m;
		s->count++;
	}
}

#ifdef __cplusplus
}
#endif

#endif /* BENCH_SERIAL_H */
