/*
 * serial.c - bench-serial: one graph (graph.h, a million objects at scale
 * 1) written by each serialization format to a file, mapped back and
 * walked.  scripts/bench runs it through bench/strategy.py (section 6).
 *
 *   bench-serial [--rounds N] [--scale X] [--format NAME] [--check]
 *
 * A round of a format: build its message from the arrays (timed: this is
 * the serialization), write it to a fresh memfd (timed apart) and at
 * once into a second one (timed: "again", serial.h says why), map the
 * first (open) and walk every node computing the checksum (traverse).  The
 * rows, one line each, as bench-strategy prints them:
 *     serial,graph,FORMAT,ROUND,METRIC,VALUE
 * (round 0: per-format facts; "skipped" when it was not built).  The
 * order of the formats rotates round by round.  --check: exit 1 unless
 * every format's checksum and node count match the arrays' and the
 * formats that keep sharing reach each node once (the smoke test).
 *
 * rgn-contig builds the graph in a contiguous region (serial-rgn.h)
 * without timing it: those objects are the program's own in-memory data,
 * and rgn_image_write writes them as they are.  Its build+write is the
 * write alone.  The traced rows also time that raw write just before and
 * just after their second call ("pair_raw_ms", "again_pair_ratio").
 * Another rgn row (a tracing copy of a block region, say)
 * builds the same graph with serial_build_rgn, times its own writing to
 * fd, hands the reading half to rgn_open_walk, and takes a line in
 * formats[] (bench/strategy.py already names "rgn-trace").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rgn.h"

#include "../args.h"
#include "serial-rgn.h"
#include "serial.h"

static void row(const char *fmt, int round, const char *metric, double value)
{
	printf("serial,graph,%s,%d,%s,%.10g\n", fmt, round, metric, value);
	fflush(stdout);
}

int serial_memfd(void)
{
	/* sealed against shrinking, so that rgn_image_open maps it rather
	 * than read it into memory of its own, as the others map it */
	int fd = memfd_create("serial", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		perror("bench-serial: memfd_create");
	return fd;
}

int serial_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

double serial_write_again(const void *p, size_t n)
{
	int fd = serial_memfd();
	uint64_t t0 = now_ns(), t1;
	int rc = fd < 0 ? -1 : serial_write_all(fd, p, n);

	t1 = now_ns();
	if (fd >= 0 && rc != 0)
		perror("bench-serial: write again");
	if (fd >= 0)
		close(fd);
	return rc == 0 ? (double)(t1 - t0) : 0;
}

/* The walk again, marking each node's granule. */
static void mark_rgn(const char *base, rgn_ref ref, struct serial_seen *seen)
{
	const struct serial_rgn_node *n = (const void *)(base + ((size_t)ref << 3));

	serial_seen_mark(seen, ref);
	if (n->left)
		mark_rgn(base, n->left, seen);
	if (n->right)
		mark_rgn(base, n->right, seen);
}

/* Open the image in fd with flags and walk it: the open's and the walk's
 * times in ns, the checksum and visits in *sum and *visits.  The image
 * (still open), or NULL after a message. */
static rgn_image *open_walk_once(int fd, unsigned flags, double *open_ns, double *walk_ns,
                                 uint64_t *sum, uint64_t *visits, rgn_ref *root)
{
	uint64_t t1 = now_ns(), t2;
	rgn_image *img = rgn_image_open_with(fd, root, flags);

	if (!img) {
		perror("bench-serial: rgn_image_open_with");
		return NULL;
	}
	t2 = now_ns();
	*visits = 0;
	*sum = serial_walk_rgn(rgn_image_ptr(img, 0), *root, 0, visits);
	*open_ns = (double)(t2 - t1);
	*walk_ns = (double)(now_ns() - t2);
	return img;
}

/* The reading half of every rgn row: open the image in fd, walk it, fill
 * res; and open it trusted too (RGN_IMAGE_TRUSTED: no body checksum, as
 * FlatBuffers reads a buffer without its Verifier) and walk that.  The
 * two go first in turns from one call to the next, so that neither
 * always finds the other's pages in the cache.  0 or -1. */
