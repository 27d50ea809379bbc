/*
 * Diagnostic, not a setting: an LD_PRELOAD library for the guest driver's
 * process that divides its relative clock_nanosleep() requests by
 * PV_GUEST_SLEEP_DIVISOR (default 16).
 *
 * Mesa 25's venus polls fences with 15 yields and then sleeps of 160 us
 * (vn_relax, VN_RELAX_REASON_FENCE); Mesa 22.3 yields 1024 times before its
 * first 160 us sleep. With the sleeps 16 times shorter, a bench row shows how
 * much of a Mesa 25 guest's wait is its own sleep rather than host work.
 * No real guest runs with this; pvbench labels such rows.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);

static long
sleep_divisor(void)
{
   const char *s = getenv("PV_GUEST_SLEEP_DIVISOR");
   long d = s ? strtol(s, NULL, 10) : 16;
   return d >= 1 && d <= 1000000 ? d : 16;
}

int
clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
   clock_nanosleep_fn real = (clock_nanosleep_fn)dlsym(RTLD_NEXT, "clock_nanosleep");
   if (!real)
      return -1;
   if ((flags & TIMER_ABSTIME) || !req)
      return real(clock, flags, req, rem);

   const long long ns = (long long)req->tv_sec * 1000000000LL + req->tv_nsec;
   const long long scaled = ns / sleep_divisor();
   const struct timespec shorter = {
      .tv_sec = (time_t)(scaled / 1000000000LL),
      .tv_nsec = (long)(scaled % 1000000000LL),
   };
   return real(clock, flags, &shorter, rem);
}
