#include "vtest/vtest_watchdog.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int64_t
vtest_parse_schedstat_wait_ms(const char *text)
{
   /* strtoull would take a sign and leading blanks: digits only */
   const char *p = text;
   while (*p >= '0' && *p <= '9')
      p++;
   if (p == text || *p != ' ')
      return -1;
   const char *wait = ++p;
   unsigned long long ns = 0;
   while (*p >= '0' && *p <= '9') {
      if (ns > (UINT64_MAX - 9) / 10)
         return -1;
      ns = ns * 10 + (unsigned)(*p++ - '0');
   }
   if (p == wait || (*p != ' ' && *p != '\n' && *p != '\0'))
      return -1;
   return (int64_t)(ns / 1000000u);
}

int64_t
vtest_cpu_wait_ms(pid_t pid)
{
   char path[40], text[96];
   snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
   const int fd = open(path, O_RDONLY | O_CLOEXEC);
   if (fd < 0)
      return -1;
   const ssize_t n = read(fd, text, sizeof(text) - 1);
   close(fd);
   if (n <= 0)
      return -1;
   text[n] = '\0';
   return vtest_parse_schedstat_wait_ms(text);
}

int64_t
vtest_watchdog_cpu_credit(int64_t waited_ms, int64_t allowance_ms)
{
   if (waited_ms <= 0 || allowance_ms <= 0)
      return 0;
   const int64_t max = allowance_ms * VTEST_WATCHDOG_CPU_CREDIT_MAX;
   return waited_ms < max ? waited_ms : max;
}
