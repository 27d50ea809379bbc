#include "vtest/vtest_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct vtest_sync_obj {
   uint32_t id;
   uint64_t value;
};

struct vtest_wait {
   struct vtest_wait *next;
   int efd;
   bool any;
   bool has_deadline;
   struct timespec deadline;
   uint32_t count;
   struct vtest_sync_point pts[];
};

struct vtest_fence {
   struct vtest_fence *next;
   uint64_t id;
   uint32_t ring;
   uint32_t count;
   struct vtest_sync_point pts[];
};

/* A client's poll starts a little after the server got the wait. */
#define WAIT_GRACE_MS 1000

int
vtest_syncs_init(struct vtest_syncs *s, const struct vtest_sync_limits *limits)
{
   memset(s, 0, sizeof(*s));
   if (limits)
      s->limits = *limits;
   if (!s->limits.max_syncs)
      s->limits.max_syncs = VTEST_DEFAULT_MAX_SYNCS;
   if (!s->limits.max_waits)
      s->limits.max_waits = VTEST_DEFAULT_MAX_WAITS;
   if (!s->limits.max_fences)
      s->limits.max_fences = VTEST_DEFAULT_MAX_FENCES;
   s->next_id = 1;
   s->next_fence_id = 1;
   int ret = pthread_mutex_init(&s->lock, NULL);
   return ret ? -ret : 0;
}

void
vtest_syncs_fini(struct vtest_syncs *s)
{
   while (s->waits) {
      struct vtest_wait *w = s->waits;
      s->waits = w->next;
      close(w->efd);
      free(w);
   }
   while (s->fences) {
      struct vtest_fence *f = s->fences;
      s->fences = f->next;
      free(f);
   }
   free(s->objs);
   pthread_mutex_destroy(&s->lock);
   memset(s, 0, sizeof(*s));
}

/* Index of id in the sorted array, or -1. Caller holds the lock. */
static int64_t
find_obj(const struct vtest_syncs *s, uint32_t id)
{
   uint32_t lo = 0, hi = s->obj_count;
   while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (s->objs[mid].id == id)
         return mid;
      if (s->objs[mid].id < id)
         lo = mid + 1;
      else
         hi = mid;
   }
   return -1;
}

static bool
wait_satisfied(const struct vtest_syncs *s, const struct vtest_wait *w)
{
   if (!w->count)
      return true;
   for (uint32_t i = 0; i < w->count; i++) {
      int64_t idx = find_obj(s, w->pts[i].id);
      bool reached = idx >= 0 && s->objs[idx].value >= w->pts[i].value;
      if (w->any && reached)
         return true;
      if (!w->any && !reached)
         return false;
   }
   return !w->any;
}

static void
signal_efd(int efd)
{
   uint64_t one = 1;
   /* Cannot fail short of a counter overflow, which a fresh eventfd never hits. */
   ssize_t n = write(efd, &one, sizeof(one));
   (void)n;
}

/* Signals and frees every satisfied wait. Caller holds the lock. */
static void
update_waits(struct vtest_syncs *s)
{
   struct vtest_wait **link = &s->waits;
   while (*link) {
      struct vtest_wait *w = *link;
      if (wait_satisfied(s, w)) {
         signal_efd(w->efd);
         close(w->efd);
         *link = w->next;
         s->wait_count--;
         free(w);
      } else {
         link = &w->next;
      }
   }
}

