/*
 * pv-fuzz-replay: the deterministic mutation fuzzer over captured venus
 * sessions (fuzz/README.md). Iteration i of seed S picks a session and a
 * donor from the corpus, applies 1..K mutations (mutate.h) and replays the
 * result against the real renderer (replay.h) in a forked child with a
 * time limit, so that a crash inside the host driver is counted and saved
 * rather than ending the run. Same corpus, seed and iteration: same input.
 *
 *   pv-fuzz-replay [--seed S] [--runs N] [--max-time SEC] [--timeout SEC]
 *                  [--mutations K] [--crashes DIR] [--iteration I] [--async] CORPUS...
 *   pv-fuzz-replay [--async] --replay FILE     run one input in this process
 *
 * --async replays without waiting for the GPU between streams (replay.h):
 * not deterministic, it looks for lifetime races.
 *
 * CORPUS: .pvcap files or folders of them (sorted by name). Exit status: 0
 * when no input crashed (timeouts are counted and saved, but a guest can
 * make GPU work as long as it likes), 1 when one did, 2 on bad usage or a
 * corpus that does not replay cleanly unmutated (without --async).
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "mutate.h"
#include "replay.h"
#include "session.h"

#define MAX_CORPUS 256
#define MAX_CLASSES 128
#define SAVED_PER_CLASS 3

/* child exit codes */
#define CHILD_DONE 0
#define CHILD_LOST 10
#define CHILD_SETUP 3
#define CHILD_STALLED 11

struct crash_class {
   char sig[256];
   uint32_t count;
};

struct options {
   uint64_t seed;
   uint64_t runs;
   double max_time;
   unsigned timeout;
   uint32_t mutations;
   const char *crashes;
   int64_t iteration; /* -1: all */
   bool async;
};

struct fuzzer {
   struct options opt;
   char *paths[MAX_CORPUS];
   struct pvf_session corpus[MAX_CORPUS];
   uint32_t ncorpus;
   struct crash_class classes[MAX_CLASSES];
   uint32_t nclasses;
   uint64_t runs, lost, stalled, done, crashes, timeouts, seed_crashes;
   const char *argv0;
   char corpus_args[4096]; /* CORPUS as given, for the regenerate line */
};

static int
cmp_str(const void *a, const void *b)
{
   return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_path(struct fuzzer *f, const char *path)
{
   struct stat st;
   if (stat(path, &st)) {
      fprintf(stderr, "pv-fuzz-replay: %s: %s\n", path, strerror(errno));
      return -1;
   }
   if (!S_ISDIR(st.st_mode)) {
      if (f->ncorpus == MAX_CORPUS)
         return -1;
      f->paths[f->ncorpus++] = strdup(path);
      return 0;
   }
   DIR *d = opendir(path);
   if (!d)
      return -1;
   struct dirent *e;
   while ((e = readdir(d))) {
      const size_t n = strlen(e->d_name);
      if (n < 6 || strcmp(e->d_name + n - 6, ".pvcap") || f->ncorpus == MAX_CORPUS)
         continue;
      char *p = malloc(strlen(path) + n + 2);
      if (!p)
         break;
      sprintf(p, "%s/%s", path, e->d_name);
      f->paths[f->ncorpus++] = p;
   }
   closedir(d);
   return 0;
}

/* Runs one session in this process: the child's body, and --replay. */
static int
replay_here(const struct pvf_session *s, bool async)
{
   struct pvf_replay_result res;
   pvf_replay(s, async ? 0 : PVF_REPLAY_SYNC, &res);
   if (res.setup_error) {
      fprintf(stderr, "pv-fuzz-replay: no renderer or context: %s\n", strerror(-res.setup_error));
      return CHILD_SETUP;
   }
   if (res.lost_at != UINT32_MAX)
      return CHILD_LOST;
   return res.stalled_at == UINT32_MAX ? CHILD_DONE : CHILD_STALLED;
}

/* A stack frame's name: "func" or, without symbols, "module+0xoffset". */
static bool
frame_name(const char *line, char *out, size_t size)
{
   const char *p = line;
   while (*p == ' ')
      p++;
   if (*p != '#' || !strstr(p, " 0x"))
      return false;
   const char *in = strstr(p, " in ");
   const char *mod = strrchr(p, '/');
   if (in) {
      snprintf(out, size, "%.*s", (int)strcspn(in + 4, " \n"), in + 4);
   } else if (mod && strchr(mod, '+')) {
      snprintf(out, size, "%.*s", (int)strcspn(mod + 1, ")\n"), mod + 1);
   } else {
      return false;
   }
   return true;
}

/* The crash's class: sanitizer kind, top frames of the crashing stack and
 * its first PearVisor frame (pvk_/vn_/pv_), from the child's stderr; or
 * the signal or exit status. */
static void
classify(const char *log_path, int status, char *sig, size_t size)
{
   if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
      snprintf(sig, size, "timeout");
      return;
   }
   if (WIFSIGNALED(status))
      snprintf(sig, size, "signal-%d", WTERMSIG(status));
   else
      snprintf(sig, size, "exit-%d", WEXITSTATUS(status));
   FILE *f = fopen(log_path, "r");
   if (!f)
      return;
   char line[1024], kind[64] = "", frames[3][80] = { "", "", "" }, ours[80] = "";
   int nframes = 0;
   bool in_stack = false, done = false;
   while (!done && fgets(line, sizeof(line), f)) {
      char *p, name[80];
      if (!kind[0] && (p = strstr(line, "ERROR: AddressSanitizer: "))) {
         sscanf(p + 25, "%63s", kind);
      } else if (!kind[0] && (p = strstr(line, "runtime error: "))) {
         snprintf(kind, sizeof(kind), "ubsan");
      } else if (frame_name(line, name, sizeof(name))) {
         in_stack = true;
         if (nframes < 3)
            snprintf(frames[nframes++], sizeof(frames[0]), "%s", name);
         if (!ours[0] &&
             (!strncmp(name, "pvk_", 4) || !strncmp(name, "vn_", 3) || !strncmp(name, "pv_", 3)))
            snprintf(ours, sizeof(ours), "%s", name);
      } else if (in_stack) {
         done = true; /* the first stack only */
      }
   }
   fclose(f);
   if (kind[0] || nframes) {
      char tail[512];
      snprintf(tail, sizeof(tail), ":%s:%s,%s,%s:%s", kind[0] ? kind : "-", frames[0], frames[1],
               frames[2], ours[0] ? ours : "-");
      strncat(sig, tail, size - strlen(sig) - 1);
   }
}

