#include "common/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Read-only after the first call; pthread_once makes the init race-free. */
static pthread_once_t threshold_once = PTHREAD_ONCE_INIT;
static enum pv_log_level threshold = PV_LOG_WARN;

static void
read_threshold(void)
{
   const char *env = getenv("PV_LOG");
   if (!env)
      return;
   for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
      if (!strcmp(env, level_names[i]))
         threshold = (enum pv_log_level)i;
   }
}

int
pv_log_enabled(enum pv_log_level level)
{
   pthread_once(&threshold_once, read_threshold);
   return level <= threshold;
}

void
pv_logv(enum pv_log_level level, const char *tag, const char *fmt, va_list ap)
{
   if (!pv_log_enabled(level))
      return;
   /* Format into one buffer so concurrent threads do not interleave lines. */
   char line[1024];
   int n =
      snprintf(line, sizeof(line), "pearvisor: %s: [%s] ", level_names[level], tag ? tag : "-");
   if (n < 0 || (size_t)n >= sizeof(line))
      n = 0;
   vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
   fprintf(stderr, "%s\n", line);
}

void
pv_log(enum pv_log_level level, const char *tag, const char *fmt, ...)
{
   va_list ap;
   va_start(ap, fmt);
   pv_logv(level, tag, fmt, ap);
   va_end(ap);
}
