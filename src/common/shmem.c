#include "common/shmem.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

uint64_t
pv_page_size(void)
{
   long ps = sysconf(_SC_PAGESIZE);
   return ps > 0 ? (uint64_t)ps : 4096;
}

int
pv_shmem_create(struct pv_shmem *shm, const char *name, uint64_t size)
{
   shm->fd = -1;
   shm->map = NULL;
   shm->size = 0;

   const uint64_t ps = pv_page_size();
   if (size == 0 || size > UINT64_MAX - ps)
      return -EINVAL;
   size = (size + ps - 1) & ~(ps - 1);

   int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
   if (fd < 0)
      return -errno;
   if (ftruncate(fd, (off_t)size) < 0) {
      int err = -errno;
      close(fd);
      return err;
   }
   /* The peer may map the fd; it must never be able to shrink it under us. */
   fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

   void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
   if (map == MAP_FAILED) {
      int err = -errno;
      close(fd);
      return err;
   }
   shm->fd = fd;
   shm->map = map;
   shm->size = size;
   return 0;
}

void
pv_shmem_destroy(struct pv_shmem *shm)
{
   if (shm->map)
      munmap(shm->map, shm->size);
   if (shm->fd >= 0)
      close(shm->fd);
   shm->map = NULL;
   shm->fd = -1;
   shm->size = 0;
}
