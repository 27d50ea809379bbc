/*
 * Instances and devices made ahead of the guest: keys, recipes, and the
 * pre-made objects (pvk_premade.h).
 *
 * Recipe layout (all little-endian u32, then the keys, each a multiple of
 * 4 bytes): magic, physical device index, application info key size,
 * device key size.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/device_policy.h"
#include "common/log.h"
#include "pearvisor/pearvisor.h"
#include "venus/generated/vn_protocol_internal.h"
#include "venus/pvk_device.h"
#include "venus/pvk_instance.h"
#include "venus/pvk_premade.h"
#include "venus/vn_object.h"

#define RECIPE_MAGIC 0x31727670u /* "pvr1" */
#define RECIPE_HEADER 16
/* decoding a recipe never needs more (the recipe itself is smaller) */
#define RECIPE_ARENA_LIMIT (1u << 20)

/* --- keys: the venus wire encoding, as the decoder reads it --- */

static void
encode_string(struct vn_cs_encoder *enc, const char *s)
{
   if (!s) {
      vn_encode_array_size(enc, 0);
      return;
   }
   const size_t n = strlen(s) + 1;
   vn_encode_array_size(enc, n);
   vn_encode_bytes(enc, s, n);
}

static void
encode_string_array(struct vn_cs_encoder *enc, const char *const *a, uint32_t count)
{
   vn_encode_array_size(enc, a ? count : 0);
   for (uint32_t i = 0; a && i < count; i++)
      encode_string(enc, a[i]);
}

/* Every element known to the encoder (vn_encode_pnext leaves unknown ones
 * out, which would make different chains look alike) and none naming
 * objects: their ids mean nothing in another process. */
static bool
chain_encodable(const void *pnext)
{
   uint32_t n = 0;
   for (const VkBaseInStructure *p = pnext; p; p = p->pNext) {
      struct vn_cs_encoder probe = { .cur = NULL, .end = NULL, .fatal = true };
      if (++n > VN_PNEXT_MAX_LENGTH ||
          p->sType == VK_STRUCTURE_TYPE_DEVICE_GROUP_DEVICE_CREATE_INFO ||
          !vn_pnext_encode_self(&probe, p))
         return false;
   }
   return true;
}

static void
encode_app_info(struct vn_cs_encoder *enc, const VkApplicationInfo *app)
{
   vn_encode_uint32_t(enc, VK_STRUCTURE_TYPE_APPLICATION_INFO);
   vn_encode_pnext(enc, NULL);
   encode_string(enc, app->pApplicationName);
   vn_encode_uint32_t(enc, app->applicationVersion);
   encode_string(enc, app->pEngineName);
   vn_encode_uint32_t(enc, app->engineVersion);
   vn_encode_uint32_t(enc, app->apiVersion);
}

