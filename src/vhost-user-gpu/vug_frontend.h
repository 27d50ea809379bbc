/*
 * The vhost-user-gpu display channel: the socket QEMU hands over with
 * VHOST_USER_GPU_SET_SOCKET, on which the backend announces scanouts and
 * sends frame updates and cursor changes (QEMU docs/interop/vhost-user-gpu.rst).
 *
 * Writes are queued and sent without blocking: QEMU may be busy waiting for
 * a vhost-user reply from us, so a blocking write could deadlock. When the
 * queue grows past its limit, frame updates are dropped and the owner is
 * told (pv_vug_congested) to resend whole frames once it drains.
 */
#ifndef PV_VHOST_USER_GPU_VUG_FRONTEND_H
#define PV_VHOST_USER_GPU_VUG_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
   VHOST_USER_GPU_GET_PROTOCOL_FEATURES = 1,
   VHOST_USER_GPU_SET_PROTOCOL_FEATURES = 2,
   VHOST_USER_GPU_GET_DISPLAY_INFO = 3,
   VHOST_USER_GPU_CURSOR_POS = 4,
   VHOST_USER_GPU_CURSOR_POS_HIDE = 5,
   VHOST_USER_GPU_CURSOR_UPDATE = 6,
   VHOST_USER_GPU_SCANOUT = 7,
   VHOST_USER_GPU_UPDATE = 8,
};

struct pv_vug {
   int sock; /* -1: no display connected */
   uint8_t *out;
   size_t out_len, out_cap, out_limit;
   uint8_t in[2048];
   size_t in_len;
   bool congested; /* updates were dropped */
};

void pv_vug_init(struct pv_vug *g);
/* Takes a new socket (closing any old one) and starts the handshake. */
void pv_vug_connect(struct pv_vug *g, int sock);
void pv_vug_disconnect(struct pv_vug *g);

void pv_vug_scanout(struct pv_vug *g, uint32_t id, uint32_t w, uint32_t h);
void pv_vug_update(struct pv_vug *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                   const uint32_t *pixels);
void pv_vug_cursor(struct pv_vug *g, uint32_t id, uint32_t x, uint32_t y, bool visible,
                   const uint32_t *image, uint32_t hot_x, uint32_t hot_y);

/* True while queued bytes wait for the socket to accept them. */
bool pv_vug_want_write(const struct pv_vug *g);
/* Socket writable / readable. Return 0, or -errno when the display went
 * away (the channel is then disconnected). */
int pv_vug_on_writable(struct pv_vug *g);
int pv_vug_on_readable(struct pv_vug *g);

void pv_vug_fini(struct pv_vug *g);

#endif
