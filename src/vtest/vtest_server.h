/*
 * pv-vtest's listener: accepts clients on a UNIX socket and serves each in
 * its own process (the default: a host driver crash or a compromised
 * renderer then takes down one client only) or on its own thread, until
 * asked to stop.
 *
 * Client processes can be started ahead (prestart): each enters its
 * sandbox and loads the host driver before any client exists, then waits
 * for the socket of its one client, passed over a socketpair (SCM_RIGHTS).
 * A new guest then skips exec, dynamic linking and the driver's loading
 * (about half of a context's creation on NVIDIA); the price is the idle
 * pool's memory (docs/sandbox.md). A process still serves one client only
 * and never sees another. Unless no_premade, a waiting process also makes
 * the host instance and device from the latest guest's create infos (a
 * recipe its process reported, see pv_premade), for its guest to adopt.
 */
#ifndef PV_VTEST_SERVER_H
#define PV_VTEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vtest/vtest_client.h"

struct vtest_server_config {
   const char *socket_path; /* NULL: VTEST_DEFAULT_SOCKET */
   uint32_t max_clients;    /* connected at once; 0: 64 */
   /* Admission per peer, read with SO_PEERCRED at accept: a "peer" is the
    * process that connected (its pid), and separately its user (uid). A
    * connection past either limit is closed at once with a log line (the
    * vtest protocol has no way to say why). 0: 8 per pid; no uid limit
    * beyond max_clients. */
   uint32_t max_clients_per_pid;
   uint32_t max_clients_per_uid;
   /* Watchdog: once a client's connection has ended (the peer left, the
    * client was dropped, or the server stops), its process gets this long
    * to finish tearing down, then it is killed (SIGKILL) and its slot
    * freed. 0: 5000 ms. With client threads (client_exe NULL) nothing can
    * be killed: a server that stops gives up waiting for such a thread
    * after this time and vtest_server_run returns -ETIMEDOUT. */
   uint32_t teardown_timeout_ms;
   struct vtest_client_config client;
   /* NULL: serve each client on a thread of this process. Otherwise run
    * each client in a process of this program of its own, given one end of
    * a socketpair as fd 3 and the arguments "--client-pool-fd 3
    * --client-wire-format W" (W: client.wire_format); its environment and
    * stderr are ours. The program must enter its sandbox, may then prepare
    * (pv_host_driver_preload), must receive its one client with
    * vtest_server_receive_client, serve it with vtest_client_serve and exit
    * 0 (non-zero means it failed). Given no client (-ENODATA: the server
    * stops) it exits 0 at once. Of `client` above only wire_format reaches
    * it, the rest goes through client_args. */
   const char *client_exe;
   /* Client processes started ahead of their client (with client_exe),
    * each waiting for one: the accepted socket goes to the oldest, and the
    * pool is refilled right after. 0: none, each process is started at
    * accept (it then prepares after receiving its client). At most
    * VTEST_MAX_PRESTART. A process still serves exactly one client. */
   uint32_t prestart;
   /* The pool grows past `prestart` up to this many (at most
    * VTEST_MAX_PRESTART) while clients take its last process, i.e. arrive
    * faster than processes get ready; it shrinks back to `prestart` after
    * prestart_idle_ms (0: VTEST_POOL_SHRINK_MS) without a new client.
    * 0 or <= prestart: fixed. */
   uint32_t prestart_max;
   uint32_t prestart_idle_ms;
   /* Pre-started processes make no instance and device ahead. Otherwise
    * the recipe (pv_premade) of the latest guest whose device was created
    * is sent to each waiting process, which makes them from it; its guest
    * adopts them when its create infos are the same. */
   bool no_premade;
   /* More arguments for every client process (NULL-terminated; may be NULL). */
   const char *const *client_args;
   /* When >= 0: given to every client process as fd 4 (the shared memory
    * budget's area, client.budget). */
   int client_shared_fd;
   /* Each client charges client.budget as a slot of its own, numbered from
    * budget_slot_base (max_clients slots; several servers sharing one
    * budget need distinct ranges). The server takes back what a client
    * still held once it is gone (its process may have been killed). A client
    * process learns its slot with its client (vtest_server_receive_client). */
   uint32_t budget_slot_base;
};

