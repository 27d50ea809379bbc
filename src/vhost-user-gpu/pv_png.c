#include "pv_png.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int
write_file(FILE *f, uint32_t w, uint32_t h, const uint32_t *pixels, uint8_t *row)
{
   png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
   png_infop info = png ? png_create_info_struct(png) : NULL;
   if (!info) {
      png_destroy_write_struct(&png, NULL);
      return -ENOMEM;
   }
   if (setjmp(png_jmpbuf(png))) {
      png_destroy_write_struct(&png, &info);
      return -EIO;
   }
   png_init_io(png, f);
   png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
   png_write_info(png, info);
   for (uint32_t y = 0; y < h; y++) {
      const uint32_t *src = pixels + (size_t)y * w;
      for (uint32_t x = 0; x < w; x++) {
         row[3 * x] = (uint8_t)(src[x] >> 16);
         row[3 * x + 1] = (uint8_t)(src[x] >> 8);
         row[3 * x + 2] = (uint8_t)src[x];
      }
      png_write_row(png, row);
   }
   png_write_end(png, NULL);
   png_destroy_write_struct(&png, &info);
   return 0;
}

int
pv_png_write_xrgb(const char *path, uint32_t w, uint32_t h, const uint32_t *pixels)
{
   if (w == 0 || h == 0)
      return -EINVAL;
   char tmp[4096];
   if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
      return -ENAMETOOLONG;
   uint8_t *row = malloc((size_t)w * 3);
   FILE *f = row ? fopen(tmp, "wb") : NULL;
   if (!f) {
      free(row);
      return -errno;
   }
   int err = write_file(f, w, h, pixels, row);
   free(row);
   if (fclose(f) != 0 && err == 0)
      err = -EIO;
   if (err == 0 && rename(tmp, path) != 0)
      err = -errno;
   if (err)
      unlink(tmp);
   return err;
}
