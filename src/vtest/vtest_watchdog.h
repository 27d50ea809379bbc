/*
 * The teardown watchdog's arithmetic: how long a client process may take
 * to finish once its connection ended, and what counts against it.
 *
 * A host short of CPU (many guests leaving at once, a software driver, a
 * sanitizer build) makes every teardown slow without any of them being
 * stuck. The time a process spends runnable but waiting for a CPU is
 * therefore credited back to it, up to VTEST_WATCHDOG_CPU_CREDIT_MAX
 * allowances: a process blocked for good (a queue waiting on a semaphore
 * nothing signals) is not runnable and gets no credit, so it is still
 * killed at its allowance.
 */
#ifndef PV_VTEST_WATCHDOG_H
#define PV_VTEST_WATCHDOG_H

#include <stdint.h>
#include <sys/types.h>

/* The most credit for waiting for a CPU, in allowances. */
#define VTEST_WATCHDOG_CPU_CREDIT_MAX 3

/* Milliseconds the main thread of process `pid` has spent runnable but
 * waiting for a CPU since it started (the second field of
 * /proc/PID/schedstat), or -1 when the kernel does not say. */
int64_t vtest_cpu_wait_ms(pid_t pid);

/* Parses the contents of a schedstat file ("RUN_NS WAIT_NS SLICES") into
 * the wait in milliseconds; -1 when it is malformed. */
int64_t vtest_parse_schedstat_wait_ms(const char *text);

/* The credit for `waited_ms` of waiting for a CPU (-1: unknown) against an
 * allowance of `allowance_ms`: the wait, at most
 * VTEST_WATCHDOG_CPU_CREDIT_MAX allowances; 0 when unknown. */
int64_t vtest_watchdog_cpu_credit(int64_t waited_ms, int64_t allowance_ms);

#endif