static struct crash_class *
class_get(struct fuzzer *f, const char *sig)
{
   for (uint32_t i = 0; i < f->nclasses; i++) {
      if (!strcmp(f->classes[i].sig, sig))
         return &f->classes[i];
   }
   if (f->nclasses == MAX_CLASSES)
      return &f->classes[MAX_CLASSES - 1];
   struct crash_class *c = &f->classes[f->nclasses++];
   snprintf(c->sig, sizeof(c->sig), "%s", sig);
   return c;
}

static void
save_crash(struct fuzzer *f, const struct pvf_session *s, uint64_t iter, const char *sig,
           const char *mutations, const char *log_path)
{
   char base[1024], path[1100];
   const bool seed = iter >= UINT64_MAX - MAX_CORPUS; /* an unmutated seed (--async) */
   if (seed)
      snprintf(base, sizeof(base), "%s/crash-seed%llu", f->opt.crashes,
               (unsigned long long)(UINT64_MAX - iter));
   else
      snprintf(base, sizeof(base), "%s/crash-s%llu-i%llu", f->opt.crashes,
               (unsigned long long)f->opt.seed, (unsigned long long)iter);
   snprintf(path, sizeof(path), "%s.pvcap", base);
   pvf_session_save(s, path);
   char log_dst[1100];
   snprintf(log_dst, sizeof(log_dst), "%s.log", base);
   rename(log_path, log_dst);
   snprintf(path, sizeof(path), "%s.txt", base);
   FILE *t = fopen(path, "w");
   if (t) {
      const char *mode = f->opt.async ? " --async" : "";
      fprintf(t, "class: %s\nmutations: %s\nrepro: %s%s --replay %s.pvcap\n", sig, mutations,
              f->argv0, mode, base);
      if (!seed) {
         fprintf(t, "regenerate: %s%s --seed %llu --iteration %llu --mutations %u", f->argv0, mode,
                 (unsigned long long)f->opt.seed, (unsigned long long)iter, f->opt.mutations);
         fprintf(t, "%s\n", f->corpus_args);
      }
      fclose(t);
   }
   printf("pv-fuzz-replay: saved %s.pvcap (%s)\n  repro: %s%s --replay %s.pvcap\n", base, sig,
          f->argv0, f->opt.async ? " --async" : "", base);
}

