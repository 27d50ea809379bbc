/*
 * vhost-user backend protocol: messages, memory table, vring set-up.
 * Wire facts from QEMU's docs/interop/vhost-user.rst.
 */
#include "vhost_user.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

#define TAG "vhost-user"
#define HDR_SIZE 12
#define MAX_PAYLOAD 4096
#define MAX_FDS 8
#define FLAG_VERSION 0x1u
#define FLAG_REPLY 0x4u
#define VRING_NOFD (1ull << 8)
#define VRING_IDX_MASK 0xffull
#define VIRTIO_F_VERSION_1 32

struct vu_hdr {
   uint32_t request, flags, size;
};

struct vu_region {
   uint64_t gpa, size, uva, mmap_offset;
};

struct vu_vring_addr {
   uint32_t index, flags;
   uint64_t desc, used, avail, log;
};

struct vu_config_hdr {
   uint32_t offset, size, flags;
};

void
pv_vu_init(struct pv_vu *vu, int sock, const struct pv_vu_device_ops *ops)
{
   memset(vu, 0, sizeof(*vu));
   vu->sock = sock;
   vu->backend_sock = -1;
   vu->offered_protocol_features =
      1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_CONFIG;
   vu->ops = *ops;
   for (unsigned i = 0; i < PV_VU_MAX_QUEUES; i++) {
      vu->vq[i].kick_fd = vu->vq[i].call_fd = -1;
      /* The spec starts rings disabled once protocol features are
       * negotiated, but QEMU 7.2 sends SET_VRING_ENABLE for few device
       * types; a started ring is processed unless explicitly disabled. */
      vu->vq[i].enabled = true;
   }
}

static void
close_fd(int *fd)
{
   if (*fd >= 0)
      close(*fd);
   *fd = -1;
}

void
pv_vu_fini(struct pv_vu *vu)
{
   for (unsigned i = 0; i < PV_VU_MAX_QUEUES; i++) {
      close_fd(&vu->vq[i].kick_fd);
      close_fd(&vu->vq[i].call_fd);
   }
   pv_vmem_clear(&vu->mem);
   close_fd(&vu->backend_sock);
   close_fd(&vu->sock);
}

void
pv_vu_offer_shmem(struct pv_vu *vu)
{
   vu->offered_protocol_features |= 1ull << VHOST_USER_PROTOCOL_F_SHMEM |
                                    1ull << VHOST_USER_PROTOCOL_F_BACKEND_REQ |
                                    1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK;
}

static bool
negotiated(const struct pv_vu *vu, unsigned bit)
{
   return vu->protocol_features & (1ull << bit);
}

/* Reads exactly len bytes (and any fds sent with them). */
static int
read_full(int sock, void *buf, size_t len, int *fds, unsigned *nfds)
{
   uint8_t *p = buf;
   while (len) {
      union {
         char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
         struct cmsghdr align;
      } ctl;
      struct iovec iov = { p, len };
      struct msghdr m = { .msg_iov = &iov,
                          .msg_iovlen = 1,
                          .msg_control = ctl.buf,
                          .msg_controllen = fds ? sizeof(ctl.buf) : 0 };
      ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
      if (r < 0 && errno == EINTR)
         continue;
      if (r <= 0)
         return r == 0 ? -ECONNRESET : -errno;
      for (struct cmsghdr *c = fds ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
         if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
         unsigned n = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
         int *in = (int *)CMSG_DATA(c);
         for (unsigned i = 0; i < n; i++) {
            if (*nfds < MAX_FDS)
               fds[(*nfds)++] = in[i];
            else
               close(in[i]);
         }
      }
      p += r;
      len -= (size_t)r;
   }
   return 0;
}

/* Sends one message; `fd` (>= 0) goes with its first byte. */
static int
send_msg(int sock, uint32_t request, uint32_t flags, const void *payload, uint32_t size, int fd)
{
   uint8_t buf[HDR_SIZE + MAX_PAYLOAD];
   struct vu_hdr h = { request, flags, size };
   memcpy(buf, &h, HDR_SIZE);
   memcpy(buf + HDR_SIZE, payload, size);
   size_t len = HDR_SIZE + size, done = 0;
   while (done < len) {
      union {
         char buf[CMSG_SPACE(sizeof(int))];
         struct cmsghdr align;
      } ctl;
      struct iovec iov = { buf + done, len - done };
      struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
      if (fd >= 0 && done == 0) {
         memset(&ctl, 0, sizeof(ctl));
         m.msg_control = ctl.buf;
         m.msg_controllen = sizeof(ctl.buf);
         struct cmsghdr *c = CMSG_FIRSTHDR(&m);
         c->cmsg_level = SOL_SOCKET;
         c->cmsg_type = SCM_RIGHTS;
         c->cmsg_len = CMSG_LEN(sizeof(int));
         memcpy(CMSG_DATA(c), &fd, sizeof(int));
      }
      ssize_t r = sendmsg(sock, &m, MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR)
         continue;
      if (r <= 0)
         return -EPIPE;
      done += (size_t)r;
   }
   return 0;
}

