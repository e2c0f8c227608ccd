/*
 * rgn-lua - the Lua 5.4 interpreter with its whole state in one rgn heap
 * region.
 *
 * Every object Lua allocates (strings, tables, closures, coroutine
 * stacks, userdata) comes from one region of rgn's heap backend, through
 * the lua_Alloc function below over rgn_realloc and rgn_free; lua_close
 * frees the objects one by one and rgn_destroy then hands the region's
 * blocks back at once.  Lua passes the old size of a block on every call,
 * which is what rgn_free and rgn_realloc take.
 *
 * The command line is the standalone interpreter's:
 *   rgn-lua [options] [script [args]]
 *     -e stat   run the string stat (repeatable)
 *     -l mod    require mod into global mod; -l g=mod into global g
 *     -i        interactive mode after the script
 *     -v        print the version
 *     -E        ignore LUA_INIT and the LUA_PATH/LUA_CPATH variables
 *     -W        turn warnings on
 *     --        stop handling options
 *     -         run standard input as the script, stop handling options
 * The global `arg` holds the script's name at 0, its arguments from 1
 * and the interpreter and its options at negative indices; errors print
 * "PROGNAME: message" with a traceback, and the exit status is 1.
 *
 * Environment:
 *   RGN_LUA_ALLOC  rgn (default): a heap region; libc: the C library's
 *                  realloc and free (or whatever LD_PRELOAD puts there);
 *                  blocks: a region of the blocks backend, where a free
 *                  gives back only a last allocation (for comparison)
 *   RGN_LUA_STATS  1: print at exit, to stderr, one line of the
 *                  allocator's call counts and peak bytes
 *   RGN_SPACE      the size of rgn's space (e.g. 16M): an exhausted space
 *                  is Lua's "not enough memory" error
 */
#define _GNU_SOURCE /* malloc_usable_size */
#include <rgn.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *progname = "rgn-lua";

/* ---- the allocator ----------------------------------------------------------
 * Counts are kept always (four increments a call); with RGN_LUA_STATS the
 * bytes held by live objects are tracked too, as the allocator rounds
 * them (the heap region's size class, malloc's usable size), and their
 * peak.  Invariant: live is the sum of held() over Lua's live blocks. */

enum alloc_kind { ALLOC_RGN, ALLOC_BLOCKS, ALLOC_LIBC };
static const char *const alloc_names[] = { "rgn", "blocks", "libc" };

struct heap {
	enum alloc_kind kind;
	rgn_region     *r;        /* NULL for ALLOC_LIBC */
	int             track;    /* RGN_LUA_STATS: keep live and peak */
	size_t          calls, allocs, reallocs, frees;
	size_t          failed;   /* allocations and growths refused */
	size_t          kept;     /* shrinks that failed: the block was kept */
	size_t          live, peak;
};

/* The bytes an object of size bytes at p holds. */
static size_t held(const struct heap *h, void *p, size_t size)
{
	switch (h->kind) {
	case ALLOC_RGN:  return rgn_usable_size(h->r, p);
	case ALLOC_LIBC: return malloc_usable_size(p);
	default:         return size;  /* a bump region records no sizes */
	}
}

static void *heap_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
	struct heap *h = ud;
	size_t before = 0;
	void *q;

	h->calls++;
	if (p == NULL)
		osize = 0;  /* then osize is the kind of object, not a size */
	if (h->track && p != NULL)
		before = held(h, p, osize);
	if (nsize == 0) {
		if (p != NULL) {
			h->frees++;
			h->live -= before;
			if (h->kind == ALLOC_LIBC)
				free(p);
			else
				rgn_free(h->r, p, osize);
		}
		return NULL;
	}
	if (h->kind == ALLOC_LIBC)
		q = realloc(p, nsize);
	else
		q = rgn_realloc(h->r, p, osize, nsize);
	if (q == NULL) {
		/* p is intact.  A shrink that cannot move keeps its block
		 * rather than fail, which Lua would raise as a memory error
		 * (a heap region already does so; libc's realloc may not). */
		if (p != NULL && nsize <= osize) {
			h->kept++;
			return p;
		}
		h->failed++;
		return NULL;
	}
	if (p == NULL)
		h->allocs++;
	else
		h->reallocs++;
	if (h->track) {
		h->live += held(h, q, nsize) - before;
		if (h->live > h->peak)
			h->peak = h->live;
	}
	return q;
}

