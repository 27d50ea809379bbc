/*
 * pv-vhost-user-gpu: PearVisor's virtio-gpu as a vhost-user backend process
 * for QEMU's -device vhost-user-gpu-pci.
 *
 *   pv-vhost-user-gpu --socket-path PATH [--width W] [--height H] [--png FILE]
 *                     [--hostmem SIZE] [--venus-wire-format 0|1] [limits]
 *                     [--teardown-timeout S] [--no-sandbox] [--user NAME]
 *   pv-vhost-user-gpu --fd N ...         (an already connected socket)
 *   pv-vhost-user-gpu --print-capabilities
 *
 * SIGUSR1 writes the current frame of scanout 0 to the --png file. SIGUSR2
 * logs the device's state at warn level (rings, held requests, retired
 * fences not yet handled, contexts): what a stuck guest may wait on. With
 * --socket-path a disconnecting QEMU leaves the backend ready for the next
 * one; with --fd it exits then. SIGTERM/SIGINT stop it.
 *
 * --hostmem SIZE (the same size as QEMU's hostmem= property) offers the
 * vhost-user SHMEM protocol feature: HOST3D blobs the guest maps with
 * RESOURCE_MAP_BLOB are placed in the device's host-visible region by
 * SHMEM_MAP requests on the backend channel. Fenced control requests are
 * held by the device model (vgpu.h, fence ownership); this file only moves
 * descriptors in and completions out.
 *
 * --venus-wire-format: the venus capset's wire format, 0 (default) for a guest
 * with Mesa 22.3's venus driver, 1 for Mesa 25's. The guest kernel reads the
 * capset once per VM and nothing a guest sends before tells the drivers
 * apart, so it is a per-VM choice.
 *
 * Limits (vug_budget.h): --memory-budget SIZE (RAM) and --vram-budget SIZE
 * (each discrete GPU's device-local heaps) for all contexts of the VM, or of
 * every backend that gives the same --budget-shm NAME;
 * --max-context-memory SIZE for each context (pv-vtest's option names).
 *
 * --teardown-timeout S: how long the destroy of a guest's context waits for
 * its GPU work (pv_renderer_set_teardown_timeout; default 5 s). Contexts live
 * in this process, so a queue that never drains must not hang the backend:
 * past the timeout its device is abandoned (leaked until the backend exits).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sandbox.h"
#include "pearvisor/pearvisor.h"
#include "pv_png.h"
#include "vhost-user/vhost_user.h"
#include "virtio-gpu/vgpu.h"
#include "vug_budget.h"
#include "vug_frontend.h"

#define TAG "pv-vhost-user-gpu"
#define CTRL_Q 0
#define CURSOR_Q 1
#define SHM_ID_HOST_VISIBLE 1 /* VIRTIO_GPU_SHM_ID_HOST_VISIBLE */

struct frame {
   uint32_t w, h;
   uint32_t *px;
};

struct retired {
   uint32_t ctx_id, ring_idx;
   uint64_t fence_id;
};

/* Fences retired by renderer threads, handed to the main loop. */
struct fence_queue {
   pthread_mutex_t lock;
   int efd;
   struct retired *items;
   size_t n, cap;
};

struct backend {
   struct pv_vu vu;
   bool connected;
   struct pv_vgpu *dev;
   struct pv_vug vug;
   struct frame frame[VIRTIO_GPU_MAX_SCANOUTS];
   uint32_t num_scanouts;
   const char *png_path;
   uint64_t hostmem_size; /* --hostmem: 0 = no host-visible region */
   bool ctrl_stalled;     /* the device had no room for a held request */
   bool ctrl_pushed;      /* completions pushed since the last notify */
   /* QEMU drops the region's mappings itself on a device reset, and waits
    * for our GET_VRING_BASE answer meanwhile: no unmap requests then. */
   bool frontend_unmaps;
   struct fence_queue fq;
   bool reported_broken[PV_VU_MAX_QUEUES];
   struct pv_renderer *renderer;
   struct vug_budget budget;
};

/* ---- display: keep our own copy of each frame, forward to QEMU --------- */

static void
disp_scanout(void *data, uint32_t id, uint32_t w, uint32_t h)
{
   struct backend *b = data;
   struct frame *f = &b->frame[id];
   free(f->px);
   f->px = w ? calloc((size_t)w * h, 4) : NULL;
   f->w = f->px ? w : 0;
   f->h = f->px ? h : 0;
   pv_vug_scanout(&b->vug, id, f->w, f->h);
}