static int
send_reply(struct pv_vu *vu, uint32_t request, const void *payload, uint32_t size)
{
   return send_msg(vu->sock, request, FLAG_VERSION | FLAG_REPLY, payload, size, -1);
}

static int
reply_u64(struct pv_vu *vu, uint32_t request, uint64_t v)
{
   return send_reply(vu, request, &v, sizeof(v));
}

/* Refuses a frontend message: logs the check it failed, with its ids, and
 * returns -EINVAL (the request then fails; pv_vu_handle_msg logs that too). */
static int __attribute__((format(printf, 2, 3))) refuse(uint32_t request, const char *fmt, ...)
{
   char what[192];
   va_list ap;
   va_start(ap, fmt);
   vsnprintf(what, sizeof(what), fmt, ap);
   va_end(ap);
   pv_warn(TAG, "request %u refused: %s", request, what);
   return -EINVAL;
}

static int
set_mem_table(struct pv_vu *vu, const uint8_t *p, uint32_t size, int *fds, unsigned nfds)
{
   uint32_t n;
   if (size < 8)
      return refuse(VHOST_USER_SET_MEM_TABLE, "payload of %u bytes", size);
   memcpy(&n, p, 4);
   if (n == 0 || n > PV_VMEM_MAX_REGIONS || n != nfds || size < 8 + n * sizeof(struct vu_region))
      return refuse(VHOST_USER_SET_MEM_TABLE,
                    "%u regions (max %u) with %u fds in a payload of %u bytes", n,
                    PV_VMEM_MAX_REGIONS, nfds, size);
   struct pv_vmem mem = { 0 };
   for (uint32_t i = 0; i < n; i++) {
      struct vu_region r;
      memcpy(&r, p + 8 + i * sizeof(r), sizeof(r));
      if (r.size == 0 || r.mmap_offset + r.size < r.size || r.gpa + r.size < r.gpa ||
          r.uva + r.size < r.uva) {
         pv_vmem_clear(&mem);
         return refuse(VHOST_USER_SET_MEM_TABLE, "region %u: empty or wrapping around", i);
      }
      uint64_t map_size = r.mmap_offset + r.size;
      void *base = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
      if (base == MAP_FAILED) {
         int err = -errno;
         pv_error(TAG, "mmap of guest memory region %u failed", i);
         pv_vmem_clear(&mem);
         return err;
      }
      mem.r[mem.n++] = (struct pv_vmem_region){ .gpa = r.gpa,
                                                .size = r.size,
                                                .uva = r.uva,
                                                .host = (uint8_t *)base + r.mmap_offset,
                                                .map_base = base,
                                                .map_size = map_size };
   }
   pv_vmem_clear(&vu->mem);
   vu->mem = mem;
   for (unsigned i = 0; i < PV_VU_MAX_QUEUES; i++)
      if (vu->vq[i].num)
         pv_vring_map(&vu->vq[i], &vu->mem);
   return 0;
}

static struct pv_vring *
vring_of(struct pv_vu *vu, uint64_t idx)
{
   return idx < PV_VU_MAX_QUEUES ? &vu->vq[idx] : NULL;
}

static void
maybe_start(struct pv_vu *vu, unsigned idx)
{
   struct pv_vring *vq = &vu->vq[idx];
   bool was = vq->started;
   vq->started = vq->kick_fd >= 0 && vq->desc != NULL;
   if (vq->started && !was && vu->ops.queue_started)
      vu->ops.queue_started(vu->ops.data, idx);
}

