/* Session capture (pvk_capture.h, format in pvk_capture_format.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "venus/generated/vn_protocol_renderer.h"
#include "venus/pvk_capture.h"
#include "venus/pvk_capture_format.h"

/* A capture stops (with a warning) past this many bytes: a long session
 * must not fill the disk. */
#define PVK_CAPTURE_MAX_BYTES (256ull << 20)

struct pvk_capture {
   pthread_mutex_t mutex; /* rings, the submit path and resource calls */
   int fd;
   uint32_t ctx_id;
   uint64_t written;
   bool failed;

   /* commands of the current outermost stream, not written yet */
   uint8_t *bytes;
   size_t used, capacity;
   uint32_t *offsets;
   uint32_t count, offsets_capacity;
};

static int
open_unique(const char *dir, uint32_t ctx_id)
{
   char path[4096];
   for (unsigned n = 0; n < 1000; n++) {
      snprintf(path, sizeof(path), "%s/session-%d-%u-%u.pvcap", dir, (int)getpid(), ctx_id, n);
      const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0 || errno != EEXIST) {
         if (fd < 0)
            pv_warn("venus", "capture: cannot create %s: %s", path, strerror(errno));
         else
            pv_info("venus", "context %u: capturing to %s", ctx_id, path);
         return fd;
      }
   }
   return -1;
}

static bool
write_all(struct pvk_capture *cap, const void *data, size_t size)
{
   const uint8_t *p = data;
   while (size) {
      const ssize_t n = write(cap->fd, p, size);
      if (n < 0 && errno == EINTR)
         continue;
      if (n <= 0)
         return false;
      p += n;
      size -= (size_t)n;
   }
   return true;
}

/* One record: header, parts, padding. Stops the capture on failure. */
static void
write_record(struct pvk_capture *cap, uint32_t type, const void *a, size_t a_size, const void *b,
             size_t b_size)
{
   if (cap->failed)
      return;
   const size_t size = a_size + b_size;
   const size_t pad = (4 - size % 4) % 4;
   if (size > UINT32_MAX - 4 || cap->written + size + 8 > PVK_CAPTURE_MAX_BYTES) {
      pv_warn("venus", "context %u: capture stopped at %llu bytes (cap %llu)", cap->ctx_id,
              (unsigned long long)cap->written, PVK_CAPTURE_MAX_BYTES);
      cap->failed = true;
      return;
   }
   const struct pvk_capture_record rec = { type, (uint32_t)size };
   static const uint8_t zeros[4];
   if (!write_all(cap, &rec, sizeof(rec)) || !write_all(cap, a, a_size) ||
       !write_all(cap, b, b_size) || !write_all(cap, zeros, pad)) {
      pv_warn("venus", "context %u: capture stopped: write failed: %s", cap->ctx_id,
              strerror(errno));
      cap->failed = true;
      return;
   }
   cap->written += sizeof(rec) + size + pad;
}

struct pvk_capture *
pvk_capture_create(uint32_t ctx_id, uint32_t wire_format)
{
   const char *dir = getenv("PV_CAPTURE_DIR");
   if (!dir || !*dir)
      return NULL;
   struct pvk_capture *cap = calloc(1, sizeof(*cap));
   if (!cap)
      return NULL;
   cap->ctx_id = ctx_id;
   cap->fd = open_unique(dir, ctx_id);
   if (cap->fd < 0) {
      free(cap);
      return NULL;
   }
   struct pvk_capture_header h = { .version = PVK_CAPTURE_VERSION, .wire_format = wire_format };
   memcpy(h.magic, PVK_CAPTURE_MAGIC, sizeof(h.magic));
   if (!write_all(cap, &h, sizeof(h))) {
      close(cap->fd);
      free(cap);
      return NULL;
   }
   cap->written = sizeof(h);
   pthread_mutex_init(&cap->mutex, NULL);
   return cap;
}

static void
flush_locked(struct pvk_capture *cap)
{
   if (!cap->count)
      return;
   const size_t index = sizeof(uint32_t) * (1 + (size_t)cap->count);
   uint32_t *head = malloc(index);
   if (head) {
      head[0] = cap->count;
      memcpy(head + 1, cap->offsets, sizeof(uint32_t) * cap->count);
      write_record(cap, PVK_CAPTURE_STREAM, head, index, cap->bytes, cap->used);
      free(head);
   } else {
      cap->failed = true;
   }
   cap->used = 0;
   cap->count = 0;
}

