/*
 * The vtest socket protocol, as Mesa 22.3's venus driver speaks it
 * (src/virtio/vtest/vtest_protocol.h and src/virtio/vulkan/vn_renderer_vtest.c
 * in Mesa are the reference; these are the facts read from there).
 *
 * Every message is a header of two little-endian u32, {length, command},
 * followed by `length` u32 of payload. Exception: VCMD_CREATE_RENDERER's
 * length counts bytes (a NUL-terminated process name). Replies use the same
 * header; some replies are followed by one file descriptor, sent with
 * SCM_RIGHTS on a single dummy byte.
 */
#ifndef PV_VTEST_PROTOCOL_H
#define PV_VTEST_PROTOCOL_H

#include <stdint.h>

#define VTEST_DEFAULT_SOCKET "/tmp/.virgl_test"

/* Highest version we speak; venus needs 3. */
#define VTEST_PROTOCOL_VERSION 3

#define VTEST_HDR_DWORDS 2
#define VTEST_HDR_LEN 0
#define VTEST_HDR_CMD 1

enum vtest_cmd {
   VCMD_GET_CAPS = 1,
   VCMD_RESOURCE_CREATE = 2,
   VCMD_RESOURCE_UNREF = 3,
   VCMD_TRANSFER_GET = 4,
   VCMD_TRANSFER_PUT = 5,
   VCMD_SUBMIT_CMD = 6,
   VCMD_RESOURCE_BUSY_WAIT = 7,
   VCMD_CREATE_RENDERER = 8,
   VCMD_GET_CAPS2 = 9,
   VCMD_PING_PROTOCOL_VERSION = 10,
   VCMD_PROTOCOL_VERSION = 11,
   VCMD_RESOURCE_CREATE2 = 12,
   VCMD_TRANSFER_GET2 = 13,
   VCMD_TRANSFER_PUT2 = 14,
   /* protocol version 3 */
   VCMD_GET_PARAM = 15,
   VCMD_GET_CAPSET = 16,
   VCMD_CONTEXT_INIT = 17,
   VCMD_RESOURCE_CREATE_BLOB = 18,
   VCMD_SYNC_CREATE = 19,
   VCMD_SYNC_UNREF = 20,
   VCMD_SYNC_READ = 21,
   VCMD_SYNC_WRITE = 22,
   VCMD_SYNC_WAIT = 23,
   VCMD_SUBMIT_CMD2 = 24,
};

/* Payload sizes in u32 (requests). */
#define VCMD_RES_UNREF_SIZE 1        /* res_id */
#define VCMD_BUSY_WAIT_SIZE 2        /* handle, flags; reply: busy */
#define VCMD_PROTOCOL_VERSION_SIZE 1 /* version; reply: version */
#define VCMD_GET_PARAM_SIZE 1        /* param; reply: valid, value */
#define VCMD_GET_CAPSET_SIZE 2       /* capset id, version; reply: valid, data */
#define VCMD_CONTEXT_INIT_SIZE 1     /* capset id */
#define VCMD_RES_CREATE_BLOB_SIZE 6 /* type, flags, size lo/hi, blob id lo/hi; reply: res_id + fd */
#define VCMD_SYNC_CREATE_SIZE 2     /* value lo/hi; reply: sync id */
#define VCMD_SYNC_UNREF_SIZE 1      /* sync id */
#define VCMD_SYNC_READ_SIZE 1       /* sync id; reply: value (u64) */
#define VCMD_SYNC_WRITE_SIZE 3      /* sync id, value lo/hi */
/* SYNC_WAIT: flags, timeout (ms, UINT32_MAX: infinite), then count x (id, value lo/hi);
 * reply: empty, followed by an fd that polls readable once the wait is satisfied. */
#define VCMD_SYNC_WAIT_FLAG_ANY (1u << 0)

enum vtest_param {
   VCMD_PARAM_MAX_SYNC_QUEUE_COUNT = 1,
};

enum vtest_blob_type {
   VCMD_BLOB_TYPE_GUEST = 1,
   VCMD_BLOB_TYPE_HOST3D = 2,
   VCMD_BLOB_TYPE_HOST3D_GUEST = 3,
};

/* SUBMIT_CMD2: batch count, then count x this struct (8 u32), then command
 * streams and sync points; offsets and sizes count u32 from payload start.
 * Mesa 25 calls the flag VCMD_SUBMIT_CMD2_FLAG_RING_IDX and always sets it;
 * sync_queue_index is then the ring index (0: the CPU timeline). */
#define VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE (1u << 0)
#define VCMD_SUBMIT_CMD2_BATCH_DWORDS 8
struct vtest_submit_batch {
   uint32_t flags;
   uint32_t cmd_offset;
   uint32_t cmd_size;
   uint32_t sync_offset;
   uint32_t sync_count;       /* sync points of 3 u32: id, value lo, value hi */
   uint32_t sync_queue_index; /* only with VCMD_SUBMIT_CMD2_FLAG_SYNC_QUEUE */
   uint64_t sync_queue_id;    /* the VkQueue's object id */
};

#define VTEST_SYNC_POINT_DWORDS 3

#endif
