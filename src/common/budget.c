#include "common/budget.h"

#include <errno.h>
#include <fcntl.h>
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

bool
pv_shared_budget_charge(struct pv_shared_budget *b, uint32_t slot, uint64_t bytes)
{
   const uint64_t limit = __atomic_load_n(&b->limit, __ATOMIC_RELAXED);
   uint64_t used = __atomic_load_n(&b->used, __ATOMIC_RELAXED);
   do {
      if (bytes > limit || used > limit - bytes)
         return false;
   } while (!__atomic_compare_exchange_n(&b->used, &used, used + bytes, true, __ATOMIC_RELAXED,
                                         __ATOMIC_RELAXED));
   __atomic_fetch_add(&b->slot_used[slot], bytes, __ATOMIC_RELAXED);
   return true;
}

void
pv_shared_budget_release(struct pv_shared_budget *b, uint32_t slot, uint64_t bytes)
{
   sub_clamped(&b->slot_used[slot], bytes);
   sub_clamped(&b->used, bytes);
}

uint64_t
pv_shared_budget_reclaim(struct pv_shared_budget *b, uint32_t slot)
{
   const uint64_t held = __atomic_exchange_n(&b->slot_used[slot], 0, __ATOMIC_RELAXED);
   sub_clamped(&b->used, held);
   return held;
}

uint64_t
pv_host_ram_bytes(void)
{
   const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
   return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

static size_t
area_size(uint32_t slots)
{
   return sizeof(struct pv_shared_budget) + (size_t)slots * sizeof(uint64_t);
}

int
pv_shared_budget_map(int fd, struct pv_shared_budget **out, uint32_t *slots)
{
   struct stat st;
   if (fstat(fd, &st) < 0)
      return -errno;
   if (st.st_size < (off_t)area_size(1) || st.st_size > (off_t)area_size(MAX_SLOTS))
      return -EINVAL;
   const uint32_t n = (uint32_t)(((size_t)st.st_size - sizeof(**out)) / sizeof(uint64_t));
   void *map = mmap(NULL, area_size(n), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (map == MAP_FAILED)
      return -errno;
   *out = map;
   *slots = n;
   return 0;
}

int
pv_shared_budget_create(uint64_t limit, uint32_t slots, struct pv_shared_budget **out, int *fd)
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
   (*out)->used = 0;
   (*out)->limit = limit;
   *fd = mfd;
   return 0;
}
