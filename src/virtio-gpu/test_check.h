/*
 * Test helper for the virtio-gpu unit tests (one test program a file):
 * CHECK counts a failed condition and goes on, so one run reports every
 * failure; main ends with `return test_report("name");`.
 */
#ifndef PV_VGPU_TEST_CHECK_H
#define PV_VGPU_TEST_CHECK_H

#include <stdio.h>

/* Failed checks so far in this test program. */
static int failures;

#define CHECK(cond)                                                            \
   do {                                                                        \
      if (!(cond)) {                                                           \
         fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
         failures++;                                                           \
      }                                                                        \
   } while (0)

/* Prints the outcome; returns the exit status (1 when any check failed). */
static inline int
test_report(const char *name)
{
   if (failures) {
      fprintf(stderr, "%d check(s) failed\n", failures);
      return 1;
   }
   printf("%s: all tests passed\n", name);
   return 0;
}

#endif