static int rgn_open_walk(const struct graph *g, int fd, int check,
                         struct serial_result *res)
{
	static unsigned turn;
	uint64_t tsum = 0, tvisits = 0;
	rgn_ref root, troot;
	rgn_image *img = NULL, *timg = NULL;
	bool trusted_first = turn++ % 2;

	if (trusted_first)
		timg = open_walk_once(fd, RGN_IMAGE_TRUSTED, &res->trusted_open_ns,
		                      &res->trusted_traverse_ns, &tsum, &tvisits, &troot);
	if (timg || !trusted_first)
		img = open_walk_once(fd, 0, &res->open_ns, &res->traverse_ns, &res->checksum,
		                     &res->visits, &root);
	if (img && !trusted_first)
		timg = open_walk_once(fd, RGN_IMAGE_TRUSTED, &res->trusted_open_ns,
		                      &res->trusted_traverse_ns, &tsum, &tvisits, &troot);
	rgn_image_close(timg);
	if (!img || !timg) {
		rgn_image_close(img);
		return -1;
	}
	if (tsum != res->checksum || tvisits != res->visits) {
		fprintf(stderr, "bench-serial: the trusted open walks to another checksum\n");
		rgn_image_close(img);
		return -1;
	}
	res->bytes = rgn_image_size(img);
	res->written = graph_objects(g);
	if (check) {
		struct serial_seen seen;

		if (serial_seen_init(&seen, res->bytes / 8) == 0) {
			mark_rgn(rgn_image_ptr(img, 0), root, &seen);
			res->distinct = seen.count;
			free(seen.bits);
		}
	}
	rgn_image_close(img);
	return 0;
}

/* The tracing copy's layouts of the graph's nodes and strings. */
static const uint32_t node_refs[] = SERIAL_RGN_NODE_REFS;
static const rgn_layout str_layout = {
	.size = sizeof(struct serial_rgn_str),
	.tail = RGN_TAIL_BYTES,
	.count_at = offsetof(struct serial_rgn_str, len),
	.elem = 1,
};
static const rgn_layout node_layout;
static const rgn_layout *const node_to[] = { &node_layout, &node_layout, &str_layout };
static const rgn_layout node_layout = {
	.size = sizeof(struct serial_rgn_node),
	.nrefs = 3,
	.refs = node_refs,
	.to = node_to,
};

/* The tracing copy alone, without the file: the graph copied into a
 * contiguous region once to make its pages resident, the region reset
 * keeping them, and copied again, timed (res->copy_ns).  0 or -1. */
static rgn_ref copy_compiled(rgn_region *dst, const rgn_region *src, rgn_ref root);

static int rgn_copy_alone(const rgn_region *src, rgn_ref root, unsigned order, bool compiled,
                          struct serial_result *res)
{
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .retain = (size_t)1 << 30 };
	rgn_region *d = rgn_new_with(NULL, &o);
	rgn_copy_options co = { .order = order };
	rgn_ref copy = root;
	uint64_t t0;
	int rc = -1;

	for (int k = 0; d && k < 2; k++) {
		/* k = 0 makes the pages resident; k = 1 is timed */
		rgn_reset(d);
		copy = root;
		t0 = now_ns();
		if (compiled ? !(copy = copy_compiled(d, src, root))
		             : rgn_copy(d, src, &copy, 1, &node_layout, &co) != 0)
			break;
		if (k) {
			res->copy_ns = (double)(now_ns() - t0);
			rc = 0;
		}
	}
	if (rc)
		perror("bench-serial: rgn_copy");
	rgn_destroy(d);
	return rc;
}

/* The same copy compiled for the graph's two types (rgn_copier): what a
 * program that knows its types where it is compiled writes instead of
 * layouts.  Nodes are queued and scanned; strings have no references.
 * The copy's root, or RGN_NULL_REF (errno). */
