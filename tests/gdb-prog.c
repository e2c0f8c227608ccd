/*
 * gdb-prog.c - a few named regions and references, their values and
 * rgn_report written to the file named by argv[1], then abort(): the
 * program check-gdb.sh takes a core of and reads back with rgn-gdb.py.
 */
#include <rgn.h>
#include <stdio.h>
#include <stdlib.h>

static void close_nothing(void *arg)
{
	(void)arg;
}

int main(int argc, char **argv)
{
	rgn_config cfg = { .space_size = (size_t)16 << 20 };
	rgn_options ro = { .name = "gdb-root" };
	rgn_options co = { .backend = RGN_BACKEND_CONTIG, .reserve = (size_t)1 << 20,
	                   .name = "gdb-contig" };
	rgn_region *root, *kid, *anon, *c;
	char *s, *cs;
	FILE *f;

	if (argc != 2 || rgn_init(&cfg) != 0)
		return 2;
	root = rgn_new_with(NULL, &ro);
	kid = rgn_new(root);
	anon = rgn_new(kid);
	c = rgn_new_with(root, &co);
	if (!root || !kid || !anon || !c || rgn_set_name(kid, "gdb-child") != 0)
		return 2;
	s = rgn_strdup(kid, "decoded through the space");
	cs = rgn_strdup(c, "decoded through the region");
	if (!s || !cs || !rgn_alloc(kid, 100000) || !rgn_alloc(anon, 5000) ||
	    rgn_on_destroy(root, close_nothing, NULL) != 0)
		return 2;
	f = fopen(argv[1], "w");
	if (!f)
		return 2;
	fprintf(f, "ref %u %p\n", (unsigned)rgn_ref_of(s), (void *)s);
	fprintf(f, "cref %u %p %p\n", (unsigned)rgn_ref_in(c, cs), (void *)cs, (void *)c);
	fprintf(f, "root %p\n", (void *)root);
	if (rgn_report(f, root) != 0 || fclose(f) != 0)
		return 2;
	abort();
}
