/*
 * Test hooks of the renderer (src/venus/vn_renderer.c); not part of the
 * public API. Production code never sets them.
 */
#ifndef VN_RENDERER_TEST_H
#define VN_RENDERER_TEST_H

#include <stdint.h>

struct pv_renderer;

/* Called by pv_context_destroy without the renderer lock, after the context
 * became unreachable and before it is torn down: a test makes teardown slow
 * with it and checks that other contexts' calls still go through. */
typedef void (*vn_teardown_hook_fn)(void *data, uint32_t ctx_id);

void vn_renderer_set_teardown_hook(struct pv_renderer *r, vn_teardown_hook_fn hook, void *data);

#endif