static int heap_open(struct heap *h)
{
	const char *kind = getenv("RGN_LUA_ALLOC");
	const char *stats = getenv("RGN_LUA_STATS");

	memset(h, 0, sizeof *h);
	h->track = stats != NULL && strcmp(stats, "1") == 0;
	if (kind == NULL || *kind == '\0' || strcmp(kind, "rgn") == 0) {
		h->kind = ALLOC_RGN;
		h->r = rgn_new_with(NULL, &(rgn_options){ .backend = RGN_BACKEND_HEAP });
	} else if (strcmp(kind, "blocks") == 0) {
		h->kind = ALLOC_BLOCKS;
		h->r = rgn_new(NULL);
	} else if (strcmp(kind, "libc") == 0) {
		h->kind = ALLOC_LIBC;
		return 0;
	} else {
		fprintf(stderr, "%s: RGN_LUA_ALLOC=%s: expected rgn, libc or blocks\n",
		        progname, kind);
		return -1;
	}
	if (h->r == NULL) {
		fprintf(stderr, "%s: cannot create the region: %s\n", progname,
		        strerror(errno));
		return -1;
	}
	rgn_set_name(h->r, "lua");
	return 0;
}

/* Print the statistics line (if asked for) and destroy the region.  Lua
 * has freed all its blocks by now: a heap region's used is back to 0. */
static void heap_close(struct heap *h)
{
	struct rgn_region_stats st = { 0 };

	if (h->track) {
		if (h->r != NULL)
			rgn_region_stats(h->r, &st);
		fprintf(stderr, "rgn-lua: allocator=%s calls=%zu allocs=%zu reallocs=%zu"
		        " frees=%zu peak_region_bytes=%zu failed=%zu kept_shrinks=%zu"
		        " used_after_close=%zu\n",
		        alloc_names[h->kind], h->calls, h->allocs, h->reallocs,
		        h->frees, h->peak, h->failed, h->kept, st.used);
	}
	rgn_destroy(h->r);
	h->r = NULL;
}

/* ---- the state's hooks: panic and warnings ---------------------------------- */

static int on_panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);

	fprintf(stderr, "%s: PANIC: unprotected error in call to Lua API (%s)\n",
	        progname, msg != NULL ? msg : "error object is not a string");
	fflush(stderr);
	return 0;  /* Lua aborts */
}

/* Warnings are off until "@on"; a message may come in pieces (tocont),
 * and only a whole message starting with '@' is a control message. */
struct warnings {
	int on;
	int midline;
};

static void on_warning(void *ud, const char *msg, int tocont)
{
	struct warnings *w = ud;

	if (!w->midline && !tocont && msg[0] == '@') {
		if (strcmp(msg, "@on") == 0)
			w->on = 1;
		else if (strcmp(msg, "@off") == 0)
			w->on = 0;
		return;
	}
	if (w->on) {
		if (!w->midline)
			fputs("Lua warning: ", stderr);
		fputs(msg, stderr);
		if (!tocont)
			fputs("\n", stderr);
		fflush(stderr);
	}
	w->midline = tocont;
}

/* ---- running chunks ---------------------------------------------------------- */

/* Print msg to stderr, after "NAME: " when there is a name. */
static void message(const char *name, const char *msg)
{
	if (name != NULL)
		fprintf(stderr, "%s: ", name);
	fprintf(stderr, "%s\n", msg);
	fflush(stderr);
}

/* Report the error on top of the stack, if status says there is one. */
static int report(lua_State *L, int status)
{
	if (status != LUA_OK) {
		message(progname, lua_tostring(L, -1));
		lua_pop(L, 1);
	}
	return status;
}

