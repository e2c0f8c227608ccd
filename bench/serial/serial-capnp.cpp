/*
 * serial-capnp.cpp - the graph in Cap'n Proto (graph.capnp).
 *
 * A struct pointer has exactly one parent, so the message cannot share:
 * every time the walk reaches a shared leaf or a string it is written
 * again (the graph unfolded into a tree, graph->node_visits nodes and as
 * many texts).  Built in a MallocMessageBuilder whose first segment holds
 * the whole message (one segment, no copy between segments), written
 * with writeMessageToFd, read back with a FlatArrayMessageReader over a
 * read-only mmap of the file, its traversal limit lifted (by default it
 * stops at 64 MiB, about the size of this message).
 */
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include "graph.capnp.h"
#include "serial.h"

namespace {

uint64_t build(const struct graph *g, int32_t i, Node::Builder b)
{
	const struct graph_node &n = g->node[i];
	uint64_t made = 1;

	b.setValue(n.value);
	b.setName(capnp::Text::Reader(graph_str(g, n.name), graph_str_len(g, n.name)));
	if (n.left != GRAPH_NONE)
		made += build(g, n.left, b.initLeft());
	if (n.right != GRAPH_NONE)
		made += build(g, n.right, b.initRight());
	return made;
}

uint64_t walk(Node::Reader n, uint64_t h, uint64_t *visits)
{
	capnp::Text::Reader name = n.getName();

	++*visits;
	h = graph_mix(h, n.getValue(), name.cStr(), (uint32_t)name.size());
	if (n.hasLeft())
		h = walk(n.getLeft(), h, visits);
	if (n.hasRight())
		h = walk(n.getRight(), h, visits);
	return h;
}

void mark(Node::Reader n, const char *base, struct serial_seen *seen)
{
	const char *p = (const char *)capnp::toAny(n).getDataSection().begin();

	serial_seen_mark(seen, (uint64_t)(p - base) / 8);
	if (n.hasLeft())
		mark(n.getLeft(), base, seen);
	if (n.hasRight())
		mark(n.getRight(), base, seen);
}

} // namespace

extern "C" int serial_capnp(const struct graph *g, int fd, int check,
                            struct serial_result *res)
{
	void *map = MAP_FAILED;
	size_t size = 0;

	try {
		/* a node is 4 words (value, 3 pointers), a name at most 5 */
		uint64_t t0 = now_ns(), t1, t2, t3, t4;
		capnp::MallocMessageBuilder msg((unsigned)(g->node_visits * 9 + 64));

		res->written = 2 * build(g, 0, msg.initRoot<Node>());
		t1 = now_ns();
		capnp::writeMessageToFd(fd, msg);
		t2 = now_ns();
		if (int fd2 = serial_memfd(); fd2 >= 0) {
			/* serial_write_again, for a message of segments */
			uint64_t t = now_ns();

			capnp::writeMessageToFd(fd2, msg);
			res->again_ns = (double)(now_ns() - t);
			close(fd2);
		}
		size = (size_t)lseek(fd, 0, SEEK_CUR);
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			perror("bench-serial: capnp: mmap");
			return -1;
		}
		capnp::ReaderOptions opt;
		opt.traversalLimitInWords = UINT64_MAX;
		capnp::FlatArrayMessageReader rd(kj::ArrayPtr<const capnp::word>(
			(const capnp::word *)map, size / sizeof(capnp::word)), opt);
		Node::Reader root = rd.getRoot<Node>();
		t3 = now_ns();
		res->visits = 0;
		res->checksum = walk(root, 0, &res->visits);
		t4 = now_ns();
		res->build_ns = (double)(t1 - t0);
		res->write_ns = (double)(t2 - t1);
		res->open_ns = (double)(t3 - t2);
		res->traverse_ns = (double)(t4 - t3);
		res->bytes = size;
		if (check) {
			struct serial_seen seen;

			if (serial_seen_init(&seen, size / 8) == 0) {
				mark(root, (const char *)map, &seen);
				res->distinct = seen.count;
				free(seen.bits);
			}
		}
	} catch (const kj::Exception &e) {
		fprintf(stderr, "bench-serial: capnp: %s\n", e.getDescription().cStr());
		if (map != MAP_FAILED)
			munmap(map, size);
		return -1;
	}
	munmap(map, size);
	return 0;
}
