/*
 * Bounds-checked reading and writing of the Venus wire format.
 *
 * The wire format (Mesa's venus-protocol): little-endian, every item padded
 * to 4 bytes. Scalars of 32 bits or less take 4 bytes; uint64_t, int64_t,
 * size_t, VkDeviceSize, VkDeviceAddress, VkFlags64 and object ids take 8.
 * Array sizes and "pointer present" markers are uint64_t. Byte and char
 * arrays are copied raw and padded to 4.
 *
 * The decoder reads guest data: every read is checked against the end of
 * the stream, and the first error makes the decoder fatal (sticky). After
 * that, every read returns zeros and every allocation NULL, so generated
 * code can decode straight through and check `fatal` once at the end.
 *
 * Temporary storage for one command's decoded arguments comes from an
 * arena owned by the decoder, reset between commands, with a hard cap.
 */
#ifndef PV_VENUS_VN_CS_H
#define PV_VENUS_VN_CS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct vn_object_table;

/* The readers, writers and the arena's fast path below run for every
 * scalar and array of every command: force them inline so constant-size
 * copies become plain moves (GCC left vn_cs_decoder_alloc_uninit out of
 * line in the larger vn_run_vkCmd* functions). */
#if defined(__GNUC__)
#define VN_CS_INLINE static inline __attribute__((always_inline))
#else
#define VN_CS_INLINE static inline
#endif

/* Arena for one command's decoded arguments. */
struct vn_arena {
   uint8_t *base;
   size_t used;
   size_t capacity;
   size_t limit; /* never grows beyond this many bytes */
   bool chained; /* older chunks behind the newest one (freed by a later allocation) */
};

#define VN_ARENA_ALIGN 16

void vn_arena_init(struct vn_arena *arena, size_t limit);
void vn_arena_fini(struct vn_arena *arena);
static inline void
vn_arena_reset(struct vn_arena *arena)
{
   arena->used = 0;
}
/* Frees every chunk when they hold more than `keep` bytes together, so one
 * large command does not leave its arena at that size for good; only when
 * nothing allocated from it is used any more. */
void vn_arena_trim(struct vn_arena *arena, size_t keep);
/* 16-byte aligned, zero-filled; NULL when the limit would be exceeded. */
void *vn_arena_alloc(struct vn_arena *arena, size_t size);

/* vn_arena_alloc() without the zero fill, inline while the newest chunk
 * has room (every command's arguments, after the first few commands). For
 * storage the caller writes in full before anything reads it. */
VN_CS_INLINE void *
vn_arena_alloc_uninit(struct vn_arena *arena, size_t size)
{
   const size_t room = arena->capacity - arena->used;
   if (size && size <= room && !arena->chained) {
      const size_t aligned = (size + VN_ARENA_ALIGN - 1) & ~(size_t)(VN_ARENA_ALIGN - 1);
      if (aligned <= room) {
         /* the chunk's header is a multiple of the alignment: see vn_arena.c */
         uint8_t *p = arena->base + VN_ARENA_ALIGN + arena->used;
         arena->used += aligned;
         return p;
      }
   }
   return vn_arena_alloc(arena, size);
}

struct vn_cs_decoder {
   const uint8_t *cur;
   const uint8_t *end;
   bool fatal;
   const char *error; /* first error, for the one log line */
   struct vn_arena *arena;
   struct vn_object_table *objects; /* handle lookups (vn_object.h) */
};

struct vn_cs_encoder {
   uint8_t *cur;
   uint8_t *end;
   bool fatal; /* ran out of space */
};

static inline void
vn_cs_decoder_init(struct vn_cs_decoder *dec, const void *data, size_t size, struct vn_arena *arena,
                   struct vn_object_table *objects)
{
   dec->cur = (const uint8_t *)data;
   /* no arithmetic on NULL: an empty stream may have no buffer (UB even
    * with a zero offset; clang's UBSan reports it) */
   dec->end = size ? dec->cur + size : dec->cur;
   dec->fatal = false;
   dec->error = NULL;
   dec->arena = arena;
   dec->objects = objects;
}

