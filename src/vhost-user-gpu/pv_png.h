/* Writes frames as PNG files (libpng). */
#ifndef PV_VHOST_USER_GPU_PNG_H
#define PV_VHOST_USER_GPU_PNG_H

#include <stdint.h>

/* Writes a w x h x8r8g8b8 frame as an 8-bit RGB PNG, atomically (a
 * temporary file renamed over `path`). Returns 0 or a negative errno. */
int pv_png_write_xrgb(const char *path, uint32_t w, uint32_t h, const uint32_t *pixels);

#endif