#define SERIAL_NODE 0u
/* (always inlined: the copier stays in registers, its address never taken) */
static inline __attribute__((always_inline)) rgn_ref scan_compiled(rgn_copier *c, rgn_ref root)
{
	uint32_t kind;
	void *obj;

	root = rgn_copier_ref(c, root, sizeof(struct serial_rgn_node), SERIAL_NODE);
	while ((obj = rgn_copier_next(c, &kind)) != NULL) {
		struct serial_rgn_node *n = obj;

		n->left = rgn_copier_ref(c, n->left, sizeof(*n), SERIAL_NODE);
		n->right = rgn_copier_ref(c, n->right, sizeof(*n), SERIAL_NODE);
		n->name = rgn_copier_ref_tail(c, n->name, sizeof(struct serial_rgn_str),
		                              offsetof(struct serial_rgn_str, len), 1,
		                              RGN_COPIER_NO_REFS);
	}
	return root;
}

static rgn_ref copy_compiled(rgn_region *dst, const rgn_region *src, rgn_ref root)
{
	rgn_copier c;

	if (rgn_copier_begin(&c, dst, src, NULL) != 0)
		return RGN_NULL_REF;
	root = scan_compiled(&c, root);
	return rgn_copier_end(&c) == 0 ? root : RGN_NULL_REF;
}

/* The compiled copy written beside its image (rgn_copier_begin_image,
 * RGN_COPY_OVERLAP): a second thread writes what the scan has passed.
 * 0 or -1. */
static int image_compiled_overlap(const rgn_region *src, rgn_ref root, int fd)
{
	rgn_copy_options o = { .flags = RGN_COPY_OVERLAP }; /* (the copier's until its end) */
	rgn_copier c;

	if (rgn_copier_begin_image(&c, src, fd, &o) != 0)
		return -1;
	root = scan_compiled(&c, root);
	return rgn_copier_end_image(&c, root);
}

/* The compiled copy as an image: into sink (a contiguous region kept from
 * one call to the next, reset with its pages kept, as
 * rgn_image_write_graph's sink is), then written as it is.  0 or -1. */
static int image_compiled(rgn_region *sink, const rgn_region *src, rgn_ref root, int fd)
{
	rgn_reset(sink);
	root = copy_compiled(sink, src, root);
	return root ? rgn_image_write(sink, fd, root) : -1;
}

/* A contiguous region's options for g: room for the graph (the raw
 * row's region, and the traced rows' paired raw write). */
static rgn_options contig_options(const struct graph *g)
{
	return (rgn_options){ .backend = RGN_BACKEND_CONTIG,
	                      .reserve = (size_t)graph_objects(g) * 64 + ((size_t)1 << 20) };
}

/* The raw write of pair's image into a memfd of its own, timed: ns, or 0
 * after a message.  The traced rows' reference, taken beside their call
 * (rgn_row says why). */
static double raw_write_ns(const rgn_region *pair, rgn_ref root)
{
	int out = serial_memfd();
	uint64_t t0 = now_ns();
	int rc = out < 0 ? -1 : rgn_image_write(pair, out, root);
	double ns = (double)(now_ns() - t0);

	if (rc)
		perror("bench-serial: rgn_image_write (the paired raw write)");
	if (out >= 0)
		close(out);
	return rc ? 0 : ns;
}

/* rgn_row's flag for the compiled copy (above rgn_copy's flags). */
#define SERIAL_COMPILED (1u << 16)

/* The rgn rows: the graph built untimed (res->untimed_ns: the program's
 * own in-memory data) in a region made with o, then written, timed: a
 * contiguous region as it is (rgn_image_write, the existing API's row),
 * any other through the tracing copy in the given order
 * (rgn_image_write_graph: copied into a contiguous region of its own
 * with its references rewritten, then written out); then the same call
 * again into another file (again_ns).  A traced row's second call sits
 * between two raw writes of the same graph built in a contiguous region
 * (pair_ns, their mean; its pages read by the kernel once before, as the
 * raw row's are): this guest changes speed by the second, so the 2x goal
 * is judged on a ratio taken in one moment, not on two medians taken
 * seconds apart. */
