/* Unit test: the shared memory budget, within one process and across a
 * child process that dies holding charges (the server then reclaims). */
#include "common/budget.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/test_check.h"

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
   printf("ok\n");
   return 0;
}
