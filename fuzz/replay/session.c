/* .pvcap parsing, writing and editing (session.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "venus/pvk_capture_format.h"

static int
push(struct pvf_session *s, const struct pvf_record *r)
{
   if (s->count == s->capacity) {
      const uint32_t want = s->capacity ? s->capacity * 2 : 64;
      struct pvf_record *p = realloc(s->rec, sizeof(*p) * want);
      if (!p)
         return -1;
      s->rec = p;
      s->capacity = want;
   }
   s->rec[s->count++] = *r;
   return 0;
}

static void
record_free(struct pvf_record *r)
{
   free(r->data);
   free(r->cmd);
}

void
pvf_session_free(struct pvf_session *s)
{
   for (uint32_t i = 0; i < s->count; i++)
      record_free(&s->rec[i]);
   free(s->rec);
   memset(s, 0, sizeof(*s));
}

/* A deep copy of a record; 0 or -1. */
static int
record_copy(struct pvf_record *dst, const struct pvf_record *src)
{
   *dst = (struct pvf_record){ .type = src->type, .size = src->size, .ncmd = src->ncmd };
   dst->data = malloc(src->size ? src->size : 1);
   dst->cmd = malloc(sizeof(uint32_t) * (src->ncmd ? src->ncmd : 1));
   if (!dst->data || !dst->cmd) {
      record_free(dst);
      return -1;
   }
   if (src->size)
      memcpy(dst->data, src->data, src->size);
   if (src->ncmd)
      memcpy(dst->cmd, src->cmd, sizeof(uint32_t) * src->ncmd);
   return 0;
}

/* A STREAM payload: count, offsets, bytes. Offsets must ascend inside the
 * bytes; the first must be 0 when there are any. */
static int
parse_stream(struct pvf_record *r, const uint8_t *p, uint32_t size)
{
   uint32_t n;
   if (size < 4)
      return -1;
   memcpy(&n, p, 4);
   if (n > (size - 4) / 4)
      return -1;
   const uint32_t index = 4 + 4 * n;
   r->size = size - index;
   r->ncmd = n;
   r->cmd = malloc(sizeof(uint32_t) * (n ? n : 1));
   r->data = malloc(r->size ? r->size : 1);
   if (!r->cmd || !r->data)
      return -1;
   memcpy(r->cmd, p + 4, sizeof(uint32_t) * n);
   memcpy(r->data, p + index, r->size);
   for (uint32_t i = 0; i < n; i++) {
      if (r->cmd[i] >= r->size || (i && r->cmd[i] <= r->cmd[i - 1]) || (!i && r->cmd[0]))
         return -1;
   }
   return 0;
}

int
pvf_session_parse(struct pvf_session *s, const uint8_t *data, size_t size)
{
   memset(s, 0, sizeof(*s));
   struct pvk_capture_header h;
   if (size < sizeof(h))
      return -1;
   memcpy(&h, data, sizeof(h));
   if (memcmp(h.magic, PVK_CAPTURE_MAGIC, 8) || h.version != PVK_CAPTURE_VERSION)
      return -1;
   s->wire_format = h.wire_format;
   size_t off = sizeof(h);
   while (size - off >= sizeof(struct pvk_capture_record)) {
      struct pvk_capture_record rec;
      memcpy(&rec, data + off, sizeof(rec));
      off += sizeof(rec);
      if (rec.size > size - off)
         break; /* a capture cut short by a crash: keep what is whole */
      struct pvf_record r = { .type = rec.type };
      int ret;
      if (rec.type == PVK_CAPTURE_STREAM) {
         ret = parse_stream(&r, data + off, rec.size);
      } else {
         r.size = rec.size;
         r.data = malloc(rec.size ? rec.size : 1);
         ret = r.data ? 0 : -1;
         if (r.data)
            memcpy(r.data, data + off, rec.size);
      }
      if (ret || push(s, &r)) {
         record_free(&r);
         pvf_session_free(s);
         return -1;
      }
      off += rec.size;
      off += (4 - off % 4) % 4;
      if (off > size)
         break;
   }
   return 0;
}

int
pvf_session_load(struct pvf_session *s, const char *path)
{
   FILE *f = fopen(path, "rb");
   if (!f)
      return -1;
   uint8_t *buf = NULL;
   size_t used = 0, cap = 0;
   for (;;) {
      if (used == cap) {
         cap = cap ? cap * 2 : 1 << 16;
         uint8_t *p = realloc(buf, cap);
         if (!p) {
            free(buf);
            fclose(f);
            return -1;
         }
         buf = p;
      }
      const size_t n = fread(buf + used, 1, cap - used, f);
      if (!n)
         break;
      used += n;
   }
   fclose(f);
   const int ret = pvf_session_parse(s, buf, used);
   free(buf);
   return ret;
}

int
pvf_session_copy(struct pvf_session *dst, const struct pvf_session *src)
{
   memset(dst, 0, sizeof(*dst));
   dst->wire_format = src->wire_format;
   for (uint32_t i = 0; i < src->count; i++) {
      struct pvf_record r;
      if (record_copy(&r, &src->rec[i]))
         goto fail;
      if (push(dst, &r)) {
         record_free(&r);
         goto fail;
      }
   }
   return 0;
fail:
   pvf_session_free(dst);
   return -1;
}