static void
disp_update(void *data, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
            const uint32_t *px)
{
   struct backend *b = data;
   struct frame *f = &b->frame[id];
   if (!f->px || (uint64_t)x + w > f->w || (uint64_t)y + h > f->h)
      return;
   for (uint32_t r = 0; r < h; r++)
      memcpy(f->px + (size_t)(y + r) * f->w + x, px + (size_t)r * w, (size_t)w * 4);
   pv_vug_update(&b->vug, id, x, y, w, h, px);
}

static void
disp_cursor(void *data, uint32_t id, uint32_t x, uint32_t y, bool visible, const uint32_t *image,
            uint32_t hx, uint32_t hy)
{
   struct backend *b = data;
   pv_vug_cursor(&b->vug, id, x, y, visible, image, hx, hy);
}

/* Sends every frame whole (new display channel, or dropped updates). */
static void
resend_frames(struct backend *b)
{
   b->vug.congested = false;
   for (uint32_t i = 0; i < b->num_scanouts; i++) {
      struct frame *f = &b->frame[i];
      if (!f->px)
         continue;
      pv_vug_scanout(&b->vug, i, f->w, f->h);
      pv_vug_update(&b->vug, i, 0, 0, f->w, f->h, f->px);
   }
}

static void
dump_png(struct backend *b)
{
   struct frame *f = &b->frame[0];
   if (!b->png_path) {
      pv_warn(TAG, "SIGUSR1 without --png: nothing to write");
      return;
   }
   if (!f->px) {
      pv_warn(TAG, "scanout 0 is disabled: no PNG written");
      return;
   }
   int err = pv_png_write_xrgb(b->png_path, f->w, f->h, f->px);
   if (err < 0)
      pv_error(TAG, "writing %s failed: %s", b->png_path, strerror(-err));
   else
      pv_info(TAG, "wrote %ux%u frame to %s", f->w, f->h, b->png_path);
}

/* SIGUSR2: everything a guest that waits for the device could wait on. */
static void
dump_state(struct backend *b)
{
   pv_warn(TAG, "state dump (SIGUSR2): frontend %s; control queue %s, completions %s",
           b->connected ? "connected" : "not connected",
           b->ctrl_stalled ? "paused for held requests" : "not paused",
           b->ctrl_pushed ? "pushed but not notified" : "all notified");
   for (unsigned q = 0; b->connected && q < PV_VU_MAX_QUEUES; q++) {
      const struct pv_vring *vq = &b->vu.vq[q];
      char line[512];
      pv_vring_describe(vq, line, sizeof(line));
      struct pollfd p = { .fd = vq->kick_fd, .events = POLLIN };
      bool kicked = vq->kick_fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
      pv_warn(TAG, "queue %u: %s%s", q, line, kicked ? "; a kick is unread" : "");
   }
   pthread_mutex_lock(&b->fq.lock);
   size_t n = b->fq.n;
   pv_warn(TAG, "%zu retired fence report(s) not handled yet", n);
   for (size_t i = 0; i < n && i < 64; i++)
      pv_warn(TAG, "  retired: ctx %u ring %u fence %llu", b->fq.items[i].ctx_id,
              b->fq.items[i].ring_idx, (unsigned long long)b->fq.items[i].fence_id);
   pthread_mutex_unlock(&b->fq.lock);
   pv_vgpu_log_state(b->dev, TAG);
   pv_warn(TAG, "display channel: %s, %s", b->vug.sock >= 0 ? "connected" : "none",
           pv_vug_want_write(&b->vug) ? "output pending" : "no output pending");
}

/* ---- queues ------------------------------------------------------------ */

/* The device completes a held control request (its fence retired). */
static void
ctrl_complete(void *data, uint64_t token, uint32_t len)
{
   struct backend *b = data;
   pv_vring_push(&b->vu.vq[CTRL_Q], (uint16_t)token, len);
   b->ctrl_pushed = true;
}

/* Takes one chain to the device; false when it has to wait for room. */
static bool
handle_chain(struct backend *b, unsigned idx, uint16_t head, struct iovec *in, unsigned n_in,
             struct iovec *out, unsigned n_out, bool *pushed)
{
   struct pv_vring *vq = &b->vu.vq[idx];
   uint32_t len;
   if (idx == CTRL_Q) {
      int r = pv_vgpu_submit_ctrl(b->dev, head, in, n_in, out, n_out, &len);
      if (r == -EBUSY) {
         pv_vring_unpop(vq);
         return false;
      }
      if (r == 0)
         return true; /* held: the device completes it when its fence retires */
   } else {
      len = pv_vgpu_process_cursor(b->dev, in, n_in, out, n_out);
   }
   pv_vring_push(vq, head, len);
   *pushed = true;
   return true;
}

