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

#include "common/test_check.h"
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

static void
reset(void)
{
   memset(ram, 0, sizeof(ram));
   memset(&vq, 0, sizeof(vq));
   vq.num = N;
   vq.desc_uva = UVA + DESC;
   vq.avail_uva = UVA + AVAIL;
   vq.used_uva = UVA + USED;
   vq.kick_fd = vq.call_fd = -1;
   EXPECT(pv_vring_map(&vq, &mem));
}

static void
set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
   vq.desc[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void
make_avail(uint16_t head)
{
   vq.avail->ring[vq.avail->idx % N] = head;
   vq.avail->idx++;
}

static int
pop(unsigned *n_in, unsigned *n_out)
{
   struct iovec in[PV_VRING_MAX_IOV], out[PV_VRING_MAX_IOV];
   uint16_t head;
   return pv_vring_pop(&vq, &mem, &head, in, n_in, out, n_out);
}

#define TABLE 0x4000

static void
set_ind(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
   struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
   memcpy(ram + TABLE + 16 * i, &d, sizeof(d));
}

/* One ring descriptor pointing at a table of `n` entries at TABLE. */
static int
pop_indirect(uint64_t table, uint32_t len, uint16_t flags, unsigned *ni, unsigned *no)
{
   set_desc(2, table, len, VRING_DESC_F_INDIRECT | flags, 0);
   make_avail(2);
   return pop(ni, no);
}

static void
reset_indirect(void)
{
   reset();
   pv_vring_set_features(&vq, 1ull << VIRTIO_RING_F_INDIRECT_DESC);
}

static void
test_indirect(void)
{
   unsigned ni, no;
   /* Good: a readable entry then two writable ones linked out of order;
    * the write flag of the ring descriptor itself is ignored. */
   reset_indirect();
   set_ind(0, 0x1000, 40, VRING_DESC_F_NEXT, 2);
   set_ind(2, 0x2000, 24, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
   set_ind(1, 0x3000, 8, VRING_DESC_F_WRITE, 0);
   struct iovec in[4], out[4];
   uint16_t head = 0;
   set_desc(5, TABLE, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
   make_avail(5);
   EXPECT(pv_vring_pop(&vq, &mem, &head, in, &ni, out, &no) == 1);
   EXPECT(head == 5 && ni == 1 && no == 2 && in[0].iov_base == ram + 0x1000 &&
          in[0].iov_len == 40 && out[0].iov_base == ram + 0x2000 && out[1].iov_len == 8);
   pv_vring_push(&vq, head, 8);
   EXPECT(vq.used->ring[0].id == 5);

   /* A one-entry table is fine too. */
   reset_indirect();
   set_ind(0, 0x1000, 16, 0, 0);
   EXPECT(pop_indirect(TABLE, 16, 0, &ni, &no) == 1 && ni == 1 && no == 0);

   /* Malformed tables, each stops the queue. */
   struct {
      uint64_t addr;
      uint32_t len;
      uint16_t flags;
      const char *what;
   } bad[] = {
      { TABLE, 0, 0, "empty table" },
      { TABLE, 24, 0, "length not a multiple of 16" },
      { TABLE, 16 * (PV_VRING_MAX_INDIRECT + 1), 0, "too many entries" },
      { MEM - 16, 32, 0, "table straddling the end of RAM" },
      { MEM + 0x1000, 16, 0, "table outside RAM" },
      { 0xfffffffffffffff0ull, 32, 0, "table address wrapping" },
      { TABLE, 16, VRING_DESC_F_NEXT, "INDIRECT with NEXT" },
   };
   for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
      reset_indirect();
      set_ind(0, 0x1000, 16, 0, 0);
      set_ind(1, 0x1000, 16, 0, 0);
      int r = pop_indirect(bad[k].addr, bad[k].len, bad[k].flags, &ni, &no);
      if (r != -EINVAL || !vq.broken)
         printf("indirect: %s accepted\n", bad[k].what);
      EXPECT(r == -EINVAL && vq.broken && vq.broken_why); /* the check, for the log */
   }

   /* Nested indirect entry. */
   reset_indirect();
   set_ind(0, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
   EXPECT(pop_indirect(TABLE, 16, 0, &ni, &no) == -EINVAL);
   /* A loop inside the table. */
   reset_indirect();
   set_ind(0, 0x1000, 16, VRING_DESC_F_NEXT, 1);
   set_ind(1, 0x1000, 16, VRING_DESC_F_NEXT, 0);
   EXPECT(pop_indirect(TABLE, 32, 0, &ni, &no) == -EINVAL);
   /* A self-loop in a one-entry table. */
   reset_indirect();
   set_ind(0, 0x1000, 16, VRING_DESC_F_NEXT, 0);
   EXPECT(pop_indirect(TABLE, 16, 0, &ni, &no) == -EINVAL);
   /* A link past the table's end. */
   reset_indirect();
   set_ind(0, 0x1000, 16, VRING_DESC_F_NEXT, 2);
   EXPECT(pop_indirect(TABLE, 32, 0, &ni, &no) == -EINVAL);
   /* Readable after writable inside the table. */
   reset_indirect();
   set_ind(0, 0x1000, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
   set_ind(1, 0x1000, 16, 0, 0);
   EXPECT(pop_indirect(TABLE, 32, 0, &ni, &no) == -EINVAL);
   /* An entry's buffer outside RAM. */
   reset_indirect();
   set_ind(0, MEM - 8, 16, 0, 0);
   EXPECT(pop_indirect(TABLE, 16, 0, &ni, &no) == -EINVAL);
   /* An indirect descriptor after a direct one in the ring. */
   reset_indirect();
   set_ind(0, 0x1000, 16, 0, 0);
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT, 1);
   set_desc(1, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == -EINVAL);
   /* A table whose entries fill more than the iovec limit. */
   reset_indirect();
   for (unsigned k = 0; k < PV_VRING_MAX_IOV + 1; k++)
      set_ind(k, 0x1000, 1, k < PV_VRING_MAX_IOV ? VRING_DESC_F_NEXT : 0, (uint16_t)(k + 1));
   EXPECT(TABLE + 16 * (PV_VRING_MAX_IOV + 1) < MEM);
   EXPECT(pop_indirect(TABLE, 16 * (PV_VRING_MAX_IOV + 1), 0, &ni, &no) == -EINVAL);
}

static uint64_t
count(int fd)
{
   uint64_t v = 0;
   if (read(fd, &v, sizeof(v)) != sizeof(v))
      return 0;
   return v;
}

static void
test_event_idx(void)
{
   unsigned ni, no;
   reset();
   pv_vring_set_features(&vq, 1ull << VIRTIO_RING_F_EVENT_IDX);
   vq.call_fd = eventfd(0, EFD_NONBLOCK);
   uint16_t *used_event = &vq.avail->ring[N];
   uint16_t *avail_event = (uint16_t *)&vq.used->ring[N];

   /* Popping publishes the next index we will read as avail_event. */
   *avail_event = 0xffff;
   EXPECT(pop(&ni, &no) == 0 && *avail_event == 0);
   set_desc(0, 0x1000, 16, 0, 0);
   make_avail(0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == 1 && *avail_event == 0);
   EXPECT(pop(&ni, &no) == 1 && *avail_event == 1);
   EXPECT(pop(&ni, &no) == 0 && *avail_event == 2);

   /* The first interrupt after a start is always sent. */
   *used_event = 5;
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(count(vq.call_fd) == 1);
   /* used_event = 1: the driver wants an interrupt once used idx passes 1.
    * Moving 1 -> 2 crosses it. */
   *used_event = 1;
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(count(vq.call_fd) == 1);
   /* Already past used_event: no more interrupts, NO_INTERRUPT ignored. */
   vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(count(vq.call_fd) == 0);
   /* The driver moves used_event to 4: pushing 3 -> 5 in one batch
    * crosses it (4 is inside (3, 5]) and signals once. */
   *used_event = 4;
   pv_vring_push(&vq, 0, 0);
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(vq.used_idx == 5 && count(vq.call_fd) == 1);
   /* Wrap-around of the 16-bit indexes. */
   vq.used_idx = 0xfffe;
   vq.signalled_used = 0xfffe;
   *used_event = 0xffff;
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(count(vq.call_fd) == 0); /* 0xfffe -> 0xffff does not pass 0xffff */
   pv_vring_push(&vq, 0, 0);
   pv_vring_notify(&vq);
   EXPECT(vq.used_idx == 0 && count(vq.call_fd) == 1);
   close(vq.call_fd);
}

/* Random rings and tables (fixed seed): whatever the guest writes, pop
 * either fails or returns iovecs inside guest RAM, under ASan. */
static uint32_t rnd_state = 12345;
static uint32_t
rnd(void)
{
   rnd_state = rnd_state * 1103515245u + 12345u;
   return rnd_state >> 8;
}

static uint64_t
rnd_addr(void)
{
   switch (rnd() % 8) {
   case 0:
      return (uint64_t)rnd() << 32 | rnd(); /* anywhere */
   case 1:
      return MEM - (rnd() % 64); /* at the end of RAM */
   default:
      return rnd() % MEM;
   }
}

static bool
iov_inside(const struct iovec *v, unsigned n)
{
   for (unsigned i = 0; i < n; i++) {
      const uint8_t *b = v[i].iov_base;
      if (b < ram || b + v[i].iov_len > ram + MEM || v[i].iov_len == 0)
         return false;
   }
   return true;
}

static void
test_random(void)
{
   static struct iovec in[PV_VRING_MAX_IOV], out[PV_VRING_MAX_IOV];
   unsigned ok = 0, bad = 0;
   for (int iter = 0; iter < 20000; iter++) {
      reset();
      pv_vring_set_features(&vq, rnd() % 2 ? PV_VRING_FEATURES : 0);
      for (unsigned i = 0; i < N; i++) {
         uint32_t len = rnd() % 4 ? 16 * (1 + rnd() % 8) : rnd();
         set_desc(i, rnd() % 3 ? TABLE : rnd_addr(), len, (uint16_t)(rnd() % 8),
                  (uint16_t)(rnd() % (N + 2)));
      }
      for (unsigned i = 0; i < 64; i++)
         set_ind(i, rnd_addr(), rnd() % 512, (uint16_t)(rnd() % 8), (uint16_t)(rnd() % 66));
      for (unsigned i = 0; i < N; i++)
         vq.avail->ring[i] = (uint16_t)(rnd() % (N + 1));
      vq.avail->idx = (uint16_t)(rnd() % (N + 2));
      for (unsigned k = 0; k < N + 2; k++) {
         unsigned ni, no;
         uint16_t head;
         int r = pv_vring_pop(&vq, &mem, &head, in, &ni, out, &no);
         if (r == 1) {
            EXPECT(head < N && iov_inside(in, ni) && iov_inside(out, no));
            ok++;
         } else {
            bad += r < 0;
            break;
         }
      }
   }
   printf("random rings: %u chains popped, %u rings found malformed\n", ok, bad);
   EXPECT(ok > 1000 && bad > 1000);
}

int
main(void)
{
   mem.n = 1;
   mem.r[0] = (struct pv_vmem_region){ .gpa = 0, .size = MEM, .uva = UVA, .host = ram };
   unsigned ni, no;

   /* Mapping checks. */
   reset();
   struct pv_vring bad = vq;
   bad.used_uva = UVA + MEM - 8;
   EXPECT(!pv_vring_map(&bad, &mem));
   bad = vq;
   bad.desc_uva = UVA + 4; /* misaligned */
   EXPECT(!pv_vring_map(&bad, &mem));
   bad = vq;
   bad.avail_uva = 0x1000;
   EXPECT(!pv_vring_map(&bad, &mem));

   /* Empty, then a good chain of one readable and two writable parts. */
   reset();
   EXPECT(pop(&ni, &no) == 0);
   set_desc(3, 0x1000, 64, VRING_DESC_F_NEXT, 5);
   set_desc(5, 0x2000, 24, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 6);
   set_desc(6, 0x3000, 100, VRING_DESC_F_WRITE, 0);
   make_avail(3);
   struct iovec in[4], out[4];
   uint16_t head = 0;
   EXPECT(pv_vring_pop(&vq, &mem, &head, in, &ni, out, &no) == 1);
   EXPECT(head == 3 && ni == 1 && no == 2 && in[0].iov_base == ram + 0x1000 &&
          out[1].iov_len == 100);
   pv_vring_push(&vq, head, 24);
   EXPECT(vq.used->idx == 1 && vq.used->ring[0].id == 3 && vq.used->ring[0].len == 24);
   EXPECT(pop(&ni, &no) == 0);

   /* The guest claims more buffers than the ring holds. */
   reset();
   vq.avail->idx = N + 1;
   EXPECT(pop(&ni, &no) == -EINVAL && vq.broken);
   EXPECT(vq.broken_why && strstr(vq.broken_why, "avail idx") && vq.broken_desc == N + 1);
   EXPECT(pop(&ni, &no) == -EINVAL); /* stays broken */

   /* Head out of range. */
   reset();
   make_avail(N);
   EXPECT(pop(&ni, &no) == -EINVAL);
   EXPECT(vq.broken_why && strstr(vq.broken_why, "head") && vq.broken_desc == N);

   /* A descriptor loop. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT, 1);
   set_desc(1, 0x1000, 16, VRING_DESC_F_NEXT, 0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == -EINVAL);

   /* A link out of range. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT, 200);
   make_avail(0);
   EXPECT(pop(&ni, &no) == -EINVAL);

   /* Indirect descriptors when not negotiated. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == -EINVAL);

   test_indirect();

   /* Readable after writable. */
   reset();
   set_desc(0, 0x1000, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
   set_desc(1, 0x1000, 16, 0, 0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == -EINVAL);

   /* Outside guest memory, straddling its end, wrapping around. */
   uint64_t addrs[3] = { MEM + 0x1000, MEM - 8, 0xfffffffffffffff0ull };
   for (int i = 0; i < 3; i++) {
      reset();
      set_desc(0, addrs[i], 16, 0, 0);
      make_avail(0);
      EXPECT(pop(&ni, &no) == -EINVAL);
   }

   /* Notification honours VRING_AVAIL_F_NO_INTERRUPT. */
   reset();
   vq.call_fd = eventfd(0, EFD_NONBLOCK);
   uint64_t v;
   vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
   pv_vring_notify(&vq);
   EXPECT(read(vq.call_fd, &v, sizeof(v)) < 0);
   vq.avail->flags = 0;
   pv_vring_notify(&vq);
   EXPECT(read(vq.call_fd, &v, sizeof(v)) == sizeof(v) && v == 1);
   close(vq.call_fd);

   /* The state line of a dump: indexes as the guest and we see them. */
   reset();
   set_desc(0, 0x1000, 16, 0, 0);
   make_avail(0);
   make_avail(0);
   EXPECT(pop(&ni, &no) == 1);
   pv_vring_push(&vq, 0, 4);
   char line[512];
   pv_vring_describe(&vq, line, sizeof(line));
   EXPECT(strstr(line, "num 8 avail idx 2 (1 not popped)") && strstr(line, "last_avail 1 ") &&
          strstr(line, "used idx 1 (in ring 1)") && strstr(line, "started 0"));
   struct pv_vring unmapped = { .num = 4, .kick_fd = -1, .call_fd = -1 };
   pv_vring_describe(&unmapped, line, sizeof(line));
   EXPECT(strstr(line, "not mapped") != NULL);

   test_event_idx();
   test_random();
   return test_report("vring");
}
