/*
 * Instances and devices made ahead of the guest (pv_premade, pearvisor.h).
 *
 * A recipe is what one guest's vkCreateInstance and vkCreateDevice asked
 * for, as keys: the venus wire encoding of the host application info and
 * of the guest's VkDeviceCreateInfo (pNext chains, queue infos,
 * extensions, features; no object ids). The wire encoding is canonical:
 * two create infos are identical exactly when their keys are. A process
 * given a recipe decodes it like guest input, creates the instance and
 * device, and its guest adopts them only when its own create infos have
 * the same keys on the same physical device. The pre-made objects are
 * fresh: nothing of the guest that the recipe came from reaches them but
 * its create infos.
 */
#ifndef PV_VENUS_PVK_PREMADE_H
#define PV_VENUS_PVK_PREMADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "pearvisor/pearvisor.h"

struct pv_premade;
struct pv_renderer;
struct pvk_device;
struct pvk_instance;
struct pvk_physical_device;

/* A canonical encoding of a create info (malloc'd). */
struct pvk_key {
   uint8_t *bytes;
   size_t size;
};

struct pv_premade {
   struct pvk_instance *inst;      /* until a guest's vkCreateInstance takes it */
   VkPhysicalDevice phys;          /* what dev was made on */
   struct pvk_physical_device *pd; /* its state, until the guest enumerates it */
   struct pvk_device *dev;         /* until claimed; NULL: none */
   struct pvk_key dev_key;         /* what dev was made from */
   struct pv_device_policy policy; /* what inst and dev were made under */
};

static inline bool
pvk_device_policy_equal(const struct pv_device_policy *a, const struct pv_device_policy *b)
{
   return a->gpu_mask == b->gpu_mask && a->queue_priority == b->queue_priority;
}

bool pvk_key_equal(const struct pvk_key *a, const struct pvk_key *b);

/* The recipe's bytes (pv_renderer_callbacks.device_recipe): inst's
 * application info, phys (one of inst's physical devices), the device's
 * key. False: no memory, or phys is not inst's. */
bool pvk_recipe_build(struct pvk_instance *inst, VkPhysicalDevice phys,
                      const struct pvk_key *device, struct pvk_key *out);

/* False when it cannot be encoded (then nothing is made ahead nor adopted
 * for it): no memory, or a device pNext element the encoder does not know
 * or that names objects (VkDeviceGroupDeviceCreateInfo). */
bool pvk_key_app_info(const VkApplicationInfo *app, struct pvk_key *out);
bool pvk_key_device_info(const VkDeviceCreateInfo *info, struct pvk_key *out);
void pvk_key_fini(struct pvk_key *key);

/* For vkCreateInstance: the renderer's pre-made instance when it was made
 * from the same application info (the renderer no longer holds it; a
 * device made with it comes along in inst->premade), else NULL. */
struct pvk_instance *pvk_renderer_take_premade(struct pv_renderer *r, const struct pvk_key *app);

/* For vkCreateDevice: the device made ahead on inst when it was made on pd
 * from a create info with this key (NULL key: none), else NULL. Either way
 * inst no longer holds a pre-made device (an unclaimed one is destroyed). */
struct pvk_device *pvk_premade_claim_device(struct pvk_instance *inst,
                                            struct pvk_physical_device *pd,
                                            const struct pvk_key *device);

/* Counts an adopted instance or device (pvk_renderer_premade_stats). */
void pvk_renderer_count_premade(struct pv_renderer *r, bool device);

/* For vkEnumeratePhysicalDevices: the state of `phys` queried when the
 * device was made ahead on inst, taken (NULL when there is none). */
struct pvk_physical_device *pvk_premade_take_physical_device(struct pvk_instance *inst,
                                                             VkPhysicalDevice phys);

/* After a guest's vkCreateDevice: passes the recipe (inst's application
 * info, the index of `phys` among inst's physical devices, the device key)
 * to the renderer's device_recipe callback, if any. */
void pvk_renderer_report_recipe(struct pv_renderer *r, struct pvk_instance *inst,
                                VkPhysicalDevice phys, const struct pvk_key *device);

#endif
