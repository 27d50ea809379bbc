#include "vug_frontend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define TAG "vhost-user-gpu"
#define HDR_SIZE 12
#define FLAG_REPLY 0x4u
#define OUT_LIMIT (64u << 20)

void
pv_vug_init(struct pv_vug *g)
{
   memset(g, 0, sizeof(*g));
   g->sock = -1;
   g->out_limit = OUT_LIMIT;
}

void
pv_vug_disconnect(struct pv_vug *g)
{
   if (g->sock >= 0)
      close(g->sock);
   g->sock = -1;
   g->out_len = 0;
   g->in_len = 0;
   g->congested = false;
}

void
pv_vug_fini(struct pv_vug *g)
{
   pv_vug_disconnect(g);
   free(g->out);
   g->out = NULL;
}

/* Queues one message; false when it does not fit the queue limit. */
static bool
queue(struct pv_vug *g, uint32_t request, uint32_t flags, const void *a, size_t alen, const void *b,
      size_t blen)
{
   if (g->sock < 0)
      return true;
   size_t need = HDR_SIZE + alen + blen;
   if (g->out_len + need > g->out_limit)
      return false;
   if (g->out_len + need > g->out_cap) {
      size_t cap = g->out_cap ? g->out_cap : 65536;
      while (cap < g->out_len + need)
         cap *= 2;
      uint8_t *p = realloc(g->out, cap);
      if (!p)
         return false;
      g->out = p;
      g->out_cap = cap;
   }
   uint32_t hdr[3] = { request, flags, (uint32_t)(alen + blen) };
   uint8_t *d = g->out + g->out_len;
   memcpy(d, hdr, HDR_SIZE);
   if (alen)
      memcpy(d + HDR_SIZE, a, alen);
   if (blen)
      memcpy(d + HDR_SIZE + alen, b, blen);
   g->out_len += need;
   pv_vug_on_writable(g); /* opportunistic, never blocks */
   return true;
}

void
pv_vug_connect(struct pv_vug *g, int sock)
{
   pv_vug_disconnect(g);
   int fl = fcntl(sock, F_GETFL);
   if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0) {
      close(sock);
      return;
   }
   g->sock = sock;
   queue(g, VHOST_USER_GPU_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
}

void
pv_vug_scanout(struct pv_vug *g, uint32_t id, uint32_t w, uint32_t h)
{
   uint32_t m[3] = { id, w, h };
   if (!queue(g, VHOST_USER_GPU_SCANOUT, 0, m, sizeof(m), NULL, 0))
      g->congested = true;
}

void
pv_vug_update(struct pv_vug *g, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
              const uint32_t *pixels)
{
   uint32_t m[5] = { id, x, y, w, h };
   if (!queue(g, VHOST_USER_GPU_UPDATE, 0, m, sizeof(m), pixels, (size_t)w * h * 4))
      g->congested = true;
}

void
pv_vug_cursor(struct pv_vug *g, uint32_t id, uint32_t x, uint32_t y, bool visible,
              const uint32_t *image, uint32_t hot_x, uint32_t hot_y)
{
   uint32_t pos[3] = { id, x, y };
   if (image) {
      uint32_t hot[2] = { hot_x, hot_y };
      uint8_t m[sizeof(pos) + sizeof(hot) + 64 * 64 * 4];
      memcpy(m, pos, sizeof(pos));
      memcpy(m + sizeof(pos), hot, sizeof(hot));
      memcpy(m + sizeof(pos) + sizeof(hot), image, 64 * 64 * 4);
      queue(g, VHOST_USER_GPU_CURSOR_UPDATE, 0, m, sizeof(m), NULL, 0);
   } else {
      queue(g, visible ? VHOST_USER_GPU_CURSOR_POS : VHOST_USER_GPU_CURSOR_POS_HIDE, 0, pos,
            sizeof(pos), NULL, 0);
   }
}

bool
pv_vug_want_write(const struct pv_vug *g)
{
   return g->sock >= 0 && g->out_len > 0;
}

int
pv_vug_on_writable(struct pv_vug *g)
{
   size_t done = 0;
   while (g->sock >= 0 && done < g->out_len) {
      ssize_t r = send(g->sock, g->out + done, g->out_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r < 0 && errno == EINTR)
         continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
         break;
      if (r <= 0) {
         pv_warn(TAG, "display channel closed");
         pv_vug_disconnect(g);
         return -EPIPE;
      }
      done += (size_t)r;
   }
   if (done) {
      memmove(g->out, g->out + done, g->out_len - done);
      g->out_len -= done;
   }
   return 0;
}

static void
handle_reply(struct pv_vug *g, uint32_t request, const uint8_t *p, uint32_t size)
{
   if (request == VHOST_USER_GPU_GET_PROTOCOL_FEATURES) {
      /* We use no optional message (EDID, DMABUF2): enable none. */
      uint64_t none = 0;
      queue(g, VHOST_USER_GPU_SET_PROTOCOL_FEATURES, 0, &none, sizeof(none), NULL, 0);
   }
}

int
pv_vug_on_readable(struct pv_vug *g)
{
   if (g->sock < 0)
      return 0;
   ssize_t r = recv(g->sock, g->in + g->in_len, sizeof(g->in) - g->in_len, MSG_DONTWAIT);
   if (r < 0 && (errno == EAGAIN || errno == EINTR))
      return 0;
   if (r <= 0) {
      pv_vug_disconnect(g);
      return -ECONNRESET;
   }
   g->in_len += (size_t)r;
   while (g->in_len >= HDR_SIZE) {
      uint32_t hdr[3];
      memcpy(hdr, g->in, HDR_SIZE);
      if (hdr[2] > sizeof(g->in) - HDR_SIZE) {
         pv_warn(TAG, "oversized message %u from the display; closing", hdr[0]);
         pv_vug_disconnect(g);
         return -EPROTO;
      }
      if (g->in_len < HDR_SIZE + hdr[2])
         break;
      if (hdr[1] & FLAG_REPLY)
         handle_reply(g, hdr[0], g->in + HDR_SIZE, hdr[2]);
      size_t used = HDR_SIZE + hdr[2];
      memmove(g->in, g->in + used, g->in_len - used);
      g->in_len -= used;
   }
   return 0;
}
