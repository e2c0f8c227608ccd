/*
 * adapt-textbook.h - the textbook region (see adapter.h): chunks from
 * malloc chained in a list, bump allocation inside the newest, and
 * destroy walks the list freeing every chunk.
 *
 * The region header is malloc'd on its own; chunks are 16 KiB, and an
 * object over a quarter of that gets a chunk of its own (put behind the
 * current one, so the bump chunk stays current).  ba_reset frees all but
 * the first chunk and bumps from its start again.  This is the baseline a
 * region allocator must beat to be worth having.  glibc's trim threshold is
 * raised as a user tuning it would (glibc-tune.h), so that destroyed
 * chunks stay in its heap instead of being faulted in again.
 */
#ifndef BENCH_ADAPT_TEXTBOOK_H
#define BENCH_ADAPT_TEXTBOOK_H

#include "adapter.h"
#include "glibc-tune.h"

#include <stdint.h>
#include <stdlib.h>

#define BA_NAME "textbook"
#define BA_FREES_EACH 0

#define BA_TB_CHUNK ((size_t)16 << 10)
#define BA_TB_DATA  (BA_TB_CHUNK - sizeof(struct ba_tb_chunk))

struct ba_tb_chunk {
	struct ba_tb_chunk *prev;     /* older chunk, NULL for the first */
	size_t size;                  /* bytes of data (keeps it 16-aligned) */
	char data[];
};

struct ba_tb_region {
	char *cur, *end;              /* bump range in the current chunk */
	struct ba_tb_chunk *head;     /* newest chunk */
};

static int ba_setup(size_t live_bytes, FILE *out)
{
	char what[80];

	snprintf(what, sizeof what, "textbook region (%zu KiB malloc'd "
	         "chunks, chained; bump inside)", BA_TB_CHUNK >> 10);
	return ba_glibc_tune(live_bytes, out, what);
}

static inline ba_region *ba_new(void)
{
	struct ba_tb_region *r = malloc(sizeof *r);

	if (r) {
		r->cur = r->end = NULL;
		r->head = NULL;
	}
	return (ba_region *)(void *)r;
}

static void *ba_tb_refill(struct ba_tb_region *r, size_t n)
{
	size_t data = n > BA_TB_CHUNK / 4 ? n : BA_TB_DATA;
	struct ba_tb_chunk *c = malloc(sizeof *c + data);

	if (!c)
		return NULL;
	c->size = data;
	if (n > BA_TB_CHUNK / 4 && r->head) {
		/* a big object: its own chunk, behind the current one */
		c->prev = r->head->prev;
		r->head->prev = c;
		return c->data;
	}
	c->prev = r->head;
	r->head = c;
	r->cur = c->data + n;
	r->end = c->data + data;
	return c->data;
}

static inline void *ba_alloc(ba_region *reg, size_t n)
{
	struct ba_tb_region *r = (struct ba_tb_region *)(void *)reg;
	size_t m = (n + 7) & ~(size_t)7;

	if (m <= (size_t)(r->end - r->cur)) {
		void *p = r->cur;

		r->cur += m;
		return p;
	}
	return ba_tb_refill(r, m);
}

static void ba_tb_free_chain(struct ba_tb_chunk *c)
{
	while (c) {
		struct ba_tb_chunk *prev = c->prev;

		free(c);
		c = prev;
	}
}

static inline void ba_destroy(ba_region *reg)
{
	struct ba_tb_region *r = (struct ba_tb_region *)(void *)reg;

	ba_tb_free_chain(r->head);
	free(r);
}

#define ba_reset ba_reset
static inline ba_region *ba_reset(ba_region *reg)
{
	struct ba_tb_region *r = (struct ba_tb_region *)(void *)reg;
	struct ba_tb_chunk *first = r->head;

	if (!first)
		return reg;
	while (first->prev) {
		struct ba_tb_chunk *c = first;

		first = first->prev;
		free(c);
	}
	if (first->size != BA_TB_DATA) {
		/* a big object came first: keep nothing */
		free(first);
		r->head = NULL;
		r->cur = r->end = NULL;
		return reg;
	}
	r->head = first;
	r->cur = first->data;
	r->end = first->data + first->size;
	return reg;
}

#endif /* BENCH_ADAPT_TEXTBOOK_H */
