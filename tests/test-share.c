/*
 * test-share.c - images shared between processes through a sealed memfd:
 * written and sealed by one process, opened and walked by a forked child
 * (rgn_image_ptr and, entered, RGN_AT), by another program that receives
 * the descriptor over a Unix socket, and mapped by each as the same
 * pages (PSS split between them).  Sealed means no process can change
 * it: writing through the mapping faults, write and ftruncate fail.
 * Sealing refuses what is not a whole image, and files that take no
 * seals, leaving them unsealed.  Skipped where there is no memfd.
 */
#define _GNU_SOURCE
#include "suites.h"
#include "share-image.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define ALL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* A new memfd for an image, or -1 (after saying so) where the system has
 * none: the test is then skipped. */
static int share_memfd(const char *test)
{
	int fd = rgn_image_memfd(test);

	if (fd < 0 && (errno == ENOTSUP || errno == ENOSYS)) {
		printf("%s: skipped: no memfd here (%s)\n", test, strerror(errno));
		return -1;
	}
	ck_assert_msg(fd >= 0, "rgn_image_memfd: %s", strerror(errno));
	return fd;
}

/* Build the list of share-image.h with n items in a new contiguous
 * region and write its image into fd; returns the walk's checksum (taken
 * on the region itself) and the image's size in *size. */
/* The list's layouts, for the tracing copy of a block region: a root
 * and items with references at fixed offsets, names that are C strings
 * (their size from strlen: what a table cannot say). */
static size_t cstr_size(const void *obj)
{
	return strlen(obj) + 1;
}

static const rgn_layout name_l = { .size = 1, .size_of = cstr_size };
static const uint32_t item_refs[] = { offsetof(struct share_item, next),
	                              offsetof(struct share_item, name) };
static const rgn_layout item_l;
static const rgn_layout *const item_to[] = { &item_l, &name_l };
static const rgn_layout item_l = { .size = sizeof(struct share_item), .nrefs = 2,
	                           .refs = item_refs, .to = item_to };
static const uint32_t root_refs[] = { offsetof(struct share_root, head) };
static const rgn_layout *const root_to[] = { &item_l };
static const rgn_layout root_l = { .size = sizeof(struct share_root), .nrefs = 1,
	                           .refs = root_refs, .to = root_to };

/* Write the list of n items into fd as an image: a contiguous region
 * written as it is, or a region of another backend through the tracing
 * copy.  The walk's checksum; *size: the file's. */
static uint64_t write_list_in(int fd, uint32_t n, size_t *size, rgn_backend b)
{
	rgn_options o = { .backend = b, .reserve = b == RGN_BACKEND_CONTIG ? 64 * MiB : 0 };
	rgn_region *r = rgn_new_with(NULL, &o);
	struct share_root *root;
	rgn_ref *link;
	uint32_t count;
	uint64_t h;

	ck_assert_ptr_nonnull(r);
	root = rgn_calloc(r, 1, sizeof *root);
	ck_assert_ptr_nonnull(root);
	root->magic = SHARE_MAGIC;
	root->count = n;
	link = &root->head;
	for (uint32_t i = 0; i < n; i++) {
		struct share_item *it = rgn_calloc(r, 1, sizeof *it);

		ck_assert_ptr_nonnull(it);
		it->value = i * 7 + 3;
		it->name = rgn_ref_in(r, rgn_format(r, "item-%u", i));
		*link = rgn_ref_in(r, it);
		link = &it->next;
	}
	h = share_walk(rgn_ptr_in(r, 0), rgn_ref_in(r, root), &count);
	ck_assert_uint_eq(count, n);
	ck_assert_uint_ne(h, 0);
	if (b == RGN_BACKEND_CONTIG)
		ck_assert_int_eq(rgn_image_write(r, fd, rgn_ref_in(r, root)), 0);
	else
		ck_assert_int_eq(rgn_image_write_graph(r, fd, rgn_ref_in(r, root), &root_l, NULL), 0);
	rgn_destroy(r);
	*size = (size_t)lseek(fd, 0, SEEK_END);
	return h;
}