static size_t
payload_size(const struct pvf_record *r)
{
   return r->type == PVK_CAPTURE_STREAM ? 4 + 4 * (size_t)r->ncmd + r->size : r->size;
}

uint8_t *
pvf_session_serialize(const struct pvf_session *s, size_t *size)
{
   size_t total = sizeof(struct pvk_capture_header);
   for (uint32_t i = 0; i < s->count; i++)
      total += 8 + (payload_size(&s->rec[i]) + 3) / 4 * 4;
   uint8_t *buf = calloc(1, total);
   if (!buf)
      return NULL;
   struct pvk_capture_header h = { .version = PVK_CAPTURE_VERSION, .wire_format = s->wire_format };
   memcpy(h.magic, PVK_CAPTURE_MAGIC, 8);
   memcpy(buf, &h, sizeof(h));
   size_t off = sizeof(h);
   for (uint32_t i = 0; i < s->count; i++) {
      const struct pvf_record *r = &s->rec[i];
      const struct pvk_capture_record rec = { r->type, (uint32_t)payload_size(r) };
      memcpy(buf + off, &rec, sizeof(rec));
      off += sizeof(rec);
      if (r->type == PVK_CAPTURE_STREAM) {
         memcpy(buf + off, &r->ncmd, 4);
         if (r->ncmd)
            memcpy(buf + off + 4, r->cmd, 4 * (size_t)r->ncmd);
         off += 4 + 4 * (size_t)r->ncmd;
      }
      if (r->size)
         memcpy(buf + off, r->data, r->size);
      off += r->size;
      off = (off + 3) / 4 * 4;
   }
   *size = total;
   return buf;
}

int
pvf_session_save(const struct pvf_session *s, const char *path)
{
   size_t size;
   uint8_t *buf = pvf_session_serialize(s, &size);
   if (!buf)
      return -1;
   FILE *f = fopen(path, "wb");
   int ret = -1;
   if (f) {
      ret = fwrite(buf, 1, size, f) == size ? 0 : -1;
      if (fclose(f))
         ret = -1;
   }
   free(buf);
   return ret;
}

int
pvf_session_insert(struct pvf_session *s, uint32_t at, const struct pvf_record *r)
{
   struct pvf_record copy;
   if (at > s->count || record_copy(&copy, r))
      return -1;
   if (push(s, &copy)) {
      record_free(&copy);
      return -1;
   }
   memmove(&s->rec[at + 1], &s->rec[at], sizeof(*s->rec) * (s->count - 1 - at));
   s->rec[at] = copy;
   return 0;
}

void
pvf_session_remove(struct pvf_session *s, uint32_t at)
{
   if (at >= s->count)
      return;
   record_free(&s->rec[at]);
   memmove(&s->rec[at], &s->rec[at + 1], sizeof(*s->rec) * (s->count - 1 - at));
   s->count--;
}

size_t
pvf_stream_cmd_size(const struct pvf_record *r, uint32_t i)
{
   const size_t end = i + 1 < r->ncmd ? r->cmd[i + 1] : r->size;
   return end - r->cmd[i];
}

int
pvf_stream_replace(struct pvf_record *r, uint32_t first, uint32_t n_old, const uint8_t *bytes,
                   size_t bytes_size, const uint32_t *offs, uint32_t n_new)
{
   if (first > r->ncmd || n_old > r->ncmd - first)
      return -1;
   const size_t start = first < r->ncmd ? r->cmd[first] : r->size;
   const size_t end = first + n_old < r->ncmd ? r->cmd[first + n_old] : r->size;
   const size_t size = r->size - (end - start) + bytes_size;
   const uint32_t ncmd = r->ncmd - n_old + n_new;
   if (size > UINT32_MAX / 2)
      return -1;
   uint8_t *data = malloc(size ? size : 1);
   uint32_t *cmd = malloc(sizeof(uint32_t) * (ncmd ? ncmd : 1));
   if (!data || !cmd) {
      free(data);
      free(cmd);
      return -1;
   }
   memcpy(data, r->data, start);
   if (bytes_size)
      memcpy(data + start, bytes, bytes_size);
   memcpy(data + start + bytes_size, r->data + end, r->size - end);
   uint32_t k = 0;
   for (uint32_t i = 0; i < first; i++)
      cmd[k++] = r->cmd[i];
   for (uint32_t i = 0; i < n_new; i++)
      cmd[k++] = (uint32_t)(start + offs[i]);
   for (uint32_t i = first + n_old; i < r->ncmd; i++)
      cmd[k++] = (uint32_t)(r->cmd[i] - end + start + bytes_size);
   free(r->data);
   free(r->cmd);
   r->data = data;
   r->cmd = cmd;
   r->size = size;
   r->ncmd = ncmd;
   return 0;
}

void
pvf_stream_truncate(struct pvf_record *r, size_t size)
{
   if (size >= r->size)
      return;
   r->size = size;
   while (r->ncmd && r->cmd[r->ncmd - 1] >= size)
      r->ncmd--;
}
