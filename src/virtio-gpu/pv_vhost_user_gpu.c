/*
 * pv-vhost-user-gpu: PearVisor's virtio-gpu as a vhost-user backend process
 * for QEMU's -device vhost-user-gpu-pci.
 *
 *   pv-vhost-user-gpu --socket-path PATH [--width W] [--height H] [--png FILE]
 *   pv-vhost-user-gpu --fd N ...         (an already connected socket)
 *   pv-vhost-user-gpu --print-capabilities
 *
 * SIGUSR1 writes the current frame of scanout 0 to the --png file. The
 * process exits when QEMU disconnects, or on SIGTERM/SIGINT.
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
#include <unistd.h>

#include "common/log.h"
#include "pv_png.h"
#include "vgpu.h"
#include "vhost_user.h"
#include "vug_frontend.h"
#ifdef PV_HAVE_RENDERER
#include "pearvisor/pearvisor.h"
#endif

#define TAG "pv-vhost-user-gpu"
#define CTRL_Q 0
#define CURSOR_Q 1
#define MAX_PENDING 4096

struct frame {
   uint32_t w, h;
   uint32_t *px;
};

/* A control response held back until its fence retires. */
struct pending {
   uint16_t head;
   uint32_t len;
   struct pv_vgpu_fence_wait wait;
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
   struct pending pending[MAX_PENDING];
   size_t npending;
   struct fence_queue fq;
   bool reported_broken[PV_VU_MAX_QUEUES];
   struct pv_renderer *renderer;
};

/* ---- display: keep our own copy of each frame, forward to QEMU --------- */

static void disp_scanout(void *data, uint32_t id, uint32_t w, uint32_t h)
{
   struct backend *b = data;
   struct frame *f = &b->frame[id];
   free(f->px);
   f->px = w ? calloc((size_t)w * h, 4) : NULL;
   f->w = f->px ? w : 0;
   f->h = f->px ? h : 0;
   pv_vug_scanout(&b->vug, id, f->w, f->h);
}

static void disp_update(void *data, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
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

static void disp_cursor(void *data, uint32_t id, uint32_t x, uint32_t y, bool visible,
                        const uint32_t *image, uint32_t hx, uint32_t hy)
{
   struct backend *b = data;
   pv_vug_cursor(&b->vug, id, x, y, visible, image, hx, hy);
}

/* Sends every frame whole (new display channel, or dropped updates). */
static void resend_frames(struct backend *b)
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

static void dump_png(struct backend *b)
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

/* ---- queues ------------------------------------------------------------ */

static void process_queue(struct backend *b, unsigned idx)
{
   struct pv_vring *vq = &b->vu.vq[idx];
   if (!vq->started || !vq->enabled)
      return;
   struct iovec in[PV_VRING_MAX_IOV], out[PV_VRING_MAX_IOV];
   bool pushed = false;
   for (;;) {
      unsigned n_in, n_out;
      uint16_t head;
      int r = pv_vring_pop(vq, &b->vu.mem, &head, in, &n_in, out, &n_out);
      if (r < 0 && !b->reported_broken[idx]) {
         pv_error(TAG, "queue %u: malformed ring from the guest; queue stopped", idx);
         b->reported_broken[idx] = true;
      }
      if (r <= 0)
         break;
      struct pv_vgpu_fence_wait wait = {0};
      uint32_t len = idx == CTRL_Q
                        ? pv_vgpu_process_ctrl(b->dev, in, n_in, out, n_out, &wait)
                        : pv_vgpu_process_cursor(b->dev, in, n_in, out, n_out);
      if (wait.pending && b->npending < MAX_PENDING) {
         b->pending[b->npending++] = (struct pending){head, len, wait};
         continue;
      }
      pv_vring_push(vq, head, len);
      pushed = true;
   }
   if (pushed)
      pv_vring_notify(vq);
}

static void drain_eventfd(int fd)
{
   uint64_t v;
   ssize_t r = read(fd, &v, sizeof(v));
   (void)r;
}

static void fence_retired_cb(void *data, uint32_t ctx_id, uint32_t ring_idx, uint64_t fence_id)
{
   struct fence_queue *q = data;
   pthread_mutex_lock(&q->lock);
   if (q->n == q->cap) {
      size_t cap = q->cap ? q->cap * 2 : 64;
      struct retired *p = realloc(q->items, cap * sizeof(*p));
      if (p) {
         q->items = p;
         q->cap = cap;
      }
   }
   if (q->n < q->cap)
      q->items[q->n++] = (struct retired){ctx_id, ring_idx, fence_id};
   pthread_mutex_unlock(&q->lock);
   uint64_t one = 1;
   ssize_t r = write(q->efd, &one, sizeof(one));
   (void)r;
}

static void complete_fences(struct backend *b)
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
   bool pushed = false;
   for (size_t i = 0; i < n; i++) {
      for (size_t j = 0; j < b->npending;) {
         struct pending *p = &b->pending[j];
         if (p->wait.ctx_id == items[i].ctx_id && p->wait.ring_idx == items[i].ring_idx &&
             p->wait.fence_id <= items[i].fence_id) {
            pv_vring_push(&b->vu.vq[CTRL_Q], p->head, p->len);
            pushed = true;
            memmove(p, p + 1, (b->npending - j - 1) * sizeof(*p));
            b->npending--;
         } else {
            j++;
         }
      }
   }
   if (pushed)
      pv_vring_notify(&b->vu.vq[CTRL_Q]);
}