static int rgn_row(const struct graph *g, int fd, int check, const rgn_options *o,
                   unsigned order, unsigned flags, struct serial_result *res)
{
	rgn_region *r = rgn_new_with(NULL, o);
	rgn_copy_options co = { .order = order, .flags = flags & ~SERIAL_COMPILED };
	bool raw = o->backend == RGN_BACKEND_CONTIG, compiled = flags & SERIAL_COMPILED;
	bool beside = compiled && (flags & RGN_COPY_OVERLAP);
	rgn_options so = { .backend = RGN_BACKEND_CONTIG, .retain = (size_t)1 << 30 };
	rgn_region *sink = compiled && !beside ? rgn_new_with(NULL, &so) : NULL;
	rgn_options po = contig_options(g);
	rgn_region *pair = raw ? NULL : rgn_new_with(NULL, &po);
	uint64_t t0, t1;
	rgn_ref root, proot = RGN_NULL_REF;
	int rc = 0;

	if (!r || (compiled && !beside && !sink) || (!raw && !pair)) {
		perror("bench-serial: rgn_new_with");
		rgn_destroy(r);
		rgn_destroy(sink);
		rgn_destroy(pair);
		return -1;
	}
	t0 = now_ns();
	root = serial_build_rgn(r, g);
	t1 = now_ns();
	res->untimed_ns = (double)(t1 - t0);
	if (pair && (!(proot = serial_build_rgn(pair, g)) || !raw_write_ns(pair, proot)))
		rc = -1;
	for (int k = 0; k < 2 && rc == 0; k++) {
		/* k = 1: the same call again into another file, as
		 * serial_write_again does for the other formats */
		int out = k ? serial_memfd() : fd;
		uint64_t c0;
		double before = 0;

		if (k && pair && !(before = raw_write_ns(pair, proot))) {
			if (out >= 0)
				close(out);
			rc = -1;
			break;
		}
		c0 = cpu_ns();

		t0 = now_ns();
		rc = !root || out < 0 ? -1
		     : raw      ? rgn_image_write(r, out, root)
		     : beside   ? image_compiled_overlap(r, root, out)
		     : compiled ? image_compiled(sink, r, root, out)
		                : rgn_image_write_graph(r, out, root, &node_layout, &co);
		t1 = now_ns();
		if (rc)
			perror(raw ? "bench-serial: build or rgn_image_write"
			           : "bench-serial: build or rgn_image_write_graph");
		*(k ? &res->again_ns : &res->write_ns) = (double)(t1 - t0);
		if (k)
			res->again_cpu_ns = (double)(cpu_ns() - c0);
		if (k && out >= 0)
			close(out);
		if (k && pair && rc == 0) {
			double after = raw_write_ns(pair, proot);

			if (!after)
				rc = -1;
			res->pair_ns = (before + after) / 2;
		}
	}
	if (rc == 0)
		rc = rgn_open_walk(g, fd, check, res);
	if (rc == 0 && !raw)
		rc = rgn_copy_alone(r, root, order, compiled, res);
	rgn_destroy(sink);
	rgn_destroy(pair);
	rgn_destroy(r);
	return rc;
}

static int serial_rgn_contig(const struct graph *g, int fd, int check,
                             struct serial_result *res)
{
	rgn_options o = contig_options(g);

	return rgn_row(g, fd, check, &o, 0, 0, res);
}

static int serial_rgn_trace(const struct graph *g, int fd, int check,
                            struct serial_result *res)
{
	return rgn_row(g, fd, check, &(rgn_options){ 0 }, RGN_COPY_BREADTH, 0, res);
}

/* The same, written on a second thread while the copy goes on. */
static int serial_rgn_trace_overlap(const struct graph *g, int fd, int check,
                                    struct serial_result *res)
{
	return rgn_row(g, fd, check, &(rgn_options){ 0 }, RGN_COPY_BREADTH, RGN_COPY_OVERLAP,
	               res);
}