static uint64_t write_list(int fd, uint32_t n, size_t *size)
{
	return write_list_in(fd, n, size, RGN_BACKEND_CONTIG);
}

/* Run fn in a forked child; returns its wait status. */
static int in_child(int (*fn)(int fd, uint64_t want), int fd, uint64_t want)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(fd, want));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

#define exited_ok(st) (WIFEXITED(st) && WEXITSTATUS(st) == 0)

/* The child's side: open the image it did not write, walk it both ways.
 * Exit code 0 when all matched, else the number of the failed step. */
static int child_walks(int fd, uint64_t want)
{
	rgn_image *img;
	rgn_ref root;
	uint32_t n;

	img = rgn_image_open(fd, &root);
	if (!img)
		return 1;
	if (share_walk(rgn_image_ptr(img, 0), root, &n) != want)
		return 2;
#ifndef RGN_DECODE_ZERO
	if (rgn_image_enter(img) != 0)
		return 3;
	if (share_walk_at(root, &n) != want)
		return 4;
	if (rgn_enter(NULL) != 0)
		return 5;
#endif
	rgn_image_close(img);
	return 0;
}

START_TEST(test_share_fork_child)
{
	size_t size;
	uint64_t want;
	int fd, st;

	tst_init(16 * MiB, 0);
	if ((fd = share_memfd("test_share_fork_child")) < 0)
		return;
	want = write_list(fd, 5000, &size);
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), ALL_SEALS);
	st = in_child(child_walks, fd, want);
	ck_assert_msg(exited_ok(st), "child: status %#x", st);
	/* the writer opens its own image too, read-only, after sealing */
	ck_assert_int_eq(child_walks(fd, want), 0);
	close(fd);
}
END_TEST

/* Rss and Pss (bytes) of this process's mappings inside [lo, hi), from
 * /proc/self/smaps, and how many mappings that is. */
static void smaps_range(const char *lo, const char *hi, size_t *rss, size_t *pss,
                        int *vmas)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0;

	ck_assert_ptr_nonnull(f);
	*rss = *pss = 0;
	*vmas = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		size_t kb;

		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (const char *)a >= lo && (const char *)b <= hi;
			*vmas += in;
		} else if (in && sscanf(line, "Rss: %zu kB", &kb) == 1) {
			*rss += kb * KiB;
		} else if (in && sscanf(line, "Pss: %zu kB", &kb) == 1) {
			*pss += kb * KiB;
		}
	}
	fclose(f);
}

/* Touch every page of the image's body; returns a sum so the reads stay. */
static unsigned touch_image(const rgn_image *img)
{
	const volatile char *p = rgn_image_ptr(img, 0);
	unsigned sum = 0;

	for (size_t off = 4096; off < rgn_image_size(img); off += 4096)
		sum += (unsigned char)p[off];
	return sum;
}

/* A sealed image is mapped, not copied: the pages this process and a
 * child map are the same, so each one's proportional share is half. */
