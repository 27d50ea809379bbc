/* Unit test: the shared memory budget, within one process and across a
 * child process that dies holding charges (the server then reclaims); the
 * host budget file, across processes with no shared parent state. */
#include "common/budget.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/test_check.h"

/* Two processes that open the same /dev/shm budget by name see each
 * other's charges; one that dies holding charges loses them to the next
 * process that opens the file. */
static void
test_host_budget(void)
{
   char name[64];
   snprintf(name, sizeof(name), "pv-test-budget-%d", (int)getpid());
   struct pv_host_budget a, again;
   CHECK(pv_host_budget_open("../etc/passwd", 1000, &a) == -EINVAL);
   CHECK(pv_host_budget_open("", 1000, &a) == -EINVAL);
   CHECK(pv_host_budget_open(name, 1000, &a) == 0 && a.created);
   CHECK(a.budget->limit == 1000 && a.budget->used == 0);

   int to_parent[2], to_child[2];
   CHECK(pipe(to_parent) == 0 && pipe(to_child) == 0);
   pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      /* opened by name, as another backend would (its limit is ignored) */
      struct pv_host_budget c;
      char ch = 0;
      if (pv_host_budget_open(name, 5, &c) < 0 || c.created || c.budget->limit != 1000 ||
          c.slot == a.slot || !pv_shared_budget_charge(c.budget, c.slot, 600))
         ch = 'x';
      else
         ch = 'y';
      if (write(to_parent[1], &ch, 1) != 1 || read(to_child[0], &ch, 1) != 1)
         _exit(2);
      /* it sees the parent's charge too */
      _exit(ch == 'x' || c.budget->used != 1000 ? 1 : 0); /* dies holding 600 */
   }
   char ch = 0;
   CHECK(read(to_parent[0], &ch, 1) == 1 && ch == 'y');
   CHECK(a.budget->used == 600);
   CHECK(!pv_shared_budget_charge(a.budget, a.slot, 500));
   CHECK(pv_shared_budget_charge(a.budget, a.slot, 400));
   ch = 'g';
   CHECK(write(to_child[1], &ch, 1) == 1);
   int status;
   CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(a.budget->used == 1000); /* the dead child's 600 are still charged */
   /* the next opener takes them back */
   CHECK(pv_host_budget_open(name, 1000, &again) == 0 && !again.created);
   CHECK(a.budget->used == 400 && pv_shared_budget_charge(again.budget, again.slot, 600));
   pv_host_budget_close(&again); /* gives its 600 back */
   CHECK(a.budget->used == 400);
   pv_host_budget_close(&a);
   for (int i = 0; i < 2; i++) {
      close(to_parent[i]);
      close(to_child[i]);
   }

   /* a file of another layout is not used */
   char path[128];
   snprintf(path, sizeof(path), "/dev/shm/%s", name);
   int fd = open(path, O_RDWR | O_TRUNC);
   CHECK(fd >= 0 && write(fd, "x", 1) == 1);
   close(fd);
   CHECK(pv_host_budget_open(name, 1000, &a) == -EINVAL);
   unlink(path);
}

int
main(void)
{
   CHECK(pv_host_ram_bytes() > 0);

   struct pv_shared_budget *b;
   int fd;
   CHECK(pv_shared_budget_create(1000, 4, &b, &fd) == 0);
   CHECK(pv_shared_budget_create(1000, 0, &b, &fd) < 0);

   /* the limit holds for all slots together */
   CHECK(pv_shared_budget_charge(b, 0, 600));
   CHECK(!pv_shared_budget_charge(b, 1, 500));
   CHECK(pv_shared_budget_charge(b, 1, 400));
   CHECK(!pv_shared_budget_charge(b, 2, 1));
   CHECK(!pv_shared_budget_charge(b, 2, UINT64_MAX));
   pv_shared_budget_release(b, 1, 400);
   CHECK(b->used == 600 && b->slot_used[1] == 0);
   /* releasing more than held never goes below zero */
   pv_shared_budget_release(b, 1, 50);
   CHECK(b->used == 550 && b->slot_used[1] == 0);
   pv_shared_budget_release(b, 0, 550);
   CHECK(b->used == 0);

   /* the area cannot be resized under the server's mapping */
   CHECK(ftruncate(fd, 8) < 0);

   /* a child maps it, charges, and dies without releasing */
   pid_t pid = fork();
   CHECK(pid >= 0);
   if (pid == 0) {
      struct pv_shared_budget *cb;
      uint32_t slots;
      if (pv_shared_budget_map(fd, &cb, &slots) < 0 || slots != 4 ||
          !pv_shared_budget_charge(cb, 3, 700))
         _exit(1);
      _exit(0);
   }
   int status;
   CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
   CHECK(b->used == 700 && !pv_shared_budget_charge(b, 0, 400));
   CHECK(pv_shared_budget_reclaim(b, 3) == 700);
   CHECK(b->used == 0 && pv_shared_budget_charge(b, 0, 400));
   CHECK(pv_shared_budget_reclaim(b, 3) == 0);
   close(fd);
   test_host_budget();
   printf("ok\n");
   return 0;
}
