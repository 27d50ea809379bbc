#include "common/budget.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SLOTS 4096

static void
sub_clamped(uint64_t *v, uint64_t bytes)
{
   /* never below 0, even if a (compromised) sharer released too much */
   uint64_t cur = __atomic_load_n(v, __ATOMIC_RELAXED);
   while (!__atomic_compare_exchange_n(v, &cur, cur > bytes ? cur - bytes : 0, true,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      ;
}

uint64_t
pv_shared_budget_limit(const struct pv_shared_budget *b, uint32_t pool, uint64_t heap_size)
{
   if (pool >= PV_BUDGET_POOLS)
      return 0;
   const uint64_t limit = __atomic_load_n(&b->limit[pool], __ATOMIC_RELAXED);
   if (limit)
      return limit;
   return heap_size ? heap_size : UINT64_MAX;
}

bool
pv_shared_budget_charge(struct pv_shared_budget *b, uint32_t slot, uint32_t pool, uint64_t bytes,
                        uint64_t heap_size)
{
   if (pool >= PV_BUDGET_POOLS)
      return false;
   const uint64_t limit = pv_shared_budget_limit(b, pool, heap_size);
   uint64_t used = __atomic_load_n(&b->used[pool], __ATOMIC_RELAXED);
   do {
      if (bytes > limit || used > limit - bytes)
         return false;
   } while (!__atomic_compare_exchange_n(&b->used[pool], &used, used + bytes, true,
                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED));
   __atomic_fetch_add(&b->slot_used[slot][pool], bytes, __ATOMIC_RELAXED);
   return true;
}

void
pv_shared_budget_release(struct pv_shared_budget *b, uint32_t slot, uint32_t pool, uint64_t bytes)
{
   if (pool >= PV_BUDGET_POOLS)
      return;
   sub_clamped(&b->slot_used[slot][pool], bytes);
   sub_clamped(&b->used[pool], bytes);
}

uint64_t
pv_shared_budget_reclaim(struct pv_shared_budget *b, uint32_t slot)
{
   uint64_t total = 0;
   for (uint32_t pool = 0; pool < PV_BUDGET_POOLS; pool++) {
      const uint64_t held = __atomic_exchange_n(&b->slot_used[slot][pool], 0, __ATOMIC_RELAXED);
      sub_clamped(&b->used[pool], held);
      total += held;
   }
   return total;
}

uint64_t
pv_host_ram_bytes(void)
{
   const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
   return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

uint64_t
pv_default_memory_budget(void)
{
   const uint64_t ram = pv_host_ram_bytes();
   return ram ? ram / 4 * 3 : 16ull << 30;
}

static size_t
area_size(uint32_t slots)
{
   return sizeof(struct pv_shared_budget) + (size_t)slots * sizeof(uint64_t[PV_BUDGET_POOLS]);
}

int
pv_shared_budget_map(int fd, struct pv_shared_budget **out, uint32_t *slots)
{
   struct stat st;
   if (fstat(fd, &st) < 0)
      return -errno;
   if (st.st_size < (off_t)area_size(1) || st.st_size > (off_t)area_size(MAX_SLOTS))
      return -EINVAL;
   /* a size between two slot counts (another layout) is refused */
   const size_t slot_bytes = sizeof(uint64_t[PV_BUDGET_POOLS]);
   if (((size_t)st.st_size - sizeof(**out)) % slot_bytes)
      return -EINVAL;
   const uint32_t n = (uint32_t)(((size_t)st.st_size - sizeof(**out)) / slot_bytes);
   void *map = mmap(NULL, area_size(n), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (map == MAP_FAILED)
      return -errno;
   *out = map;
   *slots = n;
   return 0;
}

static void
set_limits(struct pv_shared_budget *b, uint64_t ram_limit, uint64_t gpu_limit)
{
   b->limit[0] = ram_limit;
   for (uint32_t pool = 1; pool < PV_BUDGET_POOLS; pool++)
      b->limit[pool] = gpu_limit;
}

int
pv_shared_budget_create(uint64_t ram_limit, uint64_t gpu_limit, uint32_t slots,
                        struct pv_shared_budget **out, int *fd)
{
   if (!slots || slots > MAX_SLOTS)
      return -EINVAL;
   int mfd = memfd_create("pv-memory-budget", MFD_CLOEXEC | MFD_ALLOW_SEALING);
   if (mfd < 0)
      return -errno;
   uint32_t n = 0;
   int ret = 0;
   /* sealed: no client can shrink it under the server's mapping */
   if (ftruncate(mfd, (off_t)area_size(slots)) < 0 ||
       fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
      ret = -errno;
   if (!ret)
      ret = pv_shared_budget_map(mfd, out, &n);
   if (ret < 0) {
      close(mfd);
      return ret;
   }
   set_limits(*out, ram_limit, gpu_limit);
   *fd = mfd;
   return 0;
}

/* The host budget file: this header, then the budget with its slots. */
#define HOST_BUDGET_MAGIC 0x3274656764756270ull /* "pbudget2": with GPU pools */

struct host_budget_header {
   uint64_t magic;
   uint32_t slots;
   uint32_t pad;
   int32_t owner[PV_HOST_BUDGET_SLOTS]; /* pid of the process holding the slot, 0: free */
};

static size_t
host_budget_size(void)
{
   return sizeof(struct host_budget_header) + area_size(PV_HOST_BUDGET_SLOTS);
}

static bool
host_budget_name_ok(const char *name)
{
   size_t n = 0;
   for (; name[n]; n++) {
      const char ch = name[n];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '_' || ch == '-'))
         return false;
   }
   return n > 0 && n < 200 && name[0] != '.';
}

/* With the file locked: takes back the charges of slots whose process is
 * gone, then takes a free slot for this process. */
static int
host_budget_take_slot(struct host_budget_header *h, struct pv_shared_budget *b, uint32_t *slot)
{
   const int32_t self = (int32_t)getpid();
   for (uint32_t i = 0; i < PV_HOST_BUDGET_SLOTS; i++) {
      const int32_t pid = __atomic_load_n(&h->owner[i], __ATOMIC_RELAXED);
      if (pid > 0 && pid != self && kill(pid, 0) < 0 && errno == ESRCH) {
         pv_shared_budget_reclaim(b, i);
         __atomic_store_n(&h->owner[i], 0, __ATOMIC_RELAXED);
      }
   }
   for (uint32_t i = 0; i < PV_HOST_BUDGET_SLOTS; i++) {
      int32_t free_pid = 0;
      if (__atomic_compare_exchange_n(&h->owner[i], &free_pid, self, false, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
         pv_shared_budget_reclaim(b, i); /* a forged charge, if any */
         *slot = i;
         return 0;
      }
   }
   return -ENOSPC;
}

int
pv_host_budget_open(const char *name, uint64_t ram_limit, uint64_t gpu_limit,
                    struct pv_host_budget *out)
{
   if (!name || !host_budget_name_ok(name))
      return -EINVAL;
   char path[256];
   snprintf(path, sizeof(path), "/dev/shm/%s", name);
   /* O_NOFOLLOW: not a link planted by another user */
   const int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
   if (fd < 0)
      return -errno;
   const size_t size = host_budget_size();
   struct stat st;
   void *map = MAP_FAILED;
   bool created = false;
   int ret = 0;
   /* one opener at a time: creation, reclaiming and slot taking */
   if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
      ret = -errno;
      goto fail;
   }
   if (!S_ISREG(st.st_mode) || (st.st_size != 0 && st.st_size != (off_t)size)) {
      ret = -EINVAL;
      goto fail;
   }
   if (st.st_size == 0) {
      if (ftruncate(fd, (off_t)size) < 0) {
         ret = -errno;
         goto fail;
      }
      created = true;
   }
   map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (map == MAP_FAILED) {
      ret = -errno;
      goto fail;
   }
   struct host_budget_header *h = map;
   struct pv_shared_budget *b = (struct pv_shared_budget *)(h + 1);
   if (created) {
      set_limits(b, ram_limit, gpu_limit);
      h->slots = PV_HOST_BUDGET_SLOTS;
      h->magic = HOST_BUDGET_MAGIC;
   } else if (h->magic != HOST_BUDGET_MAGIC || h->slots != PV_HOST_BUDGET_SLOTS) {
      ret = -EINVAL;
      goto fail;
   }
   uint32_t slot = 0;
   ret = host_budget_take_slot(h, b, &slot);
   if (ret < 0)
      goto fail;
   /* No fd kept: a sandboxed process that cannot open the file by path
    * (root's, mode 0600) then cannot truncate it under the others'
    * mappings (they would fault). The mapping keeps the open file, and
    * so the lock, alive past close: unlock first. */
   flock(fd, LOCK_UN);
   close(fd);
   *out = (struct pv_host_budget){ .budget = b, .slot = slot, .created = created, .map = map };
   return 0;
fail:
   if (map != MAP_FAILED)
      munmap(map, size);
   flock(fd, LOCK_UN);
   close(fd);
   return ret;
}

void
pv_host_budget_close(struct pv_host_budget *hb)
{
   if (!hb->map)
      return;
   struct host_budget_header *h = hb->map;
   pv_shared_budget_reclaim(hb->budget, hb->slot);
   int32_t self = (int32_t)getpid();
   __atomic_compare_exchange_n(&h->owner[hb->slot], &self, 0, false, __ATOMIC_RELAXED,
                               __ATOMIC_RELAXED);
   munmap(hb->map, host_budget_size());
   *hb = (struct pv_host_budget){ 0 };
}
