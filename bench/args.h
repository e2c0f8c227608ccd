/*
 * args.h - the command line of every benchmark program (driver.c,
 * chase.c, strategy.c, sys-walk.c): words and options taken in order,
 * numbers checked whole, and one usage message, printed with exit
 * status 2 on any mistake.
 *
 *	struct bench_args a;
 *	const char *v;
 *
 *	args_init(&a, argc, argv, "usage: prog WORD [--full] [--rounds N]\n");
 *	while (args_more(&a)) {
 *		if (args_flag(&a, "--full"))
 *			full = 1;
 *		else if ((v = args_value(&a, "--rounds")))
 *			rounds = (int)args_uint(&a, v, 1, INT_MAX);
 *		else if (!word && (v = args_word(&a)))
 *			word = v;
 *		else
 *			args_usage(&a);
 *	}
 */
#ifndef BENCH_ARGS_H
#define BENCH_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_args {
	int argc;
	char **argv;
	int next;              /* index of the next argument to take */
	const char *usage;     /* the whole usage message, newline included */
};

static inline void args_init(struct bench_args *a, int argc, char **argv,
                             const char *usage)
{
	a->argc = argc;
	a->argv = argv;
	a->next = 1;
	a->usage = usage;
}

__attribute__((noreturn))
static inline void args_usage(const struct bench_args *a)
{
	fputs(a->usage, stderr);
	exit(2);
}

/* Arguments not taken yet. */
static inline int args_more(const struct bench_args *a)
{
	return a->argc - a->next;
}

/* The next argument as it is, taken; usage when there is none. */
static inline const char *args_next(struct bench_args *a)
{
	if (a->next >= a->argc)
		args_usage(a);
	return a->argv[a->next++];
}

/* The flag name, taken if it is the next argument. */
static inline int args_flag(struct bench_args *a, const char *name)
{
	if (a->next >= a->argc || strcmp(a->argv[a->next], name) != 0)
		return 0;
	a->next++;
	return 1;
}

/* "name VALUE": VALUE if name is the next argument (both taken; usage
 * when VALUE is missing), else NULL. */
static inline const char *args_value(struct bench_args *a, const char *name)
{
	if (!args_flag(a, name))
		return NULL;
	return args_next(a);
}

/* The next argument if it is a word (not an option), taken; else NULL. */
static inline const char *args_word(struct bench_args *a)
{
	if (a->next >= a->argc || a->argv[a->next][0] == '-')
		return NULL;
	return a->argv[a->next++];
}

/* The next argument, which must be a word. */
static inline const char *args_need_word(struct bench_args *a)
{
	const char *w = args_word(a);

	if (!w)
		args_usage(a);
	return w;
}

/* Usage unless every argument was taken. */
static inline void args_done(const struct bench_args *a)
{
	if (args_more(a))
		args_usage(a);
}

/* s as a decimal number in [lo, hi], digits only. */
static inline uint64_t args_uint(const struct bench_args *a, const char *s,
                                 uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		args_usage(a);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE || v < lo || v > hi)
		args_usage(a);
	return (uint64_t)v;
}

/* s as a byte count: a number, fractions allowed, with an optional K, M
 * or G (binary units, either case): "32K", "1.5M", "1G". */
static inline size_t args_size(const struct bench_args *a, const char *s)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		args_usage(a);
	v = strtod(s, &end);
	switch (*end) {
	case 'K': case 'k': v *= 1024; end++; break;
	case 'M': case 'm': v *= 1024 * 1024; end++; break;
	case 'G': case 'g': v *= 1024.0 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end || v < 0 || v >= (double)SIZE_MAX)
		args_usage(a);
	return (size_t)v;
}

/* A comma-separated list of sizes ("32K,1M,16M"), each as args_size,
 * empty items skipped: an array of *n sizes, to free. */
static inline size_t *args_size_list(const struct bench_args *a,
                                     const char *list, int *n)
{
	size_t *out = malloc((strlen(list) / 2 + 1) * sizeof *out);
	char item[64];

	if (!out) {
		perror("args_size_list");
		exit(1);
	}
	*n = 0;
	while (*list) {
		size_t len = strcspn(list, ",");

		if (len >= sizeof item)
			args_usage(a);
		if (len) {
			memcpy(item, list, len);
			item[len] = '\0';
			out[(*n)++] = args_size(a, item);
		}
		list += len + (list[len] == ',');
	}
	return out;
}

/* The index of s among n names; usage when it is none of them. */
static inline int args_choice(const struct bench_args *a, const char *s,
                              const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	args_usage(a);
}

#endif /* BENCH_ARGS_H */
