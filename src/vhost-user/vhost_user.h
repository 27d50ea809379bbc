/*
 * A vhost-user backend ("slave") connection: the vhost-user message
 * protocol over a UNIX socket, the guest memory table and the vrings.
 * Device specifics (features, config space, what a kick does, extra
 * messages) come from struct pv_vu_device_ops.
 *
 * Single-threaded: the owner polls pv_vu_fd() and the vrings' kick fds and
 * calls pv_vu_handle_msg / its own queue processing.
 */
#ifndef PV_VHOST_USER_H
#define PV_VHOST_USER_H

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
   VHOST_USER_SET_BACKEND_REQ_FD = 21,
   VHOST_USER_SET_CONFIG = 25,
   VHOST_USER_GPU_SET_SOCKET = 33,
};

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ 5
#define VHOST_USER_PROTOCOL_F_CONFIG 9
/* Backend-initiated mappings into a device shared-memory region, as in the
 * upstream vhost-user SHMEM_MAP/SHMEM_UNMAP proposal (the number agreed
 * with PearVisor's QEMU patch, vmm/qemu/). */
#define VHOST_USER_PROTOCOL_F_SHMEM 20

/* Backend -> frontend requests on the backend channel. */
enum {
   VHOST_USER_BACKEND_SHMEM_MAP = 9,
   VHOST_USER_BACKEND_SHMEM_UNMAP = 10,
};

#define VHOST_USER_NEED_REPLY 0x8u

/* Payload of SHMEM_MAP / SHMEM_UNMAP (40 bytes on the wire). */
struct pv_vu_mmap {
   uint8_t shmid;
   uint8_t padding[7];
   uint64_t fd_offset;
   uint64_t shm_offset;
   uint64_t len;
   uint64_t flags; /* PV_VU_MMAP_R | PV_VU_MMAP_W */
};
#define PV_VU_MMAP_R (1ull << 0)
#define PV_VU_MMAP_W (1ull << 1)

/* How long the backend waits for the frontend's answer to a backend
 * request before it gives up on the channel. */
#define PV_VU_BACKEND_REPLY_MS 5000

struct pv_vu;

struct pv_vu_device_ops {
   void *data;
   uint64_t (*features)(void *data); /* device feature bits */
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
   int backend_sock;                   /* SET_BACKEND_REQ_FD channel, -1: none */
   uint64_t offered_protocol_features; /* set before the handshake */
   uint64_t features, protocol_features;
   struct pv_vmem mem;
   struct pv_vring vq[PV_VU_MAX_QUEUES];
   struct pv_vu_device_ops ops;
};

/* Takes ownership of a connected socket. */
void pv_vu_init(struct pv_vu *vu, int sock, const struct pv_vu_device_ops *ops);
/* Closes everything (socket, eventfds, memory). */
void pv_vu_fini(struct pv_vu *vu);

/* Offers VHOST_USER_PROTOCOL_F_SHMEM (with BACKEND_REQ and REPLY_ACK):
 * call after pv_vu_init, before the frontend asks. */
void pv_vu_offer_shmem(struct pv_vu *vu);

/* Asks the frontend to map `len` bytes of `fd` (from fd_offset) at
 * shm_offset of shared-memory region `shmid`, or to unmap a range (fd -1).
 * Waits for the frontend's answer. Returns 0, -ENOTCONN without a backend
 * channel, -EIO when the frontend refused, -ETIMEDOUT / -EPIPE when the
 * channel failed (it is then closed). */
int pv_vu_shmem_map(struct pv_vu *vu, uint8_t shmid, uint64_t fd_offset, uint64_t shm_offset,
                    uint64_t len, uint64_t flags, int fd);
int pv_vu_shmem_unmap(struct pv_vu *vu, uint8_t shmid, uint64_t shm_offset, uint64_t len);

/* Reads and handles one message. Returns 0, or a negative errno when the
 * connection is gone or the frontend broke the protocol (then close it). */
int pv_vu_handle_msg(struct pv_vu *vu);

#endif
