/*
 * build-c.c - the public header on its own, compiled as C99 and as C17
 * with -pedantic -Werror, linked to the shared library.  It also runs:
 * a few calls prove the exported symbols are enough to use the library.
 */
#include <rgn.h>

#include <stdio.h>
#include <string.h>

struct node {
	rgn_ref next;
	rgn_ref name;
};

int main(void)
{
	rgn_config cfg = { 16u << 20, 0, 0 };
	struct rgn_space_stats st;
	rgn_ref head = RGN_NULL_REF;
	rgn_region *r;
	int count = 0;
	char *s;

	if (rgn_init(&cfg) != 0 || rgn_space_stats(&st) != 0 ||
	    st.size != cfg.space_size) {
		fprintf(stderr, "rgn_init failed\n");
		return 1;
	}
	r = rgn_new(NULL);
	if (!r)
		return 1;
	for (int i = 0; i < 10; i++) {
		struct node *n = rgn_alloc(r, sizeof *n);
		char *name = rgn_format(r, "node %d", i);
		if (!n || !name)
			return 1;
		n->name = rgn_ref_of(name);
		n->next = head;
		head = rgn_ref_of(n);
	}
	for (rgn_ref at = head; at; at = RGN_AT(struct node, at)->next)
		count++;
	if (count != 10 || strcmp(rgn_ptr(RGN_AT(struct node, head)->name), "node 9"))
		return 1;
	RGN_SCOPE {
		s = rgn_strdup(rgn_current(), RGN_VERSION_STRING);
		if (!s || strcmp(s, RGN_VERSION_STRING) != 0)
			return 1;
	}
	if (rgn_current() != NULL)
		return 1;
	rgn_destroy(r);
	printf("rgn %s, decode %s: ok\n", RGN_VERSION_STRING, RGN_DECODE_MODE);
	return 0;
}
