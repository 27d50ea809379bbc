/*
 * Guest program for tests/vm/qemu_blob_map_test.py: maps HOST3D blobs the
 * way Mesa's venus driver does, through the kernel's virtio_gpu ioctls.
 *
 * For each of N rounds: create a venus-context HOST3D | MAPPABLE blob
 * (blob_id 0, 3 pages + 100 bytes), VIRTGPU_MAP + mmap it, check that it
 * reads zero, write a word at its start and end and read both back, then
 * unmap and close it (the kernel sends RESOURCE_UNMAP_BLOB and unref).
 * Prints one "PVT: round R ..." line per round and "PVT: done".
 *
 * Built static by the test (cc -static) and run inside the initramfs.
 * The blob and context-init ioctls are declared here: Debian 12's libdrm
 * headers predate them (the values are the kernel's UAPI).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <drm.h>
#include <virtgpu_drm.h>

#define PVT_RESOURCE_CREATE_BLOB 0x0a
#define PVT_CONTEXT_INIT 0x0b
#define PVT_BLOB_MEM_HOST3D 0x0002
#define PVT_BLOB_FLAG_USE_MAPPABLE 0x0001
#define PVT_CONTEXT_PARAM_CAPSET_ID 0x0001
#define PVT_CAPSET_VENUS 4

struct pvt_create_blob {
   uint32_t blob_mem;
   uint32_t blob_flags;
   uint32_t bo_handle;
   uint32_t res_handle;
   uint64_t size;
   uint32_t pad;
   uint32_t cmd_size;
   uint64_t cmd;
   uint64_t blob_id;
};

struct pvt_context_set_param {
   uint64_t param;
   uint64_t value;
};

struct pvt_context_init {
   uint32_t num_params;
   uint32_t pad;
   uint64_t ctx_set_params;
};

#define PVT_IOCTL_CREATE_BLOB \
   DRM_IOWR(DRM_COMMAND_BASE + PVT_RESOURCE_CREATE_BLOB, struct pvt_create_blob)
#define PVT_IOCTL_CONTEXT_INIT \
   DRM_IOWR(DRM_COMMAND_BASE + PVT_CONTEXT_INIT, struct pvt_context_init)

/* One round; returns 0 when the blob mapped and read back right. */
static int
round_trip(int fd, int r)
{
   struct pvt_create_blob cb = {
      .blob_mem = PVT_BLOB_MEM_HOST3D,
      .blob_flags = PVT_BLOB_FLAG_USE_MAPPABLE,
      .size = 3 * 4096 + 100,
   };
   if (ioctl(fd, PVT_IOCTL_CREATE_BLOB, &cb) < 0) {
      printf("PVT: round %d create_blob: %s\n", r, strerror(errno));
      return 1;
   }
   int ok = 1;
   struct drm_virtgpu_map map = { .handle = cb.bo_handle };
   if (ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &map) < 0) {
      printf("PVT: round %d map: %s\n", r, strerror(errno));
      ok = 0;
   }
   size_t len = 4 * 4096;
   volatile uint32_t *p = MAP_FAILED;
   if (ok) {
      p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
      if (p == MAP_FAILED) {
         printf("PVT: round %d mmap: %s\n", r, strerror(errno));
         ok = 0;
      }
   }
   if (ok) {
      size_t last = (3 * 4096 + 100) / 4 - 1;
      uint32_t first0 = p[0], last0 = p[last];
      p[0] = 0x50560000u + (uint32_t)r;
      p[last] = 0x5056ff00u + (uint32_t)r;
      int back = p[0] == 0x50560000u + (uint32_t)r && p[last] == 0x5056ff00u + (uint32_t)r;
      printf("PVT: round %d mapped res %u: read 0x%x 0x%x before, write/read back %s\n", r,
             cb.res_handle, first0, last0, back ? "ok" : "WRONG");
      ok = first0 == 0 && last0 == 0 && back;
      munmap((void *)p, len);
   }
   struct drm_gem_close gc = { .handle = cb.bo_handle };
   ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
   return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
   int rounds = argc > 1 ? atoi(argv[1]) : 3;
   int fd = open("/dev/dri/card0", O_RDWR);
   if (fd < 0) {
      printf("PVT: open /dev/dri/card0: %s\n", strerror(errno));
      return 1;
   }
   struct pvt_context_set_param param = { PVT_CONTEXT_PARAM_CAPSET_ID, PVT_CAPSET_VENUS };
   struct pvt_context_init init = { .num_params = 1, .ctx_set_params = (uintptr_t)&param };
   if (ioctl(fd, PVT_IOCTL_CONTEXT_INIT, &init) < 0) {
      printf("PVT: context_init: %s\n", strerror(errno));
      return 1;
   }
   int failed = 0;
   for (int r = 1; r <= rounds; r++)
      failed += round_trip(fd, r);
   printf("PVT: done, %d of %d rounds failed\n", failed, rounds);
   close(fd);
   return failed ? 2 : 0;
}
