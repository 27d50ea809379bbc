/* Unit test: the log module formats and filters by level. */
#include "common/log.h"
#include "common/shmem.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

int
main(void)
{
   assert(pv_log_enabled(PV_LOG_ERROR));
   pv_info("test", "info %d", 1);

   struct pv_shmem shm;
   int ret = pv_shmem_create(&shm, "pv-test", 10);
   assert(ret == 0);
   assert(shm.size >= 10 && shm.size % pv_page_size() == 0);
   memset(shm.map, 0xab, shm.size);
   pv_shmem_destroy(&shm);
   assert(pv_shmem_create(&shm, "pv-test", 0) < 0);
   printf("ok\n");
   return 0;
}
