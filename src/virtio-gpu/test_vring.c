/*
 * Unit tests of the split virtqueue reader: good chains, and every kind of
 * malformed ring a guest could write (index jumps, bad heads, loops, bad
 * links, indirect descriptors, readable after writable, addresses outside
 * guest memory), plus the memory table's address checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_check.h"
#include "vring.h"

#define MEM 0x10000u
#define UVA 0x7000000u
#define N 8
#define DESC 0x0
#define AVAIL 0x100
#define USED 0x200

static _Alignas(4096) uint8_t ram[MEM];
static struct pv_vmem mem;
static struct pv_vring vq;

static void reset(void)
{
   memset(ram, 0, sizeof(ram));
   memset(&vq, 0, sizeof(vq));
   vq.num = N;
   vq.desc_uva = UVA + DESC;
   vq.avail_uva = UVA + AVAIL;
   vq.used_uva = UVA + USED;
   vq.kick_fd = vq.call_fd = -1;
   CHECK(pv_vring_map(&vq, &mem));
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
   vq.desc[i] = (struct vring_desc){.addr = addr, .len = len, .flags = flags, .next = next};
}

static void make_avail(uint16_t head)
{
   vq.avail->ring[vq.avail->idx % N] = head;
   vq.avail->idx++;
}

static int pop(unsigned *n_in, unsigned *n_out)
{
   struct iovec in[PV_VRING_MAX_IOV], out[PV_VRING_MAX_IOV];
   uint16_t head;
   return pv_vring_pop(&vq, &mem, &head, in, n_in, out, n_out);
}

int main(void)
{
   mem.n = 1;
   mem.r[0] = (struct pv_vmem_region){.gpa = 0, .size = MEM, .uva = UVA, .host = ram};
   unsigned ni, no;

   /* Mapping checks. */
   reset();
   struct pv_vring bad = vq;
   bad.used_uva = UVA + MEM - 8;
   CHECK(!pv_vring_map(&bad, &mem));
   bad = vq;
   bad.desc_uva = UVA + 4; /* misaligned */
   CHECK(!pv_vring_map(&bad, &mem));
   bad = vq;
   bad.avail_uva = 0x1000;
   CHECK(!pv_vring_map(&bad, &mem));

   /* Empty, then a good chain of one readable and two writable parts. */
   reset();
   CHECK(pop(&ni, &no) == 0);
   set_desc(3, 0x1000, 64, VRING_DESC_F_NEXT, 5);
   set_desc(5, 0x2000, 24, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 6);
   set_desc(6, 0x3000, 100, VRING_DESC_F_WRITE, 0);
   make_avail(3);
   struct iovec in[4], out[4];
   uint16_t head = 0;
   CHECK(pv_vring_pop(&vq, &mem, &head, in, &ni, out, &no) == 1);
   CHECK(head == 3 && ni == 1 && no == 2 && in[0].iov_base == ram + 0x1000 && out[1].iov_len == 100);
   pv_vring_push(&vq, head, 24);
   CHECK(vq.used->idx == 1 && vq.used->ring[0].id == 3 && vq.used->ring[0].len == 24);
   CHECK(pop(&ni, &no) == 0);

   /* The guest claims more buffers than the ring holds. */
   reset();
   vq.avail->idx = N + 1;
   CHECK(pop(&ni, &no) == -EINVAL && vq.broken);
   CHECK(pop(&ni, &no) == -EINVAL); /* stays broken */

   /* Head out of range. */
   reset();
   make_avail(N);
   CHECK(pop(&ni, &no) == -EINVAL);

   /* A descriptor loop. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT, 1);
   set_desc(1, 0x1000, 16, VRING_DESC_F_NEXT, 0);
   make_avail(0);
   CHECK(pop(&ni, &no) == -EINVAL);

   /* A link out of range. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT, 200);
   make_avail(0);
   CHECK(pop(&ni, &no) == -EINVAL);

   /* Indirect descriptors are not offered. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
   make_avail(0);
   CHECK(pop(&ni, &no) == -EINVAL);

   /* Readable after writable. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
   set_desc(1, 0x1000, 16, 0, 0);
   make_avail(0);
   CHECK(pop(&ni, &no) == -EINVAL);

   /* Outside guest memory, straddling its end, wrapping around. */
   uint64_t addrs[3] = {MEM + 0x1000, MEM - 8, 0xfffffffffffffff0ull};
   for (int i = 0; i < 3; i++) {
      reset();
      set_desc(0, addrs[i], 16, 0, 0);
      make_avail(0);
      CHECK(pop(&ni, &no) == -EINVAL);
   }

   /* Notification honours VRING_AVAIL_F_NO_INTERRUPT. */
   reset();
   vq.call_fd = eventfd(0, EFD_NONBLOCK);
   uint64_t v;
   vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
   pv_vring_notify(&vq);
   CHECK(read(vq.call_fd, &v, sizeof(v)) < 0);
   vq.avail->flags = 0;
   pv_vring_notify(&vq);
   CHECK(read(vq.call_fd, &v, sizeof(v)) == sizeof(v) && v == 1);
   close(vq.call_fd);

   return test_report("vring");
}