static void
process_queue(struct backend *b, unsigned idx)
{
   struct pv_vring *vq = &b->vu.vq[idx];
   if (!vq->started || !vq->enabled)
      return;
   struct iovec in[PV_VRING_MAX_IOV], out[PV_VRING_MAX_IOV];
   bool pushed = false;
   for (;;) {
      /* Backpressure: requests stay in the ring while the device cannot
       * hold one more fenced response; a retired fence resumes us. */
      if (idx == CTRL_Q && !pv_vgpu_ctrl_ready(b->dev)) {
         if (!b->ctrl_stalled)
            pv_debug(TAG, "control queue paused: %u requests wait for fences",
                     pv_vgpu_held_count(b->dev));
         b->ctrl_stalled = true;
         break;
      }
      unsigned n_in, n_out;
      uint16_t head;
      int r = pv_vring_pop(vq, &b->vu.mem, &head, in, &n_in, out, &n_out);
      if (r < 0 && !b->reported_broken[idx]) {
         pv_error(TAG, "queue %u: malformed ring from the guest (%s, at %u); queue stopped", idx,
                  vq->broken_why, vq->broken_desc);
         b->reported_broken[idx] = true;
      }
      if (r <= 0)
         break;
      if (!handle_chain(b, idx, head, in, n_in, out, n_out, &pushed)) {
         b->ctrl_stalled = true;
         break;
      }
   }
   if (pushed)
      pv_vring_notify(vq);
}

static void
drain_eventfd(int fd)
{
   uint64_t v;
   ssize_t r = read(fd, &v, sizeof(v));
   (void)r;
}

/* Renderer threads report retired fences here. A later fence of a ring
 * covers the earlier ones, so one entry per (ctx, ring) is enough: the
 * queue stays bounded and a report is never dropped for want of memory
 * once a ring has an entry. */
static void
fence_retired_cb(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   struct fence_queue *q = data;
   pthread_mutex_lock(&q->lock);
   size_t i = 0;
   while (i < q->n && (q->items[i].ctx_id != ctx_id || q->items[i].ring_idx != ring_idx))
      i++;
   if (i == q->n && q->n == q->cap) {
      size_t cap = q->cap ? q->cap * 2 : 64;
      struct retired *p = realloc(q->items, cap * sizeof(*p));
      if (p) {
         q->items = p;
         q->cap = cap;
      }
   }
   if (i < q->n) {
      if (fence_id > q->items[i].fence_id)
         q->items[i].fence_id = fence_id;
   } else if (q->n < q->cap) {
      q->items[q->n++] = (struct retired){ ctx_id, ring_idx, fence_id };
   } else {
      pv_error(TAG, "ctx %u ring %u: fence %llu lost (out of memory)", ctx_id, ring_idx,
               (unsigned long long)fence_id);
   }
   pthread_mutex_unlock(&q->lock);
   uint64_t one = 1;
   ssize_t r = write(q->efd, &one, sizeof(one));
   (void)r;
}

static void
complete_fences(struct backend *b)
{
   drain_eventfd(b->fq.efd);
   pthread_mutex_lock(&b->fq.lock);
   struct retired items[256];
   size_t n = b->fq.n < 256 ? b->fq.n : 256;
   memcpy(items, b->fq.items, n * sizeof(items[0]));
   memmove(b->fq.items, b->fq.items + n, (b->fq.n - n) * sizeof(items[0]));
   b->fq.n -= n;
   if (b->fq.n) {
      uint64_t one = 1;
      ssize_t r = write(b->fq.efd, &one, sizeof(one)); /* come back for the rest */
      (void)r;
   }
   pthread_mutex_unlock(&b->fq.lock);
   for (size_t i = 0; i < n; i++)
      pv_vgpu_fence_retired(b->dev, items[i].ctx_id, items[i].ring_idx, items[i].fence_id);
   if (b->ctrl_pushed) {
      b->ctrl_pushed = false;
      pv_vring_notify(&b->vu.vq[CTRL_Q]);
   }
   if (b->ctrl_stalled) {
      b->ctrl_stalled = false;
      process_queue(b, CTRL_Q);
   }
}

/* Fences a renderer thread reported for contexts that no longer exist
 * must not complete requests of a new guest's contexts with the same id. */
