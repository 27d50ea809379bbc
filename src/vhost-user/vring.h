/*
 * Guest memory as mapped from a vhost-user memory table, and split
 * virtqueues living in it. Everything read from guest memory (ring indexes,
 * descriptors) is untrusted: a malformed ring is reported, never followed.
 */
#ifndef PV_VHOST_USER_VRING_H
#define PV_VHOST_USER_VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_ring.h>

#define PV_VMEM_MAX_REGIONS 8

struct pv_vmem_region {
   uint64_t gpa; /* guest-physical start */
   uint64_t size;
   uint64_t uva;   /* the frontend's (QEMU's) virtual address of gpa */
   uint8_t *host;  /* our mapping of gpa */
   void *map_base; /* what to munmap (NULL: not ours) */
   uint64_t map_size;
};

struct pv_vmem {
   struct pv_vmem_region r[PV_VMEM_MAX_REGIONS];
   unsigned n;
};

/* pv_vgpu_translate_fn over guest-physical addresses; data is a pv_vmem. */
uint64_t pv_vmem_translate(void *data, uint64_t gpa, uint64_t len, void **host);
/* Host address of [uva, uva + len) of the frontend, or NULL. */
void *pv_vmem_uva_to_host(const struct pv_vmem *mem, uint64_t uva, uint64_t len);
/* Unmaps every region this process mapped. */
void pv_vmem_clear(struct pv_vmem *mem);

#define PV_VRING_MAX_IOV 1024

struct pv_vring {
   uint32_t num; /* 0: not configured */
   uint64_t desc_uva, avail_uva, used_uva;
   struct vring_desc *desc;
   struct vring_avail *avail;
   struct vring_used *used;
   uint16_t last_avail;
   uint16_t used_idx;
   int kick_fd, call_fd;
   bool enabled;           /* SET_VRING_ENABLE (or no protocol features) */
   bool started;           /* has a kick fd and addresses */
   bool broken;            /* the guest wrote a malformed ring */
   const char *broken_why; /* then: the check it failed */
   uint32_t broken_desc;   /* and the avail idx or descriptor index that failed it */
   /* Negotiated ring features (VIRTIO_RING_F_INDIRECT_DESC / _EVENT_IDX). */
   bool indirect;
   bool event_idx;
   /* EVENT_IDX: the used index at the last interrupt (valid once one was
    * sent, or after a ring (re)start where the first is always sent). */
   uint16_t signalled_used;
   bool signalled_used_valid;
};

/* Ring features a pv_vring honours (offered by the backend). */
#define PV_VRING_FEATURES \
   ((1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_RING_F_EVENT_IDX))

/* Most descriptors one indirect table may hold (the spec sets no limit;
 * Linux never builds tables longer than its queue size, at most 32768). */
#define PV_VRING_MAX_INDIRECT 32768u

/* Applies the driver's acked feature bits to the ring. */
void pv_vring_set_features(struct pv_vring *vq, uint64_t features);

/* Resolves the ring's addresses through mem; false if they are not inside
 * it. Called after SET_VRING_ADDR and after each new memory table. */
bool pv_vring_map(struct pv_vring *vq, const struct pv_vmem *mem);

/* Pops one available chain. Returns 1 with *head and the readable (in) and
 * writable (out) iovecs filled, 0 when the ring is empty, -EINVAL when the
 * ring is malformed (vq->broken is then set). An indirect descriptor (when
 * negotiated) is followed into its table in guest memory: the table must be
 * a non-empty multiple of 16 bytes inside one guest RAM region, hold at
 * most PV_VRING_MAX_INDIRECT entries, be the chain's only descriptor in the
 * ring and contain no indirect descriptor itself; links inside it must stay
 * in the table and a chain can visit each entry once, so loops fail. With
 * EVENT_IDX the avail_event field is set to the next index we will read
 * before the ring is checked, so the driver kicks for the next buffer. */
int pv_vring_pop(struct pv_vring *vq, struct pv_vmem *mem, uint16_t *head, struct iovec *in,
                 unsigned *n_in, struct iovec *out, unsigned *n_out);

/* Puts the chain popped last back (it is popped again next time). */
void pv_vring_unpop(struct pv_vring *vq);

/* Returns a chain to the guest with `len` bytes written. */
void pv_vring_push(struct pv_vring *vq, uint16_t head, uint32_t len);

/* Writes one line on the ring's state to buf (for state dumps): the
 * driver's avail idx, flags and used_event as guest memory holds them now
 * (only printed), our last_avail and used idx, the used idx and avail_event
 * in the ring, and started/enabled/broken, the eventfds and EVENT_IDX's
 * signalled used idx. Returns snprintf's count. */
int pv_vring_describe(const struct pv_vring *vq, char *buf, size_t size);

/* Signals the call eventfd unless the guest asked for no interrupts:
 * VRING_AVAIL_F_NO_INTERRUPT without EVENT_IDX; with it, the spec's
 * vring_need_event(used_event, used_idx, used index at the last signal). */
void pv_vring_notify(struct pv_vring *vq);

#endif