START_TEST(test_share_pages_shared)
{
	int ready[2], done[2], fd, st, vmas;
	size_t size, rss, pss, body;
	uint64_t want;
	rgn_image *img;
	rgn_ref root;
	pid_t pid;
	char c = 0;

	tst_init(16 * MiB, 0);
	if (tst_vg()) {
		printf("test_share_pages_shared: skipped: valgrind maps files its own way\n");
		return;
	}
#ifdef TST_EMULATED
	printf("test_share_pages_shared: skipped: user-mode emulation shows the "
	       "host's mappings in /proc/self/smaps\n");
	return;
#endif
	if ((fd = share_memfd("test_share_pages_shared")) < 0)
		return;
	want = write_list(fd, 20000, &size);
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(done), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* open and fault in every page, then hold the mapping until
		 * the parent has measured */
		rgn_image *cimg = rgn_image_open(fd, &root);

		if (!cimg || share_walk(rgn_image_ptr(cimg, 0), root, &(uint32_t){ 0 }) != want)
			_exit(1);
		(void)touch_image(cimg);
		if (write(ready[1], "r", 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	img = rgn_image_open(fd, &root);
	ck_assert_ptr_nonnull(img);
	(void)touch_image(img);
	/* the mapping's pages: the last one whole */
	body = (rgn_image_size(img) + 4095) / 4096 * 4096 - 4096;
	smaps_range((const char *)rgn_image_ptr(img, 0) + 4096,
	            (const char *)rgn_image_ptr(img, 0) + 4096 + body, &rss, &pss, &vmas);
	ck_assert_int_eq(write(done[1], "d", 1), 1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(exited_ok(st), "child: status %#x", st);
	/* one mapping for the body (the header page is the other, apart) */
	ck_assert_int_eq(vmas, 1);
	ck_assert_uint_eq(rss, body);
	ck_assert_msg(pss * 2 == rss, "rss %zu pss %zu: pages not shared", rss, pss);
	ck_assert_uint_eq(size, rgn_image_size(img));
	rgn_image_close(img);
	close(fd);
	close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}
END_TEST

/* Send fd over the Unix socket sock with one byte of data. */
static void send_fd(int sock, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 'i';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&ctl, 0, sizeof ctl);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ck_assert_int_eq(sendmsg(sock, &msg, 0), 1);
}

/* An image written by this program opens in another one, built apart
 * (tests/share-reader.c, linked to the shared library), which receives
 * the descriptor over a socket: the memfd itself is close-on-exec. */
static void other_binary(rgn_backend b)
{
	const char *reader = getenv("RGN_SHARE_READER");
	char out[256], want_line[256], arg[16];
	int sv[2], pipefd[2], fd, st;
	size_t size, got = 0;
	uint64_t want;
	ssize_t k;
	pid_t pid;

	if (!reader || !*reader) {
		printf("test_share_other_binary: skipped: RGN_SHARE_READER names no "
		       "reader program (meson test sets it)\n");
		return;
	}
	if ((fd = share_memfd("test_share_other_binary")) < 0)
		return;
	want = write_list_in(fd, 3000, &size, b);
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	snprintf(arg, sizeof arg, "%d", sv[1]);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* the reader keeps its end of the socket and our pipe as
		 * stdout; the memfd stays behind (close-on-exec) */
		if (dup2(pipefd[1], 1) < 0 || fcntl(sv[1], F_SETFD, 0) != 0)
			_exit(126);
		execl(reader, reader, arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	close(pipefd[1]);
	send_fd(sv[0], fd);
	close(fd); /* the reader holds the only other descriptor now */
	while ((k = read(pipefd[0], out + got, sizeof out - 1 - got)) > 0)
		got += (size_t)k;
	out[got] = 0;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(exited_ok(st), "%s: status %#x, said \"%s\"", reader, st, out);
	snprintf(want_line, sizeof want_line, "count=%u sum=%016llx seals=%x\n",
	         3000u, (unsigned long long)want, ALL_SEALS);
	ck_assert_str_eq(out, want_line);
	close(sv[0]);
	close(pipefd[0]);
}

START_TEST(test_share_other_binary)
{
	tst_init(16 * MiB, 0);
	other_binary(RGN_BACKEND_CONTIG);
	/* a block region's, and a heap region's, through the tracing copy */
	other_binary(RGN_BACKEND_BLOCKS);
	other_binary(RGN_BACKEND_HEAP);
}
END_TEST

/* The child's side: write through the read-only view; reaching the end
 * is the failure. */
static int child_writes(int fd, uint64_t want)
{
	rgn_image *img;
	rgn_ref root;

	(void)want;
	/* sanitizers catch the signal themselves; let it kill the child */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	img = rgn_image_open(fd, &root);
	if (!img)
		return 1;
	/* (memcheck finds the byte addressable: only the kernel refuses) */
	*(volatile char *)(uintptr_t)rgn_image_ptr(img, root) = 1;
	return 2;
}

/* Sealed, the image cannot change: not through a mapping, nor write,
 * nor ftruncate, nor a writable mapping made after the seal. */
START_TEST(test_share_sealed_readonly)
{
	size_t size;
	uint64_t want;
	void *p;
	int fd, st;

	tst_init(16 * MiB, 0);
	if ((fd = share_memfd("test_share_sealed_readonly")) < 0)
		return;
	want = write_list(fd, 100, &size);
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	st = in_child(child_writes, fd, want);
	ck_assert_msg(WIFSIGNALED(st) && (WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS),
	              "a write through the image did not fault: status %#x", st);
	tst_fails_with(write(fd, "x", 1), EPERM);
	tst_fails_with(pwrite(fd, "x", 1, 4096), EPERM);
	tst_fails_with(ftruncate(fd, 0), EPERM);
	tst_fails_with(ftruncate(fd, (off_t)size * 2), EPERM);
	tst_fails_with(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), EPERM);
	errno = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_msg(p == MAP_FAILED && errno == EPERM, "writable mapping: %p %s",
	              p, strerror(errno));
	/* sealing again is no error, and the image still walks */
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	ck_assert_int_eq(child_walks(fd, want), 0);
	close(fd);
}
END_TEST

START_TEST(test_share_seal_errors)
{
	static const char text[] = "#!/bin/sh\necho this is not an image\n";
	size_t size;
	char byte;
	void *p;
	int fd, pfd[2];

	tst_init(16 * MiB, 0);
	if ((fd = share_memfd("test_share_seal_errors")) < 0)
		return;
	/* empty, then not an image */
	tst_fails_with(rgn_image_seal(fd), ENOEXEC);
	ck_assert_int_eq(write(fd, text, sizeof text), (ssize_t)sizeof text);
	tst_fails_with(rgn_image_seal(fd), ENOEXEC);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0); /* refused: left unsealed */
	close(fd);

	/* truncated: the tail cut, or the header itself */
	fd = share_memfd("test_share_seal_errors");
	(void)write_list(fd, 100, &size);
	ck_assert_int_eq(ftruncate(fd, (off_t)size - 8), 0);
	tst_fails_with(rgn_image_seal(fd), ENODATA);
	ck_assert_int_eq(ftruncate(fd, 20), 0);
	tst_fails_with(rgn_image_seal(fd), ENODATA);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0);
	close(fd);

	/* damaged: a byte of the body changed */
	fd = share_memfd("test_share_seal_errors");
	(void)write_list(fd, 100, &size);
	ck_assert_int_eq(pread(fd, &byte, 1, (off_t)size - 20), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)size - 20), 1);
	tst_fails_with(rgn_image_seal(fd), EBADMSG);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)size - 20), 1);

	/* a writable shared mapping could still change it: refused with
	 * EBUSY and left unsealed until the mapping is gone */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	tst_fails_with(rgn_image_seal(fd), EBUSY);
	ck_assert_int_eq(fcntl(fd, F_GET_SEALS), 0);
	ck_assert_int_eq(munmap(p, size), 0);
	ck_assert_int_eq(rgn_image_seal(fd), 0);
	close(fd);

	/* no file, a closed one, a file that takes no seals */
	tst_fails_with(rgn_image_seal(-1), EINVAL);
	tst_fails_with(rgn_image_seal(fd), EBADF);
	ck_assert_int_eq(pipe(pfd), 0);
	tst_fails_with(rgn_image_seal(pfd[0]), EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	/* a memfd whose sealing was closed at birth */
	fd = memfd_create("rgn-unsealable", MFD_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	(void)write_list(fd, 10, &size);
	tst_fails_with(rgn_image_seal(fd), EPERM);
	close(fd);
}
END_TEST

Suite *suite_share(void)
{
	Suite *s = suite_create("share");
	TCase *tc = tcase_create("share");

	tcase_add_test(tc, test_share_fork_child);
	tcase_add_test(tc, test_share_pages_shared);
	tcase_add_test(tc, test_share_other_binary);
	tcase_add_test(tc, test_share_sealed_readonly);
	tcase_add_test(tc, test_share_seal_errors);
	suite_add_tcase(s, tc);
	return s;
}