static void
forget_fences(struct backend *b)
{
   pthread_mutex_lock(&b->fq.lock);
   b->fq.n = 0;
   pthread_mutex_unlock(&b->fq.lock);
   drain_eventfd(b->fq.efd);
}

/* ---- host-visible region through the vhost-user backend channel ------- */

/* QEMU reads each display-channel message whole, blocking its main loop, and
 * only its main loop answers backend-channel requests. A display message
 * half sent when we wait for a SHMEM answer (a full-frame update is 3 MiB,
 * more than the socket buffer) stalls both sides until the request times
 * out and the channel is closed. So whatever the display channel holds is
 * sent first, within the same time limit. */
static void
flush_display(struct backend *b)
{
   struct timespec t0, t;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   while (pv_vug_want_write(&b->vug)) {
      clock_gettime(CLOCK_MONOTONIC, &t);
      long left = PV_VU_BACKEND_REPLY_MS -
                  ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
      struct pollfd p = { .fd = b->vug.sock, .events = POLLOUT };
      if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
         pv_warn(TAG, "display channel still busy; sending the SHMEM request anyway");
         return;
      }
      if (pv_vug_on_writable(&b->vug) < 0)
         return;
   }
}

static int
hostmem_map(void *data, uint64_t offset, int fd, uint64_t len)
{
   struct backend *b = data;
   if (!b->connected)
      return -ENOTCONN;
   flush_display(b);
   int err =
      pv_vu_shmem_map(&b->vu, SHM_ID_HOST_VISIBLE, 0, offset, len, PV_VU_MMAP_R | PV_VU_MMAP_W, fd);
   if (err < 0)
      pv_warn(TAG, "SHMEM_MAP offset 0x%llx len 0x%llx: %s", (unsigned long long)offset,
              (unsigned long long)len, err == -EIO ? "refused by the frontend" : strerror(-err));
   return err;
}

static void
hostmem_unmap(void *data, uint64_t offset, uint64_t len)
{
   struct backend *b = data;
   if (!b->connected || b->frontend_unmaps)
      return; /* the frontend removes (or has removed) its mappings itself */
   flush_display(b);
   int err = pv_vu_shmem_unmap(&b->vu, SHM_ID_HOST_VISIBLE, offset, len);
   if (err < 0)
      pv_warn(TAG, "SHMEM_UNMAP offset 0x%llx len 0x%llx: %s", (unsigned long long)offset,
              (unsigned long long)len, err == -EIO ? "refused by the frontend" : strerror(-err));
}

/* ---- vhost-user device ops -------------------------------------------- */

static uint64_t
op_features(void *data)
{
   struct backend *b = data;
   return pv_vgpu_features(b->dev);
}

static int
op_get_config(void *data, uint32_t offset, uint8_t *buf, uint32_t size)
{
   struct backend *b = data;
   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(b->dev, &cfg);
   if (offset > sizeof(cfg) || size > sizeof(cfg) - offset) {
      pv_warn(TAG, "config read of %u bytes at %u refused: past the %zu-byte config space", size,
              offset, sizeof(cfg));
      return -EINVAL;
   }
   memcpy(buf, (uint8_t *)&cfg + offset, size);
   return 0;
}

static void
op_set_config(void *data, uint32_t offset, const uint8_t *buf, uint32_t size)
{
   struct backend *b = data;
   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(b->dev, &cfg);
   if (offset > sizeof(cfg) || size > sizeof(cfg) - offset) {
      pv_warn(TAG, "config write of %u bytes at %u refused: past the %zu-byte config space", size,
              offset, sizeof(cfg));
      return;
   }
   memcpy((uint8_t *)&cfg + offset, buf, size);
   pv_vgpu_set_config(b->dev, &cfg);
}

static void
op_extra_msg(void *data, uint32_t request, const uint8_t *p, uint32_t size, int fd)
{
   struct backend *b = data;
   if (request == VHOST_USER_GPU_SET_SOCKET && fd >= 0) {
      pv_vug_connect(&b->vug, fd);
      resend_frames(b);
      return;
   }
   pv_debug(TAG, "ignoring vhost-user request %u", request);
   if (fd >= 0)
      close(fd);
}

static void
op_queue_started(void *data, unsigned idx)
{
   struct backend *b = data;
   b->reported_broken[idx] = false;
   process_queue(b, idx);
}

static void
op_queue_stopped(void *data, unsigned idx)
{
   struct backend *b = data;
   if (idx != CTRL_Q)
      return;
   /* The driver is gone (reset, reboot, shutdown): its resources go too. */
   b->frontend_unmaps = true;
   pv_vgpu_reset(b->dev);
   b->frontend_unmaps = false;
   forget_fences(b);
   b->ctrl_stalled = false;
   b->ctrl_pushed = false;
}

