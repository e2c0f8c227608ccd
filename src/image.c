/*
 * image.c - a contiguous region written to a file, and mapped back.
 *
 * A contiguous region's references count from its reservation's base, so
 * its bytes mean the same thing wherever they are mapped.  An image is
 * those bytes, [base, bump pointer), written straight to a file, with the
 * guard page's place taken by a header:
 *
 *   file offset 0            header (struct image_head, then zeros), one
 *                            guard page long
 *   file offset GUARD ...    the region's bytes at the same offsets from
 *                            its base (its own header is written as zeros:
 *                            it holds addresses of this process only)
 *
 * Opening gives the image's bytes read-only with the first page
 * inaccessible, so they are laid out exactly as the region was:
 * rgn_image_ptr(img, ref) == map + ref * 8, and ref 0 faults.  Writing is
 * one writev; no pointer is fixed up on either side.  Pointers stored in
 * the region are not rewritten (only references survive); tracing copies
 * that rewrite them are a different tool.
 *
 * An image is an input: the header and the body each carry a checksum,
 * both verified before the image is handed out.  A file mapped by
 * someone who can still shrink it would kill the reader with SIGBUS on
 * an access inside the size that was checked, so a file is mapped only
 * when it is sealed against shrinking (a memfd with F_SEAL_SHRINK, the
 * way to share an image between processes); any other file is read into
 * private memory of the reader's, which nobody else can truncate.  On
 * Windows every image file is mapped: a file with a mapped view cannot be
 * cut short (the OS layer decides, rgn_os_file_fixed).  The
 * checksum is for damage (a torn copy, a flipped bit, a changed byte),
 * not for an attacker, who can write a matching one.
 *
 * Sharing: rgn_image_memfd makes the file, rgn_image_write fills it, and
 * rgn_image_seal checks it as open would and then seals it whole (size
 * and bytes, and the seal set itself), so that every process the fd is
 * given to maps the same page-cache pages read-only and none of them,
 * the writer included, can change them.  The seal is added only after
 * the check passed, in one fcntl: a refused image keeps no seal.
 *
 * Errors are sorted so that a caller can tell them apart: ENOEXEC for a
 * file that is not an image of this format (magic, version, byte order,
 * granule, guard size), EBADMSG for one that is damaged (a checksum,
 * fields out of range), ENODATA for a file shorter than its header says.
 */
#define _GNU_SOURCE
#include "backend/contig.h"
#include "copy.h"
#include "decode.h"
#include "space.h"
#include "os/os.h"
#include "os/port.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#if RGN_HAVE_MEMFD
#include <fcntl.h>
#include <sys/mman.h> /* memfd_create only: mappings are the OS layer's */
#endif

#define IMAGE_VERSION 3u
#define IMAGE_ENDIAN  0x01020304u

static const char image_magic[8] = { 'R', 'G', 'N', 'I', 'M', 'G', '\r', '\n' };

struct image_head {
	char     magic[8];
	uint32_t version;   /* IMAGE_VERSION */
	uint32_t endian;    /* IMAGE_ENDIAN as the writer stored it */
	uint32_t granule;   /* RGN_GRANULE */
	uint32_t guard;     /* bytes of the header page == file offset of data */
	uint64_t used;      /* bytes of the image, header page included */
	uint32_t root;      /* the root reference (0: none) */
	uint32_t zero;
	uint64_t body;      /* body_hash of the bytes [guard, used) */
	uint64_t check;     /* FNV-1a of the bytes above */
};

/* The handle: the base the inline decoders read first (rgn.h), then a
 * magic number that close clears, so a closed or foreign handle is
 * refused while its memory is still malloc's. */