static void
encode_device_info(struct vn_cs_encoder *enc, const VkDeviceCreateInfo *info)
{
   vn_encode_uint32_t(enc, VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
   vn_encode_pnext(enc, info->pNext);
   vn_encode_uint32_t(enc, info->flags);
   vn_encode_uint32_t(enc, info->queueCreateInfoCount);
   vn_encode_array_size(enc, info->pQueueCreateInfos ? info->queueCreateInfoCount : 0);
   for (uint32_t i = 0; info->pQueueCreateInfos && i < info->queueCreateInfoCount; i++) {
      const VkDeviceQueueCreateInfo *q = &info->pQueueCreateInfos[i];
      vn_encode_uint32_t(enc, VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
      vn_encode_pnext(enc, q->pNext);
      vn_encode_uint32_t(enc, q->flags);
      vn_encode_uint32_t(enc, q->queueFamilyIndex);
      vn_encode_uint32_t(enc, q->queueCount);
      vn_encode_array_size(enc, q->pQueuePriorities ? q->queueCount : 0);
      if (q->pQueuePriorities)
         vn_encode_bytes(enc, q->pQueuePriorities, (size_t)q->queueCount * sizeof(float));
   }
   vn_encode_uint32_t(enc, info->enabledLayerCount);
   encode_string_array(enc, info->ppEnabledLayerNames, info->enabledLayerCount);
   vn_encode_uint32_t(enc, info->enabledExtensionCount);
   encode_string_array(enc, info->ppEnabledExtensionNames, info->enabledExtensionCount);
   vn_encode_simple_pointer(enc, info->pEnabledFeatures);
   if (info->pEnabledFeatures)
      vn_encode_VkPhysicalDeviceFeatures(enc, info->pEnabledFeatures);
}

/* Encodes twice: once without space to learn the size, then for real. */
typedef void (*encode_fn)(struct vn_cs_encoder *enc, const void *info);

static bool
make_key(encode_fn fn, const void *info, struct pvk_key *out)
{
   *out = (struct pvk_key){ 0 };
   size_t cap = 4096;
   for (int attempt = 0; attempt < 8; attempt++, cap *= 4) {
      uint8_t *buf = malloc(cap);
      if (!buf)
         return false;
      struct vn_cs_encoder enc;
      vn_cs_encoder_init(&enc, buf, cap);
      fn(&enc, info);
      if (!enc.fatal) {
         out->bytes = buf;
         out->size = (size_t)(enc.cur - buf);
         return true;
      }
      free(buf);
   }
   return false; /* over 64 MiB: not a create info worth keeping */
}

static void
encode_app_info_fn(struct vn_cs_encoder *enc, const void *info)
{
   encode_app_info(enc, info);
}

static void
encode_device_info_fn(struct vn_cs_encoder *enc, const void *info)
{
   encode_device_info(enc, info);
}

bool
pvk_key_app_info(const VkApplicationInfo *app, struct pvk_key *out)
{
   return make_key(encode_app_info_fn, app, out);
}

bool
pvk_key_device_info(const VkDeviceCreateInfo *info, struct pvk_key *out)
{
   *out = (struct pvk_key){ 0 };
   if (!chain_encodable(info->pNext))
      return false;
   for (uint32_t i = 0; info->pQueueCreateInfos && i < info->queueCreateInfoCount; i++) {
      if (!chain_encodable(info->pQueueCreateInfos[i].pNext))
         return false;
   }
   return make_key(encode_device_info_fn, info, out);
}

void
pvk_key_fini(struct pvk_key *key)
{
   free(key->bytes);
   *key = (struct pvk_key){ 0 };
}

bool
pvk_key_equal(const struct pvk_key *a, const struct pvk_key *b)
{
   return a->bytes && b->bytes && a->size == b->size && !memcmp(a->bytes, b->bytes, a->size);
}

/* --- recipes --- */

static int
physical_device_index(struct pvk_instance *inst, VkPhysicalDevice phys, uint32_t *index)
{
   uint32_t count = 0;
   if (inst->dispatch.vkEnumeratePhysicalDevices(inst->handle, &count, NULL) != VK_SUCCESS)
      return -ENODEV;
   VkPhysicalDevice *all = calloc(count ? count : 1, sizeof(*all));
   if (!all)
      return -ENOMEM;
   int ret = -ENOENT;
   if (inst->dispatch.vkEnumeratePhysicalDevices(inst->handle, &count, all) >= 0) {
      for (uint32_t i = 0; i < count && ret; i++) {
         if (all[i] == phys) {
            *index = i;
            ret = 0;
         }
      }
   }
   free(all);
   return ret;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
   memcpy(p, &v, sizeof(v));
}

static uint32_t
get_u32(const uint8_t *p)
{
   uint32_t v;
   memcpy(&v, p, sizeof(v));
   return v;
}

bool
pvk_recipe_build(struct pvk_instance *inst, VkPhysicalDevice phys, const struct pvk_key *device,
                 struct pvk_key *out)
{
   *out = (struct pvk_key){ 0 };
   uint32_t index;
   const size_t size = RECIPE_HEADER + inst->app_key.size + device->size;
   if (!inst->app_key.bytes || size > PV_PREMADE_MAX_RECIPE ||
       physical_device_index(inst, phys, &index) < 0)
      return false;
   uint8_t *b = malloc(size);
   if (!b)
      return false;
   put_u32(b, RECIPE_MAGIC);
   put_u32(b + 4, index);
   put_u32(b + 8, (uint32_t)inst->app_key.size);
   put_u32(b + 12, (uint32_t)device->size);
   memcpy(b + RECIPE_HEADER, inst->app_key.bytes, inst->app_key.size);
   memcpy(b + RECIPE_HEADER + inst->app_key.size, device->bytes, device->size);
   *out = (struct pvk_key){ .bytes = b, .size = size };
   return true;
}

/* Decodes one key like guest input (the recipe is a guest's data) and
 * checks that it is canonical: its re-encoding is the key itself, so that
 * what is made is exactly what the key says. */
static bool
decode_app_info(struct vn_cs_decoder *dec, const uint8_t *b, size_t n, VkApplicationInfo *app)
{
   dec->cur = b;
   dec->end = b + n;
   vn_decode_VkApplicationInfo(dec, app);
   if (dec->fatal || dec->cur != dec->end)
      return false;
   struct pvk_key again;
   const struct pvk_key key = { .bytes = (uint8_t *)b, .size = n };
   if (!pvk_key_app_info(app, &again))
      return false;
   const bool same = pvk_key_equal(&again, &key);
   pvk_key_fini(&again);
   return same;
}

static bool
decode_device_info(struct vn_cs_decoder *dec, const uint8_t *b, size_t n, VkDeviceCreateInfo *info,
                   struct pvk_key *key)
{
   dec->cur = b;
   dec->end = b + n;
   vn_decode_VkDeviceCreateInfo(dec, info);
   if (dec->fatal || dec->cur != dec->end || !pvk_key_device_info(info, key))
      return false;
   const struct pvk_key given = { .bytes = (uint8_t *)b, .size = n };
   if (pvk_key_equal(key, &given))
      return true;
   pvk_key_fini(key);
   return false;
}

static VkResult
make_objects(struct pv_premade *pm, const VkApplicationInfo *app, uint32_t index,
             const VkDeviceCreateInfo *info)
{
   /* checked like a guest's: the same clamp must leave it as it is */
   VkApplicationInfo host;
   if (!pvk_host_app_info(app, &host) || host.apiVersion != app->apiVersion)
      return VK_ERROR_INCOMPATIBLE_DRIVER;
   VkResult res = pvk_instance_create_host(app, &pm->inst);
   if (res != VK_SUCCESS)
      return res;
   pm->inst->gpu_mask = pm->policy.gpu_mask;
   uint32_t count = 0;
   res = pm->inst->dispatch.vkEnumeratePhysicalDevices(pm->inst->handle, &count, NULL);
   if (res != VK_SUCCESS || index >= count)
      return res != VK_SUCCESS ? res : VK_ERROR_INITIALIZATION_FAILED;
   VkPhysicalDevice *all = calloc(count, sizeof(*all));
   if (!all)
      return VK_ERROR_OUT_OF_HOST_MEMORY;
   res = pm->inst->dispatch.vkEnumeratePhysicalDevices(pm->inst->handle, &count, all);
   if (res >= 0 && index < count) {
      pm->phys = all[index];
      pm->pd = pvk_physical_device_create(pm->inst, pm->phys, index);
   }
   free(all);
   if (!pm->pd)
      return res < 0 ? res : VK_ERROR_OUT_OF_HOST_MEMORY;
   return pvk_device_create_host(NULL, pm->inst, pm->pd, info, pm->policy.queue_priority, &pm->dev);
}

int
pv_premade_create(const void *recipe, size_t size, const struct pv_device_policy *policy,
                  struct pv_premade **out)
{
   *out = NULL;
   const struct pv_device_policy none = { 0 };
   if (!policy)
      policy = &none;
   if (!pv_queue_priority_known(policy->queue_priority))
      return -EINVAL;
   const uint8_t *b = recipe;
   if (!b || size < RECIPE_HEADER || size > PV_PREMADE_MAX_RECIPE || get_u32(b) != RECIPE_MAGIC) {
      pv_warn("venus", "pre-made device: recipe rejected: bad header (%zu bytes)", size);
      return -EINVAL;
   }
   const uint32_t index = get_u32(b + 4);
   if (!pv_device_policy_shows_gpu(policy->gpu_mask, index)) {
      pv_warn("venus", "pre-made device: recipe rejected: host device %u is hidden by the policy",
              index);
      return -EINVAL;
   }
   const size_t app_size = get_u32(b + 8), dev_size = get_u32(b + 12);
   if (app_size > size - RECIPE_HEADER || dev_size != size - RECIPE_HEADER - app_size ||
       app_size % 4 || dev_size % 4) {
      pv_warn("venus", "pre-made device: recipe rejected: key sizes %zu + %zu in %zu bytes",
              app_size, dev_size, size);
      return -EINVAL;
   }
   struct pv_premade *pm = calloc(1, sizeof(*pm));
   if (pm)
      pm->policy = *policy;
   struct vn_object_table *objects = vn_object_table_create(1); /* ids: none */
   struct vn_arena arena;
   vn_arena_init(&arena, RECIPE_ARENA_LIMIT);
   int ret = -EINVAL;
   if (pm && objects) {
      struct vn_cs_decoder dec;
      vn_cs_decoder_init(&dec, NULL, 0, &arena, objects);
      VkApplicationInfo app;
      VkDeviceCreateInfo info;
      if (!decode_app_info(&dec, b + RECIPE_HEADER, app_size, &app) ||
          !decode_device_info(&dec, b + RECIPE_HEADER + app_size, dev_size, &info, &pm->dev_key)) {
         pv_warn("venus", "pre-made device: recipe rejected: %s",
                 dec.error ? dec.error : "not a canonical create info");
      } else {
         const VkResult res = make_objects(pm, &app, index, &info);
         if (res == VK_SUCCESS)
            ret = 0;
         else {
            pv_warn("venus", "pre-made device: not made: VkResult %d", (int)res);
            ret = -ENODEV;
         }
      }
   } else {
      ret = -ENOMEM;
   }
   vn_arena_fini(&arena);
   if (objects)
      vn_object_table_destroy(objects);
   if (ret < 0) {
      pv_premade_destroy(pm);
      return ret;
   }
   pv_debug("venus", "pre-made instance and device ready");
   *out = pm;
   return 0;
}

void
pv_premade_destroy(struct pv_premade *pm)
{
   if (!pm)
      return;
   pvk_device_destroy_host(pm->dev);
   pvk_physical_device_free(pm->pd);
   pvk_instance_destroy_host(pm->inst);
   pvk_key_fini(&pm->dev_key);
   free(pm);
}

struct pvk_physical_device *
pvk_premade_take_physical_device(struct pvk_instance *inst, VkPhysicalDevice phys)
{
   struct pv_premade *pm = inst->premade;
   if (!pm || !pm->pd || pm->phys != phys)
      return NULL;
   struct pvk_physical_device *pd = pm->pd;
   pm->pd = NULL; /* the device made ahead keeps pointing at it until claimed */
   return pd;
}

struct pvk_device *
pvk_premade_claim_device(struct pvk_instance *inst, struct pvk_physical_device *pd,
                         const struct pvk_key *device)
{
   struct pv_premade *pm = inst->premade;
   if (!pm)
      return NULL;
   inst->premade = NULL;
   struct pvk_device *dev = NULL;
   if (device && pm->dev && pm->phys == pd->handle && pvk_key_equal(&pm->dev_key, device)) {
      dev = pm->dev;
      pm->dev = NULL;
      dev->physical_device = pd;
   } else {
      /* costs a device destroy here, on this guest's time */
      pv_info("venus", "pre-made device: the guest asked for another one: destroyed");
   }
   pv_premade_destroy(pm);
   return dev;
}
