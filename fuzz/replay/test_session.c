/* The .pvcap reader, writer and mutator: round trip, refusal of corrupt
 * files (every truncation and many bit flips of a valid one), deterministic
 * mutation, and command bookkeeping after edits. No Vulkan needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/test_check.h"
#include "mutate.h"
#include "session.h"
#include "venus/pvk_capture_format.h"

static void
add_stream(struct pvf_session *s, uint32_t ncmd)
{
   uint8_t bytes[256];
   uint32_t offs[16];
   size_t used = 0;
   for (uint32_t i = 0; i < ncmd; i++) {
      const uint32_t cmd[4] = { 181 /* any type */, 0, i, 0xabcd0000u + i };
      offs[i] = (uint32_t)used;
      memcpy(bytes + used, cmd, sizeof(cmd));
      used += sizeof(cmd);
   }
   struct pvf_record r = { .type = PVK_CAPTURE_STREAM };
   CHECK(pvf_session_insert(s, s->count, &r) == 0);
   CHECK(pvf_stream_replace(&s->rec[s->count - 1], 0, 0, bytes, used, offs, ncmd) == 0);
}

static void
add_res(struct pvf_session *s, uint32_t res_id)
{
   struct pvk_capture_blob b = { .res_id = res_id, .blob_mem = 2, .size = 4096 };
   struct pvf_record r = { .type = PVK_CAPTURE_ATTACH, .data = (uint8_t *)&b, .size = sizeof(b) };
   CHECK(pvf_session_insert(s, s->count, &r) == 0);
}

static void
check_commands(const struct pvf_session *s)
{
   for (uint32_t i = 0; i < s->count; i++) {
      const struct pvf_record *r = &s->rec[i];
      if (r->type != PVK_CAPTURE_STREAM)
         continue;
      for (uint32_t c = 0; c < r->ncmd; c++) {
         CHECK(r->cmd[c] < r->size);
         CHECK(c == 0 ? r->cmd[0] == 0 : r->cmd[c] > r->cmd[c - 1]);
      }
   }
}

int
main(void)
{
   struct pvf_session s = { .wire_format = 1 };
   add_res(&s, 7);
   add_stream(&s, 5);
   add_stream(&s, 1);
   size_t size;
   uint8_t *file = pvf_session_serialize(&s, &size);
   CHECK(file);

   /* round trip */
   struct pvf_session t;
   CHECK(pvf_session_parse(&t, file, size) == 0);
   CHECK(t.wire_format == 1 && t.count == 3);
   CHECK(t.rec[1].ncmd == 5 && t.rec[1].size == 80 && t.rec[1].cmd[4] == 64);
   size_t size2;
   uint8_t *file2 = pvf_session_serialize(&t, &size2);
   CHECK(size2 == size && !memcmp(file, file2, size));
   free(file2);
   pvf_session_free(&t);

   /* truncated files: parsed as far as whole records go, or refused */
   for (size_t n = 0; n < size; n++) {
      if (pvf_session_parse(&t, file, n) == 0) {
         check_commands(&t);
         pvf_session_free(&t);
      }
   }
   /* flipped bits: never read out of bounds (ASan), offsets stay valid */
   for (size_t bit = 0; bit < size * 8; bit += 3) {
      file[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      if (pvf_session_parse(&t, file, size) == 0) {
         check_commands(&t);
         pvf_session_free(&t);
      }
      file[bit / 8] ^= (uint8_t)(1u << (bit % 8));
   }

   /* replace and truncate keep the command index right */
   struct pvf_record *r = &s.rec[1];
   CHECK(pvf_stream_replace(r, 1, 2, NULL, 0, NULL, 0) == 0); /* delete cmds 1, 2 */
   CHECK(r->ncmd == 3 && r->size == 48 && r->cmd[1] == 16 && r->cmd[2] == 32);
   uint32_t v;
   memcpy(&v, r->data + r->cmd[1] + 8, 4);
   CHECK(v == 3);
   pvf_stream_truncate(r, 20);
   CHECK(r->ncmd == 2 && r->size == 20);

   /* the same seed gives the same mutations */
   struct pvf_session a, b;
   char la[2048] = "", lb[2048] = "";
   CHECK(pvf_session_copy(&a, &s) == 0 && pvf_session_copy(&b, &s) == 0);
   uint64_t ra = 42, rb = 42;
   for (int i = 0; i < 50; i++) {
      pvf_mutate(&a, &s, &ra, 3, la, sizeof(la));
      pvf_mutate(&b, &s, &rb, 3, lb, sizeof(lb));
      check_commands(&a);
   }
   CHECK(!strcmp(la, lb));
   size_t na, nb;
   uint8_t *fa = pvf_session_serialize(&a, &na), *fb = pvf_session_serialize(&b, &nb);
   CHECK(fa && fb && na == nb && !memcmp(fa, fb, na));
   free(fa);
   free(fb);
   pvf_session_free(&a);
   pvf_session_free(&b);

   free(file);
   pvf_session_free(&s);
   printf("fuzz-session: ok\n");
   return 0;
}
