/* Unit test: the shared memory budget (its RAM and GPU pools), within one process and across a
 * child process that dies holding charges (the server then reclaims); the
 * host budget file, across processes with no shared parent state. */
#include "common/budget.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/test_check.h"

#define RAM 0u
#define GPU0 1u
#define GPU1 2u

/* GPU pools are counted apart from RAM and from each other; one left at 0
 * takes the heap size the renderer passes; --vram-budget (a limit of its
 * own) wins over that. */
static void
test_gpu_pools(struct pv_shared_budget *b)
{
   CHECK(b->limit[GPU0] == 0 && pv_shared_budget_limit(b, GPU0, 500) == 500);
   CHECK(pv_shared_budget_limit(b, GPU0, 0) == UINT64_MAX);
   CHECK(pv_shared_budget_limit(b, RAM, 500) == 1000);
   CHECK(pv_shared_budget_charge(b, 0, GPU0, 400, 500));
   CHECK(!pv_shared_budget_charge(b, 1, GPU0, 200, 500)); /* 600 > the heap */
   CHECK(pv_shared_budget_charge(b, 1, GPU1, 200, 500));  /* another GPU */
   CHECK(pv_shared_budget_charge(b, 1, RAM, 1000, 0));    /* RAM is all there */
   CHECK(!pv_shared_budget_charge(b, 1, RAM, 1, 0));
   CHECK(!pv_shared_budget_charge(b, 1, PV_BUDGET_POOLS, 1, 0)); /* no such pool */
   CHECK(b->used[GPU0] == 400 && b->used[GPU1] == 200 && b->used[RAM] == 1000);
   CHECK(b->slot_used[0][GPU0] == 400 && b->slot_used[1][GPU1] == 200);
   pv_shared_budget_release(b, 1, RAM, 1000);
   pv_shared_budget_release(b, 1, GPU1, 200);
   /* a limit of its own */
   b->limit[GPU0] = 450;
   CHECK(!pv_shared_budget_charge(b, 1, GPU0, 100, 500));
   CHECK(pv_shared_budget_charge(b, 1, GPU0, 50, 500));
   pv_shared_budget_release(b, 0, GPU0, 400);
   pv_shared_budget_release(b, 1, GPU0, 50);
   b->limit[GPU0] = 0;
   for (uint32_t pool = 0; pool < PV_BUDGET_POOLS; pool++)
      CHECK(b->used[pool] == 0);
}

/* Two processes that open the same /dev/shm budget by name see each
 * other's charges; one that dies holding charges loses them to the next
 * process that opens the file. */
static void
test_host_budget(void)
{
   char name[64];
   snprintf(name, sizeof(name), "pv-test-budget-%d", (int)getpid());
   struct pv_host_budget a, again;
   CHECK(pv_host_budget_open("../etc/passwd", 1000, 0, &a) == -EINVAL);
   CHECK(pv_host_budget_open("", 1000, 0, &a) == -EINVAL);
   CHECK(pv_host_budget_open(name, 1000, 300, &a) == 0 && a.created);
   CHECK(a.budget->limit[RAM] == 1000 && a.budget->used[RAM] == 0);
   CHECK(a.budget->limit[GPU0] == 300 && a.budget->limit[PV_BUDGET_POOLS - 1] == 300);

   int to_parent[2], to_child[2];
   CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0);
   pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      /* opened by name, as another backend would (its limit is ignored) */
      struct pv_host_budget c;
      char ch = 0;
      if (pv_host_budget_open(name, 5, 5, &c) < 0 || c.created || c.budget->limit[RAM] != 1000 ||
          c.budget->limit[GPU0] != 300 || c.slot == a.slot ||
          !pv_shared_budget_charge(c.budget, c.slot, RAM, 600, 0) ||
          !pv_shared_budget_charge(c.budget, c.slot, GPU0, 200, 0))
         ch = 'x';
      else
         ch = 'y';
      if (write(to_parent[1], &ch, 1) != 1 || read(to_child[0], &ch, 1) != 1)
         _exit(2);
      /* it sees the parent's charge too */
      _exit(ch == 'x' || c.budget->used[RAM] != 1000 ? 1 : 0); /* dies holding 600 + 200 */
   }
   char ch = 0;
   CHECK(read(to_parent[0], &ch, 1) == 1 && ch == 'y');
   CHECK(a.budget->used[RAM] == 600 && a.budget->used[GPU0] == 200);
   CHECK(!pv_shared_budget_charge(a.budget, a.slot, RAM, 500, 0));
   CHECK(!pv_shared_budget_charge(a.budget, a.slot, GPU0, 101, 0));
   CHECK(pv_shared_budget_charge(a.budget, a.slot, RAM, 400, 0));
   ch = 'g';
   CHECK(write(to_child[1], &ch, 1) == 1);
   int status;
   CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(a.budget->used[RAM] == 1000); /* the dead child's charges are still there */
   CHECK(a.budget->used[GPU0] == 200);
   /* the next opener takes them back */
   CHECK(pv_host_budget_open(name, 1000, 0, &again) == 0 && !again.created);
   CHECK(a.budget->used[RAM] == 400 && a.budget->used[GPU0] == 0);
   CHECK(pv_shared_budget_charge(again.budget, again.slot, RAM, 600, 0));
   pv_host_budget_close(&again); /* gives its 600 back */
   CHECK(a.budget->used[RAM] == 400);
   pv_host_budget_close(&a);
   for (int i = 0; i < 2; i++) {
      close(to_parent[i]);
      close(to_child[i]);
   }

   /* a file of another layout is not used: a byte, or a file of the
    * size this layout has but an older magic number ("pbudget1", the
    * layout without GPU pools) */
   char path[128];
   snprintf(path, sizeof(path), "/dev/shm/%s", name);
   int fd = open(path, O_RDWR);
   struct stat st;
   CHECK(fd >= 0 && fstat(fd, &st) == 0);
   const uint64_t old_magic = 0x3174656764756270ull;
   CHECK(pwrite(fd, &old_magic, sizeof(old_magic), 0) == sizeof(old_magic));
   close(fd);
   CHECK(pv_host_budget_open(name, 1000, 0, &a) == -EINVAL);
   fd = open(path, O_RDWR | O_TRUNC);
   CHECK(fd >= 0 && write(fd, "x", 1) == 1);
   close(fd);
   CHECK(pv_host_budget_open(name, 1000, 0, &a) == -EINVAL);
   unlink(path);
}