/* ---- vhost-user device ops -------------------------------------------- */

static uint64_t op_features(void *data)
{
   struct backend *b = data;
   return pv_vgpu_features(b->dev);
}

static int op_get_config(void *data, uint32_t offset, uint8_t *buf, uint32_t size)
{
   struct backend *b = data;
   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(b->dev, &cfg);
   if (offset > sizeof(cfg) || size > sizeof(cfg) - offset)
      return -EINVAL;
   memcpy(buf, (uint8_t *)&cfg + offset, size);
   return 0;
}

static void op_set_config(void *data, uint32_t offset, const uint8_t *buf, uint32_t size)
{
   struct backend *b = data;
   struct virtio_gpu_config cfg;
   pv_vgpu_get_config(b->dev, &cfg);
   if (offset > sizeof(cfg) || size > sizeof(cfg) - offset)
      return;
   memcpy((uint8_t *)&cfg + offset, buf, size);
   pv_vgpu_set_config(b->dev, &cfg);
}

static void op_extra_msg(void *data, uint32_t request, const uint8_t *p, uint32_t size, int fd)
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

static void op_queue_started(void *data, unsigned idx)
{
   struct backend *b = data;
   b->reported_broken[idx] = false;
   process_queue(b, idx);
}

static void op_queue_stopped(void *data, unsigned idx)
{
   struct backend *b = data;
   if (idx != CTRL_Q)
      return;
   /* The driver is gone (reset, reboot, shutdown): its resources go too. */
   b->npending = 0;
   pv_vgpu_reset(b->dev);
}

/* ---- main loop ---------------------------------------------------------- */

static int listen_on(const char *path)
{
   struct sockaddr_un addr = {.sun_family = AF_UNIX};
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

static int run(struct backend *b, int listen_fd, int conn_fd, int sig_fd)
{
   const struct pv_vu_device_ops ops = {
      .data = b, .features = op_features, .get_config = op_get_config,
      .set_config = op_set_config, .extra_msg = op_extra_msg,
      .queue_started = op_queue_started, .queue_stopped = op_queue_stopped,
   };
   if (conn_fd >= 0) {
      pv_vu_init(&b->vu, conn_fd, &ops);
      b->connected = true;
   }
   for (;;) {
      struct pollfd p[8];
      int n = 0, i_sig = n++, i_fence = n++, i_vu = -1, i_gpu = -1, i_q[PV_VU_MAX_QUEUES] = {-1, -1};
      p[i_sig] = (struct pollfd){.fd = sig_fd, .events = POLLIN};
      p[i_fence] = (struct pollfd){.fd = b->fq.efd, .events = POLLIN};
      i_vu = n++;
      p[i_vu] = (struct pollfd){.fd = b->connected ? b->vu.sock : listen_fd, .events = POLLIN};
      if (b->vug.sock >= 0) {
         i_gpu = n++;
         p[i_gpu] = (struct pollfd){.fd = b->vug.sock,
                                    .events = POLLIN | (pv_vug_want_write(&b->vug) ? POLLOUT : 0)};
      }
      for (unsigned q = 0; b->connected && q < PV_VU_MAX_QUEUES; q++) {
         if (b->vu.vq[q].started && b->vu.vq[q].kick_fd >= 0) {
            i_q[q] = n++;
            p[i_q[q]] = (struct pollfd){.fd = b->vu.vq[q].kick_fd, .events = POLLIN};
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
               pv_vu_init(&b->vu, fd, &ops);
               b->connected = true;
               pv_info(TAG, "frontend connected");
            }
         } else if (pv_vu_handle_msg(&b->vu) < 0) {
            pv_info(TAG, "frontend disconnected");
            return 0;
         }
      }
   }
}

