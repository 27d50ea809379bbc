/*
 * Split virtqueues in vhost-user guest memory.
 */
#include "vring.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

uint64_t
pv_vmem_translate(void *data, uint64_t gpa, uint64_t len, void **host)
{
   const struct pv_vmem *mem = data;
   for (unsigned i = 0; i < mem->n; i++) {
      const struct pv_vmem_region *r = &mem->r[i];
      if (gpa >= r->gpa && gpa - r->gpa < r->size) {
         uint64_t avail = r->size - (gpa - r->gpa);
         *host = r->host + (gpa - r->gpa);
         return len < avail ? len : avail;
      }
   }
   return 0;
}

void *
pv_vmem_uva_to_host(const struct pv_vmem *mem, uint64_t uva, uint64_t len)
{
   for (unsigned i = 0; i < mem->n; i++) {
      const struct pv_vmem_region *r = &mem->r[i];
      if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
         return r->host + (uva - r->uva);
   }
   return NULL;
}

void
pv_vmem_clear(struct pv_vmem *mem)
{
   for (unsigned i = 0; i < mem->n; i++)
      if (mem->r[i].map_base)
         munmap(mem->r[i].map_base, mem->r[i].map_size);
   memset(mem, 0, sizeof(*mem));
}

bool
pv_vring_map(struct pv_vring *vq, const struct pv_vmem *mem)
{
   vq->desc = NULL;
   vq->avail = NULL;
   vq->used = NULL;
   if (!vq->num)
      return false;
   uint64_t n = vq->num;
   vq->desc = pv_vmem_uva_to_host(mem, vq->desc_uva, 16 * n);
   vq->avail = pv_vmem_uva_to_host(mem, vq->avail_uva, 4 + 2 * n + 2);
   vq->used = pv_vmem_uva_to_host(mem, vq->used_uva, 4 + 8 * n + 2);
   /* Alignment keeps the ring structs' accesses well-formed. */
   if (((uintptr_t)vq->desc & 15) || ((uintptr_t)vq->avail & 1) || ((uintptr_t)vq->used & 3))
      vq->desc = NULL;
   return vq->desc && vq->avail && vq->used;
}

/* The helpers below return -EINVAL with *why naming the failed check. */
static int
add_iov(struct pv_vmem *mem, uint64_t gpa, uint32_t len, struct iovec *iov, unsigned *n,
        const char **why)
{
   while (len) {
      void *host;
      uint64_t c = pv_vmem_translate(mem, gpa, len, &host);
      if (c == 0 || *n >= PV_VRING_MAX_IOV) {
         *why = c == 0 ? "buffer outside guest memory" : "more than PV_VRING_MAX_IOV pieces";
         return -EINVAL;
      }
      iov[(*n)++] = (struct iovec){ .iov_base = host, .iov_len = c };
      gpa += c;
      len -= (uint32_t)c;
   }
   return 0;
}

void
pv_vring_set_features(struct pv_vring *vq, uint64_t features)
{
   vq->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
   vq->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
}

/* avail->ring[num] and used->ring[num] hold used_event / avail_event. */
static uint16_t *
used_event(struct pv_vring *vq)
{
   return &vq->avail->ring[vq->num];
}

static uint16_t *
avail_event(struct pv_vring *vq)
{
   return (uint16_t *)&vq->used->ring[vq->num];
}

/* Adds one descriptor's buffer; readable parts must precede writable ones. */
static int
add_desc(struct pv_vmem *mem, const struct vring_desc *d, bool *seen_writable, struct iovec *in,
         unsigned *n_in, struct iovec *out, unsigned *n_out, const char **why)
{
   if (d->flags & VRING_DESC_F_WRITE) {
      *seen_writable = true;
      return add_iov(mem, d->addr, d->len, out, n_out, why);
   }
   if (*seen_writable) {
      *why = "readable descriptor after a writable one";
      return -EINVAL;
   }
   return add_iov(mem, d->addr, d->len, in, n_in, why);
}

/* Walks an indirect table: `d` is the ring descriptor pointing at it. */
static int
walk_indirect(struct pv_vmem *mem, const struct vring_desc *d, struct iovec *in, unsigned *n_in,
              struct iovec *out, unsigned *n_out, const char **why)
{
   if (d->len == 0 || d->len % sizeof(struct vring_desc) ||
       d->len / sizeof(struct vring_desc) > PV_VRING_MAX_INDIRECT) {
      *why = "indirect table size";
      return -EINVAL;
   }
   void *host;
   /* The whole table inside one region, so it is one host range. */
   if (pv_vmem_translate(mem, d->addr, d->len, &host) != d->len) {
      *why = "indirect table outside one guest memory region";
      return -EINVAL;
   }
   const uint8_t *table = host;
   uint32_t n = d->len / sizeof(struct vring_desc);
   bool seen_writable = false;
   uint32_t i = 0;
   for (uint32_t count = 0;; count++) {
      if (count >= n || i >= n) {
         *why = "indirect chain loops or links out of its table";
         return -EINVAL;
      }
      struct vring_desc e;
      memcpy(&e, table + (size_t)i * sizeof(e), sizeof(e)); /* read once */
      if (e.flags & VRING_DESC_F_INDIRECT) {
         *why = "nested indirect table";
         return -EINVAL;
      }
      if (add_desc(mem, &e, &seen_writable, in, n_in, out, n_out, why) < 0)
         return -EINVAL;
      if (!(e.flags & VRING_DESC_F_NEXT))
         return 0;
      i = e.next;
   }
}

