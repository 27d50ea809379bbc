/*
 * pvbench process plumbing: spawning workers and servers with their own
 * environment, reading workers' report lines with a deadline, stopping
 * process trees, per-path private /tmp, and RSS of a process tree.
 *
 * Every child gets PR_SET_PDEATHSIG so nothing outlives an aborted pvbench.
 */
#ifndef PVBENCH_RUNNER_H
#define PVBENCH_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Mesa 22.3's venus connects here, always. */
#define PB_VTEST_SOCKET "/tmp/.virgl_test"

struct pb_proc {
   pid_t pid;
   int rep_fd; /* read end of the child's fd 3; -1 when closed */
   int go_fd;  /* write end of the child's fd 4; -1 when closed */
   char buf[4096];
   size_t len;
   bool eof;
   bool reaped;
   int wstatus;
};

/* A NULL-terminated environment: the current one with overrides. */
struct pb_env {
   char **v;
   size_t n, cap;
};

int pb_env_init(struct pb_env *e);
/* Sets (value != NULL) or removes (value == NULL) a variable. */
int pb_env_set(struct pb_env *e, const char *name, const char *value);
void pb_env_fini(struct pb_env *e);

/* Starts file (a path; NULL: argv[0]) with argv and envp. stdout/stderr go to log_fd. With
 * pipes, the child's fd 3 reports to p->rep_fd and fd 4 reads p->go_fd.
 * own_group puts the child in a new process group (servers that fork). */
int pb_spawn(const char *file, char *const argv[], char *const envp[], int log_fd, bool pipes,
             bool own_group, struct pb_proc *p);

/* Reads what is available from each proc's report pipe and calls on_line
 * for every complete line, until every proc with an open pipe has hit EOF,
 * stop() returns true, or deadline (CLOCK_MONOTONIC seconds) passes.
 * Returns 0, 1 when stopped by stop(), or -ETIMEDOUT. */
int pb_pump(struct pb_proc *procs, size_t n, double deadline,
            void (*on_line)(void *data, size_t idx, char *line), bool (*stop)(void *data),
            void *data);

/* Kills (SIGKILL; the whole group when group is true) and reaps. */
void pb_proc_kill(struct pb_proc *p, bool group);
/* Waits for exit up to timeout_s, then kills. Closes the pipes. */
void pb_proc_reap(struct pb_proc *p, double timeout_s, bool group);
/* Describes how a reaped process ended ("exit 1", "signal 11"). */
void pb_proc_describe(const struct pb_proc *p, char *buf, size_t len);
/* True while the process runs (non-blocking reap). */
bool pb_proc_alive(struct pb_proc *p);

/* Starts a vtest server and waits until PB_VTEST_SOCKET accepts a
 * connection. On failure stops it and writes why; returns negative errno. */
int pb_server_start(char *const argv[], char *const envp[], int log_fd, double timeout_s,
                    struct pb_proc *p, char *why, size_t whylen);
/* How long a server stopped with `clients` clients' processes still
 * tearing down gets before it is killed: pv-vtest's teardown watchdog
 * allows each 5 s plus 0.25 s per other teardown, and up to three times
 * that more for time spent waiting for a CPU (src/vtest/vtest_watchdog.h);
 * 8 s beyond that. */
static inline double
pb_server_stop_grace_s(unsigned clients)
{
   return 8.0 + 4.0 * (5.0 + 0.25 * clients);
}

/* SIGTERM to the server alone; after grace_s, SIGKILL to its group. */
void pb_server_stop(struct pb_proc *p, double grace_s);

/* Gives this process a private mount namespace with an empty tmpfs on /tmp
 * so concurrent benchmarks' /tmp/.virgl_test never collide. Returns 0, or
 * negative errno (e.g. -EPERM without CAP_SYS_ADMIN) with why set. */
int pb_private_tmp(char *why, size_t whylen);

/* Sum of the private memory (USS, pb_proc_uss_kb) of pid and all its
 * descendants, KiB; negative errno. */
long pb_tree_uss_kb(pid_t pid);

/* Memory of a server's process tree, KiB. "Guest-shared": pages of
 * PearVisor's shared memory (memfds named "pv-...": device memory, guest
 * blobs, rings, reply streams) that another process (the guest) maps too,
 * a context's memory that USS leaves out because its guest shares it; the
 * memory budget's table (pv-memory-budget, one for all clients) is not
 * counted, and each file range once. "Context processes": the root and
 * the processes whose command name starts with ctx_comm (pv-vtest's
 * client processes name themselves "pv-client N" once they serve a guest;
 * its pre-started ones, which wait for a future guest, are left out). */
struct pb_tree_mem {
   long uss_kb, shared_kb;         /* the whole tree */
   long ctx_uss_kb, ctx_shared_kb; /* the root and the context processes */
   long root_uss_kb;
   unsigned ctx_procs; /* context processes besides the root */
};
int pb_tree_mem(pid_t root, const char *ctx_comm, struct pb_tree_mem *out);

/* Last non-empty line of dirfd/name (for failure reasons), "" when none. */
void pb_file_last_line(int dirfd, const char *name, char *buf, size_t len);

/* A line search in a log file. */
struct pb_find {
   const char *needle;  /* lines containing it; NULL: any line */
   const char *exclude; /* but not this; NULL: none */
   bool with_prev;      /* put the line before (often the cause) in front: "before / line" */
   bool first;          /* the first match, not the last */
};

/* Writes the matching line of dirfd/name into buf, "" when none. */
void pb_file_find(int dirfd, const char *name, const struct pb_find *q, char *buf, size_t len);

double pb_now_s(void);

#endif