struct rgn_image {
	struct rgn_image_base_ b;
	uint32_t               magic;    /* RGN_MAGIC_IMAGE while open */
	size_t                 used;     /* bytes mapped, header page included */
};

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The body's checksum: four multiply-rotate chains over 8-byte words
 * (images are whole granules), word i feeding chain i % 4, so that the
 * four multiplies of a 32-byte step run side by side (one chain waited on
 * each multiply: 2.1 GB/s, 8.6 ms of an 18 MB image's open); fed in
 * pieces of whole words (body_words), then folded with the length
 * (body_end).  A piece may end at any word: the chain a word feeds
 * depends on its place in the body alone. */
#define BODY_K    0x9e3779b97f4a7c15ull
#define BODY_SEED 0x52474e20626f6479ull

struct body {
	uint64_t lane[4];
	uint64_t words;    /* words fed so far */
};

static inline uint64_t body_step(uint64_t h, uint64_t w)
{
	return (((h << 29) | (h >> 35)) ^ w) * BODY_K;
}

static void body_init(struct body *b)
{
	for (int i = 0; i < 4; i++)
		b->lane[i] = BODY_SEED + (uint64_t)i;
	b->words = 0;
}

static void body_words(struct body *b, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i = 0;
	uint64_t w;

	/* to a 32-byte boundary of the body, one word at a time */
	for (; i + 8 <= n && (b->words & 3); i += 8, b->words++) {
		memcpy(&w, c + i, 8);
		b->lane[b->words & 3] = body_step(b->lane[b->words & 3], w);
	}
	{
		uint64_t l0 = b->lane[0], l1 = b->lane[1], l2 = b->lane[2], l3 = b->lane[3];

		for (; i + 32 <= n; i += 32) {
			uint64_t w0, w1, w2, w3;

			memcpy(&w0, c + i, 8);
			memcpy(&w1, c + i + 8, 8);
			memcpy(&w2, c + i + 16, 8);
			memcpy(&w3, c + i + 24, 8);
			l0 = body_step(l0, w0);
			l1 = body_step(l1, w1);
			l2 = body_step(l2, w2);
			l3 = body_step(l3, w3);
			b->words += 4;
		}
		b->lane[0] = l0;
		b->lane[1] = l1;
		b->lane[2] = l2;
		b->lane[3] = l3;
	}
	for (; i + 8 <= n; i += 8, b->words++) {
		memcpy(&w, c + i, 8);
		b->lane[b->words & 3] = body_step(b->lane[b->words & 3], w);
	}
}

static void body_zeros(struct body *b, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 8, b->words++)
		b->lane[b->words & 3] = body_step(b->lane[b->words & 3], 0);
}

static uint64_t body_end(const struct body *b, uint64_t n)
{
	uint64_t h = b->lane[0];

	for (int i = 1; i < 4; i++)
		h = body_step(h, b->lane[i]);
	h ^= n;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* The header page of an image of used bytes (guard included) whose body
 * hashes to body. */
static void head_fill(struct image_head *h, uint64_t used, rgn_ref root, uint64_t body)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, image_magic, sizeof(image_magic));
	h->version = IMAGE_VERSION;
	h->endian = IMAGE_ENDIAN;
	h->granule = RGN_GRANULE;
	h->guard = (uint32_t)RGN_CONTIG_GUARD;
	h->used = used;
	h->root = root;
	h->body = body;
	h->check = fnv1a(h, offsetof(struct image_head, check));
}

/* ---- writing ---------------------------------------------------------------------- */

/* The image holds the region's bytes as they are: each object's rounding
 * to 8 bytes, fields never written.  Memcheck would report the write for
 * those undefined bytes (and a header whose checksum sums them), which is
 * by design here; under valgrind the objects (the last of the n buffers)
 * are checked to be addressable (a real fault of rgn's), and reports are
 * off for this one system call.  at < 0: at fd's position; else the one
 * buffer at file offset at, the position left as it is. */
static int image_put(int fd, struct rgn_os_buf *iov, int n, int64_t at)
{
	int err;

#ifdef RGN_VG_HOOKS
	if (rgn_vg_running) {
		(void)VALGRIND_CHECK_MEM_IS_ADDRESSABLE(iov[n - 1].p, iov[n - 1].n);
		VALGRIND_DISABLE_ERROR_REPORTING;
	}
#endif
	err = at < 0 ? rgn_os_write_all(fd, iov, n)
	             : rgn_os_write_at(fd, iov->p, iov->n, (uint64_t)at);
#ifdef RGN_VG_HOOKS
	if (rgn_vg_running)
		VALGRIND_ENABLE_ERROR_REPORTING;
#endif
	return err;
}

/* The header page: the header, then zeros. */
union head_page {
	struct image_head h;
	char              page[RGN_CONTIG_GUARD];
};

/* What takes the header's place until it is written, and the region
 * header's bytes */