/* The same graph through the compiled copy (rgn_copier), one thread. */
static int serial_rgn_trace_compiled(const struct graph *g, int fd, int check,
                                     struct serial_result *res)
{
	return rgn_row(g, fd, check, &(rgn_options){ 0 }, RGN_COPY_BREADTH, SERIAL_COMPILED, res);
}

/* The compiled copy written on a second thread beside it. */
static int serial_rgn_trace_compiled_overlap(const struct graph *g, int fd, int check,
                                             struct serial_result *res)
{
	return rgn_row(g, fd, check, &(rgn_options){ 0 }, RGN_COPY_BREADTH,
	               SERIAL_COMPILED | RGN_COPY_OVERLAP, res);
}

static int serial_rgn_trace_dfs(const struct graph *g, int fd, int check,
                                struct serial_result *res)
{
	return rgn_row(g, fd, check, &(rgn_options){ 0 }, RGN_COPY_DEPTH, 0, res);
}

#ifndef SERIAL_HAVE_CAPNP
#define serial_capnp NULL
#endif
#ifndef SERIAL_HAVE_FLATBUFFERS
#define serial_flatbuffers NULL
#endif
#ifndef SERIAL_HAVE_MSGPACK
#define serial_msgpack_unpack NULL
#define serial_msgpack_inplace NULL
#endif

static const struct format {
	const char *name;
	serial_round_fn *run;    /* NULL: not built */
	int shares;              /* writes each object once */
	const char *needs;       /* what building it needs */
} formats[] = {
	{ "rgn-contig", serial_rgn_contig, 1, "" },
	{ "rgn-trace", serial_rgn_trace, 1, "" },
	{ "rgn-trace-dfs", serial_rgn_trace_dfs, 1, "" },
	{ "rgn-trace-overlap", serial_rgn_trace_overlap, 1, "" },
	{ "rgn-trace-compiled", serial_rgn_trace_compiled, 1, "" },
	{ "rgn-trace-compiled-overlap", serial_rgn_trace_compiled_overlap, 1, "" },
	{ "capnp", serial_capnp, 0, "libcapnp-dev and capnp (capnproto)" },
	{ "flatbuffers", serial_flatbuffers, 1, "libflatbuffers-dev and flatc (flatbuffers-compiler)" },
	{ "msgpack-unpack", serial_msgpack_unpack, 0, "libmsgpack-dev" },
	{ "msgpack-inplace", serial_msgpack_inplace, 0, "libmsgpack-dev" },
};
#define FORMATS (sizeof formats / sizeof formats[0])

