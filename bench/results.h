/*
 * pvbench results: metrics (declared by workers), their samples per path,
 * the status of each (workload, path), statistics, and the text table and
 * JSON record written at the end.
 *
 * A metric's "% of native" compares medians: for lower-is-better metrics
 * native/path, for higher-is-better ones path/native, so 100% means as fast
 * as the host driver and 50% means half as fast.
 */
#ifndef PVBENCH_RESULTS_H
#define PVBENCH_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PB_MAX_PATHS 3
#define PB_STATUS_LEN 300
#define PB_ID_LEN 128 /* metric ids: "draws" or "draws [VAR=VAL]" (extra rows) */
#define PB_WL_LEN 128 /* workload keys, the same way */
#define PB_NAME_LEN 200
#define PB_MAX_EXTRA 3

struct pb_series {
   double *v;
   size_t n, cap;
};

struct pb_metric {
   char id[PB_ID_LEN];
   char workload[PB_WL_LEN];
   char name[PB_NAME_LEN];
   char unit[12];
   bool higher_better;
   /* Recording-bound metrics: the id of their recording part; the serial
    * limit of a path is its recording median + native's median of this
    * metric (the guest sends the commands only once recorded). */
   char serial_rec[PB_ID_LEN];
   struct pb_series s[PB_MAX_PATHS];
};

struct pb_wstatus {
   char workload[PB_WL_LEN];
   char status[PB_MAX_PATHS][PB_STATUS_LEN]; /* "" = not run, "ok", "fails: ..." */
};

struct pb_path_info {
   char name[16];
   char device[128];           /* reported by the first worker that got a device */
   char status[PB_STATUS_LEN]; /* "ok" or why the whole path failed */
};

struct pb_results {
   struct pb_path_info paths[PB_MAX_PATHS];
   unsigned npaths;
   struct pb_metric *m;
   size_t nm, capm;
   struct pb_wstatus *w;
   size_t nw, capw;
   char host_icd[512];
   char venus_icd[512];
   char guest_env[256];               /* the guest driver's settings on the venus paths */
   char extra_env[PB_MAX_EXTRA][128]; /* settings of the extra rows */
   unsigned nextra;
   bool quick;
   unsigned rounds, rounds_done; /* --repeat, and how many have finished */
   char date[32];                /* UTC, ISO 8601 */
   long cpus;
};

struct pb_stats {
   size_t n;
   double min, median, p90, mean;
};

void pb_results_init(struct pb_results *r);
void pb_results_fini(struct pb_results *r);

/* Finds or adds a metric; NULL on allocation failure. */
struct pb_metric *pb_metric_get(struct pb_results *r, const char *workload, const char *id,
                                const char *unit, bool higher_better, const char *name);
struct pb_metric *pb_metric_find(struct pb_results *r, const char *id);
int pb_series_add(struct pb_series *s, double v);

/* Sets the status of (workload, path); a non-"ok" status drops the samples
 * that path has for the workload's metrics, so partial runs never show. */
int pb_set_status(struct pb_results *r, const char *workload, unsigned path, const char *status);
const char *pb_get_status(const struct pb_results *r, const char *workload, unsigned path);

/* False when the series is empty. */
bool pb_stats_compute(const struct pb_series *s, struct pb_stats *out);

/* Percent of native (path 0) by medians; negative when not comparable. */
double pb_pct_of_native(const struct pb_metric *m, unsigned path);

/* The serial limit of a recording-bound metric on a path (see serial_rec)
 * and the path's median as % of it (100%: as fast as recording then running
 * natively one after the other). False when not applicable. */
bool pb_serial_limit(const struct pb_results *r, const struct pb_metric *m, unsigned path,
                     double *limit, double *pct);

void pb_write_table(const struct pb_results *r, FILE *f);
void pb_write_json(const struct pb_results *r, FILE *f);

#endif
