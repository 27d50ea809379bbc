/*
 * Per-command arena (vn_cs.h): a chain of chunks. Pointers stay valid until
 * the next reset; vn_arena_reset() only rewinds the newest chunk, so older
 * chunks are known dead when an allocation finds the newest one empty, and
 * are freed then. The sum of live chunk sizes never exceeds `limit`.
 */
#include <stdlib.h>

#include "venus/vn_cs.h"

struct vn_arena_chunk {
   struct vn_arena_chunk *prev;
   size_t size; /* data bytes after the header */
};

#define VN_ARENA_HEADER \
   ((sizeof(struct vn_arena_chunk) + VN_ARENA_ALIGN - 1) & ~(size_t)(VN_ARENA_ALIGN - 1))
/* vn_arena_alloc_uninit() (vn_cs.h) finds the data at base + VN_ARENA_ALIGN */
_Static_assert(VN_ARENA_HEADER == VN_ARENA_ALIGN, "arena chunk header size");
#define VN_ARENA_MIN_CHUNK ((size_t)64 * 1024)

static struct vn_arena_chunk *
vn_arena_chunk(const struct vn_arena *arena)
{
   return (struct vn_arena_chunk *)arena->base;
}

static size_t
vn_arena_total(const struct vn_arena *arena)
{
   size_t total = 0;
   for (const struct vn_arena_chunk *c = vn_arena_chunk(arena); c; c = c->prev)
      total += c->size;
   return total;
}

static void
vn_arena_free_chain(struct vn_arena_chunk *c)
{
   while (c) {
      struct vn_arena_chunk *prev = c->prev;
      free(c);
      c = prev;
   }
}

void
vn_arena_init(struct vn_arena *arena, size_t limit)
{
   arena->base = NULL;
   arena->used = 0;
   arena->capacity = 0;
   arena->limit = limit;
   arena->chained = false;
}

void
vn_arena_fini(struct vn_arena *arena)
{
   vn_arena_free_chain(vn_arena_chunk(arena));
   vn_arena_init(arena, arena->limit);
}

void
vn_arena_trim(struct vn_arena *arena, size_t keep)
{
   if (vn_arena_total(arena) > keep)
      vn_arena_fini(arena);
}

/* Appends a chunk of at least `need` bytes; false when over the limit. */
static bool
vn_arena_grow(struct vn_arena *arena, size_t need)
{
   size_t size = arena->capacity ? arena->capacity * 2 : VN_ARENA_MIN_CHUNK;
   if (size < need)
      size = need;
   const size_t total = vn_arena_total(arena);
   if (total > arena->limit || need > arena->limit - total)
      return false;
   if (size > arena->limit - total)
      size = arena->limit - total;
   struct vn_arena_chunk *c = malloc(VN_ARENA_HEADER + size);
   if (!c)
      return false;
   c->prev = vn_arena_chunk(arena);
   c->size = size;
   arena->chained = c->prev != NULL;
   arena->base = (uint8_t *)c;
   arena->capacity = size;
   arena->used = 0;
   return true;
}

void *
vn_arena_alloc(struct vn_arena *arena, size_t size)
{
   if (size == 0)
      size = 1;
   if (size > SIZE_MAX - VN_ARENA_ALIGN)
      return NULL;
   size = (size + VN_ARENA_ALIGN - 1) & ~(size_t)(VN_ARENA_ALIGN - 1);

   struct vn_arena_chunk *cur = vn_arena_chunk(arena);
   if (cur && arena->used == 0 && cur->prev) {
      /* rewound by a reset: older chunks hold nothing live */
      vn_arena_free_chain(cur->prev);
      cur->prev = NULL;
      arena->chained = false;
   }
   if (!cur || size > arena->capacity - arena->used) {
      if (!vn_arena_grow(arena, size))
         return NULL;
   }
   uint8_t *p = arena->base + VN_ARENA_HEADER + arena->used;
   arena->used += size;
   memset(p, 0, size);
   return p;
}