static void usage(void)
{
   fprintf(stderr, "usage: pv-vhost-user-gpu (--socket-path PATH | --fd N) [--width W] "
                   "[--height H] [--png FILE]\n"
                   "       pv-vhost-user-gpu --print-capabilities\n");
}

int main(int argc, char **argv)
{
   static const struct option opts[] = {
      {"socket-path", required_argument, NULL, 's'}, {"fd", required_argument, NULL, 'f'},
      {"width", required_argument, NULL, 'w'},       {"height", required_argument, NULL, 'h'},
      {"png", required_argument, NULL, 'p'},         {"print-capabilities", no_argument, NULL, 'c'},
      {"help", no_argument, NULL, '?'},              {NULL, 0, NULL, 0},
   };
   const char *sock_path = NULL;
   int conn_fd = -1;
   struct backend *b = calloc(1, sizeof(*b));
   if (!b)
      return 1;
   struct pv_vgpu_config cfg = {.num_scanouts = 1};
   int c;
   while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
      switch (c) {
      case 's': sock_path = optarg; break;
      case 'f': conn_fd = atoi(optarg); break;
      case 'w': cfg.width = (uint32_t)strtoul(optarg, NULL, 0); break;
      case 'h': cfg.height = (uint32_t)strtoul(optarg, NULL, 0); break;
      case 'p': b->png_path = optarg; break;
      case 'c':
         printf("{\n  \"type\": \"gpu\",\n  \"features\": []\n}\n");
         free(b);
         return 0;
      default: usage(); free(b); return 2;
      }
   }
   if (!sock_path == (conn_fd < 0)) {
      usage();
      free(b);
      return 2;
   }

   sigset_t mask;
   sigemptyset(&mask);
   sigaddset(&mask, SIGUSR1);
   sigaddset(&mask, SIGTERM);
   sigaddset(&mask, SIGINT);
   pthread_sigmask(SIG_BLOCK, &mask, NULL);
   signal(SIGPIPE, SIG_IGN);
   int sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);

   pthread_mutex_init(&b->fq.lock, NULL);
   b->fq.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
   pv_vug_init(&b->vug);
   int ret = 1;
   int listen_fd = -1;
   if (sig_fd < 0 || b->fq.efd < 0)
      goto out;
#ifdef PV_HAVE_RENDERER
   struct pv_renderer_callbacks cbs = {.data = &b->fq, .fence_retired = fence_retired_cb};
   if (pv_renderer_create(&cbs, NULL, &b->renderer) < 0) {
      pv_warn(TAG, "no renderer: 2D only");
      b->renderer = NULL;
   }
#else
   (void)fence_retired_cb;
#endif
   cfg.renderer = b->renderer;
   cfg.translate = pv_vmem_translate;
   cfg.translate_data = &b->vu.mem;
   cfg.display = (struct pv_vgpu_display){.data = b, .scanout = disp_scanout,
                                          .update = disp_update, .cursor = disp_cursor};
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
   ret = run(b, listen_fd, conn_fd, sig_fd) < 0 ? 1 : 0;
out:
   if (b->connected)
      pv_vu_fini(&b->vu);
   pv_vgpu_destroy(b->dev);
#ifdef PV_HAVE_RENDERER
   if (b->renderer)
      pv_renderer_destroy(b->renderer);
#endif
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
