/*
 * pvbench: the same Vulkan workloads over each path to the host driver
 *
 *   native     the host ICD, in-process
 *   pearvisor  Mesa venus -> vtest socket -> pv-vtest -> host ICD
 *   virgl      Mesa venus -> vtest socket -> virgl_test_server --venus -> host ICD
 *
 * Each workload runs in a worker: this binary re-executed with --worker and
 * the path's environment (VK_ICD_FILENAMES). For server paths, a fresh
 * server is started per workload inside a private /tmp (mount namespace),
 * since Mesa's venus always connects to /tmp/.virgl_test. A server or worker
 * that fails or hangs is reported as "fails: <why>" and the run goes on.
 *
 * Needs only libvulkan, libc and the files named on the command line; the
 * PNG chart is drawn by bench/plot.py when python3 + matplotlib exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "results.h"
#include "runner.h"
#include "worker.h"

#define TAG "pvbench"
#define DEFAULT_HOST_ICD "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
/* The guest driver runs with Mesa's defaults, as real guests do. Tuned
 * settings (e.g. VN_DRAW_CMD_BATCH_LIMIT=1000: the guest sends every 1000
 * draws instead of only at vkEndCommandBuffer) are measured as extra,
 * labelled rows (--extra-guest-env). */
#define DEFAULT_GUEST_ENV ""
#define MAX_EXTRA_ENV 3
/* The workloads extra rows are measured for unless --extra-workloads says
 * otherwise: the recording-bound ones, where guest settings matter. */
#define DEFAULT_EXTRA_WORKLOADS "draws,drawpush,drawbind,mlchain"

enum path_kind { PATH_NATIVE, PATH_PEARVISOR, PATH_VIRGL };

static const char *const path_names[] = { "native", "pearvisor", "virgl" };

/* Iterations per workload: full run / --quick. */
struct workload_def {
   const char *name;
   unsigned iters, quick_iters;
   unsigned size_mib, quick_size_mib; /* 0: the worker's default */
};

static const struct workload_def workload_defs[] = {
   { "create", 20, 3, 0, 0 },   { "createpaced", 10, 2, 0, 0 }, { "clear", 100, 10, 0, 0 },
   { "frames", 100, 12, 0, 0 }, { "submit", 1000, 50, 0, 0 },   { "draws", 20, 3, 0, 0 },
   { "compute", 10, 2, 32, 4 }, { "upload", 10, 2, 64, 8 },     { "pipeline", 20, 3, 0, 0 },
   { "drawpush", 20, 3, 0, 0 }, { "drawbind", 20, 3, 0, 0 },    { "mlchain", 20, 3, 0, 0 },
   { "ffmpeg", 100, 10, 0, 0 }, { "vkfft", 20, 3, 32, 1 },      { "fairness", 100, 10, 32, 4 },
};

struct options {
   const char *venus_icd, *host_icd, *pv_vtest, *virgl_server, *out, *plot_script;
   const char *server_prefix;
   const char *guest_env;                /* VAR=VAL,... for the venus paths' clients */
   const char *extra_env[MAX_EXTRA_ENV]; /* each: extra rows with these added */
   unsigned nextra;
   char extra_workloads[256];
   unsigned wire_format; /* venus wire format pv-vtest serves: 1 for Mesa 25 */
   bool strict;          /* every path must succeed (smoke tests) */
   char paths[64], workloads[256], clients[64];
   bool quick, plot;
   double timeout_s, setup_timeout_s;
   unsigned client_frames;
   unsigned client_w, client_h; /* --client-frame; 0: 1920x1080 */
   unsigned repeat;
};

struct bench {
   struct options o;
   char logdir[PATH_MAX];
   int logdir_fd;  /* logs are written through it, whatever /tmp is */
   int host_ns_fd; /* the mount namespace to return to after a path */
   int cwd_fd;
   char abs[5][PATH_MAX]; /* absolute forms of the files given */
   struct pb_results res;
   enum path_kind kinds[PB_MAX_PATHS];
   bool ns_private; /* this process is in a private /tmp now */
   unsigned timeouts[PB_MAX_PATHS];
   /* While extra rows run: their guest settings (else NULL) and number. */
   const char *variant;
   unsigned variant_idx;
   unsigned round;      /* 0-based; logs of later rounds get "-r<N>" */
   char frame_name[24]; /* the clients' frame: "1080p" or WxH */
};

/* snprintf for reasons: cutting a long reason short is intended. */
static void fmt_status(char *dst, size_t len, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));

static void
fmt_status(char *dst, size_t len, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(dst, len, fmt, ap);
   va_end(ap);
}

/* ---- one group of workers (one workload on one path) ---- */

struct wstate {
   bool ready, done, checked, check_ok, error;
   bool skipped; /* cannot run here; why says why */
   char why[256];
   double t_done, loop_us;
   long uss_before, uss_after; /* private memory (USS), KiB */
};

struct group {
   struct bench *b;
   unsigned path;
   const char *workload; /* status key */
   const char *file;     /* names its logs: no spaces */
   bool collect;         /* metric/sample lines go into the results */
   struct pb_proc *procs;
   struct wstate *ws;
   size_t n, started;
   bool waiting_ready;
   char server_log[96];   /* name in the log dir; "" without a server */
   char server_fail[200]; /* the server's line saying it dropped a client */
   struct pb_proc *server;
   bool sample_mem;
   bool mem_sampled;
   long peak_kb;
   long peak_shared_kb; /* its memory shared with the guests at the same moment */
};

static bool
all_ready_or_gone(void *data)
{
   struct group *g = data;
   if (!g->waiting_ready)
      return false;
   for (size_t i = 0; i < g->n; i++) {
      if (!g->ws[i].ready && !g->procs[i].eof)
         return false;
   }
   return true;
}

/* A worker's metric id as the results know it: extra rows get their guest
 * settings appended, "draws [VN_DRAW_CMD_BATCH_LIMIT=1000]". */
static void
row_id(const struct bench *b, const char *id, char *out, size_t len)
{
   if (b->variant)
      snprintf(out, len, "%s [%s]", id, b->variant);
   else
      snprintf(out, len, "%s", id);
}

static void
on_metric_line(struct group *g, char *rest)
{
   char id[40], unit[12], rid[PB_ID_LEN], name[PB_NAME_LEN];
   int hib, off = 0;
   if (sscanf(rest, "%39s %11s %d %n", id, unit, &hib, &off) < 3 || !off)
      return;
   row_id(g->b, id, rid, sizeof(rid));
   row_id(g->b, rest + off, name, sizeof(name));
   pb_metric_get(&g->b->res, g->workload, rid, unit, hib != 0, name);
}

/* "serial TOTAL REC": TOTAL is recording-bound; REC is its recording part. */
static void
on_serial_line(struct group *g, char *rest)
{
   char id[40], rec[40], rid[PB_ID_LEN], rrec[PB_ID_LEN];
   if (sscanf(rest, "%39s %39s", id, rec) != 2)
      return;
   row_id(g->b, id, rid, sizeof(rid));
   row_id(g->b, rec, rrec, sizeof(rrec));
   struct pb_metric *m = pb_metric_find(&g->b->res, rid);
   if (m && !strcmp(m->workload, g->workload))
      snprintf(m->serial_rec, sizeof(m->serial_rec), "%s", rrec);
}

static void
on_sample_line(struct group *g, char *rest)
{
   char id[40], rid[PB_ID_LEN];
   double v;
   if (sscanf(rest, "%39s %lf", id, &v) != 2)
      return;
   row_id(g->b, id, rid, sizeof(rid));
   struct pb_metric *m = pb_metric_find(&g->b->res, rid);
   /* A workload that failed in an earlier round stays failed: its later
    * rounds' samples must not show as its figures. */
   const char *st = pb_get_status(&g->b->res, g->workload, g->path);
   if (m && !strcmp(m->workload, g->workload) && (!st[0] || !strcmp(st, "ok")))
      pb_series_add(&m->s[g->path], v);
}

static void sample_server_memory(struct group *g);