/* Forks, replays s in the child; returns the wait status. */
static int
run_child(const struct fuzzer *f, const struct pvf_session *s, const char *log_path)
{
   fflush(stdout);
   fflush(stderr);
   const pid_t pid = fork();
   if (pid < 0) {
      perror("pv-fuzz-replay: fork");
      exit(2);
   }
   if (pid == 0) {
      const int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
         dup2(fd, 2);
         close(fd);
      }
      alarm(f->opt.timeout);
      _exit(replay_here(s, f->opt.async));
   }
   int status;
   while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
   return status;
}

static double
now_s(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The input of one iteration: deterministic in (seed, iteration). */
static int
make_input(struct fuzzer *f, uint64_t iter, struct pvf_session *out, char *log, size_t size)
{
   uint64_t rng = f->opt.seed * 0x100000001b3ull ^ (iter + 1) * 0x9e3779b97f4a7c15ull;
   const uint32_t base = pvf_below(&rng, f->ncorpus);
   const uint32_t donor = pvf_below(&rng, f->ncorpus);
   const uint32_t count = 1 + pvf_below(&rng, f->opt.mutations);
   if (pvf_session_copy(out, &f->corpus[base]))
      return -1;
   log[0] = 0;
   snprintf(log, size, "base %s, donor %s: ", f->paths[base], f->paths[donor]);
   pvf_mutate(out, &f->corpus[donor], &rng, count, log, size);
   return 0;
}

static void
one_iteration(struct fuzzer *f, uint64_t iter, const char *log_path)
{
   struct pvf_session s;
   char mutations[4096];
   if (make_input(f, iter, &s, mutations, sizeof(mutations)))
      return;
   const int status = run_child(f, &s, log_path);
   f->runs++;
   if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_DONE) {
      f->done++;
   } else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_LOST) {
      f->lost++;
   } else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_STALLED) {
      f->stalled++;
   } else {
      char sig[256];
      classify(log_path, status, sig, sizeof(sig));
      if (!strcmp(sig, "timeout"))
         f->timeouts++;
      else
         f->crashes++;
      struct crash_class *c = class_get(f, sig);
      if (c->count++ < SAVED_PER_CLASS)
         save_crash(f, &s, iter, sig, mutations, log_path);
   }
   pvf_session_free(&s);
}

static void
usage(void)
{
   fprintf(stderr,
           "usage: pv-fuzz-replay [--seed S] [--runs N] [--max-time SEC] [--timeout SEC]\n"
           "                      [--mutations K] [--crashes DIR] [--iteration I] [--async]\n"
           "                      CORPUS...\n"
           "       pv-fuzz-replay [--async] --replay FILE\n");
}

