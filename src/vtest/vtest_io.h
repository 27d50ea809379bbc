/*
 * Blocking socket helpers for the vtest server.
 */
#ifndef PV_VTEST_IO_H
#define PV_VTEST_IO_H

#include <stddef.h>

/* Reads exactly size bytes. Returns 0, -ECONNRESET when the peer closed the
 * connection before the first byte, -EPIPE when it closed mid-way, or -errno. */
int vtest_read_full(int sock, void *buf, size_t size);

/* Writes all bytes (no SIGPIPE). Returns 0 or -errno. */
int vtest_write_full(int sock, const void *buf, size_t size);

/* Sends one descriptor with SCM_RIGHTS on a single zero byte. Returns 0 or -errno. */
int vtest_send_fd(int sock, int fd);

#endif