static bool
timespec_before(const struct timespec *a, const struct timespec *b)
{
   return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Drops waits whose client has certainly stopped polling. Caller holds the lock. */
static void
expire_waits(struct vtest_syncs *s)
{
   struct timespec now;
   clock_gettime(CLOCK_MONOTONIC, &now);
   struct vtest_wait **link = &s->waits;
   while (*link) {
      struct vtest_wait *w = *link;
      if (w->has_deadline && timespec_before(&w->deadline, &now)) {
         close(w->efd);
         *link = w->next;
         s->wait_count--;
         free(w);
      } else {
         link = &w->next;
      }
   }
}

int
vtest_sync_create(struct vtest_syncs *s, uint64_t value, uint32_t *id)
{
   int ret = 0;
   pthread_mutex_lock(&s->lock);
   /* Ids only grow so the array stays sorted; never hand out 0 or reuse. */
   if (s->obj_count >= s->limits.max_syncs || s->next_id == 0) {
      ret = -ENOSPC;
      goto out;
   }
   if (s->obj_count == s->obj_cap) {
      uint32_t cap = s->obj_cap ? s->obj_cap * 2 : 16;
      struct vtest_sync_obj *objs = realloc(s->objs, (size_t)cap * sizeof(*objs));
      if (!objs) {
         ret = -ENOMEM;
         goto out;
      }
      s->objs = objs;
      s->obj_cap = cap;
   }
   *id = s->next_id++;
   s->objs[s->obj_count++] = (struct vtest_sync_obj){ .id = *id, .value = value };
out:
   pthread_mutex_unlock(&s->lock);
   return ret;
}

int
vtest_sync_unref(struct vtest_syncs *s, uint32_t id)
{
   pthread_mutex_lock(&s->lock);
   int64_t idx = find_obj(s, id);
   if (idx >= 0) {
      memmove(&s->objs[idx], &s->objs[idx + 1],
              (size_t)(s->obj_count - (uint32_t)idx - 1) * sizeof(s->objs[0]));
      s->obj_count--;
   }
   pthread_mutex_unlock(&s->lock);
   return idx >= 0 ? 0 : -ENOENT;
}

int
vtest_sync_read(struct vtest_syncs *s, uint32_t id, uint64_t *value)
{
   pthread_mutex_lock(&s->lock);
   int64_t idx = find_obj(s, id);
   if (idx >= 0)
      *value = s->objs[idx].value;
   pthread_mutex_unlock(&s->lock);
   return idx >= 0 ? 0 : -ENOENT;
}

int
vtest_sync_write(struct vtest_syncs *s, uint32_t id, uint64_t value)
{
   pthread_mutex_lock(&s->lock);
   int64_t idx = find_obj(s, id);
   if (idx >= 0) {
      s->objs[idx].value = value;
      update_waits(s);
   }
   pthread_mutex_unlock(&s->lock);
   return idx >= 0 ? 0 : -ENOENT;
}

int
vtest_sync_check(struct vtest_syncs *s, const struct vtest_sync_point *pts, uint32_t count)
{
   int ret = 0;
   pthread_mutex_lock(&s->lock);
   for (uint32_t i = 0; i < count && !ret; i++) {
      if (find_obj(s, pts[i].id) < 0)
         ret = -ENOENT;
   }
   pthread_mutex_unlock(&s->lock);
   return ret;
}

/* Caller holds the lock. */
static void
signal_locked(struct vtest_syncs *s, const struct vtest_sync_point *pts, uint32_t count)
{
   for (uint32_t i = 0; i < count; i++) {
      int64_t idx = find_obj(s, pts[i].id);
      if (idx >= 0)
         s->objs[idx].value = pts[i].value;
   }
   update_waits(s);
}

void
vtest_sync_signal(struct vtest_syncs *s, const struct vtest_sync_point *pts, uint32_t count)
{
   pthread_mutex_lock(&s->lock);
   signal_locked(s, pts, count);
   pthread_mutex_unlock(&s->lock);
}

int
vtest_sync_wait(struct vtest_syncs *s, bool any, uint32_t timeout_ms,
                const struct vtest_sync_point *pts, uint32_t count, int *fd)
{
   *fd = -1;
   int efd = eventfd(0, EFD_CLOEXEC);
   if (efd < 0)
      return -errno;

   int ret = 0;
   struct vtest_wait *w = NULL;
   pthread_mutex_lock(&s->lock);
   for (uint32_t i = 0; i < count; i++) {
      if (find_obj(s, pts[i].id) < 0) {
         ret = -ENOENT;
         goto fail;
      }
   }

   w = malloc(sizeof(*w) + (size_t)count * sizeof(w->pts[0]));
   if (!w) {
      ret = -ENOMEM;
      goto fail;
   }
   w->efd = efd;
   w->any = any;
   w->count = count;
   memcpy(w->pts, pts, (size_t)count * sizeof(pts[0]));

   if (wait_satisfied(s, w)) {
      signal_efd(efd);
      free(w);
      pthread_mutex_unlock(&s->lock);
      *fd = efd;
      return 0;
   }

   expire_waits(s);
   if (s->wait_count >= s->limits.max_waits) {
      ret = -ENOSPC;
      goto fail;
   }
   /* The wait keeps efd; the client gets its own descriptor of the same eventfd. */
   *fd = fcntl(efd, F_DUPFD_CLOEXEC, 0);
   if (*fd < 0) {
      ret = -errno;
      goto fail;
   }
   w->has_deadline = timeout_ms != UINT32_MAX;
   if (w->has_deadline) {
      uint64_t ms = (uint64_t)timeout_ms + WAIT_GRACE_MS;
      clock_gettime(CLOCK_MONOTONIC, &w->deadline);
      w->deadline.tv_sec += (time_t)(ms / 1000);
      w->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
      if (w->deadline.tv_nsec >= 1000000000L) {
         w->deadline.tv_sec++;
         w->deadline.tv_nsec -= 1000000000L;
      }
   }
   w->next = s->waits;
   s->waits = w;
   s->wait_count++;
   pthread_mutex_unlock(&s->lock);
   return 0;

fail:
   pthread_mutex_unlock(&s->lock);
   free(w);
   close(efd);
   return ret;
}

int
vtest_fence_add(struct vtest_syncs *s, uint32_t ring, const struct vtest_sync_point *pts,
                uint32_t count, uint64_t *fence_id)
{
   struct vtest_fence *f = malloc(sizeof(*f) + (size_t)count * sizeof(f->pts[0]));
   if (!f)
      return -ENOMEM;
   f->next = NULL;
   f->ring = ring;
   f->count = count;
   memcpy(f->pts, pts, (size_t)count * sizeof(pts[0]));

   pthread_mutex_lock(&s->lock);
   if (s->fence_count >= s->limits.max_fences) {
      pthread_mutex_unlock(&s->lock);
      free(f);
      return -ENOSPC;
   }
   f->id = s->next_fence_id++;
   if (s->fences_tail)
      s->fences_tail->next = f;
   else
      s->fences = f;
   s->fences_tail = f;
   s->fence_count++;
   *fence_id = f->id;
   pthread_mutex_unlock(&s->lock);
   return 0;
}

/* Unlinks *link (whose predecessor is prev, NULL for the head). Caller holds the lock. */
static struct vtest_fence *
unlink_fence(struct vtest_syncs *s, struct vtest_fence **link, struct vtest_fence *prev)
{
   struct vtest_fence *f = *link;
   *link = f->next;
   if (s->fences_tail == f)
      s->fences_tail = prev;
   s->fence_count--;
   return f;
}

void
vtest_fence_retired(struct vtest_syncs *s, uint32_t ring, uint64_t fence_id)
{
   pthread_mutex_lock(&s->lock);
   struct vtest_fence **link = &s->fences;
   struct vtest_fence *prev = NULL;
   /* Fence ids grow in FIFO order, so stop at the first younger fence. */
   while (*link && (*link)->id <= fence_id) {
      struct vtest_fence *f = *link;
      if (f->ring != ring) {
         prev = f;
         link = &f->next;
         continue;
      }
      unlink_fence(s, link, prev);
      for (uint32_t i = 0; i < f->count; i++) {
         int64_t idx = find_obj(s, f->pts[i].id);
         if (idx >= 0)
            s->objs[idx].value = f->pts[i].value;
      }
      free(f);
   }
   update_waits(s);
   pthread_mutex_unlock(&s->lock);
}

void
vtest_fence_cancel(struct vtest_syncs *s, uint64_t fence_id)
{
   pthread_mutex_lock(&s->lock);
   struct vtest_fence **link = &s->fences;
   struct vtest_fence *prev = NULL;
   while (*link) {
      if ((*link)->id == fence_id) {
         free(unlink_fence(s, link, prev));
         break;
      }
      prev = *link;
      link = &(*link)->next;
   }
   pthread_mutex_unlock(&s->lock);
}

uint32_t
vtest_sync_pending_waits(struct vtest_syncs *s)
{
   pthread_mutex_lock(&s->lock);
   uint32_t n = s->wait_count;
   pthread_mutex_unlock(&s->lock);
   return n;
}

uint32_t
vtest_sync_pending_fences(struct vtest_syncs *s)
{
   pthread_mutex_lock(&s->lock);
   uint32_t n = s->fence_count;
   pthread_mutex_unlock(&s->lock);
   return n;
}