static const char zeros[RGN_CONTIG_GUARD];

/* A root the reader would refuse: past the image's used bytes, or in
 * the header's page (0 is no root). */
static bool root_bad(rgn_ref root, size_t used)
{
	return root && (((size_t)root << 3) >= used || ((size_t)root << 3) < RGN_CONTIG_GUARD);
}

RGN_API int rgn_image_write(const rgn_region *r, int fd, rgn_ref root)
{
	union head_page head;
	const size_t hdr = RGN_CONTIG_GUARD;
	struct rgn_os_buf iov[3];
	struct body body;
	const char *base;
	size_t used, objects, skip;
	int err;

	if (r)
		(void)rgn_live(r); /* a dead handle aborts */
	err = rgn_contig_used_range(r, &base, &objects, &used);
	if (!err && (fd < 0 || root_bad(root, used)))
		err = EINVAL;
	if (err) {
		errno = err;
		return -1;
	}
	/* the region header, first thing after the guard page, becomes
	 * zeros: the objects start after it */
	skip = objects - hdr;
	memset(&head, 0, sizeof(head));
	body_init(&body);
	body_zeros(&body, skip);
	body_words(&body, base + hdr + skip, used - hdr - skip);
	head_fill(&head.h, used, root, body_end(&body, used - hdr));
	iov[0] = (struct rgn_os_buf){ head.page, sizeof(head.page) };
	iov[1] = (struct rgn_os_buf){ zeros, skip };
	iov[2] = (struct rgn_os_buf){ base + hdr + skip, used - hdr - skip };
	err = image_put(fd, iov, 3, -1);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * The image written while the copy goes on (RGN_COPY_OVERLAP): the copy
 * tells what is final every OVERLAP_STEP bytes (copy.h's watch), and once
 * OVERLAP_START bytes are, a writer thread takes them: zeros where the
 * header goes, the region header's zeros, then each final piece, summed
 * and written as it comes, so that the kernel's copy and the checksum run
 * beside the copy instead of after it.  The scan moves fastest at the
 * end (the last level makes no new copies), so the writer is behind when
 * the copy ends: the main thread then writes the second half of what is
 * left itself, at its offset, while the writer writes the first half and
 * sums both.  The header goes last, at the file's first byte
 * (rgn_os_write_at): until then the file starts with zeros, and a failed
 * call leaves nothing rgn_image_open takes.  A small
 * image, or a file that cannot be written at an offset (a pipe, a socket,
 * appending), is written after the copy as without the flag.
 */
#define OVERLAP_STEP  ((size_t)256 << 10)
#define OVERLAP_START ((size_t)1 << 20)
#define OVERLAP_SPLIT ((size_t)512 << 10)  /* left at the end: shared */

struct overlap {
	pthread_mutex_t lock;
	pthread_cond_t  more;
	const char     *done;      /* final below (lock) */
	const char     *taken;     /* the writer has taken up to here (lock) */
	const char     *split;     /* the main thread writes from here (lock;
	                              NULL: none) */
	bool            end;       /* done is the image's end (lock) */
	bool            stop;      /* leave now, read nothing more (lock) */
	int             err;       /* the writer's (read after the join) */
	bool            started, failed; /* the main thread's */
	pthread_t       th;
	int             fd;
	uint64_t        off0;      /* the file offset of the sink's base */
	const char     *base;
	size_t          skip;      /* the region header's bytes */
	const char     *from;      /* written up to here (the writer's) */
	struct body     body;      /* the writer's */
};

static void *overlap_writer(void *arg)
{
	struct overlap *w = arg;
	struct rgn_os_buf iov[2] = { { zeros, sizeof(zeros) }, { zeros, w->skip } };
	int err = rgn_os_write_all(w->fd, iov, 2);

	body_init(&w->body);
	body_zeros(&w->body, w->skip);
	while (!err) {
		const char *to, *split, *mine;

		pthread_mutex_lock(&w->lock);
		while (w->done == w->from && !w->end && !w->stop)
			pthread_cond_wait(&w->more, &w->lock);
		to = w->stop ? w->from : w->done;
		w->taken = to;
		split = w->split; /* (never below from: set at taken or above) */
		pthread_mutex_unlock(&w->lock);
		if (to == w->from)
			break; /* stopped, or the end reached */
		body_words(&w->body, w->from, (size_t)(to - w->from));
		/* summed whole; from split on the main thread writes it */
		mine = split && split < to ? split : to;
		if (mine > w->from) {
			iov[0] = (struct rgn_os_buf){ w->from, (size_t)(mine - w->from) };
			err = image_put(w->fd, iov, 1, -1);
		}
		w->from = to;
	}
	w->err = err;
	return NULL;
}

/* The writer, started with every signal blocked (they are the caller's
 * threads' to take): 0 or an errno value. */
static int overlap_start(struct overlap *w)
{
	int err;
#if RGN_HAVE_SIGNALS
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
#endif
	err = pthread_create(&w->th, NULL, overlap_writer, w);
#if RGN_HAVE_SIGNALS
	pthread_sigmask(SIG_SETMASK, &old, NULL);
#endif
	return err;
}

static void overlap_pass(void *arg, const char *done)
{
	struct overlap *w = arg;

	if (w->failed)
		return;
	if (!w->started) {
		if ((size_t)(done - w->from) < OVERLAP_START)
			return;
		w->done = done;
		if (overlap_start(w) != 0) {
			w->failed = true; /* written after the copy */
			return;
		}
		w->started = true;
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->done = done;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
}

/* The last word to the writer (the image's end, or stop), the second
 * half of what it has not taken written here, and the join: 0 or the
 * first error. */
static int overlap_end(struct overlap *w, const char *end)
{
	const char *split = NULL;
	int err = 0;

	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->lock);
	if (end) {
		w->done = end;
		if ((size_t)(end - w->taken) >= OVERLAP_SPLIT)
			w->split = split = w->taken + (((size_t)(end - w->taken) / 2) & ~(size_t)7);
	} else {
		w->stop = true;
	}
	w->end = true;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	if (split) {
		struct rgn_os_buf b = { split, (size_t)(end - split) };

		err = image_put(w->fd, &b, 1, (int64_t)(w->off0 + (uint64_t)(split - w->base)));
	}
	pthread_join(w->th, NULL);
	w->started = false;
	if (w->err)
		err = w->err;
	/* the file's position after the image, as a plain write leaves it */
	if (!err && split)
		err = rgn_os_file_seek(w->fd, w->off0 + (uint64_t)(end - w->base));
	return err;
}

static void overlap_stop(void *arg)
{
	(void)overlap_end(arg, NULL);
}

/* The copy goes into a contiguous region of its own, laid out as the
 * image is (the first page is the header's, references count from the
 * reservation's base), which is then written as it is.  Its reservation
 * comes from the contiguous backend's reuse cache and goes back there
 * keeping up to IMAGE_SINK_RETAIN bytes resident, so an image written
 * after another copies into warm pages. */
#define IMAGE_SINK_RETAIN ((size_t)32 << 20)

/* A copy into an image: the sink, and the writer's state when the image
 * is written beside the copy (w first: the watch's arg is both; the
 * watch's step is 0 when it is not). */
struct image_copy {
	struct overlap        w;
	struct rgn_copy_watch watch;
	rgn_region           *sink;
};

static int image_copy_end(void *arg, rgn_ref root, int err);

/* The sink made, and the writer's state if overlap is asked for and the
 * file can be written at an offset: 0 or an errno value. */
static int image_copy_open(struct image_copy *ic, int fd, bool overlap)
{
	rgn_options ro = { .backend = RGN_BACKEND_CONTIG, .reserve = RGN_CONTIG_MAX,
	                   .retain = IMAGE_SINK_RETAIN };
	const char *base;
	size_t objects, used;
	uint64_t off0 = 0;

	ic->sink = rgn_new_with(NULL, &ro);
	if (!ic->sink)
		return errno ? errno : ENOMEM;
	ic->w = (struct overlap){ .fd = fd };
	pthread_mutex_init(&ic->w.lock, NULL);
	pthread_cond_init(&ic->w.more, NULL);
	if (overlap && rgn_os_file_offset(fd, &off0) != 0)
		overlap = false;
	ic->watch = (struct rgn_copy_watch){ overlap_pass, overlap_stop, image_copy_end, &ic->w,
	                                     overlap ? OVERLAP_STEP : 0 };
	if (overlap) {
		(void)rgn_contig_used_range(ic->sink, &base, &objects, &used);
		ic->w.from = ic->w.done = ic->w.taken = base + objects;
		ic->w.base = base;
		ic->w.off0 = off0;
		ic->w.skip = objects - RGN_CONTIG_GUARD;
	}
	return 0;
}

/* The copy's end: err 0, the image of the sink with root written (the
 * rest of it, the writer's if it started); else nothing more.  The sink
 * and the writer's state gone either way: 0 or the error. */
static int image_copy_close(struct image_copy *ic, rgn_ref root, int err)
{
	const char *base;
	size_t objects, used;

	if (err) {
		(void)overlap_end(&ic->w, NULL);
	} else if (ic->w.started) {
		union head_page head;
		struct rgn_os_buf b = { head.page, sizeof(head.page) };

		(void)rgn_contig_used_range(ic->sink, &base, &objects, &used);
		if (root_bad(root, used)) {
			(void)overlap_end(&ic->w, NULL);
			err = EINVAL;
		} else {
			err = overlap_end(&ic->w, base + used);
		}
		if (!err) {
			memset(&head, 0, sizeof(head));
			head_fill(&head.h, used, root,
			          body_end(&ic->w.body, used - RGN_CONTIG_GUARD));
			err = image_put(ic->w.fd, &b, 1, (int64_t)ic->w.off0);
		}
	} else if (rgn_image_write(ic->sink, ic->w.fd, root) != 0) {
		err = errno;
	}
	pthread_cond_destroy(&ic->w.more);
	pthread_mutex_destroy(&ic->w.lock);
	rgn_destroy(ic->sink);
	return err;
}

RGN_API int rgn_image_write_graph(const rgn_region *src, int fd, rgn_ref root,
                                  const rgn_layout *root_layout, rgn_copy_options *opts)
{
	struct image_copy ic;
	bool overlap = opts && (opts->flags & RGN_COPY_OVERLAP) &&
	               opts->order == RGN_COPY_BREADTH;
	rgn_ref nroot = root;
	int err;

	/* an image holds everything it refers to */
	if (fd < 0 || !root || (opts && (opts->flags & RGN_COPY_ONLY_SRC))) {
		errno = EINVAL;
		return -1;
	}
	err = image_copy_open(&ic, fd, overlap);
	if (err) {
		errno = err;
		return -1;
	}
	err = rgn_copy_as("rgn_image_write_graph", ic.sink, src, &nroot, 1, root_layout, opts,
	                  ic.watch.step ? &ic.watch : NULL);
	err = image_copy_close(&ic, nroot, err);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The compiled copy into an image (rgn_copier_begin_image, rgn.h): the
 * copier's scan tells the writer what is final, its end hands the root
 * here. */
static int image_copy_end(void *arg, rgn_ref root, int err)
{
	struct image_copy *ic = arg;

	err = image_copy_close(ic, root, err);
	free(ic);
	return err;
}

RGN_API int rgn_copier_begin_image_(rgn_copier *c, const rgn_region *src, int fd,
                                    rgn_copy_options *opts)
{
	struct image_copy *ic = NULL;
	int err = 0;

	if (!c) {
		errno = EINVAL;
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->watch_ = UINTPTR_MAX;
	if (fd < 0 || (opts && (opts->flags & RGN_COPY_ONLY_SRC)))
		err = EINVAL;
	else if (!(ic = malloc(sizeof(*ic))))
		err = ENOMEM;
	else if ((err = image_copy_open(ic, fd, opts && (opts->flags & RGN_COPY_OVERLAP))) != 0)
		free(ic);
	else if ((err = rgn_copier_start(c, ic->sink, src, opts, &ic->watch)) != 0)
		(void)image_copy_end(ic, 0, err);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ---- reading ---------------------------------------------------------------------- */

/* Check a header read from a file of file_size bytes: 0 or an errno. */
static int head_check(const struct image_head *h, size_t file_size)
{
	struct rgn_os_info info;

	if (memcmp(h->magic, image_magic, sizeof(image_magic)) != 0)
		return ENOEXEC;
	/* what another build or byte order wrote is foreign before it is
	 * damaged: its checksum would not match here either */
	if (h->version != IMAGE_VERSION || h->endian != IMAGE_ENDIAN ||
	    h->granule != RGN_GRANULE)
		return ENOEXEC;
	if (h->check != fnv1a(h, offsetof(struct image_head, check)))
		return EBADMSG;
	rgn_os_info(&info);
	if (h->guard != RGN_CONTIG_GUARD || h->guard % info.page_size != 0)
		return ENOEXEC;
	if (h->used < (uint64_t)h->guard + 8 || h->used > RGN_CONTIG_MAX ||
	    h->used % RGN_GRANULE != 0 ||
	    (h->root && (uint64_t)h->root << 3 >= h->used) ||
	    (h->root && (uint64_t)h->root << 3 < h->guard))
		return EBADMSG;
	if (file_size < h->used)
		return ENODATA;
	if (file_size > h->used)
		return EBADMSG; /* trailing bytes: not what a writer leaves */
	return 0;
}

/* Read all of [0, n) into p: 0, ENODATA if the file ended first (it
 * shrank since its size was checked), or the error of the read. */
static int read_all(int fd, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		size_t want = n - got > ((size_t)1 << 30) ? (size_t)1 << 30 : n - got, k;
		int err = rgn_os_pread(fd, p + got, want, got, &k);

		if (err)
			return err;
		if (k == 0)
			return ENODATA;
		got += k;
	}
	return 0;
}

/* The image's h->used bytes in memory of ours: the file itself when no
 * one can shrink it under us (os.h: rgn_os_file_fixed), else a private
 * copy; the body checked unless trusted, the first page made
 * inaccessible, the rest read-only.  0 or an errno. */
static int load(int fd, const struct image_head *h, bool trusted, void **out)
{
	size_t used = (size_t)h->used, body = used - h->guard;
	struct rgn_os_info info;
	void *map = NULL;
	int err;

	rgn_os_info(&info);
	if (rgn_os_file_fixed(fd))
		err = rgn_os_map_file(fd, used, &map);
	else if ((err = rgn_os_reserve(used, info.page_size, &map)) == 0 &&
	         (err = rgn_os_commit(map, used)) == 0 &&
	         (err = read_all(fd, map, used)) == 0)
		err = rgn_os_protect_read((char *)map + h->guard, body);
	if (!err && !trusted) {
		struct body b;

		body_init(&b);
		body_words(&b, (char *)map + h->guard, body);
		if (body_end(&b, body) != h->body)
			err = EBADMSG;
	}
	/* the header page becomes the guard: ref 0 faults */
	if (!err)
		err = rgn_os_protect_none(map, h->guard);
	if (err) {
		if (map)
			rgn_os_release(map, used);
		return err;
	}
	*out = map;
	return 0;
}

/* Read and check the header of the image in fd: 0 or an errno (EINVAL
 * for a file that is not a regular one). */
static int head_of(int fd, struct image_head *h)
{
	uint64_t size;
	size_t k = 0;
	int err = rgn_os_file_size(fd, &size);

	/* one read may stop short of what the file holds: read until the
	 * header is whole or the file ends */
	while (!err && k < sizeof(*h)) {
		size_t got;

		err = rgn_os_pread(fd, (char *)h + k, sizeof(*h) - k, k, &got);
		if (!err && got == 0)
			break;
		if (!err)
			k += got;
	}
	if (err)
		return err;
	if (k < sizeof(*h))
		/* too short for a header: a cut-off image, or not one at all */
		return (size_t)k >= sizeof(image_magic) &&
		       memcmp(h->magic, image_magic, sizeof(image_magic)) == 0
		       ? ENODATA : ENOEXEC;
	return head_check(h, size > SIZE_MAX ? SIZE_MAX : (size_t)size);
}

RGN_API rgn_image *rgn_image_open(int fd, rgn_ref *root)
{
	return rgn_image_open_with(fd, root, 0);
}

RGN_API rgn_image *rgn_image_open_with(int fd, rgn_ref *root, unsigned flags)
{
	struct image_head h;
	rgn_image *img;
	void *map;
	int err;

	if (fd < 0 || (flags & ~RGN_IMAGE_TRUSTED)) {
		errno = EINVAL;
		return NULL;
	}
	err = rgn_space_ensure(); /* the decode base exists before any enter */
	if (!err)
		err = head_of(fd, &h);
	if (!err) {
		img = malloc(sizeof(*img));
		err = img ? load(fd, &h, flags & RGN_IMAGE_TRUSTED, &map) : ENOMEM;
		if (err)
			free(img);
	}
	if (err) {
		errno = err;
		return NULL;
	}
	img->b.base = map;
	img->magic = RGN_MAGIC_IMAGE;
	img->used = (size_t)h.used;
	if (root)
		*root = h.root;
	return img;
}

static bool image_open(const rgn_image *img)
{
	return img && img->magic == RGN_MAGIC_IMAGE;
}

RGN_API size_t rgn_image_size(const rgn_image *img)
{
	if (!image_open(img)) {
		errno = EINVAL;
		return 0;
	}
	return img->used;
}

RGN_API int rgn_image_enter(const rgn_image *img)
{
	int err = image_open(img) ? rgn_decode_enter((char *)img->b.base) : EINVAL;

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

RGN_API void rgn_image_close(rgn_image *img)
{
	if (!image_open(img))
		return;
	rgn_decode_forget((char *)img->b.base);
	img->magic = 0;
	rgn_os_release((char *)img->b.base, img->used);
	free(img);
}

/* ---- sharing: a memfd sealed whole ------------------------------------------------ */
#if RGN_HAVE_MEMFD /* (absent from the Windows build, rgn.h too) */

/* The seals rgn_image_seal adds: the size and the bytes fixed for good,
 * and no seal taken away or added after.  F_SEAL_WRITE, not
 * F_SEAL_FUTURE_WRITE: the latter lets a writable shared mapping made
 * before the seal go on writing, so the image could still change under
 * its readers; F_SEAL_WRITE refuses (EBUSY) while such a mapping exists.
 * Read-only mappings (every rgn_image_open, the writer's too) are kept
 * by either. */
#if defined(F_ADD_SEALS) && defined(MFD_ALLOW_SEALING)
#define IMAGE_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* The body of the image in fd checked against its header, read in
 * pieces into a buffer of ours (a mapping could be cut short under us by
 * another holder of the file: SIGBUS).  0 or an errno. */
static int body_check(int fd, const struct image_head *h)
{
	const size_t piece = (size_t)1 << 20;
	uint64_t off = h->guard;
	struct body hash;
	char *buf = malloc(piece);
	int err = buf ? 0 : ENOMEM;

	body_init(&hash);
	while (!err && off < h->used) {
		size_t want = h->used - off < piece ? (size_t)(h->used - off) : piece, k = 0;

		err = rgn_os_pread(fd, buf, want, off, &k);
		if (!err && (k == 0 || k % 8 != 0))
			err = ENODATA; /* the file ended inside a word: cut short */
		if (!err) {
			body_words(&hash, buf, k);
			off += (uint64_t)k;
		}
	}
	free(buf);
	if (!err && body_end(&hash, h->used - h->guard) != h->body)
		err = EBADMSG;
	return err;
}

RGN_API int rgn_image_memfd(const char *name)
{
	return memfd_create(name ? name : "rgn-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

RGN_API int rgn_image_seal(int fd)
{
	struct image_head h;
	int seals, err;

	if (fd < 0) {
		errno = EINVAL;
		return -1;
	}
	/* EINVAL for a file that takes no seals, EBADF for no file */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -1;
	/* sealing closed before our set was complete: a memfd made without
	 * MFD_ALLOW_SEALING, or sealed otherwise by someone else */
	err = (seals & F_SEAL_SEAL) && (seals & IMAGE_SEALS) != IMAGE_SEALS ? EPERM : 0;
	if (!err)
		err = head_of(fd, &h);
	if (!err)
		err = body_check(fd, &h);
	/* all four in one call: a refusal (EBUSY) leaves the file as it was */
	if (!err && (seals & IMAGE_SEALS) != IMAGE_SEALS &&
	    fcntl(fd, F_ADD_SEALS, IMAGE_SEALS) != 0)
		err = errno;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
#else
RGN_API int rgn_image_memfd(const char *name)
{
	(void)name;
	errno = ENOTSUP;
	return -1;
}

RGN_API int rgn_image_seal(int fd)
{
	(void)fd;
	errno = ENOTSUP;
	return -1;
}
#endif
#endif /* RGN_HAVE_MEMFD */
