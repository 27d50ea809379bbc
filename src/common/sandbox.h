/*
 * The sandbox of a process that serves one guest (a pv-vtest client
 * process, pv-vhost-user-gpu), after crosvm's GPU process: private
 * namespaces where the kernel allows, rlimits, an unprivileged user when
 * started as root, no_new_privs, and a seccomp-bpf allowlist.
 *
 * What the allowlist permits and why is in docs/sandbox.md. A system call
 * outside it is not executed: the process writes one line naming it to
 * stderr and exits with PV_SANDBOX_EXIT_STATUS.
 */
#ifndef PV_COMMON_SANDBOX_H
#define PV_COMMON_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#define PV_SANDBOX_EXIT_STATUS 159 /* 128 + SIGSYS */

struct pv_sandbox_config {
   /* Who to run as when started as root (uid 0); NULL: "nobody". Ignored
    * when not root (there is nothing to drop). */
   const char *user;
   /* When dropping to user: also the groups that own the GPU device nodes
    * in /dev/dri and /dev/nvidia* and may read and write them (video,
    * render), so that a hardware host driver opens them as that user; the
    * root group is never added. */
   bool gpu_groups;
   /* The process accepts connections on a listening socket it already
    * holds (pv-vhost-user-gpu: its frontend reconnects). */
   bool allow_accept;
   /* Log name of the process, for the lines the sandbox writes. */
   const char *name;
};

/* Enters the sandbox for the rest of the process's life; call it single-
 * threaded (seccomp applies to the calling thread and its later children;
 * TSYNC covers threads started before, if any). Returns 0, or -errno when a
 * mandatory step failed (user, no_new_privs, seccomp), logged; the caller
 * must then exit. Namespaces the kernel refuses are logged and skipped. */
int pv_sandbox_enter(const struct pv_sandbox_config *cfg);

/* The groups a gpu_groups drop adds: those owning a character device in
 * DEV/dri or DEV/nvidia* that their group may read and write, not the root
 * group, each once (DEV is "/dev"; tests give another). Fills up to max
 * gids; returns how many. */
int pv_sandbox_gpu_groups(const char *dev, gid_t *gids, int max);

/* True when built with pv_sandbox_enter doing something (libseccomp found). */
bool pv_sandbox_available(void);

#endif
