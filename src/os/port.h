/*
 * port.h - what the core needs to know of the OS beyond os.h, decided in
 * this one place so that no other file tests _WIN32.
 *
 * Threads are POSIX threads everywhere: on Windows, mingw-w64's
 * winpthreads (the compiler's posix thread flavour) supplies mutexes,
 * condition variables, once and thread keys, with the destructors run at
 * thread exit.  What has no Windows meaning is switched off by name:
 *
 *   RGN_HAVE_FORK   fork() exists, so lock.c registers the handlers that
 *                   take every lock across it (pthread_atfork).  Windows
 *                   has no fork: a new process starts with no copy of
 *                   this one's memory, so there is nothing to protect.
 *   RGN_HAVE_SIGNALS  POSIX signals: a thread the library starts blocks
 *                   them all, so that the caller's handlers run on the
 *                   caller's threads.  Windows has none to block.
 *   RGN_HAVE_MEMFD  images can be shared through a sealed memfd
 *                   (rgn_image_memfd, rgn_image_seal; rgn.h declares them
 *                   only where this is 1).
 *   RGN_TLS_KEYS_FIRST  thread keys whose destructors read thread-local
 *                   variables must be created before the process's first
 *                   thread-local access (rgn_tls_keys_first marks the
 *                   function that does, run before main).  mingw-w64's
 *                   emulated TLS keeps each thread's variables under a
 *                   thread key of its own, created at the first access,
 *                   and winpthreads runs key destructors in the order the
 *                   keys were made: a key made after it would see its
 *                   thread's variables already freed.
 *
 * rgn_thread marks the library's thread-local variables.  ELF targets get
 * the initial-exec model (one %fs-relative access, no call; the library
 * is not meant to be dlopen'ed late by a program with no static TLS to
 * spare).  mingw-w64's gcc has no native TLS for the PE target: every
 * _Thread_local goes through __emutls_get_address, a call per access
 * (DESIGN.md gives its cost); hot paths read such a variable once.
 */
#ifndef RGN_PORT_H
#define RGN_PORT_H

#ifdef _WIN32
#define RGN_OS_WINDOWS 1
#define RGN_HAVE_FORK  0
#define RGN_HAVE_SIGNALS 0
#define RGN_HAVE_MEMFD 0
#define RGN_TLS_KEYS_FIRST 1
#define rgn_tls_keys_first __attribute__((constructor))
#define rgn_thread     _Thread_local
#else
#define RGN_OS_WINDOWS 0
#define RGN_HAVE_FORK  1
#define RGN_HAVE_SIGNALS 1
#define RGN_HAVE_MEMFD 1
#define RGN_TLS_KEYS_FIRST 0
#define rgn_tls_keys_first
#define rgn_thread     _Thread_local __attribute__((tls_model("initial-exec")))
#endif

#endif /* RGN_PORT_H */
