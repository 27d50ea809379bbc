#include "vtest/vtest_io.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
vtest_read_full(int sock, void *buf, size_t size)
{
   size_t done = 0;
   while (done < size) {
      ssize_t n = read(sock, (char *)buf + done, size - done);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return -errno;
      }
      if (n == 0)
         return done ? -EPIPE : -ECONNRESET;
      done += (size_t)n;
   }
   return 0;
}

int
vtest_write_full(int sock, const void *buf, size_t size)
{
   size_t done = 0;
   while (done < size) {
      ssize_t n = send(sock, (const char *)buf + done, size - done, MSG_NOSIGNAL);
      if (n < 0) {
         if (errno == EINTR)
            continue;
         return -errno;
      }
      done += (size_t)n;
   }
   return 0;
}

int
vtest_send_fd(int sock, int fd)
{
   char byte = 0;
   struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
   union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
   } ctrl;
   memset(&ctrl, 0, sizeof(ctrl));
   struct msghdr msg = {
      .msg_iov = &iov,
      .msg_iovlen = 1,
      .msg_control = ctrl.buf,
      .msg_controllen = sizeof(ctrl.buf),
   };
   struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
   cmsg->cmsg_level = SOL_SOCKET;
   cmsg->cmsg_type = SCM_RIGHTS;
   cmsg->cmsg_len = CMSG_LEN(sizeof(int));
   memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

   for (;;) {
      ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
      if (n == 1)
         return 0;
      if (n < 0 && errno == EINTR)
         continue;
      return n < 0 ? -errno : -EIO;
   }
}