static int
handle(struct pv_vu *vu, const struct vu_hdr *h, const uint8_t *p, int *fds, unsigned nfds)
{
   uint64_t u64 = 0;
   struct vhost_state {
      uint32_t index, num;
   } st = { 0 };
   if (h->size >= 8)
      memcpy(&u64, p, 8);
   if (h->size >= 8)
      memcpy(&st, p, 8);
   struct pv_vring *vq;

   switch (h->request) {
   case VHOST_USER_GET_FEATURES:
      return reply_u64(vu, h->request,
                       vu->ops.features(vu->ops.data) | PV_VRING_FEATURES |
                          1ull << VIRTIO_F_VERSION_1 | 1ull << VHOST_USER_F_PROTOCOL_FEATURES);
   case VHOST_USER_SET_FEATURES:
      vu->features = u64;
      for (unsigned i = 0; i < PV_VU_MAX_QUEUES; i++)
         pv_vring_set_features(&vu->vq[i], u64);
      return 0;
   case VHOST_USER_GET_PROTOCOL_FEATURES:
      return reply_u64(vu, h->request, vu->offered_protocol_features);
   case VHOST_USER_SET_PROTOCOL_FEATURES:
      vu->protocol_features = u64 & vu->offered_protocol_features;
      return 0;
   case VHOST_USER_SET_BACKEND_REQ_FD: {
      for (unsigned i = 1; i < nfds; i++)
         close(fds[i]);
      if (nfds == 0 || !negotiated(vu, VHOST_USER_PROTOCOL_F_BACKEND_REQ)) {
         if (nfds)
            close(fds[0]);
         return refuse(h->request, "no fd, or BACKEND_REQ not negotiated");
      }
      close_fd(&vu->backend_sock);
      vu->backend_sock = fds[0];
      return 0;
   }
   case VHOST_USER_GET_QUEUE_NUM:
      return reply_u64(vu, h->request, PV_VU_MAX_QUEUES);
   case VHOST_USER_SET_OWNER:
   case VHOST_USER_RESET_OWNER:
      return 0;
   case VHOST_USER_SET_MEM_TABLE: {
      int err = set_mem_table(vu, p, h->size, fds, nfds);
      for (unsigned i = 0; i < nfds; i++)
         close(fds[i]);
      return err;
   }
   case VHOST_USER_SET_VRING_NUM:
      if (!(vq = vring_of(vu, st.index)) || st.num == 0 || st.num > 32768 ||
          (st.num & (st.num - 1)))
         return refuse(h->request, "vring %u of %u, size %u not a power of 2 up to 32768", st.index,
                       PV_VU_MAX_QUEUES, st.num);
      vq->num = st.num;
      return 0;
   case VHOST_USER_SET_VRING_ADDR: {
      struct vu_vring_addr a;
      if (h->size < sizeof(a))
         return refuse(h->request, "payload of %u bytes", h->size);
      memcpy(&a, p, sizeof(a));
      if (!(vq = vring_of(vu, a.index)))
         return refuse(h->request, "vring %u of %u", a.index, PV_VU_MAX_QUEUES);
      vq->desc_uva = a.desc;
      vq->avail_uva = a.avail;
      vq->used_uva = a.used;
      if (!pv_vring_map(vq, &vu->mem)) {
         pv_error(TAG,
                  "vring %u: desc 0x%llx, avail 0x%llx, used 0x%llx outside guest memory "
                  "or misaligned",
                  a.index, (unsigned long long)a.desc, (unsigned long long)a.avail,
                  (unsigned long long)a.used);
         return -EINVAL;
      }
      vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
      vq->signalled_used_valid = false;
      maybe_start(vu, a.index);
      return 0;
   }
   case VHOST_USER_SET_VRING_BASE:
      if (!(vq = vring_of(vu, st.index)) || st.num > 0xffff)
         return refuse(h->request, "vring %u of %u, base %u over 0xffff", st.index,
                       PV_VU_MAX_QUEUES, st.num);
      vq->last_avail = (uint16_t)st.num;
      vq->used_idx = (uint16_t)st.num;
      vq->signalled_used_valid = false;
      vq->broken = false;
      return 0;
   case VHOST_USER_GET_VRING_BASE: {
      if (!(vq = vring_of(vu, st.index)))
         return refuse(h->request, "vring %u of %u", st.index, PV_VU_MAX_QUEUES);
      bool was = vq->started;
      vq->started = false;
      close_fd(&vq->kick_fd);
      if (was && vu->ops.queue_stopped)
         vu->ops.queue_stopped(vu->ops.data, st.index);
      struct vhost_state r = { st.index, vq->last_avail };
      return send_reply(vu, h->request, &r, sizeof(r));
   }
   case VHOST_USER_SET_VRING_KICK:
   case VHOST_USER_SET_VRING_CALL:
   case VHOST_USER_SET_VRING_ERR: {
      int fd = nfds ? fds[0] : -1;
      for (unsigned i = 1; i < nfds; i++)
         close(fds[i]);
      if (!(vq = vring_of(vu, u64 & VRING_IDX_MASK)) || ((u64 & VRING_NOFD) != 0) != (fd < 0)) {
         if (fd >= 0)
            close(fd);
         if (u64 & VRING_NOFD)
            return 0; /* polling mode: not supported, ignored */
         return refuse(h->request, "vring %llu of %u, or an fd missing",
                       (unsigned long long)(u64 & VRING_IDX_MASK), PV_VU_MAX_QUEUES);
      }
      if (h->request == VHOST_USER_SET_VRING_ERR) {
         if (fd >= 0)
            close(fd);
      } else if (h->request == VHOST_USER_SET_VRING_CALL) {
         close_fd(&vq->call_fd);
         vq->call_fd = fd;
      } else {
         close_fd(&vq->kick_fd);
         vq->kick_fd = fd;
         maybe_start(vu, (unsigned)(u64 & VRING_IDX_MASK));
      }
      return 0;
   }
   case VHOST_USER_SET_VRING_ENABLE:
      if (!(vq = vring_of(vu, st.index)))
         return refuse(h->request, "vring %u of %u", st.index, PV_VU_MAX_QUEUES);
      vq->enabled = st.num != 0;
      if (vq->enabled && vq->started && vu->ops.queue_started)
         vu->ops.queue_started(vu->ops.data, st.index); /* process what is pending */
      return 0;
   case VHOST_USER_GET_CONFIG: {
      struct vu_config_hdr c;
      uint8_t buf[sizeof(c) + 256] = { 0 };
      if (h->size < sizeof(c) || h->size > sizeof(buf))
         return refuse(h->request, "payload of %u bytes", h->size);
      memcpy(&c, p, sizeof(c));
      if (c.size > 256 || sizeof(c) + c.size != h->size)
         return refuse(h->request, "config of %u bytes in a payload of %u", c.size, h->size);
      memcpy(buf, &c, sizeof(c));
      if (vu->ops.get_config(vu->ops.data, c.offset, buf + sizeof(c), c.size) < 0)
         memset(buf + sizeof(c), 0, c.size);
      return send_reply(vu, h->request, buf, h->size);
   }
   case VHOST_USER_SET_CONFIG: {
      struct vu_config_hdr c;
      if (h->size < sizeof(c))
         return refuse(h->request, "payload of %u bytes", h->size);
      memcpy(&c, p, sizeof(c));
      if (c.size > h->size - sizeof(c))
         return refuse(h->request, "config of %u bytes in a payload of %u", c.size, h->size);
      if (vu->ops.set_config)
         vu->ops.set_config(vu->ops.data, c.offset, p + sizeof(c), c.size);
      return 0;
   }
   default: {
      int fd = nfds ? fds[0] : -1;
      for (unsigned i = 1; i < nfds; i++)
         close(fds[i]);
      if (vu->ops.extra_msg)
         vu->ops.extra_msg(vu->ops.data, h->request, p, h->size, fd);
      else if (fd >= 0)
         close(fd);
      return 0;
   }
   }
}

