/*
 * A memory budget shared by processes: a small shared memory area (memfd)
 * that the server creates and every client process maps. It holds the
 * total charged and, per client slot, what that client charged, so that
 * the server can take back the charges of a client process that died
 * without releasing them (crash, watchdog kill).
 *
 * A compromised client can write the area: it can then exhaust or corrupt
 * the budget (deny memory to other clients), but not reach their memory.
 * The area is sealed against resizing; the server never trusts a size read
 * from it.
 */
#ifndef PV_COMMON_BUDGET_H
#define PV_COMMON_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

/* Pools: 0 is host RAM, 1 + i the device-local heaps of the host's
 * discrete GPU i (pearvisor.h's PV_MEMORY_POOL_*). */
#define PV_BUDGET_POOLS 9

struct pv_shared_budget {
   uint64_t used[PV_BUDGET_POOLS];
   /* GPU pools: 0 means the GPU's device-local heap size, which only the
    * renderer knows (it passes it with each charge) */
   uint64_t limit[PV_BUDGET_POOLS];
   uint64_t slot_used[][PV_BUDGET_POOLS]; /* what each client slot charged */
};

/* Physical RAM of the host in bytes (0 when unknown). */
uint64_t pv_host_ram_bytes(void);

/* The default budget of everything a server shares between its guests
 * (pv-vtest's --memory-budget, pv-vhost-user-gpu's): 3/4 of the host's RAM,
 * 16 GiB when that is unknown. It is the RAM pool's: a discrete GPU's
 * device-local heaps are budgeted apart (pv_shared_budget.limit). */
uint64_t pv_default_memory_budget(void);

/* A budget with `slots` client slots in a fresh sealed memfd
 * (close-on-exec): ram_limit bytes for the RAM pool, gpu_limit for each
 * GPU pool (0: each GPU's device-local heap size). Returns 0 or -errno. */
int pv_shared_budget_create(uint64_t ram_limit, uint64_t gpu_limit, uint32_t slots,
                            struct pv_shared_budget **out, int *fd);

/* Maps a budget from its fd; *slots is derived from the file size. */
int pv_shared_budget_map(int fd, struct pv_shared_budget **out, uint32_t *slots);

/* The limit of pool (< PV_BUDGET_POOLS): its own, or heap_size when that
 * is 0 (a GPU pool left to its default); UINT64_MAX when both are 0. */
uint64_t pv_shared_budget_limit(const struct pv_shared_budget *b, uint32_t pool,
                                uint64_t heap_size);

/* Charges bytes to pool's total and to slot's: false (nothing charged) when
 * the total would pass pv_shared_budget_limit(b, pool, heap_size), or pool
 * is out of range. */
bool pv_shared_budget_charge(struct pv_shared_budget *b, uint32_t slot, uint32_t pool,
                             uint64_t bytes, uint64_t heap_size);
void pv_shared_budget_release(struct pv_shared_budget *b, uint32_t slot, uint32_t pool,
                              uint64_t bytes);

/* After slot's client is gone: takes back what it still held in every
 * pool; returns the bytes, all pools together. */
uint64_t pv_shared_budget_reclaim(struct pv_shared_budget *b, uint32_t slot);

/*
 * A budget shared by processes that share no parent (pv-vhost-user-gpu, one
 * process per VM): a file in /dev/shm (shm_open NAME) that the first process
 * creates (mode 0600, its user) and every later one opens and maps, before
 * it drops its privileges. Each process takes one of its slots, marked with
 * its pid; a process that opens the file takes back the charges of slots
 * whose process is gone (crash, kill -9). The first process sets the
 * limits; later ones keep them. The file's layout is versioned (a magic
 * number and the size): a file of another layout, such as one of a build
 * before GPU pools, is refused.
 *
 * Trust: every sharer maps the file writable. A compromised sharer can
 * raise or lower the limit, forge its own or others' charges (deny memory
 * to other VMs, or let them past the limit), or mark slots taken; it cannot
 * reach other processes' memory through it, and no size or offset is ever
 * read from the file (the layout is fixed, the size checked). No fd to it
 * is kept after the mapping: a process that can no longer open the file
 * by path (dropped from its owner, root, to nobody) cannot truncate it
 * under the others' mappings; one that can (running as the file's owner)
 * could make the others fault. A pid reused after a crash keeps that
 * slot's charges until the new process with that pid is gone too.
 */
#define PV_HOST_BUDGET_SLOTS 256

struct pv_host_budget {
   struct pv_shared_budget *budget; /* inside the file's mapping */
   uint32_t slot;                   /* this process's */
   bool created;                    /* this call created the file */
   void *map;
};

/* Opens (or creates, with the limits of pv_shared_budget_create) the
 * budget /dev/shm/NAME and takes a free slot. NAME: letters, digits, '.',
 * '_', '-'. Returns 0, -EINVAL (bad name, a file of another layout),
 * -ENOSPC (no free slot), or -errno. */
int pv_host_budget_open(const char *name, uint64_t ram_limit, uint64_t gpu_limit,
                        struct pv_host_budget *out);

/* Gives back the slot (and what it still holds) and unmaps the file. */
void pv_host_budget_close(struct pv_host_budget *hb);

#endif