/* ---- main loop ---------------------------------------------------------- */

static int
listen_on(const char *path)
{
   struct sockaddr_un addr = { .sun_family = AF_UNIX };
   if (strlen(path) >= sizeof(addr.sun_path))
      return -ENAMETOOLONG;
   strcpy(addr.sun_path, path);
   int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
   if (fd < 0)
      return -errno;
   unlink(path);
   if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
      int err = -errno;
      close(fd);
      return err;
   }
   return fd;
}

static void
connect_frontend(struct backend *b, int fd, const struct pv_vu_device_ops *ops)
{
   pv_vu_init(&b->vu, fd, ops);
   if (b->hostmem_size)
      pv_vu_offer_shmem(&b->vu);
   b->connected = true;
}

/* The frontend (QEMU) is gone, maybe mid-stream (guest killed): everything
 * of that guest goes (contexts, mappings, held requests, the display
 * channel, ring state) and the next connection starts from a clean device. */
static void
disconnect_frontend(struct backend *b)
{
   pv_vu_fini(&b->vu); /* first: the reset's unmaps have no frontend to ask */
   b->connected = false;
   pv_vug_fini(&b->vug);
   pv_vug_init(&b->vug);
   pv_vgpu_reset(b->dev);
   forget_fences(b);
   b->ctrl_stalled = b->ctrl_pushed = false;
   memset(b->reported_broken, 0, sizeof(b->reported_broken));
}

static int
run(struct backend *b, int listen_fd, int conn_fd, int sig_fd)
{
   const struct pv_vu_device_ops ops = {
      .data = b,
      .features = op_features,
      .get_config = op_get_config,
      .set_config = op_set_config,
      .extra_msg = op_extra_msg,
      .queue_started = op_queue_started,
      .queue_stopped = op_queue_stopped,
   };
   if (conn_fd >= 0)
      connect_frontend(b, conn_fd, &ops);
   for (;;) {
      struct pollfd p[8];
      int n = 0, i_sig = n++, i_fence = n++, i_vu = -1, i_gpu = -1,
          i_q[PV_VU_MAX_QUEUES] = { -1, -1 };
      p[i_sig] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
      p[i_fence] = (struct pollfd){ .fd = b->fq.efd, .events = POLLIN };
      i_vu = n++;
      p[i_vu] = (struct pollfd){ .fd = b->connected ? b->vu.sock : listen_fd, .events = POLLIN };
      if (b->vug.sock >= 0) {
         i_gpu = n++;
         p[i_gpu] =
            (struct pollfd){ .fd = b->vug.sock,
                             .events = POLLIN | (pv_vug_want_write(&b->vug) ? POLLOUT : 0) };
      }
      for (unsigned q = 0; b->connected && q < PV_VU_MAX_QUEUES; q++) {
         if (b->vu.vq[q].started && b->vu.vq[q].kick_fd >= 0) {
            i_q[q] = n++;
            p[i_q[q]] = (struct pollfd){ .fd = b->vu.vq[q].kick_fd, .events = POLLIN };
         }
      }
      if (poll(p, (nfds_t)n, -1) < 0) {
         if (errno == EINTR)
            continue;
         return -errno;
      }
      if (p[i_sig].revents & POLLIN) {
         struct signalfd_siginfo si;
         if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
            if (si.ssi_signo == SIGUSR1)
               dump_png(b);
            else if (si.ssi_signo == SIGUSR2)
               dump_state(b);
            else
               return 0;
         }
      }
      if (p[i_fence].revents & POLLIN)
         complete_fences(b);
      if (i_gpu >= 0 && p[i_gpu].revents) {
         if (p[i_gpu].revents & (POLLIN | POLLHUP | POLLERR))
            pv_vug_on_readable(&b->vug);
         if (p[i_gpu].revents & POLLOUT)
            pv_vug_on_writable(&b->vug);
         if (b->vug.congested && !pv_vug_want_write(&b->vug))
            resend_frames(b);
      }
      for (unsigned q = 0; q < PV_VU_MAX_QUEUES; q++) {
         if (i_q[q] >= 0 && (p[i_q[q]].revents & POLLIN) && b->vu.vq[q].kick_fd >= 0) {
            drain_eventfd(b->vu.vq[q].kick_fd);
            process_queue(b, q);
         }
      }
      if (p[i_vu].revents) {
         if (!b->connected) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
               connect_frontend(b, fd, &ops);
               pv_info(TAG, "frontend connected");
            }
         } else if (pv_vu_handle_msg(&b->vu) < 0) {
            pv_info(TAG, "frontend disconnected");
            disconnect_frontend(b);
            if (listen_fd < 0)
               return 0; /* --fd: nothing to accept */
         }
      }
   }
}