static void
on_line(void *data, size_t idx, char *line)
{
   struct group *g = data;
   struct wstate *w = &g->ws[idx];
   char *rest = strchr(line, ' ');
   rest = rest ? rest + 1 : line + strlen(line);
   if (!strcmp(line, "ready")) {
      w->ready = true;
   } else if (!strcmp(line, "done")) {
      w->done = true;
      w->t_done = pb_now_s();
      sample_server_memory(g); /* a no-op once measured before go */
   } else if (!strncmp(line, "check ", 6)) {
      w->checked = true;
      w->check_ok = !strcmp(rest, "ok");
      if (!w->check_ok && !strncmp(rest, "fail ", 5))
         snprintf(w->why, sizeof(w->why), "wrong output: %s", rest + 5);
   } else if (!strncmp(line, "skip ", 5)) {
      w->skipped = true;
      snprintf(w->why, sizeof(w->why), "%s", rest);
   } else if (!strncmp(line, "error ", 6)) {
      w->error = true;
      snprintf(w->why, sizeof(w->why), "%s", rest);
   } else if (!strncmp(line, "info device ", 12)) {
      struct pb_path_info *pi = &g->b->res.paths[g->path];
      if (!pi->device[0])
         snprintf(pi->device, sizeof(pi->device), "%s", line + 12);
   } else if (!strncmp(line, "value ", 6)) {
      char key[32];
      double v;
      if (sscanf(rest, "%31s %lf", key, &v) == 2) {
         if (!strcmp(key, "loop_us"))
            w->loop_us = v;
         else if (!strcmp(key, "uss_before_kb"))
            w->uss_before = (long)v;
         else if (!strcmp(key, "uss_after_kb"))
            w->uss_after = (long)v;
      }
   } else if (g->collect && !strncmp(line, "metric ", 7)) {
      on_metric_line(g, rest);
   } else if (g->collect && !strncmp(line, "sample ", 7)) {
      on_sample_line(g, rest);
   } else if (g->collect && !strncmp(line, "serial ", 7)) {
      on_serial_line(g, rest);
   }
}

/* The reason a worker did not succeed, or "" when it did. */
static void
worker_failure(const struct group *g, size_t i, const char *log_name, char *buf, size_t len)
{
   const struct wstate *w = &g->ws[i];
   char how[96], last[200];
   pb_proc_describe(&g->procs[i], how, sizeof(how));
   bool clean_exit =
      g->procs[i].reaped && WIFEXITED(g->procs[i].wstatus) && WEXITSTATUS(g->procs[i].wstatus) == 0;
   if (w->error || (w->checked && !w->check_ok)) {
      snprintf(buf, len, "%s", w->why);
   } else if (!clean_exit) {
      pb_file_last_line(g->b->logdir_fd, log_name, last, sizeof(last));
      snprintf(buf, len, "worker %.80s%s%.150s", how, last[0] ? "; log: " : "", last);
   } else if (!w->checked) {
      snprintf(buf, len, "worker reported no correctness check");
   } else {
      buf[0] = '\0';
   }
}

struct group_out {
   char status[PB_STATUS_LEN];
   double go_s, last_done_s;
   long server_peak_kb;   /* server tree's private memory (USS) peak while clients ran */
   long server_shared_kb; /* its pv-... memory shared with the guests then */
};

static void
build_worker_argv(const struct bench *b, const char *wname, unsigned iters, unsigned size,
                  char store[4][16], char *argv[12])
{
   snprintf(store[0], 16, "%u", iters);
   snprintf(store[1], 16, "%u", size);
   snprintf(store[2], 16, "%ux%u", b->o.client_w, b->o.client_h);
   unsigned i = 0;
   /* The name Mesa's venus gives its context on the host (its process
    * name); the binary itself is exec'd as /proc/self/exe. */
   argv[i++] = "pvbench-worker";
   argv[i++] = "--worker";
   argv[i++] = (char *)wname;
   argv[i++] = "--iters";
   argv[i++] = store[0];
   argv[i++] = "--size";
   argv[i++] = store[1];
   /* the clients workload's frame (the anchor runs the same loop) */
   if (b->o.client_w && !strcmp(wname, "clientloop")) {
      argv[i++] = "--frame";
      argv[i++] = store[2];
   }
   argv[i] = NULL;
}

/* Fails the group fast when the server logged that it dropped a client:
 * Mesa's venus then waits forever. */
static bool
server_dropped_client(struct group *g)
{
   if (!g->server_log[0] || g->server_fail[0])
      return g->server_fail[0] != '\0';
   /* virglrenderer's vtest server: "client failed: VTEST_CLIENT_ERROR_...";
    * INPUT_READ is what it says when a client simply disconnects. */
   const struct pb_find q = {
      .needle = "client failed", .exclude = "INPUT_READ", .with_prev = true, .first = true
   };
   pb_file_find(g->b->logdir_fd, g->server_log, &q, g->server_fail, sizeof(g->server_fail));
   return g->server_fail[0] != '\0';
}

/* A server's memory for its contexts (KiB): [0] private (USS), [1] shared
 * with its guests (pb_tree_mem). pv-vtest: the server process and its
 * client processes serving guests ("pv-client N"), not the pre-started
 * ones, which wait for future guests (with a guest's recipe, each holds an
 * instance and device made for the next one: the pool's cost, not a
 * context's). Other servers: the whole process tree. */
static void
server_memory_kb(const struct bench *b, unsigned path, pid_t pid, long out[2])
{
   struct pb_tree_mem m;
   const char *ctx_comm = b->kinds[path] == PATH_PEARVISOR ? "pv-client" : NULL;
   out[0] = out[1] = 0;
   if (pb_tree_mem(pid, ctx_comm, &m))
      return;
   out[0] = ctx_comm ? m.ctx_uss_kb : m.uss_kb;
   out[1] = ctx_comm ? m.ctx_shared_kb : m.shared_kb;
}

/* The server's memory (server_memory_kb), once: right before go, when every
 * context is set up and has drawn (else at the first client's end). Once, because reading
 * smaps_rollup walks each process's mappings under its mmap lock: sampled
 * every 100 ms and at every client's end, it slowed 16-64 NVIDIA clients'
 * frames (total FPS fell to a third on an H200). */
static void
sample_server_memory(struct group *g)
{
   if (!g->server || !g->sample_mem || g->mem_sampled)
      return;
   g->mem_sampled = true;
   long kb[2];
   server_memory_kb(g->b, g->path, g->server->pid, kb);
   if (kb[0] > g->peak_kb)
      g->peak_kb = kb[0];
   if (kb[1] > g->peak_shared_kb)
      g->peak_shared_kb = kb[1];
}

static bool
stop_run(void *data)
{
   return server_dropped_client(data);
}

static bool
stop_setup(void *data)
{
   return server_dropped_client(data) || all_ready_or_gone(data);
}