static inline void
vn_cs_decoder_set_fatal(struct vn_cs_decoder *dec, const char *why)
{
   if (!dec->fatal) {
      dec->fatal = true;
      dec->error = why;
   }
   dec->cur = dec->end;
}

VN_CS_INLINE size_t
vn_cs_decoder_remaining(const struct vn_cs_decoder *dec)
{
   return (size_t)(dec->end - dec->cur);
}

VN_CS_INLINE bool
vn_cs_decoder_done(const struct vn_cs_decoder *dec)
{
   return dec->cur >= dec->end;
}

/* Copies `size` bytes (then skips padding to 4). Zero-fills on error. */
VN_CS_INLINE void
vn_decode_bytes(struct vn_cs_decoder *dec, void *dst, size_t size)
{
   const size_t padded = (size + 3) & ~(size_t)3;
   if (padded < size || padded > vn_cs_decoder_remaining(dec)) {
      vn_cs_decoder_set_fatal(dec, "command stream truncated");
      memset(dst, 0, size);
      return;
   }
   memcpy(dst, dec->cur, size);
   dec->cur += padded;
}

/* Returns a pointer into the stream for `size` bytes and skips them, or
 * NULL (fatal) when the stream is too short. */
VN_CS_INLINE const void *
vn_decode_peek_bytes(struct vn_cs_decoder *dec, size_t size)
{
   const size_t padded = (size + 3) & ~(size_t)3;
   if (padded < size || padded > vn_cs_decoder_remaining(dec)) {
      vn_cs_decoder_set_fatal(dec, "command stream truncated");
      return NULL;
   }
   const void *p = dec->cur;
   dec->cur += padded;
   return p;
}

#define VN_CS_SCALAR(name, type)                                 \
   VN_CS_INLINE type vn_decode_##name(struct vn_cs_decoder *dec) \
   {                                                             \
      type v;                                                    \
      vn_decode_bytes(dec, &v, sizeof(v));                       \
      return v;                                                  \
   }
VN_CS_SCALAR(uint32_t, uint32_t)
VN_CS_SCALAR(int32_t, int32_t)
VN_CS_SCALAR(uint64_t, uint64_t)
VN_CS_SCALAR(int64_t, int64_t)
VN_CS_SCALAR(float, float)
#undef VN_CS_SCALAR

/* Array sizes: a count that must fit in what is left of the stream at
 * `min_elem_size` wire bytes per element (pass 0 for outputs that take no
 * stream space). Bigger counts are fatal, which bounds every allocation by
 * the stream size. */
VN_CS_INLINE uint64_t
vn_decode_array_size(struct vn_cs_decoder *dec, size_t min_elem_size)
{
   const uint64_t n = vn_decode_uint64_t(dec);
   if (min_elem_size && n > vn_cs_decoder_remaining(dec) / min_elem_size) {
      vn_cs_decoder_set_fatal(dec, "array size exceeds command stream");
      return 0;
   }
   return n;
}

/* vn_decode_array_size() for a count already read with the items before
 * it (one bounds check for both): the same limit, against what is left
 * of the stream after it. */
VN_CS_INLINE uint64_t
vn_check_array_size(struct vn_cs_decoder *dec, uint64_t n, size_t min_elem_size)
{
   if (min_elem_size && n > vn_cs_decoder_remaining(dec) / min_elem_size) {
      vn_cs_decoder_set_fatal(dec, "array size exceeds command stream");
      return 0;
   }
   return n;
}

/* Like vn_decode_array_size, but the guest's value must equal `expected`
 * (fixed-size arrays and arrays whose count another member gives). */
VN_CS_INLINE bool
vn_decode_array_size_expect(struct vn_cs_decoder *dec, uint64_t expected)
{
   const uint64_t n = vn_decode_uint64_t(dec);
   if (n != expected) {
      vn_cs_decoder_set_fatal(dec, "array size mismatch");
      return false;
   }
   return true;
}

/* "Pointer present" marker: 0 for NULL, 1 otherwise. */
VN_CS_INLINE bool
vn_decode_simple_pointer(struct vn_cs_decoder *dec)
{
   const uint64_t n = vn_decode_uint64_t(dec);
   if (n > 1) {
      vn_cs_decoder_set_fatal(dec, "bad pointer marker");
      return false;
   }
   return n == 1;
}