void
pvk_capture_destroy(struct pvk_capture *cap)
{
   if (!cap)
      return;
   pthread_mutex_lock(&cap->mutex);
   flush_locked(cap);
   pthread_mutex_unlock(&cap->mutex);
   close(cap->fd);
   free(cap->bytes);
   free(cap->offsets);
   pthread_mutex_destroy(&cap->mutex);
   free(cap);
}

static bool
reserve(struct pvk_capture *cap, size_t size)
{
   if (cap->used + size > cap->capacity) {
      size_t want = cap->capacity ? cap->capacity : 64 * 1024;
      while (want < cap->used + size)
         want *= 2;
      uint8_t *p = realloc(cap->bytes, want);
      if (!p)
         return false;
      cap->bytes = p;
      cap->capacity = want;
   }
   if (cap->count == cap->offsets_capacity) {
      const uint32_t want = cap->offsets_capacity ? cap->offsets_capacity * 2 : 1024;
      uint32_t *p = realloc(cap->offsets, sizeof(uint32_t) * want);
      if (!p)
         return false;
      cap->offsets = p;
      cap->offsets_capacity = want;
   }
   return true;
}

static void
append_locked(struct pvk_capture *cap, const void *data, size_t size)
{
   if (cap->failed)
      return;
   if (cap->used + size > PVK_CAPTURE_MAX_BYTES || !reserve(cap, size)) {
      pv_warn("venus", "context %u: capture stopped: a stream too large to keep", cap->ctx_id);
      cap->failed = true;
      return;
   }
   cap->offsets[cap->count++] = (uint32_t)cap->used;
   memcpy(cap->bytes + cap->used, data, size);
   cap->used += size;
}

void
pvk_capture_command(struct pvk_capture *cap, uint32_t type, const void *data, size_t size)
{
   switch (type) {
   case VK_COMMAND_TYPE_vkExecuteCommandStreamsMESA_EXT: /* its streams are inline */
   case VK_COMMAND_TYPE_vkWaitRingSeqnoMESA_EXT:         /* the order is already serial */
   case VK_COMMAND_TYPE_vkWaitVirtqueueSeqnoMESA_EXT:
      return;
   default:
      break;
   }
   pthread_mutex_lock(&cap->mutex);
   append_locked(cap, data, size);
   pthread_mutex_unlock(&cap->mutex);
}

void
pvk_capture_reply_seek(struct pvk_capture *cap, uint64_t position)
{
   uint32_t cmd[4] = { VK_COMMAND_TYPE_vkSeekReplyCommandStreamMESA_EXT, 0, (uint32_t)position,
                       (uint32_t)(position >> 32) };
   pthread_mutex_lock(&cap->mutex);
   append_locked(cap, cmd, sizeof(cmd));
   pthread_mutex_unlock(&cap->mutex);
}

void
pvk_capture_flush(struct pvk_capture *cap)
{
   pthread_mutex_lock(&cap->mutex);
   flush_locked(cap);
   pthread_mutex_unlock(&cap->mutex);
}

void
pvk_capture_blob(struct pvk_capture *cap, uint32_t type, const struct pvk_capture_blob *blob)
{
   pthread_mutex_lock(&cap->mutex);
   flush_locked(cap);
   write_record(cap, type, blob, sizeof(*blob), NULL, 0);
   pthread_mutex_unlock(&cap->mutex);
}

void
pvk_capture_res_id(struct pvk_capture *cap, uint32_t type, uint32_t res_id)
{
   const struct pvk_capture_res r = { res_id };
   pthread_mutex_lock(&cap->mutex);
   flush_locked(cap);
   write_record(cap, type, &r, sizeof(r), NULL, 0);
   pthread_mutex_unlock(&cap->mutex);
}

void
pvk_capture_fence(struct pvk_capture *cap, uint32_t ring_idx, uint64_t fence_id)
{
   const struct pvk_capture_fence f = { .ring_idx = ring_idx, .fence_id = fence_id };
   pthread_mutex_lock(&cap->mutex);
   flush_locked(cap);
   write_record(cap, PVK_CAPTURE_FENCE, &f, sizeof(f), NULL, 0);
   pthread_mutex_unlock(&cap->mutex);
}