static void
spawn_workers(struct group *g, const char *wname, unsigned iters, unsigned size, char *const envp[],
              const char *log_name, struct group_out *out)
{
   char store[4][16], *argv[12];
   build_worker_argv(g->b, wname, iters, size, store, argv);
   int log_fd =
      openat(g->b->logdir_fd, log_name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
   for (g->started = 0; g->started < g->n; g->started++) {
      /* Our own binary, even if its path is hidden by the private /tmp. */
      int err = pb_spawn("/proc/self/exe", argv, envp, log_fd, true, false, &g->procs[g->started]);
      if (err) {
         fmt_status(out->status, sizeof(out->status), "fails: cannot start worker: %s",
                    strerror(-err));
         break;
      }
   }
   if (log_fd >= 0)
      close(log_fd);
}

/* The server tree's private memory once it stops changing (pv-vtest
 * starts client processes ahead, which load the driver while we look):
 * sampled every 100 ms until two samples agree within 1%, at most 5 s. */
static long
settled_tree_uss_kb(pid_t pid)
{
   long last = pb_tree_uss_kb(pid);
   for (int i = 0; i < 50; i++) {
      struct timespec ts = { 0, 100 * 1000 * 1000 };
      nanosleep(&ts, NULL);
      long kb = pb_tree_uss_kb(pid);
      if (kb < 0 || (last >= 0 && labs(kb - last) * 100 <= last))
         return kb < 0 ? last : kb;
      last = kb;
   }
   return last;
}

/* Runs n workers of one workload: set-up until every worker is ready (with
 * its own deadline, so a path that hangs in set-up is given up on soon),
 * then the go signal and the timed part. */
static int
pump_group(struct group *g, struct pb_proc *server, double setup_s, double run_s,
           struct group_out *out)
{
   g->waiting_ready = true;
   int pr = pb_pump(g->procs, g->n, pb_now_s() + setup_s, on_line, stop_setup, g);
   g->waiting_ready = false;
   if (pr < 0)
      return pr;
   g->server = server;
   /* pv-vtest refills its pool of pre-started processes as clients take
    * them: let the refill finish loading the driver, so that the peak
    * holds the clients' contexts, not a process half-way through it. */
   if (server && g->sample_mem)
      (void)settled_tree_uss_kb(server->pid);
   /* Every client has set up and drawn its warm-up frames: measure now,
    * while nothing runs, rather than disturb the timed loops. */
   sample_server_memory(g);
   out->go_s = pb_now_s();
   for (size_t i = 0; i < g->n; i++) {
      if (g->ws[i].ready && write(g->procs[i].go_fd, "g", 1) != 1)
         g->ws[i].ready = false;
   }
   if (server_dropped_client(g))
      return 1;
   pr = pb_pump(g->procs, g->n, pb_now_s() + run_s, on_line, stop_run, g);
   out->server_peak_kb = g->peak_kb;
   out->server_shared_kb = g->peak_shared_kb;
   return pr;
}

static void
group_status(struct group *g, struct pb_proc *server, const char *log_name, int pr, double setup_s,
             double run_s, struct group_out *out)
{
   size_t not_ready = 0, not_done = 0;
   for (size_t i = 0; i < g->started; i++) {
      not_ready += !g->ws[i].ready;
      not_done += !g->ws[i].done;
   }
   char srv[96] = "";
   if (server && !pb_proc_alive(server)) {
      char how[64];
      pb_proc_describe(server, how, sizeof(how));
      snprintf(srv, sizeof(srv), " (server %s)", how);
   }
   if (g->server_fail[0]) {
      fmt_status(out->status, sizeof(out->status), "fails: server dropped a client: %.200s%.80s",
                 g->server_fail, srv);
      return;
   }
   if (pr == -ETIMEDOUT) {
      char last[160] = "";
      if (server)
         pb_file_last_line(g->b->logdir_fd, g->server_log, last, sizeof(last));
      if (not_ready)
         fmt_status(out->status, sizeof(out->status),
                    "fails: hangs in set-up: %zu/%zu workers not ready after %.0f s%.80s%s%.100s",
                    not_ready, g->n, setup_s, srv, last[0] ? "; server log: " : "", last);
      else
         fmt_status(out->status, sizeof(out->status),
                    "fails: hangs: %zu/%zu workers not done after %.0f s%.80s%s%.100s", not_done,
                    g->n, run_s, srv, last[0] ? "; server log: " : "", last);
      g->b->timeouts[g->path]++;
      return;
   }
   for (size_t i = 0; i < g->n; i++) {
      if (g->ws[i].skipped) {
         fmt_status(out->status, sizeof(out->status), "skipped: %s", g->ws[i].why);
         return;
      }
   }
   for (size_t i = 0; i < g->n; i++) {
      char why[PB_STATUS_LEN - 16], err[200] = "";
      worker_failure(g, i, log_name, why, sizeof(why));
      if (why[0]) {
         /* The server usually says why a client broke. */
         if (server)
            pb_file_find(g->b->logdir_fd, g->server_log,
                         &(const struct pb_find){ .needle = "error", .first = true }, err,
                         sizeof(err));
         fmt_status(out->status, sizeof(out->status), "fails: %s%s%s%s%s",
                    g->n > 1 ? "a client: " : "", why, srv, err[0] ? "; server: " : "", err);
         return;
      }
   }
   fmt_status(out->status, sizeof(out->status), "ok");
}

static void
run_group(struct group *g, const char *wname, unsigned iters, unsigned size, char *const envp[],
          struct pb_proc *server, double setup_s, double run_s, struct group_out *out)
{
   char log_name[96];
   memset(out, 0, sizeof(*out));
   snprintf(log_name, sizeof(log_name), "%s-%s.log", path_names[g->b->kinds[g->path]], g->file);
   spawn_workers(g, wname, iters, size, envp, log_name, out);
   int pr = out->status[0] ? -ECHILD : pump_group(g, server, setup_s, run_s, out);
   for (size_t i = 0; i < g->started; i++) {
      /* Workers that finished normally exit at once; the rest are stuck. */
      if (pr == 0)
         pb_proc_reap(&g->procs[i], 10.0, false);
      else
         pb_proc_kill(&g->procs[i], false);
      if (g->ws[i].t_done > out->last_done_s)
         out->last_done_s = g->ws[i].t_done;
   }
   if (!out->status[0])
      group_status(g, server, log_name, pr, setup_s, run_s, out);
}

/* pv-vtest exits non-zero at its stop when one of its client processes
 * failed: killed by the teardown watchdog, crashed or stopped by its
 * sandbox. Every guest may have passed its checks while the host did not,
 * so the path fails; so does a server that had to be killed. */
static void
check_server_stop(const struct bench *b, unsigned k, const struct pb_proc *server,
                  const char *log_name, struct group_out *out)
{
   if (k != PATH_PEARVISOR || strcmp(out->status, "ok"))
      return;
   if (server->reaped && WIFEXITED(server->wstatus) && WEXITSTATUS(server->wstatus) == 0)
      return;
   char how[96], err[160];
   pb_proc_describe(server, how, sizeof(how));
   err[0] = '\0';
   pb_file_find(b->logdir_fd, log_name, &(const struct pb_find){ .needle = "error", .first = true },
                err, sizeof(err));
   fmt_status(out->status, sizeof(out->status), "fails: the server at its stop: %s%s%s", how,
              err[0] ? "; its first error: " : "", err);
}

/* ---- paths ---- */

/* The guest driver's settings (--guest-env, VAR=VAL,...): both venus paths
 * get the same. With `server`, only the list's PV_* variables (PearVisor's
 * own settings, e.g. PV_RING_SPIN_US=0 in an extra row), which go to the server
 * instead of the guest; without, the others. -EINVAL for a malformed list. */
static int
set_env_list(const char *list, bool server, struct pb_env *e)
{
   char copy[256];
   if (snprintf(copy, sizeof(copy), "%s", list ? list : "") >= (int)sizeof(copy))
      return -EINVAL;
   for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(t, '=');
      if (!eq || eq == t)
         return -EINVAL;
      *eq = '\0';
      if ((strncmp(t, "PV_", 3) == 0) != server)
         continue;
      int err = pb_env_set(e, t, eq + 1);
      if (err)
         return err;
   }
   return 0;
}

static int
set_guest_env(const char *list, struct pb_env *e)
{
   return set_env_list(list, false, e);
}

static int
path_env(const struct bench *b, enum path_kind k, bool for_server, struct pb_env *e)
{
   int err = pb_env_init(e);
   const char *icd = (k == PATH_NATIVE || for_server) ? b->o.host_icd : b->o.venus_icd;
   /* Newer loaders read VK_DRIVER_FILES first; set both, drop additions. */
   if (!err)
      err = pb_env_set(e, "VK_ICD_FILENAMES", icd);
   if (!err)
      err = pb_env_set(e, "VK_DRIVER_FILES", icd);
   if (!err)
      err = pb_env_set(e, "VK_ADD_DRIVER_FILES", NULL);
   if (!err)
      err = pb_env_set(e, "VN_DEBUG", (k == PATH_NATIVE || for_server) ? NULL : "vtest");
   if (!err && k != PATH_NATIVE && !for_server)
      err = set_guest_env(b->o.guest_env, e);
   if (!err && k != PATH_NATIVE && b->variant)
      err = set_env_list(b->variant, for_server, e);
   return err;
}

#define SERVER_ARGV_MAX 40

/* The largest count in --clients (0 when none parses). */
static unsigned
max_client_count(const struct bench *b)
{
   unsigned most = 0;
   for (const char *p = b->o.clients; *p;) {
      char *end;
      unsigned long n = strtoul(p, &end, 10);
      if (end == p) {
         p++;
         continue;
      }
      if (n > most && n < 100000)
         most = (unsigned)n;
      p = end;
   }
   return most;
}

/* The server command: --server-prefix words (with %w -> workload, for
 * per-workload profiles), then the server and its options. */