int
main(void)
{
   CHECK(pv_host_ram_bytes() > 0);

   struct pv_shared_budget *b;
   int fd;
   CHECK(pv_shared_budget_create(1000, 0, 4, &b, &fd) == 0);
   CHECK(pv_shared_budget_create(1000, 0, 0, &b, &fd) < 0);

   /* the limit holds for all slots together */
   CHECK(pv_shared_budget_charge(b, 0, RAM, 600, 0));
   CHECK(!pv_shared_budget_charge(b, 1, RAM, 500, 0));
   CHECK(pv_shared_budget_charge(b, 1, RAM, 400, 0));
   CHECK(!pv_shared_budget_charge(b, 2, RAM, 1, 0));
   CHECK(!pv_shared_budget_charge(b, 2, RAM, UINT64_MAX, 0));
   pv_shared_budget_release(b, 1, RAM, 400);
   CHECK(b->used[RAM] == 600 && b->slot_used[1][RAM] == 0);
   /* releasing more than held never goes below zero */
   pv_shared_budget_release(b, 1, RAM, 50);
   CHECK(b->used[RAM] == 550 && b->slot_used[1][RAM] == 0);
   pv_shared_budget_release(b, 0, RAM, 550);
   CHECK(b->used[RAM] == 0);
   test_gpu_pools(b);

   /* the area cannot be resized under the server's mapping */
   CHECK(ftruncate(fd, 8) < 0);

   /* a child maps it, charges, and dies without releasing */
   pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      struct pv_shared_budget *cb;
      uint32_t slots;
      if (pv_shared_budget_map(fd, &cb, &slots) < 0 || slots != 4 ||
          !pv_shared_budget_charge(cb, 3, RAM, 700, 0) ||
          !pv_shared_budget_charge(cb, 3, GPU0, 300, 500))
         _exit(1);
      _exit(0);
   }
   int status;
   CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(b->used[RAM] == 700 && !pv_shared_budget_charge(b, 0, RAM, 400, 0));
   CHECK(b->used[GPU0] == 300);
   CHECK(pv_shared_budget_reclaim(b, 3) == 1000); /* both pools */
   CHECK(b->used[RAM] == 0 && b->used[GPU0] == 0 && pv_shared_budget_charge(b, 0, RAM, 400, 0));
   CHECK(pv_shared_budget_reclaim(b, 3) == 0);

   /* a file whose size is not this layout's (a slot count of another
    * number of pools) is refused */
   struct pv_shared_budget *odd;
   uint32_t slots;
   const int ofd = memfd_create("odd", 0);
   CHECK(ofd >= 0 && ftruncate(ofd, (off_t)(sizeof(*b) + 4 * sizeof(b->slot_used[0]) + 8)) == 0);
   CHECK(pv_shared_budget_map(ofd, &odd, &slots) == -EINVAL);
   close(ofd);
   close(fd);
   test_host_budget();
   printf("ok\n");
   return 0;
}