/* Requests answered with a payload of their own; NEED_REPLY is ignored. */
static bool
has_reply(uint32_t request)
{
   switch (request) {
   case VHOST_USER_GET_FEATURES:
   case VHOST_USER_GET_PROTOCOL_FEATURES:
   case VHOST_USER_GET_QUEUE_NUM:
   case VHOST_USER_GET_VRING_BASE:
   case VHOST_USER_GET_CONFIG:
      return true;
   default:
      return false;
   }
}

/* Main-channel requests that may be answered while a backend request
 * waits: they touch neither guest memory nor the rings. QEMU can send one
 * from a vCPU thread (config space access) and block its main loop until
 * we answer, and only its main loop reads the backend channel. */
static bool
safe_while_waiting(uint32_t request)
{
   switch (request) {
   case VHOST_USER_GET_CONFIG:
   case VHOST_USER_SET_CONFIG:
   case VHOST_USER_GET_FEATURES:
   case VHOST_USER_GET_PROTOCOL_FEATURES:
   case VHOST_USER_GET_QUEUE_NUM:
      return true;
   default:
      return false;
   }
}

static int64_t
now_ms(void)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits until the backend channel is readable, serving safe main-channel
 * requests meanwhile. */
static int
wait_backend_channel(struct pv_vu *vu)
{
   struct pollfd p[2] = { { .fd = vu->backend_sock, .events = POLLIN },
                          { .fd = vu->sock, .events = POLLIN } };
   int64_t deadline = now_ms() + PV_VU_BACKEND_REPLY_MS;
   for (;;) {
      int64_t left = deadline - now_ms();
      if (left <= 0)
         return -ETIMEDOUT;
      int r = poll(p, 2, (int)left);
      if (r < 0 && errno != EINTR)
         return -errno;
      if (r <= 0)
         continue;
      if (p[0].revents)
         return 0;
      if (p[1].revents) {
         struct vu_hdr h;
         ssize_t n = recv(vu->sock, &h, HDR_SIZE, MSG_PEEK | MSG_DONTWAIT);
         if (n == HDR_SIZE && safe_while_waiting(h.request)) {
            if (pv_vu_handle_msg(vu) < 0)
               return -ECONNRESET;
         } else {
            p[1].events = 0; /* left for the main loop */
            p[1].fd = -1;
         }
      }
   }
}