static void
server_argv(const struct bench *b, enum path_kind k, const char *workload, char store[1024],
            char *argv[SERVER_ARGV_MAX])
{
   unsigned i = 0;
   size_t used = 0;
   const char *p = b->o.server_prefix ? b->o.server_prefix : "";
   while (*p && i < SERVER_ARGV_MAX - 8) {
      while (*p == ' ')
         p++;
      if (!*p)
         break;
      argv[i++] = store + used;
      for (; *p && *p != ' ' && used < 1000; p++) {
         if (p[0] == '%' && p[1] == 'w') {
            int n = snprintf(store + used, 1024 - used, "%s", workload);
            used += n > 0 ? (size_t)n : 0;
            if (used > 1000)
               used = 1000;
            p++;
         } else {
            store[used++] = *p;
         }
      }
      store[used++] = '\0';
   }
   if (k == PATH_PEARVISOR) {
      argv[i++] = (char *)b->o.pv_vtest;
      if (b->o.wire_format) {
         /* Mesa 25 reads VTEST_SOCKET_NAME, else the same default path */
         argv[i++] = "--socket";
         argv[i++] = "none";
         argv[i++] = "--socket-wire-format-1";
      } else {
         argv[i++] = "--socket";
      }
      argv[i++] = PB_VTEST_SOCKET;
      /* pv-vtest admits 64 clients by default; --clients may ask for more.
       * Its limit counts processes still tearing down (they hold a device),
       * so leave room for the connections of the run before. */
      unsigned most = max_client_count(b);
      if (most > 64 && used < 1000) {
         most += 32;
         int n = snprintf(store + used, 1024 - used, "%u", most);
         if (n > 0 && used + (size_t)n < 1024) {
            argv[i++] = "--max-clients";
            argv[i++] = store + used;
            used += (size_t)n + 1;
         }
      }
   } else {
      argv[i++] = (char *)b->o.virgl_server;
      argv[i++] = "--venus";
      argv[i++] = "--use-egl-surfaceless";
      /* Its default socket is PB_VTEST_SOCKET; virglrenderer 0.10's
       * --socket-path takes its value only as --socket-path=PATH. */
   }
   argv[i] = NULL;
}

/* Why a path cannot run at all, or NULL. */
static const char *
path_precheck(const struct bench *b, enum path_kind k, char *buf, size_t len)
{
   if (access(b->o.host_icd, R_OK)) {
      snprintf(buf, len, "fails: host ICD %s: %s", b->o.host_icd, strerror(errno));
      return buf;
   }
   if (k == PATH_NATIVE)
      return NULL;
   if (!b->o.venus_icd) {
      snprintf(buf, len, "fails: no venus ICD given (--icd)");
      return buf;
   }
   if (access(b->o.venus_icd, R_OK)) {
      snprintf(buf, len, "fails: venus ICD %s: %s", b->o.venus_icd, strerror(errno));
      return buf;
   }
   const char *srv = k == PATH_PEARVISOR ? b->o.pv_vtest : b->o.virgl_server;
   if (!srv || access(srv, X_OK)) {
      snprintf(buf, len, "fails: server %s not found", srv ? srv : "(none)");
      return buf;
   }
   return NULL;
}

/* Runs one workload (n workers) on one path, with a fresh server when the
 * path has one. */
#define MAX_ANCHORED_CLIENTS 64

/* An idle client holding one context, so the server's baseline memory
 * already includes what is loaded once per server (the host driver), not
 * per context. Returns 0 once it is set up. */
static int
anchor_start(struct bench *b, unsigned path, const char *workload, char *const envp[],
             struct group *a, struct pb_proc *proc, struct wstate *ws, char *why, size_t len)
{
   struct group_out o;
   char log_name[96];
   memset(a, 0, sizeof(*a));
   memset(ws, 0, sizeof(*ws));
   memset(&o, 0, sizeof(o));
   a->b = b;
   a->path = path;
   a->workload = "anchor";
   a->file = "anchor";
   a->n = 1;
   a->procs = proc;
   a->ws = ws;
   /* The server log of the group it anchors: fail fast when it drops us. */
   snprintf(a->server_log, sizeof(a->server_log), "%s-%s-server.log", path_names[b->kinds[path]],
            workload);
   snprintf(log_name, sizeof(log_name), "%s-%s-anchor.log", path_names[b->kinds[path]], workload);
   spawn_workers(a, "clientloop", 0, 0, envp, log_name, &o);
   if (o.status[0]) {
      fmt_status(why, len, "anchor client: %s", o.status);
      return -ECHILD;
   }
   a->waiting_ready = true;
   pb_pump(proc, 1, pb_now_s() + b->o.setup_timeout_s, on_line, stop_setup, a);
   a->waiting_ready = false;
   if (!ws->ready) {
      pb_proc_kill(proc, false);
      if (a->server_fail[0])
         fmt_status(why, len, "server dropped a client: %s", a->server_fail);
      else
         fmt_status(why, len, "anchor client not set up: %s", ws->why[0] ? ws->why : "hangs");
      return -ECHILD;
   }
   return 0;
}

/* Closing its go pipe without the byte makes the anchor exit at once,
 * whatever state its server left it in. */
static void
anchor_stop(struct group *a)
{
   close(a->procs[0].go_fd);
   a->procs[0].go_fd = -1;
   pb_proc_reap(&a->procs[0], 5.0, false);
}

