/*
 * test-report.c - seeing where memory goes: region names, the subtree
 * totals of rgn_region_stats, and rgn_report's tree dump, parsed back
 * line by line and checked against the statistics.
 */
#define _GNU_SOURCE
#include "suites.h"

#define CONTIG_RESERVE (1 * MiB)

static rgn_region *named(rgn_region *parent, rgn_backend b, const char *name)
{
	rgn_options o = { .backend = b, .name = name };
	rgn_region *r;

	if (b == RGN_BACKEND_CONTIG)
		o.reserve = CONTIG_RESERVE;
	r = rgn_new_with(parent, &o);
	ck_assert_msg(r != NULL, "rgn_new_with(%s): %s", name, strerror(errno));
	return r;
}

static void noop_cb(void *arg)
{
	(void)arg;
}

/* ---- parsing the report ------------------------------------------------------ */

struct line {
	size_t depth;
	char   label[128];
	char   backend[16];
	size_t used, subtree, blocks, chunks, large, cleanups;
	size_t reserved, committed;
	int    has_contig;
};

struct report {
	char       *text;
	size_t      len;
	struct line *lines;
	size_t      n;
	size_t      total_regions, total_used, total_blocks;
};

/* Parse one region line; the checks fail the test on any deviation. */
static void parse_line(const char *s, struct line *l)
{
	const char *p = s, *colon;
	size_t spaces = 0;
	int k, used_chars = 0;

	memset(l, 0, sizeof(*l));
	while (*p == ' ') {
		spaces++;
		p++;
	}
	ck_assert_msg(spaces % 2 == 0, "odd indentation: '%s'", s);
	l->depth = spaces / 2;
	if (*p == '+') {
		ck_assert_uint_eq(l->depth, 32);
		l->depth = strtoul(p + 1, (char **)&p, 10);
		ck_assert_msg(*p == ' ', "depth prefix: '%s'", s);
		ck_assert_uint_gt(l->depth, 32);
		p++;
	}
	colon = strstr(p, ": ");
	ck_assert_msg(colon != NULL, "no label: '%s'", s);
	ck_assert_uint_lt((size_t)(colon - p), sizeof l->label);
	memcpy(l->label, p, (size_t)(colon - p));
	k = sscanf(colon + 2, "%15s used=%zu subtree=%zu blocks=%zu chunks=%zu "
	           "large=%zu cleanups=%zu%n", l->backend, &l->used, &l->subtree,
	           &l->blocks, &l->chunks, &l->large, &l->cleanups, &used_chars);
	ck_assert_msg(k == 7, "fields of '%s': %d", s, k);
	p = colon + 2 + used_chars;
	if (strcmp(l->backend, "contig") == 0) {
		k = sscanf(p, " reserved=%zu committed=%zu%n", &l->reserved,
		           &l->committed, &used_chars);
		ck_assert_msg(k == 2, "contig fields of '%s'", s);
		p += used_chars;
		l->has_contig = 1;
	} else {
		ck_assert_str_eq(l->backend, "blocks");
	}
	ck_assert_msg(*p == '\0', "trailing text in '%s'", s);
}

#ifdef _WIN32
#define DEV_NULL "NUL"
/* No open_memstream: a temporary file, read back whole. */
static void report_text(const rgn_region *r, char **text, size_t *len)
{
	FILE *f = tmpfile();
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(rgn_report(f, r), 0);
	n = ftell(f);
	ck_assert_int_gt(n, 0);
	*text = malloc((size_t)n + 1);
	rewind(f);
	ck_assert_uint_eq(fread(*text, 1, (size_t)n, f), (size_t)n);
	(*text)[n] = '\0';
	*len = (size_t)n;
	ck_assert_int_eq(fclose(f), 0);
}
#else
#define DEV_NULL "/dev/null"
static void report_text(const rgn_region *r, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(rgn_report(f, r), 0);
	ck_assert_int_eq(fclose(f), 0);
}
#endif

/* rgn_report(r) into memory, split into lines and parsed. */
static struct report run_report(const rgn_region *r)
{
	struct report rp = { 0 };
	char *save = NULL, *s;
	size_t cap = 16;
	int got_total = 0;

