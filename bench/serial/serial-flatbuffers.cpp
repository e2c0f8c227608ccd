/*
 * serial-flatbuffers.cpp - the graph in FlatBuffers (graph.fbs).
 *
 * An offset may point at any table or string written before it, so the
 * DAG is kept: every string is written once, then every node once, from
 * the last index down (a child's index is larger than its parent's, so
 * children are always written first).  Shared leaves and names are
 * reached through several offsets.  Read back from a read-only mmap;
 * the Verifier runs once, outside the timed part, with its table limit
 * raised: it checks a shared table again for every offset that reaches
 * it, so it counts the unfolded tree's tables, not the file's.
 */
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "graph_generated.h"
#include "serial.h"

namespace {

using serial_fb::Node;

uint64_t walk(const Node *n, uint64_t h, uint64_t *visits)
{
	const flatbuffers::String *name = n->name();

	++*visits;
	h = graph_mix(h, n->value(), name->c_str(), name->size());
	if (const Node *l = n->left())
		h = walk(l, h, visits);
	if (const Node *r = n->right())
		h = walk(r, h, visits);
	return h;
}

void mark(const Node *n, const uint8_t *base, struct serial_seen *seen)
{
	serial_seen_mark(seen, (uint64_t)((const uint8_t *)n - base) / 4);
	if (const Node *l = n->left())
		mark(l, base, seen);
	if (const Node *r = n->right())
		mark(r, base, seen);
}

} // namespace

extern "C" int serial_flatbuffers(const struct graph *g, int fd, int check,
                                  struct serial_result *res)
{
	uint64_t t0 = now_ns(), t1, t2, t3, t4, t5;
	/* about 24 bytes a node and a string */
	flatbuffers::FlatBufferBuilder b((size_t)graph_objects(g) * 24 + 1024);
	std::vector<flatbuffers::Offset<flatbuffers::String>> str(g->strings);
	std::vector<flatbuffers::Offset<Node>> node(g->nodes);

	for (uint32_t j = 0; j < g->strings; j++)
		str[j] = b.CreateString(graph_str(g, j), graph_str_len(g, j));
	for (uint32_t i = g->nodes; i-- > 0;) {
		const struct graph_node &n = g->node[i];

		node[i] = serial_fb::CreateNode(b,
			n.left == GRAPH_NONE ? flatbuffers::Offset<Node>() : node[n.left],
			n.right == GRAPH_NONE ? flatbuffers::Offset<Node>() : node[n.right],
			str[n.name], n.value);
	}
	serial_fb::FinishNodeBuffer(b, node[0]);
	t1 = now_ns();
	if (serial_write_all(fd, b.GetBufferPointer(), b.GetSize()) != 0) {
		perror("bench-serial: flatbuffers: write");
		return -1;
	}
	t2 = now_ns();
	res->again_ns = serial_write_again(b.GetBufferPointer(), b.GetSize());
	size_t size = b.GetSize();
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("bench-serial: flatbuffers: mmap");
		return -1;
	}
	const Node *root = serial_fb::GetNode(map);
	t3 = now_ns();
	res->visits = 0;
	res->checksum = walk(root, 0, &res->visits);
	t4 = now_ns();
	flatbuffers::Verifier::Options opt;
	opt.max_tables = 4 * g->node_visits + 1024;
	flatbuffers::Verifier v((const uint8_t *)map, size, opt);
	bool ok = serial_fb::VerifyNodeBuffer(v);
	t5 = now_ns();
	if (!ok) {
		fprintf(stderr, "bench-serial: flatbuffers: the Verifier refuses the buffer\n");
		munmap(map, size);
		return -1;
	}
	res->build_ns = (double)(t1 - t0);
	res->write_ns = (double)(t2 - t1);
	res->open_ns = (double)(t3 - t2);
	res->traverse_ns = (double)(t4 - t3);
	res->verify_ns = (double)(t5 - t4);
	res->bytes = size;
	res->written = graph_objects(g);
	if (check) {
		struct serial_seen seen;

		if (serial_seen_init(&seen, size / 4) == 0) {
			mark(root, (const uint8_t *)map, &seen);
			res->distinct = seen.count;
			free(seen.bits);
		}
	}
	munmap(map, size);
	return 0;
}
