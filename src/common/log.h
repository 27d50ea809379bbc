/*
 * PearVisor logging: one module, four levels, one line per message.
 *
 * Messages go to stderr as "pearvisor: LEVEL: [tag] text". The threshold is
 * read once from the PV_LOG environment variable (error, warn, info, debug;
 * default: warn). Safe to call from any thread.
 */
#ifndef PV_COMMON_LOG_H
#define PV_COMMON_LOG_H

#include <stdarg.h>

enum pv_log_level {
   PV_LOG_ERROR = 0,
   PV_LOG_WARN = 1,
   PV_LOG_INFO = 2,
   PV_LOG_DEBUG = 3,
};

/* True when a message of this level would be printed. */
int pv_log_enabled(enum pv_log_level level);

void pv_log(enum pv_log_level level, const char *tag, const char *fmt, ...)
   __attribute__((format(printf, 3, 4)));
void pv_logv(enum pv_log_level level, const char *tag, const char *fmt, va_list ap);

#define pv_error(tag, ...) pv_log(PV_LOG_ERROR, tag, __VA_ARGS__)
#define pv_warn(tag, ...) pv_log(PV_LOG_WARN, tag, __VA_ARGS__)
#define pv_info(tag, ...) pv_log(PV_LOG_INFO, tag, __VA_ARGS__)
#define pv_debug(tag, ...)                       \
   do {                                          \
      if (pv_log_enabled(PV_LOG_DEBUG))          \
         pv_log(PV_LOG_DEBUG, tag, __VA_ARGS__); \
   } while (0)

#endif
