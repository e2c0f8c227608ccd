/*
 * serial-msgpack.c - the graph in MessagePack, through msgpack-c's C API.
 *
 * MessagePack is self-describing and has no references: the graph is
 * packed as a tree, each node the array [value, name, left, right] with
 * nil for a missing child, so a shared leaf or name is packed again
 * every time the walk reaches it.  The packer writes into an sbuffer
 * sized up front (as the other formats' builders are), written to the
 * file in one go.  Two readers over a read-only mmap of the file:
 *   unpack    msgpack_unpack_next: the whole message as msgpack_object
 *             trees in a zone (strings point into the mapping), then a
 *             walk of those objects; the library's reader.
 *   inplace   a parse of the bytes as they lie, computing the checksum as
 *             it goes (the packed order is the walk's order), no objects
 *             made; it knows only the types the packer uses here and
 *             refuses anything else.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <msgpack.h>

#include "serial.h"

static uint64_t pack(msgpack_packer *pk, const struct graph *g, int32_t i)
{
	const struct graph_node *n = &g->node[i];
	uint32_t len = graph_str_len(g, n->name);
	uint64_t made = 1;

	msgpack_pack_array(pk, 4);
	msgpack_pack_uint32(pk, n->value);
	msgpack_pack_str_with_body(pk, graph_str(g, n->name), len);
	if (n->left != GRAPH_NONE)
		made += pack(pk, g, n->left);
	else
		msgpack_pack_nil(pk);
	if (n->right != GRAPH_NONE)
		made += pack(pk, g, n->right);
	else
		msgpack_pack_nil(pk);
	return made;
}

/* ---- the unpacked objects ---- */

static int walk_obj(const msgpack_object *o, uint64_t *h, uint64_t *visits)
{
	const msgpack_object *f;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4)
		return -1;
	f = o->via.array.ptr;
	if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[1].type != MSGPACK_OBJECT_STR)
		return -1;
	++*visits;
	*h = graph_mix(*h, (uint32_t)f[0].via.u64, f[1].via.str.ptr, f[1].via.str.size);
	for (int c = 2; c < 4; c++)
		if (f[c].type != MSGPACK_OBJECT_NIL && walk_obj(&f[c], h, visits) != 0)
			return -1;
	return 0;
}

/* ---- in place ---- */

struct cur {
	const unsigned char *p, *end;
	uint64_t h, visits;
	struct serial_seen *seen;    /* check: offsets of the nodes */
	const unsigned char *base;
};

static uint32_t be(const unsigned char *p, int n)
{
	uint32_t v = 0;

	for (int k = 0; k < n; k++)
		v = v << 8 | p[k];
	return v;
}

/* A node: 0 and the cursor past it, or -1 on bytes it does not expect. */
static int parse(struct cur *c)
{
	uint32_t value, len;
	int n;

	if (c->end - c->p < 2 || c->p[0] != 0x94)
		return -1;
	if (c->seen)
		serial_seen_mark(c->seen, (uint64_t)(c->p - c->base));
	c->p++;
	/* value: positive fixint, uint8, uint16, uint32 */
	if (c->p[0] < 0x80) {
		value = *c->p++;
	} else {
		n = c->p[0] == 0xcc ? 1 : c->p[0] == 0xcd ? 2 : c->p[0] == 0xce ? 4 : 0;
		if (!n || c->end - c->p < 1 + n)
			return -1;
		value = be(c->p + 1, n);
		c->p += 1 + n;
	}
	/* name: fixstr or str8 */
	if (c->p >= c->end)
		return -1;
	if ((c->p[0] & 0xe0) == 0xa0) {
		len = c->p[0] & 0x1f;
		c->p++;
	} else if (c->p[0] == 0xd9 && c->end - c->p >= 2) {
		len = c->p[1];
		c->p += 2;
	} else {
		return -1;
	}
	if ((size_t)(c->end - c->p) < len)
		return -1;
	c->visits++;
	c->h = graph_mix(c->h, value, (const char *)c->p, len);
	c->p += len;
	for (int k = 0; k < 2; k++) {
		if (c->p >= c->end)
			return -1;
		if (c->p[0] == 0xc0)
			c->p++;
		else if (parse(c) != 0)
			return -1;
	}
	return 0;
}

static int round_msgpack(const struct graph *g, int fd, int check, int inplace,
                         struct serial_result *res)
{
	const char *what = inplace ? "msgpack-inplace" : "msgpack-unpack";
	uint64_t t0 = now_ns(), t1, t2, t3, t4;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t made;
	size_t size, off = 0;
	void *map;
	int rc = 0;

	/* about 30 bytes a node and its name, shared ones every time */
	msgpack_sbuffer_init(&sb);
	sb.alloc = (size_t)g->node_visits * 32 + 64;
	sb.data = malloc(sb.alloc);
	if (!sb.data) {
		fprintf(stderr, "bench-serial: %s: out of memory\n", what);
		return -1;
	}
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	made = pack(&pk, g, 0);
	t1 = now_ns();
	if (serial_write_all(fd, sb.data, sb.size) != 0) {
		perror("bench-serial: msgpack: write");
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	t2 = now_ns();
	res->again_ns = serial_write_again(sb.data, sb.size);
	size = sb.size;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("bench-serial: msgpack: mmap");
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	res->visits = 0;
	res->checksum = 0;
	if (inplace) {
		struct serial_seen seen;
		struct cur c = { (const unsigned char *)map,
		                 (const unsigned char *)map + size, 0, 0, NULL, NULL };

		t3 = now_ns();
		rc = parse(&c) == 0 && c.p == c.end ? 0 : -1;
		t4 = now_ns();
		res->checksum = c.h;
		res->visits = c.visits;
		if (rc == 0 && check && serial_seen_init(&seen, size) == 0) {
			c.p = c.base = (const unsigned char *)map;
			c.seen = &seen;
			parse(&c);
			res->distinct = seen.count;
			free(seen.bits);
		}
	} else {
		msgpack_unpacked u;

		msgpack_unpacked_init(&u);
		rc = msgpack_unpack_next(&u, map, size, &off) == MSGPACK_UNPACK_SUCCESS &&
		     off == size ? 0 : -1;
		t3 = now_ns();
		if (rc == 0)
			rc = walk_obj(&u.data, &res->checksum, &res->visits);
		t4 = now_ns();
		msgpack_unpacked_destroy(&u);
		res->distinct = check ? res->visits : 0; /* a tree: no sharing */
	}
	munmap(map, size);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0) {
		fprintf(stderr, "bench-serial: %s: the message does not parse\n", what);
		return -1;
	}
	res->build_ns = (double)(t1 - t0);
	res->write_ns = (double)(t2 - t1);
	res->open_ns = (double)(t3 - t2);
	res->traverse_ns = (double)(t4 - t3);
	res->bytes = size;
	res->written = 2 * made;
	return 0;
}

int serial_msgpack_unpack(const struct graph *g, int fd, int check,
                          struct serial_result *res)
{
	return round_msgpack(g, fd, check, 0, res);
}

int serial_msgpack_inplace(const struct graph *g, int fd, int check,
                           struct serial_result *res)
{
	return round_msgpack(g, fd, check, 1, res);
}