	report_text(r, &rp.text, &rp.len);
	ck_assert_uint_gt(rp.len, 0);
	ck_assert_int_eq(rp.text[rp.len - 1], '\n');
	rp.lines = malloc(cap * sizeof(*rp.lines));
	for (s = strtok_r(rp.text, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(!got_total, "a line after the total: '%s'", s);
		if (strncmp(s, "Grand total: ", 13) == 0) {
			ck_assert_int_eq(sscanf(s, "Grand total: regions=%zu used=%zu blocks=%zu",
			                        &rp.total_regions, &rp.total_used,
			                        &rp.total_blocks), 3);
			got_total = 1;
			continue;
		}
		if (rp.n == cap)
			rp.lines = realloc(rp.lines, (cap *= 2) * sizeof(*rp.lines));
		ck_assert_ptr_nonnull(rp.lines);
		parse_line(s, &rp.lines[rp.n++]);
	}
	ck_assert_msg(got_total, "no total line");
	return rp;
}

static void free_report(struct report *rp)
{
	free(rp->text);
	free(rp->lines);
}

static const struct line *find(const struct report *rp, const char *label)
{
	for (size_t i = 0; i < rp->n; i++)
		if (strcmp(rp->lines[i].label, label) == 0)
			return &rp->lines[i];
	ck_abort_msg("no line for %s", label);
	return NULL;
}

/* What any report must satisfy on its own: depths step down by one at
 * most, the first line is at depth 0, each line's subtree is its used
 * plus its children's subtrees, and the total is the first line's. */
static void check_shape(const struct report *rp)
{
	ck_assert_uint_ge(rp->n, 1);
	ck_assert_uint_eq(rp->lines[0].depth, 0);
	for (size_t i = 0; i < rp->n; i++) {
		const struct line *l = &rp->lines[i];
		size_t sum = l->used;

		if (i > 0) {
			ck_assert_uint_ge(l->depth, 1);
			ck_assert_uint_le(l->depth, rp->lines[i - 1].depth + 1);
		}
		for (size_t j = i + 1; j < rp->n && rp->lines[j].depth > l->depth; j++)
			if (rp->lines[j].depth == l->depth + 1)
				sum += rp->lines[j].subtree;
		ck_assert_msg(l->subtree == sum, "%s: subtree %zu, used + children %zu",
		              l->label, l->subtree, sum);
		ck_assert_uint_ge(l->chunks, 1);
	}
	ck_assert_uint_eq(rp->total_regions, rp->n);
	ck_assert_uint_eq(rp->total_used, rp->lines[0].subtree);
}

/* A line agrees with rgn_region_stats of its region. */
static void check_line(const struct line *l, const rgn_region *r, size_t depth)
{
	struct rgn_region_stats st = tst_region((rgn_region *)r);

	ck_assert_uint_eq(l->depth, depth);
	ck_assert_uint_eq(l->used, st.used);
	ck_assert_uint_eq(l->subtree, st.subtree_used);
	ck_assert_uint_eq(l->blocks, st.blocks);
	ck_assert_uint_eq(l->chunks, st.chunks);
	ck_assert_uint_eq(l->large, st.large);
	ck_assert_uint_eq(l->cleanups, st.cleanups);
	ck_assert_str_eq(l->backend, st.backend == RGN_BACKEND_CONTIG ? "contig" : "blocks");
	if (st.backend == RGN_BACKEND_CONTIG) {
		ck_assert_uint_eq(l->reserved, st.reserved);
		ck_assert_uint_eq(l->committed, st.committed);
	}
}

/* ---- names ---------------------------------------------------------------------- */

START_TEST(test_report_name_from_options)
{
	static const char nb[] = "blocks-root", nc[] = "contig-root";
	rgn_region *b = named(NULL, RGN_BACKEND_BLOCKS, nb);
	rgn_region *c = named(NULL, RGN_BACKEND_CONTIG, nc);
	rgn_region *plain = rgn_new(NULL);
	rgn_options o = { .backend = RGN_BACKEND_CONTIG, .reserve = CONTIG_RESERVE };
	rgn_region *pc = rgn_new_with(NULL, &o);

	/* the pointer is kept, not a copy */
	ck_assert_ptr_eq(rgn_name(b), nb);
	ck_assert_ptr_eq(rgn_name(c), nc);
	errno = 0;
	ck_assert_ptr_null(rgn_name(plain));
	ck_assert_ptr_null(rgn_name(pc));
	ck_assert_int_eq(errno, 0);
	rgn_destroy(b);
	rgn_destroy(c);
	rgn_destroy(plain);
	rgn_destroy(pc);
}
END_TEST

START_TEST(test_report_set_name)
{
	rgn_region *r = rgn_new(NULL);
	rgn_region *k = rgn_new(r);

	ck_assert_int_eq(rgn_set_name(k, "kid"), 0);
	ck_assert_str_eq(rgn_name(k), "kid");
	ck_assert_int_eq(rgn_set_name(k, "renamed"), 0);
	ck_assert_str_eq(rgn_name(k), "renamed");
	ck_assert_ptr_null(rgn_name(r));
	ck_assert_int_eq(rgn_set_name(k, NULL), 0);
	ck_assert_ptr_null(rgn_name(k));
	tst_fails_with(rgn_set_name(NULL, "x"), EINVAL);
	tst_null_with(rgn_name(NULL), EINVAL);
	rgn_destroy(r);
}
END_TEST

/* Reset and adoption keep a name; a merge leaves dst's. */
START_TEST(test_report_name_kept)
{
	rgn_region *a = named(NULL, RGN_BACKEND_BLOCKS, "a");
	rgn_region *b = named(NULL, RGN_BACKEND_BLOCKS, "b");
	rgn_region *c = named(NULL, RGN_BACKEND_CONTIG, "c");

	ck_assert_ptr_nonnull(rgn_alloc(a, 100000));
	rgn_reset(a);
	ck_assert_str_eq(rgn_name(a), "a");
	rgn_reset(c);
	ck_assert_str_eq(rgn_name(c), "c");
	ck_assert_int_eq(rgn_adopt(a, c), 0);
	ck_assert_str_eq(rgn_name(c), "c");
	ck_assert_int_eq(rgn_merge(a, b), 0);
	ck_assert_str_eq(rgn_name(a), "a");
	rgn_destroy(a);
}
END_TEST

/* A destroyed one-block region is kept for the next rgn_new: its name
 * must not come back with it. */
START_TEST(test_report_name_not_reused)
{
	for (int i = 0; i < 100; i++) {
		rgn_region *r = rgn_new(NULL);
		rgn_region *p = rgn_push();

		ck_assert_ptr_nonnull(r);
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_null(rgn_name(r));
		ck_assert_ptr_null(rgn_name(p));
		ck_assert_int_eq(rgn_set_name(r, "old"), 0);
		ck_assert_int_eq(rgn_set_name(p, "old-pushed"), 0);
		rgn_pop();
		rgn_destroy(r);
	}
}
END_TEST

/* ---- subtree statistics --------------------------------------------------------- */

START_TEST(test_report_subtree_stats)
{
	rgn_region *root = named(NULL, RGN_BACKEND_BLOCKS, "root");
	rgn_region *a = named(root, RGN_BACKEND_BLOCKS, "a");
	rgn_region *b = named(root, RGN_BACKEND_CONTIG, "b");
	rgn_region *a1 = named(a, RGN_BACKEND_CONTIG, "a1");
	rgn_region *a2 = named(a1, RGN_BACKEND_BLOCKS, "a2");
	rgn_region *all[] = { root, a, b, a1, a2 };
	struct rgn_region_stats st[5], s;
	size_t used = 0, blocks = 0;

	ck_assert_ptr_nonnull(rgn_alloc(root, 300));
	ck_assert_ptr_nonnull(rgn_alloc(a, 50000));     /* a large span */
	ck_assert_ptr_nonnull(rgn_alloc(b, 70000));
	ck_assert_ptr_nonnull(rgn_alloc(a1, 10));
	for (int i = 0; i < 200; i++)
		ck_assert_ptr_nonnull(rgn_alloc(a2, 100)); /* several chunks */
	for (int i = 0; i < 5; i++) {
		st[i] = tst_region(all[i]);
		used += st[i].used;
		blocks += st[i].blocks;
	}
	ck_assert_uint_eq(st[0].subtree_regions, 5);
	ck_assert_uint_eq(st[0].subtree_used, used);
	ck_assert_uint_eq(st[0].subtree_blocks, blocks);
	ck_assert_uint_ge(st[0].subtree_used, 300 + 50000 + 70000 + 10 + 200 * 100);
	/* a's subtree: a, a1, a2 */
	ck_assert_uint_eq(st[1].subtree_regions, 3);
	ck_assert_uint_eq(st[1].subtree_used, st[1].used + st[3].used + st[4].used);
	ck_assert_uint_eq(st[1].subtree_blocks, st[1].blocks + st[3].blocks + st[4].blocks);
	ck_assert_uint_eq(st[3].subtree_used, st[3].used + st[4].used);
	/* leaves */
	for (int i = 2; i < 5; i += 2) {
		ck_assert_uint_eq(st[i].subtree_regions, 1);
		ck_assert_uint_eq(st[i].subtree_used, st[i].used);
		ck_assert_uint_eq(st[i].subtree_blocks, st[i].blocks);
	}
	/* destroying a subtree takes it out of the totals */
	rgn_destroy(a1);
	s = tst_region(root);
	ck_assert_uint_eq(s.subtree_regions, 3);
	ck_assert_uint_eq(s.subtree_used, used - st[3].used - st[4].used);
	rgn_destroy(root);
}
END_TEST

/* A deep chain: every walk is a loop (a recursive one would use the
 * stack in proportion to the depth). */
START_TEST(test_report_subtree_deep)
{
	enum { DEPTH = 10000 };
	rgn_region *root = rgn_new(NULL), *x = root;
	struct rgn_region_stats s;
	FILE *f;

	for (int i = 0; i < DEPTH; i++) {
		x = rgn_new(x);
		ck_assert_ptr_nonnull(x);
	}
	ck_assert_ptr_nonnull(rgn_alloc(x, 24));
	s = tst_region(root);
	ck_assert_uint_eq(s.subtree_regions, DEPTH + 1);
	ck_assert_uint_eq(s.subtree_blocks, DEPTH + 1);
	ck_assert_uint_eq(s.subtree_used, 24); /* the others are empty */
	f = fopen(DEV_NULL, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(rgn_report(f, root), 0);
	fclose(f);
	rgn_destroy(root);
}
END_TEST

/* ---- the report ----------------------------------------------------------------------- */

START_TEST(test_report_tree)
{
	rgn_region *root = named(NULL, RGN_BACKEND_BLOCKS, "root");
	rgn_region *a = named(root, RGN_BACKEND_BLOCKS, "a");
	rgn_region *b = named(root, RGN_BACKEND_CONTIG, "b");
	rgn_region *a1 = named(a, RGN_BACKEND_BLOCKS, "a1");
	rgn_region *a2 = named(a, RGN_BACKEND_CONTIG, "a2");
	rgn_region *a21 = named(a2, RGN_BACKEND_BLOCKS, "a21");
	rgn_region *c = named(root, RGN_BACKEND_BLOCKS, "c");
	struct rgn_region_stats s;
	struct report rp;

	ck_assert_ptr_nonnull(rgn_alloc(root, 1000));
	ck_assert_ptr_nonnull(rgn_alloc(a, 60000));
	ck_assert_ptr_nonnull(rgn_alloc(b, 5000));
	ck_assert_ptr_nonnull(rgn_alloc(a21, 9000));
	for (int i = 0; i < 50; i++)
		ck_assert_ptr_nonnull(rgn_strdup(a1, "some text that fills a chunk"));
	ck_assert_int_eq(rgn_on_destroy(c, noop_cb, NULL), 0);
	ck_assert_int_eq(rgn_on_destroy(c, noop_cb, c), 0);
	ck_assert_int_eq(rgn_on_destroy(c, noop_cb, a), 0);
	ck_assert_int_eq(rgn_on_destroy_cancel(c, noop_cb, c), 0);

	rp = run_report(root);
	check_shape(&rp);
	ck_assert_uint_eq(rp.n, 7);
	/* children newest first, each under its parent */
	ck_assert_str_eq(rp.lines[0].label, "root");
	ck_assert_str_eq(rp.lines[1].label, "c");
	ck_assert_str_eq(rp.lines[2].label, "b");
	ck_assert_str_eq(rp.lines[3].label, "a");
	ck_assert_str_eq(rp.lines[4].label, "a2");
	ck_assert_str_eq(rp.lines[5].label, "a21");
	ck_assert_str_eq(rp.lines[6].label, "a1");
	check_line(find(&rp, "root"), root, 0);
	check_line(find(&rp, "a"), a, 1);
	check_line(find(&rp, "b"), b, 1);
	check_line(find(&rp, "c"), c, 1);
	check_line(find(&rp, "a1"), a1, 2);
	check_line(find(&rp, "a2"), a2, 2);
	check_line(find(&rp, "a21"), a21, 3);
	ck_assert_uint_eq(find(&rp, "c")->cleanups, 2);
	ck_assert_uint_eq(find(&rp, "a")->large, 1);
	ck_assert(find(&rp, "b")->has_contig);
	ck_assert_uint_eq(find(&rp, "b")->reserved, CONTIG_RESERVE);
	s = tst_region(root);
	ck_assert_uint_eq(rp.total_regions, s.subtree_regions);
	ck_assert_uint_eq(rp.total_used, s.subtree_used);
	ck_assert_uint_eq(rp.total_blocks, s.subtree_blocks);
	free_report(&rp);

	/* a subtree alone: its root at depth 0 */
	rp = run_report(a);
	check_shape(&rp);
	ck_assert_uint_eq(rp.n, 4);
	check_line(find(&rp, "a"), a, 0);
	check_line(find(&rp, "a21"), a21, 2);
	free_report(&rp);
	rgn_destroy(root);
}
END_TEST

START_TEST(test_report_labels)
{
	rgn_region *root = rgn_new(NULL);
	rgn_region *k = named(root, RGN_BACKEND_BLOCKS, "tab\there\nnewline\x7f");
	char addr[64];
	struct report rp;

	(void)k;
	snprintf(addr, sizeof addr, "%p", (void *)root);
	rp = run_report(root);
	check_shape(&rp);
	ck_assert_uint_eq(rp.n, 2);
	ck_assert_str_eq(rp.lines[0].label, addr);
	ck_assert_str_eq(rp.lines[1].label, "tab?here?newline?");
	free_report(&rp);
	rgn_destroy(root);
}
END_TEST

/* Past 32 levels the indentation stops growing and the depth is written. */
START_TEST(test_report_deep_indent)
{
	enum { DEPTH = 40 };
	rgn_region *x = rgn_new(NULL), *root = x;
	struct report rp;

	for (int i = 0; i < DEPTH; i++)
		x = rgn_new(x);
	ck_assert_ptr_nonnull(rgn_alloc(x, 800));
	rp = run_report(root);
	check_shape(&rp);
	ck_assert_uint_eq(rp.n, DEPTH + 1);
	for (size_t i = 0; i < rp.n; i++)
		ck_assert_uint_eq(rp.lines[i].depth, i);
	ck_assert_uint_eq(rp.lines[DEPTH].used, tst_region(x).used);
	ck_assert_uint_eq(rp.lines[0].subtree, tst_region(root).subtree_used);
	free_report(&rp);
	rgn_destroy(root);
}
END_TEST

/* A region reached by rewind and merge: the report follows the tree as
 * it is now. */
START_TEST(test_report_after_changes)
{
	rgn_region *root = named(NULL, RGN_BACKEND_BLOCKS, "root");
	rgn_region *a = named(root, RGN_BACKEND_BLOCKS, "a");
	rgn_region *b = named(root, RGN_BACKEND_BLOCKS, "b");
	rgn_region *bb = named(b, RGN_BACKEND_BLOCKS, "bb");
	rgn_mark m = rgn_save(a);
	struct report rp;

	ck_assert_ptr_nonnull(rgn_alloc(a, 200000));
	ck_assert_int_eq(rgn_rewind(a, m), 0);
	ck_assert_ptr_nonnull(rgn_alloc(bb, 7000));
	ck_assert_int_eq(rgn_merge(a, b), 0);  /* bb becomes a's child */
	rp = run_report(root);
	check_shape(&rp);
	ck_assert_uint_eq(rp.n, 3);
	check_line(find(&rp, "a"), a, 1);
	check_line(find(&rp, "bb"), bb, 2);
	ck_assert_uint_eq(find(&rp, "a")->large, 0);
	free_report(&rp);
	rgn_destroy(root);
}
END_TEST

START_TEST(test_report_errors)
{
	rgn_region *r = rgn_new(NULL);
	FILE *full = fopen("/dev/full", "w"); /* (none on Windows: skipped) */
	FILE *ro = fopen(DEV_NULL, "r");

	tst_fails_with(rgn_report(NULL, r), EINVAL);
	tst_fails_with(rgn_report(stdout, NULL), EINVAL);
	tst_fails_with(rgn_region_stats(r, NULL), EINVAL);
	if (full) {
		tst_fails_with(rgn_report(full, r), ENOSPC);
		fclose(full);
	}
	ck_assert_ptr_nonnull(ro);
	errno = 0;
	ck_assert_int_eq(rgn_report(ro, r), -1);
	ck_assert_int_ne(errno, 0);
	fclose(ro);
	rgn_destroy(r);
}
END_TEST

Suite *suite_report(void)
{
	Suite *s = suite_create("report");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_report_name_from_options);
	tcase_add_test(tc, test_report_set_name);
	tcase_add_test(tc, test_report_name_kept);
	tcase_add_test(tc, test_report_name_not_reused);
	suite_add_tcase(s, tc);

	tc = tcase_create("subtree");
	tcase_add_test(tc, test_report_subtree_stats);
	tcase_add_test(tc, test_report_subtree_deep);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("report");
	tcase_add_test(tc, test_report_tree);
	tcase_add_test(tc, test_report_labels);
	tcase_add_test(tc, test_report_deep_indent);
	tcase_add_test(tc, test_report_after_changes);
	tcase_add_test(tc, test_report_errors);
	suite_add_tcase(s, tc);
	return s;
}