int
main(int argc, char **argv)
{
   static struct fuzzer f;
   f.argv0 = argv[0];
   f.opt = (struct options){ .seed = 1,
                             .runs = 1000,
                             .max_time = 0,
                             .timeout = 20,
                             .mutations = 4,
                             .crashes = "fuzz-crashes",
                             .iteration = -1 };
   const char *replay = NULL;
   int i;
   for (i = 1; i < argc; i++) {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      if (!strcmp(a, "--replay") && v)
         replay = v, i++;
      else if (!strcmp(a, "--seed") && v)
         f.opt.seed = strtoull(v, NULL, 0), i++;
      else if (!strcmp(a, "--runs") && v)
         f.opt.runs = strtoull(v, NULL, 0), i++;
      else if (!strcmp(a, "--max-time") && v)
         f.opt.max_time = atof(v), i++;
      else if (!strcmp(a, "--timeout") && v)
         f.opt.timeout = (unsigned)atoi(v), i++;
      else if (!strcmp(a, "--mutations") && v)
         f.opt.mutations = (uint32_t)atoi(v), i++;
      else if (!strcmp(a, "--crashes") && v)
         f.opt.crashes = v, i++;
      else if (!strcmp(a, "--iteration") && v)
         f.opt.iteration = atoll(v), i++;
      else if (!strcmp(a, "--async"))
         f.opt.async = true;
      else if (a[0] == '-') {
         usage();
         return 2;
      } else if (add_path(&f, a)) {
         return 2;
      } else {
         strncat(f.corpus_args, " ", sizeof(f.corpus_args) - strlen(f.corpus_args) - 1);
         strncat(f.corpus_args, a, sizeof(f.corpus_args) - strlen(f.corpus_args) - 1);
      }
   }
   if (replay) {
      struct pvf_session s;
      if (pvf_session_load(&s, replay)) {
         fprintf(stderr, "pv-fuzz-replay: %s is not a capture\n", replay);
         return 2;
      }
      const int ret = replay_here(&s, f.opt.async);
      printf("pv-fuzz-replay: %s: %s\n", replay,
             ret == CHILD_DONE      ? "replayed to the end"
             : ret == CHILD_LOST    ? "context lost"
             : ret == CHILD_STALLED ? "replayed to the end (a wait for its queues gave up)"
                                    : "setup failed");
      pvf_session_free(&s);
      return ret == CHILD_SETUP ? 2 : 0;
   }
   if (!f.ncorpus || !f.opt.mutations || !f.opt.timeout) {
      usage();
      return 2;
   }
   qsort(f.paths, f.ncorpus, sizeof(f.paths[0]), cmp_str);
   for (uint32_t k = 0; k < f.ncorpus; k++) {
      if (pvf_session_load(&f.corpus[k], f.paths[k])) {
         fprintf(stderr, "pv-fuzz-replay: %s is not a capture\n", f.paths[k]);
         return 2;
      }
   }
   mkdir(f.opt.crashes, 0755);
   char log_path[1024];
   snprintf(log_path, sizeof(log_path), "%s/.child-%d.log", f.opt.crashes, (int)getpid());

   /* The seeds themselves must replay to the end. Without the waits
    * (--async) a seed may crash in the driver (objects freed under pending
    * work): those are counted and saved as crashes of iteration "seed". */
   for (uint32_t k = 0; k < f.ncorpus; k++) {
      const int status = run_child(&f, &f.corpus[k], log_path);
      if (WIFEXITED(status) &&
          (WEXITSTATUS(status) == CHILD_DONE || WEXITSTATUS(status) == CHILD_STALLED))
         continue;
      if (!f.opt.async) {
         fprintf(stderr,
                 "pv-fuzz-replay: seed %s does not replay cleanly (status %#x); "
                 "its log: %s\n",
                 f.paths[k], status, log_path);
         return 2;
      }
      char sig[256];
      classify(log_path, status, sig, sizeof(sig));
      printf("pv-fuzz-replay: seed %s, unmutated, --async: %s\n", f.paths[k], sig);
      f.seed_crashes++;
      struct crash_class *c = class_get(&f, sig);
      if (c->count++ < SAVED_PER_CLASS)
         save_crash(&f, &f.corpus[k], UINT64_MAX - k, sig, "none (a seed as captured)", log_path);
   }

   const double start = now_s();
   if (f.opt.iteration >= 0) {
      one_iteration(&f, (uint64_t)f.opt.iteration, log_path);
   } else {
      for (uint64_t it = 0; it < f.opt.runs; it++) {
         if (f.opt.max_time > 0 && now_s() - start > f.opt.max_time)
            break;
         one_iteration(&f, it, log_path);
         if ((it + 1) % 100 == 0)
            printf("pv-fuzz-replay: %llu runs, %.0f s, %llu crashes, %llu timeouts, %llu stalled\n",
                   (unsigned long long)f.runs, now_s() - start, (unsigned long long)f.crashes,
                   (unsigned long long)f.timeouts, (unsigned long long)f.stalled);
      }
   }
   unlink(log_path);
   const double took = now_s() - start;
   printf("pv-fuzz-replay: seed %llu: %llu runs in %.1f s (%.1f/s): %llu replayed to the end, "
          "%llu lost their context, %llu replayed with a wait that gave up, %llu crashed, "
          "%llu timed out\n",
          (unsigned long long)f.opt.seed, (unsigned long long)f.runs, took,
          took > 0 ? (double)f.runs / took : 0.0, (unsigned long long)f.done,
          (unsigned long long)f.lost, (unsigned long long)f.stalled, (unsigned long long)f.crashes,
          (unsigned long long)f.timeouts);
   if (f.seed_crashes)
      printf("  and %llu unmutated seeds crashed (--async)\n", (unsigned long long)f.seed_crashes);
   for (uint32_t k = 0; k < f.nclasses; k++)
      printf("  %u x %s\n", f.classes[k].count, f.classes[k].sig);
   for (uint32_t k = 0; k < f.ncorpus; k++) {
      pvf_session_free(&f.corpus[k]);
      free(f.paths[k]);
   }
   return f.crashes || f.seed_crashes ? 1 : 0;
}
