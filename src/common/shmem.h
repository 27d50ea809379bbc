/*
 * Shared memory that can be handed to another process as a file descriptor.
 */
#ifndef PV_COMMON_SHMEM_H
#define PV_COMMON_SHMEM_H

#include <stddef.h>
#include <stdint.h>

struct pv_shmem {
   int fd;    /* memfd, sealed against shrinking */
   void *map; /* MAP_SHARED mapping of the whole size */
   uint64_t size;
};

/* Creates a zero-filled memfd of the given size (rounded up to the page
 * size) and maps it. Returns 0 or a negative errno. */
int pv_shmem_create(struct pv_shmem *shm, const char *name, uint64_t size);

/* Unmaps and closes; safe on a zeroed struct. */
void pv_shmem_destroy(struct pv_shmem *shm);

/* Page size, cached. */
uint64_t pv_page_size(void);

#endif
