/*
 * PV_CAPTURE_DIR (src/venus/pvk_capture.h) through the public API: the
 * commands of a vkExecuteCommandStreamsMESA stream are captured in its
 * place, after the reply seek it implied, and the capture (blobs, streams)
 * replays to the end against the renderer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/test_check.h"
#include "pearvisor/pearvisor.h"
#include "replay.h"
#include "session.h"
#include "venus/pvk_capture_format.h"
#include "venus/test_stream.h"

enum {
   CMD_ENUMERATE_INSTANCE_VERSION = 137,
   CMD_SET_REPLY = 178,
   CMD_SEEK_REPLY = 179,
   CMD_EXECUTE_COMMAND_STREAMS = 180,
};

static void *
blob(struct pv_renderer *r, uint32_t res_id, uint64_t size)
{
   const struct pv_blob_args args = { .res_id = res_id,
                                      .ctx_id = 1,
                                      .blob_mem = PV_BLOB_MEM_HOST3D,
                                      .blob_flags = PV_BLOB_FLAG_MAPPABLE,
                                      .size = size };
   CHECK(pv_resource_create_blob(r, &args) == 0);
   void *p = NULL;
   CHECK(pv_resource_map(r, res_id, &p, NULL) == 0 && p);
   return p;
}

static uint32_t
cmd_type(const struct pvf_record *rec, uint32_t i)
{
   uint32_t t;
   memcpy(&t, rec->data + rec->cmd[i], 4);
   return t;
}

int
main(void)
{
   char dir[] = "/tmp/pv-capture-test-XXXXXX";
   CHECK(mkdtemp(dir));
   setenv("PV_CAPTURE_DIR", dir, 1);

   struct pv_renderer *r;
   CHECK(pv_renderer_create(NULL, NULL, &r) == 0);
   CHECK(pv_context_create(r, 1, PV_CAPSET_VENUS, "capture") == 0);
   blob(r, 1, 65536); /* reply stream */
   uint8_t *shm = blob(r, 12, 4096);

   struct test_stream nested = { 0 };
   ts_cmd(&nested, CMD_ENUMERATE_INSTANCE_VERSION, TS_REPLY);
   ts_u64(&nested, 1);
   memcpy(shm + 64, nested.data, nested.len);

   struct test_stream e = { 0 };
   ts_cmd(&e, CMD_SET_REPLY, 0);
   ts_u64(&e, 1);
   ts_u32(&e, 1);
   ts_u64(&e, 0);
   ts_u64(&e, 65536);
   ts_cmd(&e, CMD_EXECUTE_COMMAND_STREAMS, 0);
   ts_u32(&e, 1);
   ts_u64(&e, 1);
   ts_u32(&e, 12);
   ts_u64(&e, 64);
   ts_u64(&e, nested.len);
   ts_u64(&e, 1);
   ts_u64(&e, 256); /* reply position */
   ts_u32(&e, 0);
   ts_u64(&e, 0);
   ts_u32(&e, 0);
   CHECK(pv_context_submit(r, 1, e.data, e.len) == 0);
   pv_context_destroy(r, 1);
   pv_renderer_destroy(r);

   char path[256];
   snprintf(path, sizeof(path), "%s/session-%d-1-0.pvcap", dir, (int)getpid());
   struct pvf_session s;
   CHECK(pvf_session_load(&s, path) == 0);
   /* two blobs attached at creation, then one stream */
   CHECK(s.count == 3 && s.wire_format == 0);
   CHECK(s.rec[0].type == PVK_CAPTURE_ATTACH && s.rec[1].type == PVK_CAPTURE_ATTACH);
   struct pvk_capture_blob b;
   memcpy(&b, s.rec[1].data, sizeof(b));
   CHECK(b.res_id == 12 && b.size == 4096 && b.blob_mem == PV_BLOB_MEM_HOST3D);
   const struct pvf_record *st = &s.rec[2];
   CHECK(st->type == PVK_CAPTURE_STREAM && st->ncmd == 3);
   CHECK(cmd_type(st, 0) == CMD_SET_REPLY);
   CHECK(cmd_type(st, 1) == CMD_SEEK_REPLY);
   uint64_t pos;
   memcpy(&pos, st->data + st->cmd[1] + 8, 8);
   CHECK(pos == 256);
   CHECK(cmd_type(st, 2) == CMD_ENUMERATE_INSTANCE_VERSION);
   CHECK(pvf_stream_cmd_size(st, 2) == nested.len);

   struct pvf_replay_result res;
   pvf_replay(&s, PVF_REPLAY_SYNC, &res);
   CHECK(res.setup_error == 0 && res.lost_at == UINT32_MAX && res.streams == 1);
   pvf_session_free(&s);
   unlink(path);
   rmdir(dir);
   printf("fuzz-capture-inline: ok\n");
   return 0;
}
