/* Test helper: see test_stream.h. */
#include "test_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ts_bytes(struct test_stream *s, const void *p, size_t n)
{
   const size_t padded = (n + 3) & ~(size_t)3;
   if (s->len + padded > sizeof(s->data)) {
      fprintf(stderr, "test stream overflow: %zu + %zu bytes\n", s->len, padded);
      exit(1);
   }
   memcpy(s->data + s->len, p, n);
   memset(s->data + s->len + n, 0, padded - n);
   s->len += padded;
}

void
ts_u32(struct test_stream *s, uint32_t v)
{
   ts_bytes(s, &v, 4);
}

void
ts_u64(struct test_stream *s, uint64_t v)
{
   ts_bytes(s, &v, 8);
}

void
ts_f32(struct test_stream *s, float v)
{
   ts_bytes(s, &v, 4);
}

void
ts_string(struct test_stream *s, const char *str)
{
   ts_u64(s, strlen(str) + 1);
   ts_bytes(s, str, strlen(str) + 1);
}

void
ts_cmd(struct test_stream *s, uint32_t type, uint32_t flags)
{
   ts_u32(s, type);
   ts_u32(s, flags);
}