/* Reads the frontend's u64 answer to a backend request within the limit. */
static int
read_backend_reply(struct pv_vu *vu, uint32_t request, uint64_t *status)
{
   int err = wait_backend_channel(vu);
   struct vu_hdr h;
   if (err == 0)
      err = read_full(vu->backend_sock, &h, HDR_SIZE, NULL, NULL);
   if (err == 0 && (h.request != request || !(h.flags & FLAG_REPLY) || h.size != 8))
      err = -EPROTO;
   if (err == 0)
      err = read_full(vu->backend_sock, status, 8, NULL, NULL);
   return err;
}

static int
backend_request(struct pv_vu *vu, uint32_t request, const struct pv_vu_mmap *m, int fd)
{
   if (vu->backend_sock < 0 || !negotiated(vu, VHOST_USER_PROTOCOL_F_SHMEM))
      return -ENOTCONN;
   uint8_t payload[40];
   _Static_assert(sizeof(struct pv_vu_mmap) == sizeof(payload), "VhostUserMMap is 40 bytes");
   memcpy(payload, m, sizeof(payload));
   uint32_t flags = FLAG_VERSION | VHOST_USER_NEED_REPLY;
   int err = send_msg(vu->backend_sock, request, flags, payload, sizeof(payload), fd);
   uint64_t status = 0;
   if (err == 0)
      err = read_backend_reply(vu, request, &status);
   if (err < 0) {
      /* A late or garbled answer would pair with the next request. */
      pv_error(TAG, "backend channel: request %u failed (%s); channel closed", request,
               strerror(-err));
      close_fd(&vu->backend_sock);
      return err;
   }
   return status == 0 ? 0 : -EIO;
}

int
pv_vu_shmem_map(struct pv_vu *vu, uint8_t shmid, uint64_t fd_offset, uint64_t shm_offset,
                uint64_t len, uint64_t flags, int fd)
{
   struct pv_vu_mmap m = {
      .shmid = shmid, .fd_offset = fd_offset, .shm_offset = shm_offset, .len = len, .flags = flags
   };
   if (fd < 0)
      return -EBADF;
   return backend_request(vu, VHOST_USER_BACKEND_SHMEM_MAP, &m, fd);
}

int
pv_vu_shmem_unmap(struct pv_vu *vu, uint8_t shmid, uint64_t shm_offset, uint64_t len)
{
   struct pv_vu_mmap m = { .shmid = shmid, .shm_offset = shm_offset, .len = len };
   return backend_request(vu, VHOST_USER_BACKEND_SHMEM_UNMAP, &m, -1);
}

int
pv_vu_handle_msg(struct pv_vu *vu)
{
   struct vu_hdr h;
   int fds[MAX_FDS];
   unsigned nfds = 0;
   uint8_t payload[MAX_PAYLOAD];
   int err = read_full(vu->sock, &h, HDR_SIZE, fds, &nfds);
   if (err == 0 && h.size > MAX_PAYLOAD)
      err = -EMSGSIZE;
   if (err == 0 && h.size)
      err = read_full(vu->sock, payload, h.size, fds, &nfds);
   if (err == 0) {
      err = handle(vu, &h, payload, fds, nfds);
      if ((h.flags & VHOST_USER_NEED_REPLY) && negotiated(vu, VHOST_USER_PROTOCOL_F_REPLY_ACK) &&
          !has_reply(h.request) && err != -ECONNRESET) {
         int e = reply_u64(vu, h.request, err < 0 ? 1 : 0);
         if (err == 0)
            err = e;
      }
   } else
      for (unsigned i = 0; i < nfds; i++)
         close(fds[i]);
   if (err < 0 && err != -ECONNRESET)
      pv_error(TAG, "request %u failed: %s", h.request, strerror(-err));
   return err;
}