static void
usage(FILE *f)
{
   fprintf(f, "usage: pv-vhost-user-gpu (--socket-path PATH | --fd N) [--width W] [--height H]\n"
              "                         [--png FILE] [--hostmem SIZE] [--venus-wire-format 0|1]\n"
              "                         [--teardown-timeout S] [--gpus LIST]\n"
              "                         [--queue-priority CLASS]\n"
              "       pv-vhost-user-gpu --print-capabilities\n"
              "\n"
              "PearVisor's virtio-gpu device for QEMU's -device vhost-user-gpu-pci.\n"
              "  --socket-path PATH  listen on PATH; after a frontend disconnects (guest\n"
              "                      killed or shut down) its state is freed and the\n"
              "                      next connection is accepted\n"
              "  --fd N              serve the already connected socket N; exit when it closes\n"
              "  --width W --height H  preferred display mode (default 1024x768)\n"
              "  --png FILE          SIGUSR1 writes scanout 0 to FILE\n"
              "                      (SIGUSR2 logs the device's state: rings, held requests)\n"
              "  --hostmem SIZE      size of the device's host-visible region (K/M/G suffix);\n"
              "                      must equal QEMU's hostmem= property. Offers the\n"
              "                      SHMEM vhost-user protocol feature, so HOST3D blobs are\n"
              "                      mapped into the guest (needed by venus). Default: none\n"
              "  --venus-wire-format 0|1  venus wire format served to the guest: 0 for\n"
              "                      Mesa 22.3's venus driver (default), 1 for Mesa 25's\n"
              "  --gpus LIST         the host GPUs this VM sees: host device indices in\n"
              "                      the host's enumeration order, e.g. 0 or 1,3\n"
              "                      (default: all)\n"
              "  --queue-priority CLASS  host queue global priority of this VM's devices:\n"
              "                      default, low, medium, high or realtime (the\n"
              "                      driver's default where the host has no global\n"
              "                      priority extension or refuses the class)\n"
              "Limits (SIZE in bytes, or with a K, M or G suffix; a multiple of 4K):\n"
              "  --memory-budget SIZE  blobs + device memory in RAM (host-visible memory,\n"
              "                      any memory of a CPU or integrated GPU) of all\n"
              "                      contexts of this VM together (default 3/4 of the\n"
              "                      host's RAM)\n"
              "  --vram-budget SIZE  device-local memory of a discrete GPU of all contexts\n"
              "                      together, per GPU (default: its device-local heaps)\n"
              "  --budget-shm NAME   share the memory budget with every backend given the\n"
              "                      same NAME (the file /dev/shm/NAME, mode 0600: backends\n"
              "                      started as its owner, or root); the first one's\n"
              "                      --memory-budget and --vram-budget hold\n"
              "  --max-context-memory SIZE  blobs + device memory of one context (default\n"
              "                      16G, at most half the host's RAM)\n"
              "  --teardown-timeout S  the longest a context's destroy waits for its GPU\n"
              "                      work (default 5, at most 3600); a device still busy\n"
              "                      then is abandoned: its memory stays allocated until\n"
              "                      the backend exits, and past 4 of them new contexts are\n"
              "                      refused\n"
              "  --no-sandbox        run without the sandbox (docs/sandbox.md): by default,\n"
              "                      once listening, the backend enters private namespaces\n"
              "                      where permitted, drops to --user, and installs a\n"
              "                      seccomp system call allowlist\n"
              "  --user NAME         user to run as when started as root (default nobody,\n"
              "                      plus the groups of the GPU device nodes); --png files\n"
              "                      must be writable by NAME\n"
              "  --print-capabilities  JSON for QEMU's vhost-user device discovery\n"
              "SIGTERM/SIGINT stop the backend.\n");
}

/* "256M", "8G", "4096": bytes, a multiple of the page size; 0 when bad. */
static uint64_t
parse_size(const char *s)
{
   char *end;
   errno = 0;
   unsigned long long v = strtoull(s, &end, 0);
   unsigned shift = 0;
   switch (*end) {
   case 'k':
   case 'K':
      shift = 10;
      end++;
      break;
   case 'm':
   case 'M':
      shift = 20;
      end++;
      break;
   case 'g':
   case 'G':
      shift = 30;
      end++;
      break;
   default:
      break;
   }
   if (errno || *end || s[0] == '-' || v == 0 || v > (UINT64_MAX >> shift) || ((v << shift) & 4095))
      return 0;
   return (uint64_t)v << shift;
}

