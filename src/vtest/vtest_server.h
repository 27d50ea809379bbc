/*
 * pv-vtest's listener: accepts clients on a UNIX socket and serves each in
 * its own process (the default: a host driver crash or a compromised
 * renderer then takes down one client only) or on its own thread, until
 * asked to stop.
 */
#ifndef PV_VTEST_SERVER_H
#define PV_VTEST_SERVER_H

#include <stdint.h>

#include "vtest/vtest_client.h"

struct vtest_server_config {
   const char *socket_path;          /* NULL: VTEST_DEFAULT_SOCKET */
   uint32_t max_clients;             /* connected at once; 0: 64 */
   struct vtest_client_config client;
   /* NULL: serve each client on a thread of this process. Otherwise run
    * each client in a fresh process of this program, given the client's
    * socket as fd 3 and the arguments "--client-fd 3 --client-id N
    * --client-wire-format W" (W: client.wire_format); its
    * environment and stderr are ours. The program must then serve that one
    * client with vtest_client_serve and exit 0 (non-zero means it failed);
    * of `client` above only wire_format reaches it. */
   const char *client_exe;
};

struct vtest_server;

/* Binds and listens. A stale socket file is replaced; a live server on the
 * same path is an error (-EADDRINUSE). Returns 0 or -errno. */
int vtest_server_create(const struct vtest_server_config *cfg, struct vtest_server **out);

/* Serves until vtest_server_stop() is called or stop_fd (e.g. a signalfd;
 * -1 for none) becomes readable; then disconnects every client and waits
 * for their threads. Returns 0 or -errno. */
int vtest_server_run(struct vtest_server *srv, int stop_fd);

/* Makes vtest_server_run return; callable from any thread. */
void vtest_server_stop(struct vtest_server *srv);

/* Number of clients being served now. */
uint32_t vtest_server_client_count(struct vtest_server *srv);

/* Client processes that crashed or exited non-zero so far (logged each). */
uint32_t vtest_server_failed_clients(struct vtest_server *srv);

/* Closes the listener and removes the socket file. */
void vtest_server_destroy(struct vtest_server *srv);

#endif