/* `workload` names the logs (and %w); `key` is the results' workload. */
static void
run_on_path(struct bench *b, unsigned path, const char *workload, const char *key,
            const char *wname, unsigned n, unsigned iters, unsigned size, bool collect,
            double setup_s, double run_s, struct group *g, struct group_out *out,
            long server_idle_kb[2])
{
   /* Memory per context is measured for groups of clients only; pv-vtest
    * takes at most 64 clients, so 64 clients go without the anchor. */
   const bool anchor = !collect && n < MAX_ANCHORED_CLIENTS;
   struct group ag;
   struct pb_proc aproc;
   struct wstate aws;
   bool have_anchor = false;
   enum path_kind k = b->kinds[path];
   struct pb_env wenv, senv;
   struct pb_proc server;
   bool have_server = false;
   memset(out, 0, sizeof(*out));
   memset(&server, 0, sizeof(server));
   memset(g, 0, sizeof(*g));
   server_idle_kb[0] = server_idle_kb[1] = 0;
   if (path_env(b, k, false, &wenv) || path_env(b, k, true, &senv)) {
      fmt_status(out->status, sizeof(out->status), "fails: out of memory");
      return;
   }
   if (k != PATH_NATIVE) {
      char *argv[SERVER_ARGV_MAX], why[200], store[1024];
      char *log_name = g->server_log;
      server_argv(b, k, workload, store, argv);
      snprintf(log_name, sizeof(g->server_log), "%s-%s-server.log", path_names[k], workload);
      int log_fd =
         openat(b->logdir_fd, log_name, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      int err = pb_server_start(argv, senv.v, log_fd, 10.0, &server, why, sizeof(why));
      if (log_fd >= 0)
         close(log_fd);
      if (err) {
         char last[160];
         pb_file_last_line(b->logdir_fd, log_name, last, sizeof(last));
         fmt_status(out->status, sizeof(out->status), "fails: %.150s%s%.120s", why,
                    last[0] ? "; log: " : "", last);
         pb_env_fini(&wenv);
         pb_env_fini(&senv);
         return;
      }
      have_server = true;
   }
   /* Natively too: the anchor maps the driver's code, so that pages any
    * second process maps (code, read-only data) are shared, not private,
    * on every path. */
   if (anchor) {
      char why[200];
      if (anchor_start(b, path, workload, wenv.v, &ag, &aproc, &aws, why, sizeof(why))) {
         fmt_status(out->status, sizeof(out->status), "fails: %s", why);
         if (have_server)
            pb_server_stop(&server, pb_server_stop_grace_s(0));
         pb_env_fini(&wenv);
         pb_env_fini(&senv);
         return;
      }
      have_anchor = true;
   }
   if (have_server) {
      (void)settled_tree_uss_kb(server.pid);
      server_memory_kb(b, path, server.pid, server_idle_kb);
   }
   g->b = b;
   g->path = path;
   g->workload = key;
   g->file = workload;
   g->collect = collect;
   g->sample_mem = !collect;
   g->n = n;
   g->procs = calloc(n, sizeof(*g->procs));
   g->ws = calloc(n, sizeof(*g->ws));
   if (!g->procs || !g->ws)
      fmt_status(out->status, sizeof(out->status), "fails: out of memory");
   else
      run_group(g, wname, iters, size, wenv.v, have_server ? &server : NULL, setup_s, run_s, out);
   if (have_anchor)
      anchor_stop(&ag);
   if (have_server) {
      pb_server_stop(&server, pb_server_stop_grace_s(n));
      check_server_stop(b, k, &server, g->server_log, out);
   }
   pb_env_fini(&wenv);
   pb_env_fini(&senv);
}

static void
group_free(struct group *g)
{
   free(g->procs);
   free(g->ws);
   g->procs = NULL;
   g->ws = NULL;
}

/* With --repeat, one failing round fails the workload for good. */
static void
record_status(struct bench *b, const char *workload, unsigned path, const char *status)
{
   const char *prev = pb_get_status(&b->res, workload, path);
   if (!prev[0] || !strcmp(prev, "ok"))
      pb_set_status(&b->res, workload, path, status);
}

/* The results' workload of d: its name, or for extra rows "name [settings]";
 * `file` names its logs ("name-x1": no spaces for --server-prefix's %w). */
static void
workload_key(const struct bench *b, const struct workload_def *d, char key[PB_WL_LEN],
             char file[64])
{
   char round[16] = "";
   row_id(b, d->name, key, PB_WL_LEN);
   if (b->round)
      snprintf(round, sizeof(round), "-r%u", b->round + 1);
   if (b->variant)
      snprintf(file, 64, "%s-x%u%s", d->name, b->variant_idx + 1, round);
   else
      snprintf(file, 64, "%s%s", d->name, round);
}

static void
run_workload(struct bench *b, unsigned path, const struct workload_def *d)
{
   struct group g;
   struct group_out out;
   long idle[2];
   char key[PB_WL_LEN], file[64];
   unsigned iters = b->o.quick ? d->quick_iters : d->iters;
   unsigned size = b->o.quick ? d->quick_size_mib : d->size_mib;
   double t0 = pb_now_s();
   workload_key(b, d, key, file);
   run_on_path(b, path, file, key, d->name, 1, iters, size, true, b->o.setup_timeout_s,
               b->o.timeout_s, &g, &out, idle);
   group_free(&g);
   record_status(b, key, path, out.status);
   printf("  %-10s %-10s %-6.1fs %s\n", path_names[b->kinds[path]], key, pb_now_s() - t0,
          out.status);
   fflush(stdout);
}

static void
add_single(struct bench *b, const char *workload, const char *id, const char *unit, bool hib,
           const char *name, unsigned path, double v)
{
   char rid[PB_WL_LEN], rname[256];
   row_id(b, id, rid, sizeof(rid));
   row_id(b, name, rname, sizeof(rname));
   struct pb_metric *m = pb_metric_get(&b->res, workload, rid, unit, hib, rname);
   if (m)
      pb_series_add(&m->s[path], v);
}

/* N clients, each running the clear loop at once: per-client and total FPS,
 * host memory per context. */
static void
run_clients(struct bench *b, unsigned path, unsigned n)
{
   char wl[PB_WL_LEN], id[40], name[120], base[24];
   struct group g;
   struct group_out out;
   long idle_kb[2];
   unsigned frames = b->o.client_frames;
   double t0 = pb_now_s();
   char file[64], round[16] = "";
   snprintf(base, sizeof(base), "clients%u", n);
   row_id(b, base, wl, sizeof(wl));
   if (b->round)
      snprintf(round, sizeof(round), "-r%u", b->round + 1);
   if (b->variant)
      snprintf(file, sizeof(file), "%s-x%u%s", base, b->variant_idx + 1, round);
   else
      snprintf(file, sizeof(file), "%s%s", base, round);
   run_on_path(b, path, file, wl, "clientloop", n, frames, 0, false, b->o.setup_timeout_s + 1.0 * n,
               b->o.timeout_s + 1.0 * n, &g, &out, idle_kb);
   if (!strcmp(out.status, "ok")) {
      snprintf(id, sizeof(id), "%s_fps", base);
      snprintf(name, sizeof(name), "%u clients: per-client FPS (clear %s + wait)", n,
               b->frame_name);
      for (size_t i = 0; i < n; i++) {
         if (g.ws[i].loop_us > 0)
            add_single(b, wl, id, "fps", true, name, path, frames * 1e6 / g.ws[i].loop_us);
      }
      snprintf(id, sizeof(id), "%s_total", base);
      snprintf(name, sizeof(name), "%u clients: total FPS", n);
      double wall = out.last_done_s - out.go_s;
      if (wall > 0)
         add_single(b, wl, id, "fps", true, name, path, n * frames / wall);
      /* Private memory (USS): native, each client's own growth (the
       * driver lives in it); servers, the growth per client of what
       * server_memory_kb counts (a client process is entirely its
       * context's). */
      double mem_kb = 0, shared_kb = 0;
      if (b->kinds[path] == PATH_NATIVE) {
         for (size_t i = 0; i < n; i++)
            mem_kb += (double)(g.ws[i].uss_after - g.ws[i].uss_before) / n;
      } else {
         mem_kb = (double)(out.server_peak_kb - idle_kb[0]) / n;
         shared_kb = (double)(out.server_shared_kb - idle_kb[1]) / n;
      }
      snprintf(id, sizeof(id), "%s_uss", base);
      snprintf(name, sizeof(name), "%u clients: host private memory (USS) per context", n);
      add_single(b, wl, id, "MiB", false, name, path, mem_kb / 1024.0);
      /* A server's device memory, blobs and rings that its guest maps too
       * are shared pages, left out of USS; a native process's own memory is
       * private. Counted here as the context's (bench/README.md). */
      snprintf(id, sizeof(id), "%s_hostmem", base);
      snprintf(name, sizeof(name),
               "%u clients: host memory per context (USS + memory shared with its guest)", n);
      add_single(b, wl, id, "MiB", false, name, path, (mem_kb + shared_kb) / 1024.0);
   }
   group_free(&g);
   record_status(b, wl, path, out.status);
   printf("  %-10s %-10s %-6.1fs %s\n", path_names[b->kinds[path]], wl, pb_now_s() - t0,
          out.status);
   fflush(stdout);
}

static bool
list_has(const char *list, const char *name)
{
   size_t n = strlen(name);
   for (const char *p = list; *p;) {
      const char *e = strchr(p, ',');
      size_t l = e ? (size_t)(e - p) : strlen(p);
      if (l == n && !strncmp(p, name, n))
         return true;
      p += l + (e ? 1 : 0);
   }
   return false;
}

/* True when this process is no longer in the mount namespace it started in. */
static bool
left_host_ns(const struct bench *b)
{
   struct stat a, c;
   return b->host_ns_fd >= 0 && fstat(b->host_ns_fd, &a) == 0 &&
          stat("/proc/self/ns/mnt", &c) == 0 && a.st_ino != c.st_ino;
}

/* Gives the path a private /tmp when possible, else the shared one (e.g. a
 * container without CAP_SYS_ADMIN), which works while nothing else serves
 * vtest there; pb_server_start refuses a socket someone listens on. */
static void
enter_private_tmp(struct bench *b)
{
   char why[200];
   if (pb_private_tmp(why, sizeof(why)))
      pv_warn(TAG, "no private /tmp (%s); using the shared %s", why, PB_VTEST_SOCKET);
   b->ns_private = left_host_ns(b);
}

/* Back to the host's mounts, so each path starts from a clean /tmp and the
 * results land where they were asked for. */
static void
leave_private_tmp(struct bench *b)
{
   if (!b->ns_private)
      return;
   if (setns(b->host_ns_fd, CLONE_NEWNS))
      pv_warn(TAG, "cannot return to the host mount namespace: %s", strerror(errno));
   /* setns() moves the working directory to / */
   if (b->cwd_fd >= 0 && fchdir(b->cwd_fd))
      pv_warn(TAG, "cannot return to the working directory: %s", strerror(errno));
   b->ns_private = left_host_ns(b);
}

/* Checks every path once; a path that cannot run gets its reason. */
static void
check_paths(struct bench *b)
{
   for (unsigned p = 0; p < b->res.npaths; p++) {
      char buf[PB_STATUS_LEN];
      const char *bad = path_precheck(b, b->kinds[p], buf, sizeof(buf));
      snprintf(b->res.paths[p].status, sizeof(b->res.paths[p].status), "%s", bad ? bad : "ok");
      if (bad)
         printf("path %s: %s\n", path_names[b->kinds[p]], bad);
   }
   fflush(stdout);
}

/* Why (workload, path) is not run, or NULL to run it. */
static const char *
skip_reason(const struct bench *b, unsigned path)
{
   if (strcmp(b->res.paths[path].status, "ok"))
      return b->res.paths[path].status;
   if (b->timeouts[path] >= 2)
      return "fails: skipped after two hangs on this path";
   return NULL;
}

/* One workload (or client count) over every path, back to back, so that
 * each comparison with native is made under the same host load. */
static void
run_over_paths(struct bench *b, const struct workload_def *d, unsigned clients)
{
   for (unsigned p = 0; p < b->res.npaths; p++) {
      /* Guest settings do not reach native: extra rows reuse its figures. */
      if (b->variant && b->kinds[p] == PATH_NATIVE)
         continue;
      const char *skip = skip_reason(b, p);
      if (skip) {
         char key[PB_WL_LEN], file[64];
         if (d)
            workload_key(b, d, key, file);
         else
            snprintf(key, sizeof(key), "clients%u", clients);
         pb_set_status(&b->res, key, p, skip);
         continue;
      }
      if (b->kinds[p] != PATH_NATIVE)
         enter_private_tmp(b);
      if (d)
         run_workload(b, p, d);
      else
         run_clients(b, p, clients);
      leave_private_tmp(b);
   }
}

static bool
has_venus_path(const struct bench *b)
{
   for (unsigned p = 0; p < b->res.npaths; p++) {
      if (b->kinds[p] != PATH_NATIVE)
         return true;
   }
   return false;
}

/* The extra rows of a workload (or client count), right after its default
 * rows, under the same host load. */
static void
run_extra_rows(struct bench *b, const struct workload_def *d, unsigned clients)
{
   if (!list_has(b->o.extra_workloads, d ? d->name : "clients") || !has_venus_path(b))
      return;
   for (unsigned x = 0; x < b->o.nextra; x++) {
      b->variant = b->o.extra_env[x];
      b->variant_idx = x;
      run_over_paths(b, d, clients);
      b->variant = NULL;
   }
}

static void
run_round(struct bench *b)
{
   for (size_t i = 0; i < sizeof(workload_defs) / sizeof(workload_defs[0]); i++) {
      if (!list_has(b->o.workloads, workload_defs[i].name))
         continue;
      run_over_paths(b, &workload_defs[i], 0);
      run_extra_rows(b, &workload_defs[i], 0);
   }
   if (!list_has(b->o.workloads, "clients"))
      return;
   char list[64];
   snprintf(list, sizeof(list), "%s", b->o.clients);
   for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      unsigned n = (unsigned)strtoul(t, NULL, 10);
      if (n == 0 || n > 256)
         continue;
      run_over_paths(b, NULL, n);
      run_extra_rows(b, NULL, n);
   }
}