/* The message handler: the error as a string, with a traceback. */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;  /* the object's own string, without a traceback */
		msg = lua_pushfstring(L, "(error object is a %s value)",
		                      luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Ctrl-C: the running Lua code stops at its next call, return or count
 * hook with an error (the handler itself only sets the hook). */
static lua_State *running;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted!");
}

static void on_sigint(int sig)
{
	signal(sig, SIG_DFL);  /* a second Ctrl-C kills the process */
	lua_sethook(running, stop_hook,
	            LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Call the function under narg arguments on the stack, with the traceback
 * handler below it and Ctrl-C caught. */
static int call(lua_State *L, int narg, int nres)
{
	int base = lua_gettop(L) - narg;
	int status;

	lua_pushcfunction(L, traceback);
	lua_insert(L, base);
	running = L;
	signal(SIGINT, on_sigint);
	status = lua_pcall(L, narg, nres, base);
	signal(SIGINT, SIG_DFL);
	lua_remove(L, base);
	return status;
}

static int run_chunk(lua_State *L, int status)
{
	if (status == LUA_OK)
		status = call(L, 0, 0);
	return report(L, status);
}

static int run_file(lua_State *L, const char *name)
{
	return run_chunk(L, luaL_loadfile(L, name));
}

static int run_string(lua_State *L, const char *s, const char *name)
{
	return run_chunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod or -l g=mod: g = require(mod). */
static int run_require(lua_State *L, const char *spec)
{
	const char *eq = strchr(spec, '=');
	const char *mod = eq != NULL ? eq + 1 : spec;
	int status;

	lua_getglobal(L, "require");
	lua_pushstring(L, mod);
	status = call(L, 1, 1);
	if (status == LUA_OK) {
		if (eq != NULL)
			lua_pushlstring(L, spec, (size_t)(eq - spec));
		else
			lua_pushstring(L, spec);
		lua_insert(L, -2);
		lua_setglobal(L, lua_tostring(L, -2));
		lua_pop(L, 1);
	}
	return report(L, status);
}

/* The script at argv[0] (standard input for "-", unless the option before
 * it was "--"), called with the positive entries of `arg`. */
static int run_script(lua_State *L, char **argv)
{
	const char *name = argv[0];
	int status, n, i;

	if (strcmp(name, "-") == 0 && strcmp(argv[-1], "--") != 0)
		name = NULL;
	status = luaL_loadfile(L, name);
	if (status == LUA_OK) {
		if (lua_getglobal(L, "arg") != LUA_TTABLE)
			luaL_error(L, "'arg' is not a table");
		n = (int)luaL_len(L, -1);
		luaL_checkstack(L, n + 3, "too many arguments to script");
		for (i = 1; i <= n; i++)
			lua_rawgeti(L, -i, i);
		lua_remove(L, -i);
		status = call(L, n, LUA_MULTRET);
	}
	return report(L, status);
}

/* ---- the interactive loop ----------------------------------------------------
 * A line is first tried as an expression ("return LINE"), then as
 * statements; a chunk that ends too early reads another line. */

static int read_line(lua_State *L, int first)
{
	const char *prompt;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
	prompt = lua_tostring(L, -1);
	fputs(prompt != NULL ? prompt : first ? "> " : ">> ", stdout);
	fflush(stdout);
	lua_pop(L, 1);
	n = getline(&buf, &cap, stdin);
	if (n < 0) {
		free(buf);
		return 0;
	}
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (first && buf[0] == '=')  /* 5.2's "=expr" */
		lua_pushfstring(L, "return %s", buf + 1);
	else
		lua_pushlstring(L, buf, (size_t)n);
	free(buf);
	return 1;
}

static int incomplete(lua_State *L, int status)
{
	size_t len;
	const char *msg;

	if (status != LUA_ERRSYNTAX)
		return 0;
	msg = lua_tolstring(L, -1, &len);
	return len >= 5 && strcmp(msg + len - 5, "<eof>") == 0;
}

/* Leave a compiled chunk of one or more lines on the stack, or an error;
 * -1 at the end of input. */
static int read_chunk(lua_State *L)
{
	const char *line;
	int status;

	lua_settop(L, 0);
	if (!read_line(L, 1))
		return -1;
	line = lua_tostring(L, 1);
	lua_pushfstring(L, "return %s;", line);
	status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), "=stdin");
	if (status == LUA_OK) {
		lua_remove(L, -2);
		lua_remove(L, 1);
		return LUA_OK;
	}
	lua_pop(L, 2);
	for (;;) {  /* stack: the lines so far */
		size_t len;
		const char *src = lua_tolstring(L, 1, &len);

		status = luaL_loadbuffer(L, src, len, "=stdin");
		if (!incomplete(L, status) || !read_line(L, 0))
			break;
		lua_remove(L, -2);  /* the error */
		lua_pushliteral(L, "\n");
		lua_insert(L, -2);
		lua_concat(L, 3);
	}
	lua_remove(L, 1);
	return status;
}

static void repl(lua_State *L)
{
	const char *saved = progname;
	int status;

	progname = NULL;  /* messages without a prefix */
	while ((status = read_chunk(L)) != -1) {
		if (status == LUA_OK)
			status = call(L, 0, LUA_MULTRET);
		if (status == LUA_OK && lua_gettop(L) > 0) {
			int n = lua_gettop(L);

			luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
			lua_getglobal(L, "print");
			lua_insert(L, 1);
			if (lua_pcall(L, n, 0, 0) != LUA_OK)
				message(progname, lua_pushfstring(L, "error calling 'print' (%s)",
				                                  lua_tostring(L, -1)));
		} else {
			report(L, status);
		}
	}
	lua_settop(L, 0);
	fputs("\n", stdout);
	fflush(stdout);
	progname = saved;
}

/* ---- the command line -------------------------------------------------------- */

enum {
	OPT_BAD = 1, OPT_I = 2, OPT_V = 4, OPT_E = 8, OPT_NOENV = 16, OPT_W = 32
};

/* Scan the options: *script is set to the index of the script (argc if
 * none), or of the bad option with OPT_BAD. */
static int scan_options(char **argv, int *script)
{
	int seen = 0;
	int i;

	for (i = 1; argv[i] != NULL; i++) {
		const char *a = argv[i];

		*script = i;
		if (a[0] != '-')
			return seen;  /* the script */
		switch (a[1]) {
		case '\0':  /* "-": the script is standard input */
			return seen;
		case '-':
			if (a[2] != '\0')
				return OPT_BAD;
			*script = i + 1;
			return seen;
		case 'E':
		case 'W':
		case 'v':
		case 'i':
			if (a[2] != '\0')
				return OPT_BAD;
			seen |= a[1] == 'E' ? OPT_NOENV : a[1] == 'W' ? OPT_W
			      : a[1] == 'v' ? OPT_V : OPT_I | OPT_V;
			break;
		case 'e':
		case 'l':
			if (a[1] == 'e')
				seen |= OPT_E;
			if (a[2] == '\0') {  /* the argument is the next word */
				i++;
				if (argv[i] == NULL || argv[i][0] == '-')
					return OPT_BAD;
			}
			break;
		default:
			return OPT_BAD;
		}
	}
	*script = i;
	return seen;
}

static void usage(const char *bad)
{
	fprintf(stderr, "%s: ", progname);
	if (bad[1] == 'e' || bad[1] == 'l')
		fprintf(stderr, "'%s' needs argument\n", bad);
	else
		fprintf(stderr, "unrecognized option '%s'\n", bad);
	fprintf(stderr,
	        "usage: %s [options] [script [args]]\n"
	        "Available options are:\n"
	        "  -e stat   run the Lua statement 'stat'\n"
	        "  -i        go interactive once 'script' has run\n"
	        "  -l mod    load module 'mod' into the global 'mod'\n"
	        "  -l g=mod  load module 'mod' into the global 'g'\n"
	        "  -v        print the version\n"
	        "  -E        ignore the LUA_* environment variables\n"
	        "  -W        turn warnings on\n"
	        "  --        end of options\n"
	        "  -         end of options; the script is standard input\n",
	        progname);
	fflush(stderr);
}

/* arg[i - script] = argv[i]: the script at 0 (or the interpreter, with
 * no script), its arguments above, the interpreter and options below. */
static void make_arg(lua_State *L, char **argv, int argc, int script)
{
	int i;

	if (script == argc)
		script = 0;
	lua_createtable(L, argc - script - 1, script + 1);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - script);
	}
	lua_setglobal(L, "arg");
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs a file, anything else is code. */
static int run_init(lua_State *L)
{
	const char *name = "=LUA_INIT_5_4";
	const char *init = getenv(name + 1);

	if (init == NULL) {
		name = "=LUA_INIT";
		init = getenv(name + 1);
	}
	if (init == NULL)
		return LUA_OK;
	if (init[0] == '@')
		return run_file(L, init + 1);
	return run_string(L, init, name);
}

