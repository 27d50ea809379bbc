/*
 * Per-context object table (vn_object.h): a chained hash table keyed by the
 * guest's object id. Entries are individually allocated so that pointers
 * handed out stay valid until the entry is removed.
 */
#include <stdlib.h>

#include "venus/vn_object.h"

struct vn_object_entry {
   struct vn_object obj;                /* first: entries are cast from objects */
   struct vn_object_entry *next;        /* chain by id */
   struct vn_object_entry *next_handle; /* chain by (type, host handle) */
   uint64_t hashed_handle;              /* obj.handle when it was inserted */
};

struct vn_object_table {
   struct vn_object_table_head head; /* first: vn_lookup_object() reads it */
   struct vn_object_entry **buckets;
   struct vn_object_entry **handle_buckets;
   struct vn_object_entry *retired; /* chained by next: not found by id */
   uint32_t bucket_count;           /* power of two, for both arrays */
   uint32_t count;
   uint32_t max_objects;
   uint64_t serials; /* last gen or serial handed out */
   /* removals of VN_OBJECT_RECORDED_TYPES objects, and renewals: head.removals */
};

#define VN_OBJECT_MIN_BUCKETS 64u

static uint32_t
vn_object_hash(uint64_t id, uint32_t bucket_count)
{
   /* Fibonacci hashing: guest ids are often sequential */
   return (uint32_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (bucket_count - 1);
}

static uint32_t
vn_object_handle_hash(VkObjectType type, uint64_t handle, uint32_t bucket_count)
{
   return vn_object_hash(handle ^ ((uint64_t)type << 40), bucket_count);
}

static void
vn_object_unlink_handle(struct vn_object_table *t, struct vn_object_entry *e)
{
   struct vn_object_entry **pp =
      &t->handle_buckets[vn_object_handle_hash(e->obj.type, e->hashed_handle, t->bucket_count)];
   while (*pp && *pp != e)
      pp = &(*pp)->next_handle;
   if (*pp)
      *pp = e->next_handle;
}

struct vn_object_table *
vn_object_table_create(uint32_t max_objects)
{
   struct vn_object_table *t = calloc(1, sizeof(*t));
   if (!t)
      return NULL;
   t->bucket_count = VN_OBJECT_MIN_BUCKETS;
   t->buckets = calloc(t->bucket_count, sizeof(*t->buckets));
   t->handle_buckets = calloc(t->bucket_count, sizeof(*t->handle_buckets));
   if (!t->buckets || !t->handle_buckets) {
      free(t->buckets);
      free(t->handle_buckets);
      free(t);
      return NULL;
   }
   t->max_objects = max_objects;
   return t;
}

void
vn_object_table_destroy(struct vn_object_table *t)
{
   if (!t)
      return;
   for (uint32_t i = 0; i < t->bucket_count; i++) {
      struct vn_object_entry *e = t->buckets[i];
      while (e) {
         struct vn_object_entry *next = e->next;
         free(e);
         e = next;
      }
   }
   for (struct vn_object_entry *e = t->retired; e;) {
      struct vn_object_entry *next = e->next;
      free(e);
      e = next;
   }
   free(t->buckets);
   free(t->handle_buckets);
   free(t);
}

static struct vn_object_entry *
vn_object_find(struct vn_object_table *t, uint64_t id)
{
   const uint32_t slot = vn_object_recent_slot(id);
   for (uint32_t way = 0; way < VN_OBJECT_RECENT_WAYS; way++) {
      struct vn_object *recent = t->head.recent[way][slot];
      if (recent && recent->id == id) {
         t->head.last = recent;
         return (struct vn_object_entry *)recent;
      }
   }
   struct vn_object_entry *e = t->buckets[vn_object_hash(id, t->bucket_count)];
   while (e && e->obj.id != id)
      e = e->next;
   if (e) {
      /* the latest first, the one it replaces second; the oldest leaves */
      for (uint32_t way = VN_OBJECT_RECENT_WAYS - 1; way > 0; way--)
         t->head.recent[way][slot] = t->head.recent[way - 1][slot];
      t->head.recent[0][slot] = t->head.last = &e->obj;
   }
   return e;
}

/* Doubles the bucket arrays; on allocation failure keeps the old ones (the
 * table still works, only with longer chains). */
static void
vn_object_table_grow(struct vn_object_table *t)
{
   if (t->bucket_count > UINT32_MAX / 4)
      return;
   const uint32_t n = t->bucket_count * 2;
   struct vn_object_entry **b = calloc(n, sizeof(*b));
   struct vn_object_entry **hb = calloc(n, sizeof(*hb));
   if (!b || !hb) {
      free(b);
      free(hb);
      return;
   }
   for (uint32_t i = 0; i < t->bucket_count; i++) {
      struct vn_object_entry *e = t->buckets[i];
      while (e) {
         struct vn_object_entry *next = e->next;
         const uint32_t h = vn_object_hash(e->obj.id, n);
         e->next = b[h];
         b[h] = e;
         const uint32_t hh = vn_object_handle_hash(e->obj.type, e->hashed_handle, n);
         e->next_handle = hb[hh];
         hb[hh] = e;
         e = next;
      }
   }
   for (struct vn_object_entry *e = t->retired; e; e = e->next) {
      const uint32_t hh = vn_object_handle_hash(e->obj.type, e->hashed_handle, n);
      e->next_handle = hb[hh];
      hb[hh] = e;
   }
   free(t->buckets);
   free(t->handle_buckets);
   t->buckets = b;
   t->handle_buckets = hb;
   t->bucket_count = n;
}

struct vn_object *
vn_object_table_insert(struct vn_object_table *t, uint64_t id, VkObjectType type, uint64_t handle)
{
   if (id == 0 || t->count >= t->max_objects || vn_object_find(t, id))
      return NULL;
   struct vn_object_entry *e = calloc(1, sizeof(*e));
   if (!e)
      return NULL;
   e->obj.id = id;
   e->obj.type = type;
   e->obj.handle = handle;
   e->obj.gen = ++t->serials;
   e->hashed_handle = handle;
   if (t->count >= t->bucket_count)
      vn_object_table_grow(t);
   const uint32_t h = vn_object_hash(id, t->bucket_count);
   e->next = t->buckets[h];
   t->buckets[h] = e;
   const uint32_t hh = vn_object_handle_hash(type, handle, t->bucket_count);
   e->next_handle = t->handle_buckets[hh];
   t->handle_buckets[hh] = e;
   t->count++;
   return &e->obj;
}

struct vn_object *
vn_object_table_lookup(struct vn_object_table *t, uint64_t id, VkObjectType type)
{
   if (id == 0)
      return NULL;
   struct vn_object_entry *e = vn_object_find(t, id);
   return e && e->obj.type == type ? &e->obj : NULL;
}

/* Unlinks obj from its id chain (or the retired list) and from the
 * recent slots; NULL when it is not in the table. */
static struct vn_object_entry *
vn_object_unlink_id(struct vn_object_table *t, struct vn_object *obj)
{
   struct vn_object_entry **pp =
      obj->retired ? &t->retired : &t->buckets[vn_object_hash(obj->id, t->bucket_count)];
   while (*pp && &(*pp)->obj != obj)
      pp = &(*pp)->next;
   if (!*pp)
      return NULL;
   struct vn_object_entry *e = *pp;
   *pp = e->next;
   const uint32_t slot = vn_object_recent_slot(e->obj.id);
   for (uint32_t way = 0; way < VN_OBJECT_RECENT_WAYS; way++) {
      if (t->head.recent[way][slot] == &e->obj)
         t->head.recent[way][slot] = NULL;
   }
   if (t->head.last == &e->obj)
      t->head.last = NULL;
   return e;
}

void
vn_object_table_remove(struct vn_object_table *t, struct vn_object *obj)
{
   struct vn_object_entry *e = vn_object_unlink_id(t, obj);
   if (!e)
      return;
   vn_object_unlink_handle(t, e);
   t->count--;
   if (!e->obj.retired && vn_object_type_recorded(e->obj.type))
      t->head.removals++;
   free(e);
}

void
vn_object_table_retire(struct vn_object_table *t, struct vn_object *obj)
{
   if (obj->retired)
      return;
   struct vn_object_entry *e = vn_object_unlink_id(t, obj);
   if (!e)
      return;
   e->obj.retired = true;
   if (vn_object_type_recorded(e->obj.type))
      t->head.removals++;
   e->next = t->retired;
   t->retired = e;
}

struct vn_object *
vn_object_table_find_handle(struct vn_object_table *t, VkObjectType type, uint64_t handle)
{
   struct vn_object_entry *e =
      t->handle_buckets[vn_object_handle_hash(type, handle, t->bucket_count)];
   /* a live object before a retired one of the same handle (another
    * device's, whose handles may repeat) */
   struct vn_object *retired = NULL;
   for (; e; e = e->next_handle) {
      if (e->obj.type != type || e->hashed_handle != handle)
         continue;
      if (!e->obj.retired)
         return &e->obj;
      if (!retired)
         retired = &e->obj;
   }
   return retired;
}

uint32_t
vn_object_table_count(const struct vn_object_table *t)
{
   return t->count;
}

uint64_t
vn_object_table_removals(const struct vn_object_table *t)
{
   return t->head.removals;
}

void
vn_object_table_renew(struct vn_object_table *t, struct vn_object *obj)
{
   obj->gen = ++t->serials;
   t->head.removals++;
}

uint64_t
vn_object_table_serial(struct vn_object_table *t)
{
   return ++t->serials;
}

void
vn_object_table_foreach(struct vn_object_table *t, void (*fn)(struct vn_object *obj, void *data),
                        void *data)
{
   for (uint32_t i = 0; i < t->bucket_count; i++) {
      struct vn_object_entry *e = t->buckets[i];
      while (e) {
         struct vn_object_entry *next = e->next; /* fn may remove e */
         fn(&e->obj, data);
         e = next;
      }
   }
   for (struct vn_object_entry *e = t->retired; e;) {
      struct vn_object_entry *next = e->next;
      fn(&e->obj, data);
      e = next;
   }
}

struct vn_object *
vn_lookup_object_slow(struct vn_cs_decoder *dec, uint64_t id, VkObjectType type, bool optional)
{
   if (dec->fatal)
      return NULL;
   if (id == 0) {
      if (!optional)
         vn_cs_decoder_set_fatal(dec, "missing required object");
      return NULL;
   }
   struct vn_object_entry *e = dec->objects ? vn_object_find(dec->objects, id) : NULL;
   if (!e) {
      vn_cs_decoder_set_fatal(dec, "unknown object id");
      return NULL;
   }
   if (e->obj.type != type) {
      vn_cs_decoder_set_fatal(dec, "object of the wrong type");
      return NULL;
   }
   return &e->obj;
}