/* --repeat rounds pool their samples: on a noisy host, several short
 * interleaved rounds compare better than one long one. */
static void extra_rows_native(struct bench *b);
static int write_file(const struct bench *b, const char *name,
                      void (*fn)(const struct pb_results *, FILE *));

static void
run_all(struct bench *b)
{
   check_paths(b);
   b->res.rounds = b->o.repeat;
   for (unsigned r = 0; r < b->o.repeat; r++) {
      if (b->o.repeat > 1)
         printf("round %u of %u\n", r + 1, b->o.repeat);
      b->round = r;
      run_round(b);
      b->res.rounds_done = r + 1;
      /* What is done so far survives a run stopped later (a time limit). */
      if (r + 1 < b->o.repeat) {
         extra_rows_native(b);
         if (!write_file(b, "results.txt", pb_write_table))
            write_file(b, "results.json", pb_write_json);
      }
   }
}

/* ---- output ---- */

static int
mkdir_p(const char *path)
{
   char tmp[PATH_MAX];
   snprintf(tmp, sizeof(tmp), "%s", path);
   for (char *p = tmp + 1; *p; p++) {
      if (*p == '/') {
         *p = '\0';
         if (mkdir(tmp, 0755) && errno != EEXIST)
            return -errno;
         *p = '/';
      }
   }
   if (mkdir(tmp, 0755) && errno != EEXIST)
      return -errno;
   return 0;
}

static int
write_file(const struct bench *b, const char *name, void (*fn)(const struct pb_results *, FILE *))
{
   char path[PATH_MAX + 32];
   snprintf(path, sizeof(path), "%s/%s", b->o.out, name);
   FILE *f = fopen(path, "we");
   if (!f) {
      pv_error(TAG, "cannot write %s: %s", path, strerror(errno));
      return -errno;
   }
   fn(&b->res, f);
   return fclose(f) ? -EIO : 0;
}

/* Runs the optional plot script; a missing python or matplotlib only skips
 * the PNG. */
static void
plot(const struct bench *b)
{
   const char *script = b->o.plot_script;
   if (!b->o.plot)
      return;
   if (!script || access(script, R_OK)) {
      printf("PNG skipped: plot script %s not found\n", script ? script : "(none)");
      return;
   }
   const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : NULL;
   if (!py) {
      printf("PNG skipped: /usr/bin/python3 not found\n");
      return;
   }
   char json[PATH_MAX + 32], png[PATH_MAX + 32];
   snprintf(json, sizeof(json), "%s/results.json", b->o.out);
   snprintf(png, sizeof(png), "%s/results.png", b->o.out);
   char *argv[] = { (char *)py, (char *)script, json, png, NULL };
   extern char **environ;
   struct pb_proc p;
   if (pb_spawn(NULL, argv, environ, 1, false, false, &p)) {
      printf("PNG skipped: cannot run %s\n", py);
      return;
   }
   pb_proc_reap(&p, 120.0, false);
   char how[96];
   pb_proc_describe(&p, how, sizeof(how));
   if (strcmp(how, "exit 0"))
      printf("PNG skipped: plot script %s\n", how);
   else
      printf("wrote %s\n", png);
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
   fprintf(f,
           "usage: pvbench [options]\n"
           "  --icd PATH           Mesa venus ICD json (guest driver) for the venus paths\n"
           "                       (default %s)\n"
           "  --host-icd PATH      host Vulkan ICD json (default %s)\n"
           "  --pv-vtest PATH      PearVisor vtest server (default %s)\n"
           "  --virgl-server PATH  virgl_test_server (default %s)\n"
           "  --wire-format N      venus wire format pv-vtest serves: 0 (Mesa 22.3's driver,\n"
           "                       the default) or 1 (Mesa 25's); match --icd\n"
           "  --strict             a failing path (not only native) fails the run (exit 3)\n"
           "  --paths LIST         native,pearvisor,virgl (default: all)\n"
           "  --workloads LIST     create,createpaced,clear,frames,submit,draws,drawpush,\n"
           "                       drawbind,mlchain,compute,upload,pipeline,ffmpeg,vkfft,\n"
           "                       fairness,clients (default: all)\n"
           "  --clients LIST       concurrent client counts (default 1,4,16,64; quick 1,4)\n"
           "  --client-frames N    frames per client (default 30; quick 5)\n"
           "  --client-frame WxH   the clients' image (default 1920x1080; e.g. 64x64 for\n"
           "                       hundreds of clients on a CPU driver)\n"
           "  --quick              few iterations: a smoke run\n"
           "  --repeat N           N interleaved rounds, samples pooled (noisy hosts)\n"
           "  --timeout S          timed part of a workload, seconds (default 60)\n"
           "  --setup-timeout S    set-up of a workload, seconds (default 20; +1 per client)\n"
           "  --guest-env LIST     VAR=VAL,... for the guest driver on the venus paths\n"
           "                       (default: none, Mesa's defaults)\n"
           "  --extra-guest-env LIST  VAR=VAL,...: extra rows \"<metric> [LIST]\" with these\n"
           "                       added, on the venus paths (up to %d times), e.g.\n"
           "                       VN_DRAW_CMD_BATCH_LIMIT=1000; PV_* variables go to\n"
           "                       the PearVisor server instead, e.g. PV_RING_SPIN_US=0\n"
           "  --extra-workloads LIST  workloads the extra rows are measured for\n"
           "                       (default %s; \"clients\": every client count)\n"
           "  --server-prefix CMD  run servers under CMD (space-separated words, %%w = workload),\n"
           "                       e.g. \"perf record -g -o /abs/prof-%%w.data --\"\n"
           "  --out DIR            results directory (default bench/results/latest)\n"
           "  --plot-script PATH   PNG chart script (default %s)\n"
           "  --no-plot            no PNG\n",
           PVBENCH_DEFAULT_VENUS_ICD, DEFAULT_HOST_ICD, PVBENCH_DEFAULT_PV_VTEST,
           PVBENCH_DEFAULT_VIRGL, MAX_EXTRA_ENV, DEFAULT_EXTRA_WORKLOADS, PVBENCH_DEFAULT_PLOT);
}

