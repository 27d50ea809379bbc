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

#endif
