/*
 * share-reader.c - the other program of the sharing tests: receives an
 * image's descriptor over a Unix socket (SCM_RIGHTS), opens it with
 * rgn_image_open, walks it, and prints what it found.  Linked to the
 * shared library: public API only.
 *
 *   share-reader SOCKFD
 *
 * Prints one line, "count=N sum=HEX seals=HEX", where the seals are
 * those of the received file, and exits 0; on any failure, a message on
 * stderr and exit 1.  test-share.c compares the line with the checksum
 * of the image it wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "share-image.h"

static int fail(const char *what)
{
	fprintf(stderr, "share-reader: %s: %s\n", what, strerror(errno));
	return 1;
}

/* One descriptor from the socket, or -1. */
static int receive_fd(int sock)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
	                      .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

int main(int argc, char **argv)
{
	rgn_image *img;
	rgn_ref root;
	uint32_t n1, n2;
	uint64_t h1, h2;
	int fd, seals;

	if (argc != 2) {
		fprintf(stderr, "usage: share-reader SOCKFD\n");
		return 2;
	}
	fd = receive_fd(atoi(argv[1]));
	if (fd < 0)
		return fail("receive");
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return fail("F_GET_SEALS");
	img = rgn_image_open(fd, &root);
	if (!img)
		return fail("rgn_image_open");
	close(fd); /* the mapping outlives the descriptor */
	h1 = share_walk(rgn_image_ptr(img, 0), root, &n1);
#ifdef RGN_DECODE_ZERO
	h2 = h1, n2 = n1; /* no base to move in this mode */
#else
	if (rgn_image_enter(img) != 0)
		return fail("rgn_image_enter");
	h2 = share_walk_at(root, &n2);
	if (rgn_enter(NULL) != 0)
		return fail("rgn_enter");
#endif
	if (h1 == 0 || h1 != h2 || n1 != n2) {
		fprintf(stderr, "share-reader: the walks differ: %u %016llx, %u %016llx\n",
		        n1, (unsigned long long)h1, n2, (unsigned long long)h2);
		return 1;
	}
	printf("count=%u sum=%016llx seals=%x\n", n1, (unsigned long long)h1, seals);
	rgn_image_close(img);
	return 0;
}
