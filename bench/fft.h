/* FFTs through VkFFT's Vulkan backend (third-party code, issue 12) on a
 * vkb device: `batch` 1D complex-to-complex transforms of `n` points in a
 * device-local buffer, one command buffer that runs the forward and then
 * the normalized inverse transform `round_trips` times (so each run leaves
 * the data as it was, up to rounding). Compiled only where VkFFT builds and links
 * (PVBENCH_VKFFT_BUILDS, bench/meson.build). */
#ifndef PVBENCH_FFT_H
#define PVBENCH_FFT_H

#include "vkutil.h"

#include <stddef.h>
#include <stdint.h>

struct pb_fft;

/* Plans the transforms, uploads the input and records the command buffer.
 * 0, or -1 with why (a VkFFT or Vulkan error). */
int pb_fft_create(struct vkb *b, uint32_t n, uint32_t batch, uint32_t round_trips,
                  struct pb_fft **out, char *why, size_t len);

/* The recorded forward + inverse command buffer. */
VkCommandBuffer pb_fft_cmd(const struct pb_fft *f);

/* Reads the data back and compares it with the input: the largest absolute
 * difference, or a negative value when the read-back failed. */
double pb_fft_max_error(struct pb_fft *f);

void pb_fft_destroy(struct pb_fft *f);

#endif
