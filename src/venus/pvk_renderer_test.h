/*
 * Test hooks of the renderer (src/venus/pvk_renderer.c); not part of the
 * public API. Production code never sets them.
 */
#ifndef PVK_RENDERER_TEST_H
#define PVK_RENDERER_TEST_H

#include <stdint.h>

struct pv_renderer;

/* Called by pv_context_destroy without the renderer lock, after the context
 * became unreachable and before it is torn down: a test makes teardown slow
 * with it and checks that other contexts' calls still go through. */
typedef void (*pvk_teardown_hook_fn)(void *data, uint32_t ctx_id);

void pvk_renderer_set_teardown_hook(struct pv_renderer *r, pvk_teardown_hook_fn hook, void *data);

/* Instances and devices the renderer's contexts adopted from its
 * pv_premade so far. */
void pvk_renderer_premade_stats(struct pv_renderer *r, uint32_t *instances, uint32_t *devices);

/* Guest-destroyed devices and instances whose host destroy was left to
 * the context's teardown, and of them those destroyed so far. */
void pvk_renderer_destroy_stats(struct pv_renderer *r, uint32_t *deferred, uint32_t *finished);

#endif