int
pv_vring_pop(struct pv_vring *vq, struct pv_vmem *mem, uint16_t *head, struct iovec *in,
             unsigned *n_in, struct iovec *out, unsigned *n_out)
{
   *n_in = *n_out = 0;
   if (vq->broken || !vq->desc)
      return vq->broken ? -EINVAL : 0;
   if (vq->event_idx) {
      /* Ask for a kick when the driver makes our next index available,
       * published before we look at the index it has now. */
      __atomic_store_n(avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
      __atomic_thread_fence(__ATOMIC_SEQ_CST);
   }
   uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
   uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
   if (pending == 0)
      return 0;
   const char *why = NULL;
   uint32_t bad = avail_idx; /* the index or descriptor that failed */
   if (pending > vq->num) {
      why = "avail idx more than the ring size ahead";
      goto broken;
   }
   uint16_t h = vq->avail->ring[vq->last_avail % vq->num];
   bad = h;
   if (h >= vq->num) {
      why = "head descriptor out of the ring";
      goto broken;
   }
   *head = h;
   vq->last_avail++;
   uint16_t i = h;
   bool seen_writable = false;
   for (uint32_t count = 0;; count++) {
      bad = i;
      if (count >= vq->num || i >= vq->num) {
         why = "chain loops or links out of the ring";
         goto broken;
      }
      struct vring_desc d;
      memcpy(&d, &vq->desc[i], sizeof(d));
      if (d.flags & VRING_DESC_F_INDIRECT) {
         /* Only as the whole chain: not offered, not linked on, not after
          * other descriptors. */
         if (!vq->indirect || (d.flags & VRING_DESC_F_NEXT) || count != 0) {
            why = "indirect descriptor not offered, linked on, or after others";
            goto broken;
         }
         if (walk_indirect(mem, &d, in, n_in, out, n_out, &why) < 0)
            goto broken;
         return 1;
      }
      if (add_desc(mem, &d, &seen_writable, in, n_in, out, n_out, &why) < 0)
         goto broken;
      if (!(d.flags & VRING_DESC_F_NEXT))
         break;
      i = d.next;
   }
   return 1;
broken:
   vq->broken = true;
   vq->broken_why = why;
   vq->broken_desc = bad;
   return -EINVAL;
}

void
pv_vring_unpop(struct pv_vring *vq)
{
   vq->last_avail--;
}

void
pv_vring_push(struct pv_vring *vq, uint16_t head, uint32_t len)
{
   if (!vq->used)
      return;
   struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];
   e->id = head;
   e->len = len;
   vq->used_idx++;
   __atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

static bool
want_interrupt(struct pv_vring *vq)
{
   if (!vq->event_idx)
      return !(vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
   uint16_t old = vq->signalled_used, now = vq->used_idx;
   bool valid = vq->signalled_used_valid;
   vq->signalled_used = now;
   vq->signalled_used_valid = true;
   if (!valid)
      return true;
   uint16_t event = __atomic_load_n(used_event(vq), __ATOMIC_RELAXED);
   return vring_need_event(event, now, old);
}

void
pv_vring_notify(struct pv_vring *vq)
{
   /* Our used-ring writes before the driver's flags / used_event. */
   __atomic_thread_fence(__ATOMIC_SEQ_CST);
   if (vq->call_fd < 0 || !vq->avail || !want_interrupt(vq))
      return;
   uint64_t one = 1;
   ssize_t r = write(vq->call_fd, &one, sizeof(one));
   (void)r;
}

int
pv_vring_describe(const struct pv_vring *vq, char *buf, size_t size)
{
   if (!vq->avail || !vq->used)
      return snprintf(buf, size, "num %u, not mapped; started %d enabled %d kick fd %d call fd %d",
                      vq->num, vq->started, vq->enabled, vq->kick_fd, vq->call_fd);
   /* read once each: the guest may change them meanwhile */
   uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
   uint16_t avail_flags = __atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED);
   uint16_t used_ev = __atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED);
   uint16_t ring_used = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
   uint16_t avail_ev = __atomic_load_n((uint16_t *)&vq->used->ring[vq->num], __ATOMIC_RELAXED);
   return snprintf(buf, size,
                   "num %u avail idx %u (%u not popped) flags 0x%x used_event %u; last_avail %u "
                   "used idx %u (in ring %u) avail_event %u; started %d enabled %d broken %d "
                   "kick fd %d call fd %d event_idx %d signalled_used %u%s",
                   vq->num, avail_idx, (uint16_t)(avail_idx - vq->last_avail), avail_flags, used_ev,
                   vq->last_avail, vq->used_idx, ring_used, avail_ev, vq->started, vq->enabled,
                   vq->broken, vq->kick_fd, vq->call_fd, vq->event_idx, vq->signalled_used,
                   vq->signalled_used_valid ? "" : " (none yet)");
}