/* -e, -l and -W in order; 0 when one failed. */
static int run_options(lua_State *L, char **argv, int script)
{
	int i;

	for (i = 1; i < script; i++) {
		char opt = argv[i][1];
		const char *val;

		switch (opt) {
		case 'e':
		case 'l':
			val = argv[i][2] != '\0' ? argv[i] + 2 : argv[++i];
			if ((opt == 'e' ? run_string(L, val, "=(command line)")
			                : run_require(L, val)) != LUA_OK)
				return 0;
			break;
		case 'W':
			lua_warning(L, "@on", 0);
			break;
		}
	}
	return 1;
}

/* Everything but creating and closing the state, in protected mode:
 * argc and argv are its arguments; it returns true when all went well. */
static int protected_main(lua_State *L)
{
	int argc = (int)lua_tointeger(L, 1);
	char **argv = lua_touserdata(L, 2);
	int script;
	int opts = scan_options(argv, &script);

	luaL_checkversion(L);
	if (opts == OPT_BAD) {
		usage(argv[script]);
		return 0;
	}
	if (opts & OPT_V) {
		fputs(LUA_COPYRIGHT "\n", stdout);
		fflush(stdout);
	}
	if (opts & OPT_NOENV) {
		lua_pushboolean(L, 1);
		lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
	}
	luaL_openlibs(L);
	make_arg(L, argv, argc, script);
	lua_gc(L, LUA_GCRESTART);
	lua_gc(L, LUA_GCGEN, 0, 0);  /* as the standalone interpreter does */
	if (!(opts & OPT_NOENV) && run_init(L) != LUA_OK)
		return 0;
	if (!run_options(L, argv, script))
		return 0;
	if (script < argc && run_script(L, argv + script) != LUA_OK)
		return 0;
	if (opts & OPT_I) {
		repl(L);
	} else if (script == argc && !(opts & (OPT_E | OPT_V))) {
		if (isatty(STDIN_FILENO)) {
			fputs(LUA_COPYRIGHT "\n", stdout);
			repl(L);
		} else if (run_file(L, NULL) != LUA_OK) {
			return 0;
		}
	}
	lua_pushboolean(L, 1);
	return 1;
}

int main(int argc, char **argv)
{
	struct heap heap;
	struct warnings warn = { 0, 0 };
	lua_State *L;
	int status, ok;

	if (argv[0] != NULL && argv[0][0] != '\0')
		progname = argv[0];
	if (heap_open(&heap) != 0)
		return EXIT_FAILURE;
	L = lua_newstate(heap_alloc, &heap);
	if (L == NULL) {
		message(progname, "cannot create state: not enough memory");
		heap_close(&heap);
		return EXIT_FAILURE;
	}
	lua_atpanic(L, on_panic);
	lua_setwarnf(L, on_warning, &warn);
	lua_gc(L, LUA_GCSTOP);  /* no collection while the libraries load */
	lua_pushcfunction(L, protected_main);
	lua_pushinteger(L, argc);
	lua_pushlightuserdata(L, argv);
	status = lua_pcall(L, 2, 1, 0);
	ok = lua_toboolean(L, -1);
	report(L, status);
	lua_close(L);
	heap_close(&heap);
	return ok && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