int main(int argc, char **argv)
{
	int rounds = 3, check = 0, bad = 0;
	double scale = 1;
	const char *only = NULL, *v;
	struct bench_args a;
	struct graph g;
	uint64_t ref;

	args_init(&a, argc, argv, "usage: bench-serial [--rounds N] [--scale X] "
	          "[--format NAME] [--check]\n");
	while (args_more(&a)) {
		if (args_flag(&a, "--check")) {
			check = 1;
		} else if ((v = args_value(&a, "--rounds"))) {
			rounds = (int)args_uint(&a, v, 1, INT_MAX);
		} else if ((v = args_value(&a, "--format"))) {
			only = v;
		} else if ((v = args_value(&a, "--scale"))) {
			char *end;

			errno = 0;
			scale = strtod(v, &end);
			if (errno || *end || !(scale > 0 && scale <= 100))
				args_usage(&a);
		} else {
			args_usage(&a);
		}
	}
	if (graph_init(&g, scale) != 0) {
		fprintf(stderr, "bench-serial: no memory for the graph\n");
		return 1;
	}
	ref = graph_checksum(&g);
	printf("# %llu objects: %u nodes (%u shared leaves), %u strings; a tree "
	       "walk reaches %llu nodes; checksum 0x%016llx\n",
	       (unsigned long long)graph_objects(&g), g.nodes, g.leaves, g.strings,
	       (unsigned long long)g.node_visits, (unsigned long long)ref);
	for (size_t f = 0; f < FORMATS; f++) {
		if (only && strcmp(only, formats[f].name) != 0)
			continue;
		if (!formats[f].run) {
			fprintf(stderr, "bench-serial: %s was not built (it needs %s at "
			        "configure time); skipped\n", formats[f].name, formats[f].needs);
			row(formats[f].name, 0, "skipped", 1);
			continue;
		}
		row(formats[f].name, 0, "objects", (double)graph_objects(&g));
		row(formats[f].name, 0, "shares", formats[f].shares);
	}
	for (int round = 1; round <= rounds; round++)
		for (size_t k = 0; k < FORMATS; k++) {
			const struct format *f = &formats[(k + (size_t)round) % FORMATS];
			struct serial_result res = { 0 };
			double objs = (double)graph_objects(&g);
			int fd;

			if (!f->run || (only && strcmp(only, f->name) != 0))
				continue;
			fd = serial_memfd();
			if (fd < 0)
				return 1;
			if (f->run(&g, fd, check, &res) != 0) {
				close(fd);
				bad = 1;
				continue;
			}
			close(fd);
			row(f->name, round, "bytes", (double)res.bytes);
			row(f->name, round, "build_ms", res.build_ns / 1e6);
			row(f->name, round, "write_ms", res.write_ns / 1e6);
			row(f->name, round, "build_write_ns_per_object",
			    (res.build_ns + res.write_ns) / objs);
			row(f->name, round, "build_write_ns_per_byte",
			    (res.build_ns + res.write_ns) / (double)res.bytes);
			row(f->name, round, "open_ms", res.open_ns / 1e6);
			row(f->name, round, "traverse_ms", res.traverse_ns / 1e6);
			row(f->name, round, "open_traverse_ms",
			    (res.open_ns + res.traverse_ns) / 1e6);
			if (res.again_ns) {
				row(f->name, round, "again_ms", res.again_ns / 1e6);
				row(f->name, round, "again_ns_per_byte",
				    res.again_ns / (double)res.bytes);
				if (res.again_cpu_ns)
					row(f->name, round, "again_cpu_ms", res.again_cpu_ns / 1e6);
				if (res.pair_ns) {
					row(f->name, round, "pair_raw_ms", res.pair_ns / 1e6);
					row(f->name, round, "again_pair_ratio",
					    res.again_ns / res.pair_ns);
				}
			}
			if (res.verify_ns)
				row(f->name, round, "verify_ms", res.verify_ns / 1e6);
			if (res.untimed_ns)
				row(f->name, round, "untimed_build_ms", res.untimed_ns / 1e6);
			if (res.copy_ns)
				row(f->name, round, "copy_alone_ns_per_object", res.copy_ns / objs);
			if (res.trusted_open_ns) {
				row(f->name, round, "trusted_open_ms", res.trusted_open_ns / 1e6);
				row(f->name, round, "trusted_open_traverse_ms",
				    (res.trusted_open_ns + res.trusted_traverse_ns) / 1e6);
			}
			row(f->name, round, "written_objects", (double)res.written);
			row(f->name, round, "duplicated_objects", (double)res.written - objs);
			row(f->name, round, "visits", (double)res.visits);
			row(f->name, round, "checksum_hi", (double)(res.checksum >> 32));
			row(f->name, round, "checksum_lo", (double)(res.checksum & 0xffffffffu));
			row(f->name, round, "checksum_ok", res.checksum == ref);
			if (res.checksum != ref || res.visits != g.node_visits) {
				fprintf(stderr, "bench-serial: %s: checksum 0x%016llx, %llu nodes "
				        "reached; the arrays give 0x%016llx, %llu\n", f->name,
				        (unsigned long long)res.checksum,
				        (unsigned long long)res.visits, (unsigned long long)ref,
				        (unsigned long long)g.node_visits);
				bad = 1;
			}
			if (check && res.distinct != (f->shares ? g.nodes : g.node_visits)) {
				fprintf(stderr, "bench-serial: %s: %llu distinct nodes reached, "
				        "expected %llu\n", f->name, (unsigned long long)res.distinct,
				        (unsigned long long)(f->shares ? g.nodes : g.node_visits));
				bad = 1;
			}
		}
	graph_free(&g);
	return bad;
}
