/*
 * A vhost-user backend ("slave") connection: the vhost-user message
 * protocol over a UNIX socket, the guest memory table and the vrings.
 * Device specifics (features, config space, what a kick does, extra
 * messages) come from struct pv_vu_device_ops.
 *
 * Single-threaded: the owner polls pv_vu_fd() and the vrings' kick fds and
 * calls pv_vu_handle_msg / its own queue processing.
 */
#ifndef PV_VIRTIO_GPU_VHOST_USER_H
#define PV_VIRTIO_GPU_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "vring.h"

#define PV_VU_MAX_QUEUES 2

/* vhost-user requests used here (QEMU docs/interop/vhost-user.rst). */
enum {
   VHOST_USER_GET_FEATURES = 1,
   VHOST_USER_SET_FEATURES = 2,
   VHOST_USER_SET_OWNER = 3,
   VHOST_USER_RESET_OWNER = 4,
   VHOST_USER_SET_MEM_TABLE = 5,
   VHOST_USER_SET_VRING_NUM = 8,
   VHOST_USER_SET_VRING_ADDR = 9,
   VHOST_USER_SET_VRING_BASE = 10,
   VHOST_USER_GET_VRING_BASE = 11,
   VHOST_USER_SET_VRING_KICK = 12,
   VHOST_USER_SET_VRING_CALL = 13,
   VHOST_USER_SET_VRING_ERR = 14,
   VHOST_USER_GET_PROTOCOL_FEATURES = 15,
   VHOST_USER_SET_PROTOCOL_FEATURES = 16,
   VHOST_USER_GET_QUEUE_NUM = 17,
   VHOST_USER_SET_VRING_ENABLE = 18,
   VHOST_USER_GET_CONFIG = 24,
   VHOST_USER_SET_CONFIG = 25,
   VHOST_USER_GPU_SET_SOCKET = 33,
};

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_CONFIG 9

struct pv_vu;

struct pv_vu_device_ops {
   void *data;
   uint64_t (*features)(void *data);          /* device feature bits */
   /* Reads the config space into buf (size bytes from offset); 0 or -errno. */
   int (*get_config)(void *data, uint32_t offset, uint8_t *buf, uint32_t size);
   void (*set_config)(void *data, uint32_t offset, const uint8_t *buf, uint32_t size);
   /* A message this layer does not know; owns `fd` (may be -1). */
   void (*extra_msg)(void *data, uint32_t request, const uint8_t *payload, uint32_t size, int fd);
   /* Queue `idx` started (kick fd set) or stopped (GET_VRING_BASE). */
   void (*queue_started)(void *data, unsigned idx);
   void (*queue_stopped)(void *data, unsigned idx);
};

struct pv_vu {
   int sock;
   uint64_t features, protocol_features;
   struct pv_vmem mem;
   struct pv_vring vq[PV_VU_MAX_QUEUES];
   struct pv_vu_device_ops ops;
};

/* Takes ownership of a connected socket. */
void pv_vu_init(struct pv_vu *vu, int sock, const struct pv_vu_device_ops *ops);
/* Closes everything (socket, eventfds, memory). */
void pv_vu_fini(struct pv_vu *vu);

/* Reads and handles one message. Returns 0, or a negative errno when the
 * connection is gone or the frontend broke the protocol (then close it). */
int pv_vu_handle_msg(struct pv_vu *vu);

#endif
