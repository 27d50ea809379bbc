/*
 * pNext chains on the Venus wire. The loops are the same for every struct;
 * only the per-sType size and member decoders/encoders are generated
 * (vn_pnext_size, vn_pnext_decode_self, vn_pnext_encode_self).
 */
#include "venus/generated/vn_protocol_internal.h"

/* The wire nests a chain: (present, sType) for every element in chain
 * order, the terminating 0, then the members of the elements in reverse
 * order. Decoded iteratively, so a long chain costs no stack. */
static void *
vn_decode_chain(struct vn_cs_decoder *dec, const VkStructureType *allowed, uint32_t count,
                bool partial)
{
   VkBaseOutStructure *rev = NULL; /* elements, last first */
   uint32_t length = 0;
   while (vn_decode_simple_pointer(dec)) {
      if (++length > VN_PNEXT_MAX_LENGTH) {
         vn_cs_decoder_set_fatal(dec, "pNext chain too long");
         return NULL;
      }
      const VkStructureType s = (VkStructureType)vn_decode_uint32_t(dec);
      bool ok = false;
      for (uint32_t i = 0; i < count; i++)
         ok = ok || allowed[i] == s;
      const size_t size = ok ? vn_pnext_size(s) : 0;
      if (!size) {
         vn_cs_decoder_set_fatal(dec, "unknown sType in pNext chain");
         return NULL;
      }
      VkBaseOutStructure *p = vn_cs_decoder_alloc(dec, 1, size);
      if (!p)
         return NULL;
      p->sType = s;
      p->pNext = rev;
      rev = p;
   }
   VkBaseOutStructure *chain = NULL;
   while (rev && !dec->fatal) {
      VkBaseOutStructure *next = rev->pNext;
      if (!vn_pnext_decode_self(dec, rev, partial))
         vn_cs_decoder_set_fatal(dec, "unknown sType in pNext chain");
      rev->pNext = chain;
      chain = rev;
      rev = next;
   }
   return dec->fatal ? NULL : chain;
}

const void *
vn_decode_pnext_chain(struct vn_cs_decoder *dec, const VkStructureType *allowed, uint32_t count)
{
   return vn_decode_chain(dec, allowed, count, false);
}

void *
vn_decode_pnext_chain_partial(struct vn_cs_decoder *dec, const VkStructureType *allowed,
                              uint32_t count)
{
   return vn_decode_chain(dec, allowed, count, true);
}

/* An encoder with no space: encoding into it only tells whether the sType
 * is known. */
static bool
vn_pnext_known(const VkBaseInStructure *p)
{
   struct vn_cs_encoder probe = { .cur = NULL, .end = NULL, .fatal = true };
   return vn_pnext_encode_self(&probe, p);
}

/* Same layout as decoded (see vn_decode_chain); elements the protocol does
 * not know are left out. */
void
vn_encode_pnext(struct vn_cs_encoder *enc, const void *pnext)
{
   const VkBaseInStructure *elems[VN_PNEXT_MAX_LENGTH];
   uint32_t n = 0;
   for (const VkBaseInStructure *p = pnext; p && n < VN_PNEXT_MAX_LENGTH; p = p->pNext) {
      if (!vn_pnext_known(p))
         continue;
      elems[n++] = p;
      vn_encode_uint64_t(enc, 1);
      vn_encode_uint32_t(enc, (uint32_t)p->sType);
   }
   vn_encode_uint64_t(enc, 0);
   while (n)
      vn_pnext_encode_self(enc, elems[--n]);
}