static int
worker_mode(int argc, char **argv)
{
   struct pb_worker_args a = { .report_fd = 3, .go_fd = 4, .iters = 1 };
   for (int i = 2; i < argc; i++) {
      if (!strcmp(argv[i], "--iters") && i + 1 < argc)
         a.iters = (unsigned)strtoul(argv[++i], NULL, 10);
      else if (!strcmp(argv[i], "--size") && i + 1 < argc)
         a.size_mib = (unsigned)strtoul(argv[++i], NULL, 10);
      else if (!strcmp(argv[i], "--frame") && i + 1 < argc &&
               sscanf(argv[++i], "%ux%u", &a.frame_w, &a.frame_h) != 2)
         return 2;
      else if (!a.workload)
         a.workload = argv[i];
   }
   if (!a.workload)
      return 2;
   return pb_worker_main(&a);
}

static int
parse_options(int argc, char **argv, struct options *o)
{
   enum {
      O_ICD = 256,
      O_HOST,
      O_PV,
      O_VIRGL,
      O_PATHS,
      O_WL,
      O_CLIENTS,
      O_CFRAMES,
      O_CSIZE,
      O_QUICK,
      O_TIMEOUT,
      O_SETUP_TIMEOUT,
      O_REPEAT,
      O_GUEST_ENV,
      O_SERVER_PREFIX,
      O_OUT,
      O_PLOT,
      O_NOPLOT,
      O_HELP,
      O_WIRE,
      O_STRICT,
      O_EXTRA_ENV,
      O_EXTRA_WL
   };
   static const struct option longopts[] = {
      { "icd", required_argument, NULL, O_ICD },
      { "host-icd", required_argument, NULL, O_HOST },
      { "pv-vtest", required_argument, NULL, O_PV },
      { "virgl-server", required_argument, NULL, O_VIRGL },
      { "paths", required_argument, NULL, O_PATHS },
      { "workloads", required_argument, NULL, O_WL },
      { "clients", required_argument, NULL, O_CLIENTS },
      { "client-frames", required_argument, NULL, O_CFRAMES },
      { "client-frame", required_argument, NULL, O_CSIZE },
      { "quick", no_argument, NULL, O_QUICK },
      { "timeout", required_argument, NULL, O_TIMEOUT },
      { "setup-timeout", required_argument, NULL, O_SETUP_TIMEOUT },
      { "repeat", required_argument, NULL, O_REPEAT },
      { "guest-env", required_argument, NULL, O_GUEST_ENV },
      { "extra-guest-env", required_argument, NULL, O_EXTRA_ENV },
      { "extra-workloads", required_argument, NULL, O_EXTRA_WL },
      { "server-prefix", required_argument, NULL, O_SERVER_PREFIX },
      { "wire-format", required_argument, NULL, O_WIRE },
      { "strict", no_argument, NULL, O_STRICT },
      { "out", required_argument, NULL, O_OUT },
      { "plot-script", required_argument, NULL, O_PLOT },
      { "no-plot", no_argument, NULL, O_NOPLOT },
      { "help", no_argument, NULL, O_HELP },
      { NULL, 0, NULL, 0 },
   };
   bool clients_set = false;
   int c;
   while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
      switch (c) {
      case O_ICD:
         o->venus_icd = optarg;
         break;
      case O_HOST:
         o->host_icd = optarg;
         break;
      case O_PV:
         o->pv_vtest = optarg;
         break;
      case O_VIRGL:
         o->virgl_server = optarg;
         break;
      case O_PATHS:
         snprintf(o->paths, sizeof(o->paths), "%s", optarg);
         break;
      case O_WL:
         snprintf(o->workloads, sizeof(o->workloads), "%s", optarg);
         break;
      case O_CLIENTS:
         snprintf(o->clients, sizeof(o->clients), "%s", optarg);
         clients_set = true;
         break;
      case O_CFRAMES:
         o->client_frames = (unsigned)strtoul(optarg, NULL, 10);
         break;
      case O_CSIZE:
         if (sscanf(optarg, "%ux%u", &o->client_w, &o->client_h) != 2 || !o->client_w ||
             !o->client_h || o->client_w > 4096 || o->client_h > 4096) {
            fprintf(stderr, "pvbench: --client-frame wants WxH, each 1 to 4096\n");
            return -EINVAL;
         }
         break;
      case O_QUICK:
         o->quick = true;
         break;
      case O_TIMEOUT:
         o->timeout_s = strtod(optarg, NULL);
         break;
      case O_SETUP_TIMEOUT:
         o->setup_timeout_s = strtod(optarg, NULL);
         break;
      case O_REPEAT:
         o->repeat = (unsigned)strtoul(optarg, NULL, 10);
         break;
      case O_GUEST_ENV:
         o->guest_env = optarg;
         break;
      case O_EXTRA_ENV:
         if (o->nextra == MAX_EXTRA_ENV || !optarg[0]) {
            fprintf(stderr, "pvbench: at most %d non-empty --extra-guest-env\n", MAX_EXTRA_ENV);
            return -EINVAL;
         }
         o->extra_env[o->nextra++] = optarg;
         break;
      case O_EXTRA_WL:
         snprintf(o->extra_workloads, sizeof(o->extra_workloads), "%s", optarg);
         break;
      case O_SERVER_PREFIX:
         o->server_prefix = optarg;
         break;
      case O_STRICT:
         o->strict = true;
         break;
      case O_WIRE:
         o->wire_format = (unsigned)strtoul(optarg, NULL, 10) ? 1 : 0;
         break;
      case O_OUT:
         o->out = optarg;
         break;
      case O_PLOT:
         o->plot_script = optarg;
         break;
      case O_NOPLOT:
         o->plot = false;
         break;
      case O_HELP:
         usage(stdout);
         exit(0);
      default:
         usage(stderr);
         return -EINVAL;
      }
   }
   if (optind < argc) {
      usage(stderr);
      return -EINVAL;
   }
   struct pb_env scratch;
   int err = pb_env_init(&scratch);
   if (!err)
      err = set_guest_env(o->guest_env, &scratch);
   for (unsigned x = 0; x < o->nextra && !err; x++)
      err = strlen(o->extra_env[x]) > 120 ? -EINVAL : set_guest_env(o->extra_env[x], &scratch);
   pb_env_fini(&scratch);
   if (err) {
      fprintf(stderr, "pvbench: --guest-env wants VAR=VAL,... (at most 255 characters)\n");
      return -EINVAL;
   }
   if (!clients_set)
      snprintf(o->clients, sizeof(o->clients), "%s", o->quick ? "1,4" : "1,4,16,64");
   if (!o->client_frames)
      o->client_frames = o->quick ? 5 : 30;
   if (o->timeout_s <= 0)
      o->timeout_s = 60;
   if (o->setup_timeout_s <= 0)
      o->setup_timeout_s = 20;
   if (o->repeat == 0 || o->repeat > 100)
      o->repeat = 1;
   return 0;
}

