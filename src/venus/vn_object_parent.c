/*
 * Command buffers and descriptor sets belong to a pool: the host frees
 * them with it, so the object table drops them with it too. Generated
 * executors of vkAllocate* / vkDestroy*Pool / vkReset*Pool call these.
 */
#include "venus/generated/vn_protocol_internal.h"
#include "venus/vn_dispatch.h"

uint64_t
vn_find_parent_id(struct vn_dispatch_context *ctx, VkObjectType type, uint64_t handle)
{
   struct vn_object *pool = vn_object_table_find_handle(ctx->objects, type, handle);
   return pool ? pool->id : 0;
}

struct vn_remove_children {
   struct vn_object_table *table;
   uint64_t parent_id;
   VkObjectType type;
};

static void
vn_remove_children_cb(struct vn_object *obj, void *data)
{
   struct vn_remove_children *r = data;
   /* the guest's pools only: a retired pool's children go with it */
   if (obj->type == r->type && obj->parent_id == r->parent_id && !obj->retired)
      vn_object_table_remove(r->table, obj);
}

void
vn_remove_children(struct vn_dispatch_context *ctx, uint64_t parent_id, VkObjectType type)
{
   struct vn_remove_children r = { ctx->objects, parent_id, type };
   vn_object_table_foreach(ctx->objects, vn_remove_children_cb, &r);
}