int
main(int argc, char **argv)
{
   static const struct option opts[] = {
      { "socket-path", required_argument, NULL, 's' },
      { "fd", required_argument, NULL, 'f' },
      { "width", required_argument, NULL, 'w' },
      { "height", required_argument, NULL, 'h' },
      { "png", required_argument, NULL, 'p' },
      { "print-capabilities", no_argument, NULL, 'c' },
      { "hostmem", required_argument, NULL, 'm' },
      { "help", no_argument, NULL, 'H' },
      { "venus-wire-format", required_argument, NULL, 'v' },
      { "no-sandbox", no_argument, NULL, 'S' },
      { "user", required_argument, NULL, 'u' },
      { "memory-budget", required_argument, NULL, 'B' },
      { "vram-budget", required_argument, NULL, 'G' },
      { "budget-shm", required_argument, NULL, 'N' },
      { "max-context-memory", required_argument, NULL, 'C' },
      { "teardown-timeout", required_argument, NULL, 't' },
      { "queue-priority", required_argument, NULL, 'P' },
      { "gpus", required_argument, NULL, 'g' },
      { NULL, 0, NULL, 0 },
   };
   const char *sock_path = NULL;
   int conn_fd = -1;
   bool sandbox = true;
   const char *user = NULL;
   unsigned long wire_format = 0;
   uint64_t budget_bytes = 0, vram_budget_bytes = 0;
   const char *budget_shm = NULL;
   struct pv_renderer_limits limits = { 0 };
   unsigned long teardown_s = 0; /* 0: the renderer's default */
   struct pv_device_policy policy = { 0 };
   struct backend *b = calloc(1, sizeof(*b));
   if (!b)
      return 1;
   struct pv_vgpu_config cfg = { .num_scanouts = 1 };
   int c;
   while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
      switch (c) {
      case 's':
         sock_path = optarg;
         break;
      case 'f':
         conn_fd = atoi(optarg);
         break;
      case 'w':
         cfg.width = (uint32_t)strtoul(optarg, NULL, 0);
         break;
      case 'h':
         cfg.height = (uint32_t)strtoul(optarg, NULL, 0);
         break;
      case 'p':
         b->png_path = optarg;
         break;
      case 'm':
         b->hostmem_size = parse_size(optarg);
         if (!b->hostmem_size) {
            fprintf(stderr, "pv-vhost-user-gpu: bad --hostmem size '%s'\n", optarg);
            free(b);
            return 2;
         }
         break;
      case 'v':
         wire_format = strtoul(optarg, NULL, 0);
         if (wire_format > 1) {
            usage(stderr);
            free(b);
            return 2;
         }
         break;
      case 't': {
         char *end;
         errno = 0;
         teardown_s = strtoul(optarg, &end, 10);
         if (errno || *end || optarg[0] == '-' || teardown_s - 1 >= 3600) {
            usage(stderr);
            free(b);
            return 2;
         }
         break;
      }
      case 'P':
      case 'g':
         if ((c == 'g' ? pv_gpu_mask_from_list(optarg, &policy.gpu_mask)
                       : pv_queue_priority_from_name(optarg, &policy.queue_priority)) < 0) {
            usage(stderr);
            free(b);
            return 2;
         }
         break;
      case 'S':
         sandbox = false;
         break;
      case 'u':
         user = optarg;
         break;
      case 'B':
      case 'G':
      case 'C': {
         const uint64_t v = parse_size(optarg);
         if (!v) {
            fprintf(stderr, "pv-vhost-user-gpu: bad size '%s'\n", optarg);
            free(b);
            return 2;
         }
         if (c == 'B')
            budget_bytes = v;
         else if (c == 'G')
            vram_budget_bytes = v;
         else
            limits.max_memory_per_context = v;
         break;
      }
      case 'N':
         budget_shm = optarg;
         break;
      case 'H':
         usage(stdout);
         free(b);
         return 0;
      case 'c':
         printf("{\n  \"type\": \"gpu\",\n  \"features\": []\n}\n");
         free(b);
         return 0;
      default:
         usage(stderr);
         free(b);
         return 2;
      }
   }
   if (!sock_path == (conn_fd < 0)) {
      usage(stderr);
      free(b);
      return 2;
   }

   sigset_t mask;
   sigemptyset(&mask);
   sigaddset(&mask, SIGUSR1);
   sigaddset(&mask, SIGUSR2);
   sigaddset(&mask, SIGTERM);
   sigaddset(&mask, SIGINT);
   pthread_sigmask(SIG_BLOCK, &mask, NULL);
   signal(SIGPIPE, SIG_IGN);
   int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);

   pthread_mutex_init(&b->fq.lock, NULL);
   b->fq.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   /* Room for every (ctx, ring) the renderer allows (64 x 64), so reporting
    * a fence does not allocate in practice. */
   b->fq.cap = 64 * 64;
   b->fq.items = calloc(b->fq.cap, sizeof(*b->fq.items));
   if (!b->fq.items)
      b->fq.cap = 0;
   pv_vug_init(&b->vug);
   int ret = 1;
   int listen_fd = -1;
   if (sig_fd < 0 || b->fq.efd < 0)
      goto out;
   struct pv_renderer_callbacks cbs = { .data = &b->fq, .fence_retired = fence_retired_cb };
   /* before the sandbox: it opens /dev/shm/NAME */
   if (vug_budget_open(&b->budget, budget_bytes, vram_budget_bytes, budget_shm) < 0)
      goto out;
   if (pv_renderer_create(&cbs, &limits, &b->renderer) < 0) {
      pv_warn(TAG, "no renderer: 2D only");
      b->renderer = NULL;
   } else {
      pv_renderer_set_venus_wire_format(b->renderer, (uint32_t)wire_format);
      if (vug_budget_attach(&b->budget, b->renderer) < 0)
         goto out;
      pv_renderer_set_teardown_timeout(b->renderer, (uint32_t)teardown_s * 1000u);
      pv_renderer_set_device_policy(b->renderer, &policy);
      /* a guest driver of the other format gives up silently in the guest */
      pv_info(TAG,
              "venus capset: wire format %lu (%s guests; the other needs "
              "--venus-wire-format %lu)",
              wire_format, wire_format ? "Mesa 25" : "Mesa 22.3", wire_format ? 0ul : 1ul);
   }
   cfg.renderer = b->renderer;
   cfg.translate = pv_vmem_translate;
   cfg.translate_data = &b->vu.mem;
   cfg.display = (struct pv_vgpu_display){
      .data = b, .scanout = disp_scanout, .update = disp_update, .cursor = disp_cursor
   };
   cfg.completion = (struct pv_vgpu_completion){ .data = b, .complete = ctrl_complete };
   if (b->hostmem_size)
      cfg.hostmem = (struct pv_vgpu_hostmem){
         .data = b, .size = b->hostmem_size, .map = hostmem_map, .unmap = hostmem_unmap
      };
   b->num_scanouts = cfg.num_scanouts;
   int err = pv_vgpu_create(&cfg, &b->dev);
   if (err < 0) {
      pv_error(TAG, "bad device configuration: %s", strerror(-err));
      goto out;
   }
   if (sock_path) {
      listen_fd = listen_on(sock_path);
      if (listen_fd < 0) {
         pv_error(TAG, "cannot listen on %s: %s", sock_path, strerror(-listen_fd));
         goto out;
      }
   }
   if (sandbox) {
      /* the socket is ours already; the host driver loads once a guest
       * creates a context, inside the sandbox */
      const struct pv_sandbox_config sb = {
         .user = user, .gpu_groups = true, .allow_accept = true, .name = "pv-vhost-user-gpu"
      };
      if (pv_sandbox_enter(&sb) < 0)
         goto out;
      pv_info(TAG, "sandboxed, running as uid %d gid %d", (int)getuid(), (int)getgid());
   }
   ret = run(b, listen_fd, conn_fd, sig_fd) < 0 ? 1 : 0;
out:
   if (b->connected)
      pv_vu_fini(&b->vu);
   pv_vgpu_destroy(b->dev);
   if (b->renderer)
      pv_renderer_destroy(b->renderer); /* gives its charges back */
   if (b->budget.budget)
      vug_budget_close(&b->budget);
   pv_vug_fini(&b->vug);
   for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
      free(b->frame[i].px);
   if (listen_fd >= 0) {
      close(listen_fd);
      unlink(sock_path);
   }
   if (sig_fd >= 0)
      close(sig_fd);
   if (b->fq.efd >= 0)
      close(b->fq.efd);
   free(b->fq.items);
   pthread_mutex_destroy(&b->fq.lock);
   free(b);
   return ret;
}