/* Arena allocation of count * size bytes, overflow-checked; NULL and fatal
 * on failure. vn_cs_decoder_alloc() zero-fills; vn_cs_decoder_alloc_uninit()
 * does not, for arrays the decoder then writes element by element in full
 * (every element is written even when the stream turns out bad). */
VN_CS_INLINE void *
vn_cs_decoder_alloc_uninit(struct vn_cs_decoder *dec, uint64_t count, size_t size)
{
   if (dec->fatal)
      return NULL;
   if (count == 0)
      count = 1;
   if (size && count > SIZE_MAX / size) {
      vn_cs_decoder_set_fatal(dec, "allocation overflow");
      return NULL;
   }
   void *p = vn_arena_alloc_uninit(dec->arena, (size_t)count * size);
   if (!p)
      vn_cs_decoder_set_fatal(dec, "command too large for the per-command arena");
   return p;
}

VN_CS_INLINE void *
vn_cs_decoder_alloc(struct vn_cs_decoder *dec, uint64_t count, size_t size)
{
   void *p = vn_cs_decoder_alloc_uninit(dec, count, size);
   if (!p)
      return NULL;
   /* a count of 0 gets one element, as in _uninit; one element (a
    * pointer's target, most arrays of a command buffer's commands) is a
    * fill of constant size, which the compiler inlines, not a memset call */
   if (count <= 1)
      memset(p, 0, size);
   else
      memset(p, 0, (size_t)count * size);
   return p;
}

/* An array whose wire layout is its C layout, `size` bytes: a pointer into
 * the stream when that is aligned for the type (`align`, a power of two),
 * else a copy in the arena; NULL (fatal) when the stream is too short.
 * Streams are the renderer's private copies (pv_context_submit), unchanged
 * while their commands run, so commands read such arrays in place. */
VN_CS_INLINE const void *
vn_decode_array_in_place(struct vn_cs_decoder *dec, size_t size, size_t align)
{
   const void *src = vn_decode_peek_bytes(dec, size);
   if (!src || !((uintptr_t)src & (align - 1)))
      return src;
   void *copy = vn_cs_decoder_alloc_uninit(dec, 1, size);
   if (copy)
      memcpy(copy, src, size);
   return copy;
}

/* Encoder (replies). Writes are padded to 4; out of space is sticky. */
static inline void
vn_cs_encoder_init(struct vn_cs_encoder *enc, void *data, size_t size)
{
   enc->cur = (uint8_t *)data;
   /* no arithmetic on NULL: a context without a reply stream has none */
   enc->end = size ? enc->cur + size : enc->cur;
   enc->fatal = false;
}

VN_CS_INLINE void
vn_encode_bytes(struct vn_cs_encoder *enc, const void *src, size_t size)
{
   const size_t padded = (size + 3) & ~(size_t)3;
   if (enc->fatal || padded < size || padded > (size_t)(enc->end - enc->cur)) {
      enc->fatal = true;
      return;
   }
   if (!padded)
      return; /* nothing to write: the buffer may be NULL */
   memcpy(enc->cur, src, size);
   memset(enc->cur + size, 0, padded - size);
   enc->cur += padded;
}

#define VN_CS_ENCODE_SCALAR(name, type)                                  \
   VN_CS_INLINE void vn_encode_##name(struct vn_cs_encoder *enc, type v) \
   {                                                                     \
      vn_encode_bytes(enc, &v, sizeof(v));                               \
   }
VN_CS_ENCODE_SCALAR(uint32_t, uint32_t)
VN_CS_ENCODE_SCALAR(int32_t, int32_t)
VN_CS_ENCODE_SCALAR(uint64_t, uint64_t)
VN_CS_ENCODE_SCALAR(int64_t, int64_t)
VN_CS_ENCODE_SCALAR(float, float)
#undef VN_CS_ENCODE_SCALAR

static inline void
vn_encode_array_size(struct vn_cs_encoder *enc, uint64_t n)
{
   vn_encode_uint64_t(enc, n);
}

static inline void
vn_encode_simple_pointer(struct vn_cs_encoder *enc, const void *p)
{
   vn_encode_uint64_t(enc, p ? 1 : 0);
}

#endif
