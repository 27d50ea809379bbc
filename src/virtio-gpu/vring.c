/*
 * Split virtqueues in vhost-user guest memory.
 */
#include "vring.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

uint64_t pv_vmem_translate(void *data, uint64_t gpa, uint64_t len, void **host)
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

void *pv_vmem_uva_to_host(const struct pv_vmem *mem, uint64_t uva, uint64_t len)
{
   for (unsigned i = 0; i < mem->n; i++) {
      const struct pv_vmem_region *r = &mem->r[i];
      if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
         return r->host + (uva - r->uva);
   }
   return NULL;
}

void pv_vmem_clear(struct pv_vmem *mem)
{
   for (unsigned i = 0; i < mem->n; i++)
      if (mem->r[i].map_base)
         munmap(mem->r[i].map_base, mem->r[i].map_size);
   memset(mem, 0, sizeof(*mem));
}

bool pv_vring_map(struct pv_vring *vq, const struct pv_vmem *mem)
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

static int add_iov(struct pv_vmem *mem, uint64_t gpa, uint32_t len, struct iovec *iov,
                   unsigned *n)
{
   while (len) {
      void *host;
      uint64_t c = pv_vmem_translate(mem, gpa, len, &host);
      if (c == 0 || *n >= PV_VRING_MAX_IOV)
         return -EINVAL;
      iov[(*n)++] = (struct iovec){.iov_base = host, .iov_len = c};
      gpa += c;
      len -= (uint32_t)c;
   }
   return 0;
}

int pv_vring_pop(struct pv_vring *vq, struct pv_vmem *mem, uint16_t *head, struct iovec *in,
                 unsigned *n_in, struct iovec *out, unsigned *n_out)
{
   *n_in = *n_out = 0;
   if (vq->broken || !vq->desc)
      return vq->broken ? -EINVAL : 0;
   uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
   uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
   if (pending == 0)
      return 0;
   if (pending > vq->num)
      goto broken;
   uint16_t h = vq->avail->ring[vq->last_avail % vq->num];
   if (h >= vq->num)
      goto broken;
   *head = h;
   vq->last_avail++;
   uint16_t i = h;
   bool seen_writable = false;
   for (uint32_t count = 0;; count++) {
      if (count >= vq->num || i >= vq->num)
         goto broken; /* a loop or an out-of-range link */
      struct vring_desc d;
      memcpy(&d, &vq->desc[i], sizeof(d));
      if (d.flags & VRING_DESC_F_INDIRECT)
         goto broken; /* not offered */
      if (d.flags & VRING_DESC_F_WRITE) {
         seen_writable = true;
         if (add_iov(mem, d.addr, d.len, out, n_out) < 0)
            goto broken;
      } else {
         if (seen_writable || add_iov(mem, d.addr, d.len, in, n_in) < 0)
            goto broken; /* readable after writable is invalid */
      }
      if (!(d.flags & VRING_DESC_F_NEXT))
         break;
      i = d.next;
   }
   return 1;
broken:
   vq->broken = true;
   return -EINVAL;
}

void pv_vring_push(struct pv_vring *vq, uint16_t head, uint32_t len)
{
   if (!vq->used)
      return;
   struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];
   e->id = head;
   e->len = len;
   vq->used_idx++;
   __atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void pv_vring_notify(struct pv_vring *vq)
{
   __atomic_thread_fence(__ATOMIC_SEQ_CST);
   if (vq->call_fd < 0 || !vq->avail || (vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT))
      return;
   uint64_t one = 1;
   ssize_t r = write(vq->call_fd, &one, sizeof(one));
   (void)r;
}
