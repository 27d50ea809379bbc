/*
 * Strings on the Venus wire: an array size (bytes, with the NUL) and the
 * bytes padded to 4. The guest may omit the NUL: the copy always has one.
 */
#include "venus/generated/vn_protocol_internal.h"

const char *
vn_decode_string(struct vn_cs_decoder *dec)
{
   const uint64_t n = vn_decode_array_size(dec, 1);
   if (!n)
      return NULL;
   char *s = vn_cs_decoder_alloc(dec, n, 1);
   if (!s)
      return NULL;
   vn_decode_bytes(dec, s, (size_t)n);
   s[n - 1] = '\0';
   return s;
}

const char *const *
vn_decode_string_array(struct vn_cs_decoder *dec, uint64_t count)
{
   const char **a = vn_cs_decoder_alloc(dec, count, sizeof(*a));
   for (uint64_t i = 0; a && i < count; i++)
      a[i] = vn_decode_string(dec);
   return a;
}
