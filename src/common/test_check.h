/*
 * Checks for the unit tests (one test program a file), shared by every
 * folder so a failure reads the same everywhere:
 *
 *   CHECK(cond)   stops the program (exit 1) at the first failed condition;
 *                 for tests whose later steps depend on earlier ones.
 *   EXPECT(cond)  counts a failed condition and goes on, so one run reports
 *                 every failure; such a test ends with
 *                 `return test_report("name");`.
 */
#ifndef PV_COMMON_TEST_CHECK_H
#define PV_COMMON_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                               \
   do {                                                                           \
      if (!(cond)) {                                                              \
         fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
         exit(1);                                                                 \
      }                                                                           \
   } while (0)

/* Failed EXPECTs so far in this test program. */
static int test_failures;

#define EXPECT(cond)                                                              \
   do {                                                                           \
      if (!(cond)) {                                                              \
         fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
         test_failures++;                                                         \
      }                                                                           \
   } while (0)

/* Prints the outcome; returns the exit status (1 when any EXPECT failed). */
static inline int
test_report(const char *name)
{
   if (test_failures) {
      fprintf(stderr, "%d check(s) failed\n", test_failures);
      return 1;
   }
   printf("%s: all tests passed\n", name);
   return 0;
}

#endif