static void
options_default(struct options *o)
{
   memset(o, 0, sizeof(*o));
   o->host_icd = DEFAULT_HOST_ICD;
   o->guest_env = DEFAULT_GUEST_ENV;
   snprintf(o->extra_workloads, sizeof(o->extra_workloads), "%s", DEFAULT_EXTRA_WORKLOADS);
   o->venus_icd = PVBENCH_DEFAULT_VENUS_ICD;
   o->pv_vtest = PVBENCH_DEFAULT_PV_VTEST;
   o->virgl_server = PVBENCH_DEFAULT_VIRGL;
   o->out = "bench/results/latest";
   o->plot_script = PVBENCH_DEFAULT_PLOT;
   o->plot = true;
   snprintf(o->paths, sizeof(o->paths), "native,pearvisor,virgl");
   snprintf(o->workloads, sizeof(o->workloads),
            "create,createpaced,clear,frames,submit,draws,drawpush,drawbind,mlchain,compute,"
            "upload,pipeline,ffmpeg,vkfft,fairness,clients");
}

/* Extra rows' native figures are the default rows' (guest settings do not
 * reach the native path): copied so that "% of native" and the serial
 * limit compare with the same native samples. */
static void
extra_rows_native(struct bench *b)
{
   if (!b->res.npaths || b->kinds[0] != PATH_NATIVE)
      return;
   for (size_t i = 0; i < b->res.nm; i++) {
      struct pb_metric *m = &b->res.m[i];
      char base[PB_ID_LEN];
      const char *br = strstr(m->id, " [");
      if (!br)
         continue;
      snprintf(base, sizeof(base), "%.*s", (int)(br - m->id), m->id);
      const struct pb_metric *bm = pb_metric_find(&b->res, base);
      if (!bm)
         continue;
      m->s[0].n = 0; /* idempotent: results are written after every round */
      for (size_t k = 0; k < bm->s[0].n; k++)
         pb_series_add(&m->s[0], bm->s[0].v[k]);
   }
   for (size_t i = 0; i < b->res.nw; i++) {
      char base[PB_WL_LEN];
      const char *key = b->res.w[i].workload, *br = strstr(key, " [");
      if (!br)
         continue;
      snprintf(base, sizeof(base), "%.*s", (int)(br - key), key);
      const char *st = pb_get_status(&b->res, base, 0);
      snprintf(b->res.w[i].status[0], sizeof(b->res.w[i].status[0]), "%s", st[0] ? st : "not run");
   }
}

/* A workload that cannot run here (a third-party program missing) says why
 * and does not fail the run. */
static bool
status_passes(const char *st)
{
   return !strcmp(st, "ok") || !strncmp(st, "skipped: ", 9);
}

/* "ok" for a path that ran becomes a count of its failing workloads. */
static void
summarize_paths(struct pb_results *r)
{
   for (unsigned p = 0; p < r->npaths; p++) {
      size_t bad = 0;
      for (size_t i = 0; i < r->nw; i++)
         bad += !status_passes(r->w[i].status[p]);
      if (!strcmp(r->paths[p].status, "ok") && bad)
         snprintf(r->paths[p].status, sizeof(r->paths[p].status), "ran; %zu of %zu workloads fail",
                  bad, r->nw);
   }
}

/* A default file that is missing where the build put it (a build tree
 * copied elsewhere) is looked for relative to this executable. */
static void
default_near_exe(const char **opt, const char *compiled, const char *rel, char buf[PATH_MAX])
{
   char exe[PATH_MAX];
   if (*opt != compiled || access(compiled, F_OK) == 0)
      return;
   ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
   if (n <= 0)
      return;
   exe[n] = '\0';
   char *slash = strrchr(exe, '/');
   if (!slash || (size_t)(slash - exe) + 1 + strlen(rel) >= PATH_MAX)
      return;
   slash[1] = '\0';
   strcpy(buf, exe);
   strcat(buf, rel);
   *opt = buf;
}

/* The absolute path of an existing file, else p unchanged. */
static const char *
abs_path(const char *p, char buf[PATH_MAX])
{
   return p && realpath(p, buf) ? buf : p;
}

/* Paths in canonical order, native first (the % of native baseline). */
static void
select_paths(struct bench *b)
{
   for (unsigned k = 0; k < 3; k++) {
      if (!list_has(b->o.paths, path_names[k]))
         continue;
      unsigned i = b->res.npaths++;
      b->kinds[i] = (enum path_kind)k;
      snprintf(b->res.paths[i].name, sizeof(b->res.paths[i].name), "%s", path_names[k]);
   }
}

int
main(int argc, char **argv)
{
   if (argc > 1 && !strcmp(argv[1], "--worker"))
      return worker_mode(argc, argv);

   static struct bench b; /* large; one per process */
   options_default(&b.o);
   if (parse_options(argc, argv, &b.o))
      return 2;
   if (b.o.client_w)
      snprintf(b.frame_name, sizeof(b.frame_name), "%ux%u", b.o.client_w, b.o.client_h);
   else
      snprintf(b.frame_name, sizeof(b.frame_name), "1080p");
   /* Two pipes per worker: 256 clients pass the usual soft limit of 1024. */
   struct rlimit rl;
   if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
      rl.rlim_cur = rl.rlim_max;
      (void)setrlimit(RLIMIT_NOFILE, &rl);
   }
   default_near_exe(&b.o.pv_vtest, PVBENCH_DEFAULT_PV_VTEST, "../src/vtest/pv-vtest", b.abs[2]);
   default_near_exe(&b.o.plot_script, PVBENCH_DEFAULT_PLOT, "../../bench/plot.py", b.abs[4]);
   /* Absolute paths: set-up may change the working directory. */
   b.o.venus_icd = abs_path(b.o.venus_icd, b.abs[0]);
   b.o.host_icd = abs_path(b.o.host_icd, b.abs[1]);
   b.o.pv_vtest = abs_path(b.o.pv_vtest, b.abs[2]);
   b.o.virgl_server = abs_path(b.o.virgl_server, b.abs[3]);
   b.o.plot_script = abs_path(b.o.plot_script, b.abs[4]);
   pb_results_init(&b.res);
   select_paths(&b);
   if (!b.res.npaths) {
      pv_error(TAG, "no known path in --paths %s", b.o.paths);
      return 2;
   }
   snprintf(b.logdir, sizeof(b.logdir), "%s/logs", b.o.out);
   if (mkdir_p(b.logdir)) {
      pv_error(TAG, "cannot create %s: %s", b.logdir, strerror(errno));
      return 1;
   }
   b.logdir_fd = open(b.logdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   b.host_ns_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
   b.cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
   if (b.logdir_fd < 0) {
      pv_error(TAG, "cannot open %s: %s", b.logdir, strerror(errno));
      return 1;
   }
   signal(SIGPIPE, SIG_IGN);
   snprintf(b.res.host_icd, sizeof(b.res.host_icd), "%s", b.o.host_icd);
   snprintf(b.res.venus_icd, sizeof(b.res.venus_icd), "%s", b.o.venus_icd ? b.o.venus_icd : "");
   b.res.quick = b.o.quick;
   snprintf(b.res.guest_env, sizeof(b.res.guest_env), "%s", b.o.guest_env);
   for (unsigned x = 0; x < b.o.nextra; x++)
      snprintf(b.res.extra_env[x], sizeof(b.res.extra_env[x]), "%s", b.o.extra_env[x]);
   b.res.nextra = b.o.nextra;
   b.res.cpus = sysconf(_SC_NPROCESSORS_ONLN);
   time_t now = time(NULL);
   struct tm tm;
   strftime(b.res.date, sizeof(b.res.date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));

   double t0 = pb_now_s();
   run_all(&b);

   extra_rows_native(&b);
   summarize_paths(&b.res);
   int err = write_file(&b, "results.txt", pb_write_table);
   if (!err)
      err = write_file(&b, "results.json", pb_write_json);
   printf("\n");
   pb_write_table(&b.res, stdout);
   printf("\ntotal %.1f s; results in %s/\n", pb_now_s() - t0, b.o.out);
   fflush(stdout);
   if (!err)
      plot(&b);
   /* Failing paths are results, not errors; only a failing native path
    * (the baseline, and the smoke test) makes the exit status non-zero. */
   bool native_ok = true;
   for (size_t i = 0; i < b.res.nw; i++) {
      for (unsigned p = 0; p < b.res.npaths; p++) {
         if ((b.kinds[p] == PATH_NATIVE || b.o.strict) && !status_passes(b.res.w[i].status[p]))
            native_ok = false;
      }
   }
   pb_results_fini(&b.res);
   return err ? 1 : native_ok ? 0 : 3;
}
