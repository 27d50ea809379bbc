/*
 * pvbench worker: runs one workload in this process on whatever Vulkan
 * driver the loader picks (the parent sets VK_ICD_FILENAMES), and reports to
 * the parent as text lines on report_fd:
 *
 *   info device <name>                  the physical device's name
 *   metric <id> <unit> <0|1> <name...>  declares a metric (1: higher is better)
 *   sample <id> <value>                 one measurement of a declared metric
 *   value <key> <number>                a scalar (uss_before_kb, uss_after_kb, loop_us)
 *   ready                               set-up done; waits for one byte on go_fd
 *   done                                timed part done (before the final check)
 *   check ok | check fail <why>         the correctness check of the output
 *   error <why>                         the workload could not run
 *   skip <why>                          it cannot run on this machine (a missing
 *                                       third-party program): not a failure
 *   serial <id> <rec-id>                <id> is recording-bound, <rec-id> its
 *                                       recording part (for the serial limit)
 *
 * Samples are buffered and written after the timed loop so reporting never
 * disturbs the measurement.
 */
#ifndef PVBENCH_WORKER_H
#define PVBENCH_WORKER_H

struct pb_worker_args {
   const char *workload;      /* one of pb_worker_workloads() */
   unsigned iters;            /* iterations (frames for the frame loops) */
   unsigned size_mib;         /* buffer size for compute / upload; 0: default */
   unsigned frame_w, frame_h; /* the frame loops' image; 0: 1920x1080 */
   int report_fd;
   int go_fd; /* -1: do not wait for the go byte */
};

/* Runs the workload; returns the process exit status (0: ran and reported). */
int pb_worker_main(const struct pb_worker_args *args);

/* Private memory of a process (0: this one) in KiB: Private_Clean +
 * Private_Dirty of /proc/PID/smaps_rollup (USS), i.e. pages no other
 * process maps; shared library pages other processes also map are not
 * counted. Negative errno on failure. */
long pb_proc_uss_kb(int pid);

#endif