#define VTEST_MAX_PRESTART 16
#define VTEST_POOL_SHRINK_MS 10000

struct vtest_server;

/* Binds and listens. A stale socket file is replaced; a live server on the
 * same path is an error (-EADDRINUSE). Returns 0 or -errno. */
int vtest_server_create(const struct vtest_server_config *cfg, struct vtest_server **out);

/* Serves until vtest_server_stop() is called or stop_fd (e.g. a signalfd;
 * -1 for none) becomes readable; then disconnects every client and waits
 * for them, each at most teardown_timeout_ms (client processes are then
 * killed; pre-started client processes that have no client are stopped
 * the same way). Returns 0, -ETIMEDOUT when a client thread did not finish (the
 * caller must then exit the process without vtest_server_destroy), or
 * -errno. */
int vtest_server_run(struct vtest_server *srv, int stop_fd);

/* Makes vtest_server_run return; callable from any thread. */
void vtest_server_stop(struct vtest_server *srv);

/* Number of clients being served now. */
uint32_t vtest_server_client_count(struct vtest_server *srv);

/* Client processes that crashed, exited non-zero or were killed by the
 * watchdog so far (logged each). */
uint32_t vtest_server_failed_clients(struct vtest_server *srv);

/* In a client process (see client_exe): waits on ctrl_fd for its one
 * client. Returns the client's socket (close-on-exec) and sets *client_id
 * and *budget_slot; -ENODATA when the server closed ctrl_fd without sending
 * one (it is stopping); -EPROTO for anything but the server's message;
 * -errno. */
int vtest_server_receive_client(int ctrl_fd, uint32_t *client_id, uint32_t *budget_slot);

/* The same, and every recipe (pv_premade) the server sends while the
 * process waits goes to on_recipe (may be NULL: ignored), its bytes valid
 * during the call. The server sends the latest recipe a guest's process
 * reported (vtest_server_send_recipe), once to each waiting process. */
typedef void (*vtest_recipe_fn)(void *data, const void *recipe, size_t size);
int vtest_server_receive_client_ex(int ctrl_fd, uint32_t *client_id, uint32_t *budget_slot,
                                   vtest_recipe_fn on_recipe, void *data);

/* In a client process, before receiving: true when the next message on
 * ctrl_fd is a recipe (without waiting or consuming it). */
bool vtest_server_recipe_pending(int ctrl_fd);

/* In a client process, before loading the driver: true when its client
 * has been sent already (the next message on ctrl_fd), without waiting or
 * consuming it. */
bool vtest_server_client_pending(int ctrl_fd);

/* In a client process, once serving: reports its guest's recipe
 * (pv_renderer_callbacks.device_recipe) on ctrl_fd, without blocking.
 * Returns 0 or -errno. */
int vtest_server_send_recipe(int ctrl_fd, const void *recipe, size_t size);

/* In a client process waiting for its client: tells the server it is
 * ready (host driver loaded, instance and device made from the latest
 * recipe), without blocking. The server grows its pool when clients take
 * processes that are not ready yet (vtest_server_config.prestart_max).
 * Returns 0 or -errno. */
int vtest_server_send_ready(int ctrl_fd);

/* In a client process that received its client: tells the server, without
 * blocking, that it is done with what it does before reading the guest
 * (the driver loaded and devices made ahead, unless the client was waiting
 * already) and serves the client now. Until then the server counts it as
 * a process start in progress, which lengthens every teardown deadline as
 * a teardown does (host drivers create and destroy devices one at a time),
 * and stops it (SIGTERM) if the client leaves. Returns 0 or -errno. */
int vtest_server_send_serving(int ctrl_fd);

/* Recipes received from client processes so far (tests). */
uint32_t vtest_server_recipes_received(struct vtest_server *srv);

/* Closes the listener and removes the socket file. */
void vtest_server_destroy(struct vtest_server *srv);

#endif
