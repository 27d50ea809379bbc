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

struct pv_shared_budget {
   uint64_t used;
   uint64_t limit;
   uint64_t slot_used[]; /* what each client slot charged */
};

/* Physical RAM of the host in bytes (0 when unknown). */
uint64_t pv_host_ram_bytes(void);

/* The default budget of everything a server shares between its guests
 * (pv-vtest's --memory-budget, pv-vhost-user-gpu's): 3/4 of the host's RAM,
 * 16 GiB when that is unknown. Device-local heaps are not counted apart:
 * lavapipe's and host-visible memory come out of RAM. */
uint64_t pv_default_memory_budget(void);

/* A budget of `limit` bytes with `slots` client slots in a fresh sealed
 * memfd (close-on-exec). Returns 0 or -errno. */
int pv_shared_budget_create(uint64_t limit, uint32_t slots, struct pv_shared_budget **out, int *fd);

/* Maps a budget from its fd; *slots is derived from the file size. */
int pv_shared_budget_map(int fd, struct pv_shared_budget **out, uint32_t *slots);

/* Charges bytes to the total and to slot: false (nothing charged) when the
 * total would pass the limit. */
bool pv_shared_budget_charge(struct pv_shared_budget *b, uint32_t slot, uint64_t bytes);
void pv_shared_budget_release(struct pv_shared_budget *b, uint32_t slot, uint64_t bytes);

/* After slot's client is gone: takes back what it still held; returns it. */
uint64_t pv_shared_budget_reclaim(struct pv_shared_budget *b, uint32_t slot);

/*
 * A budget shared by processes that share no parent (pv-vhost-user-gpu, one
 * process per VM): a file in /dev/shm (shm_open NAME) that the first process
 * creates (mode 0600, its user) and every later one opens and maps, before
 * it drops its privileges. Each process takes one of its slots, marked with
 * its pid; a process that opens the file takes back the charges of slots
 * whose process is gone (crash, kill -9). The first process sets the limit;
 * later ones keep it.
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

/* Opens (or creates, with limit) the budget /dev/shm/NAME and takes a free
 * slot. NAME: letters, digits, '.', '_', '-'. Returns 0, -EINVAL (bad name,
 * a file of another layout), -ENOSPC (no free slot), or -errno. */
int pv_host_budget_open(const char *name, uint64_t limit, struct pv_host_budget *out);

/* Gives back the slot (and what it still holds) and unmaps the file. */
void pv_host_budget_close(struct pv_host_budget *hb);

#endif
