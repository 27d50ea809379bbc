/*
 * SPIR-V validation micro-benchmark (not a test): what the firewall's
 * SPIR-V rule (src/venus/pvk_validate_spirv.c) costs per module, with
 * SPIRV-Tools' validator as the renderer calls it (a context and options
 * made per module, Vulkan 1.3 environment), and the validation alone with a
 * context made once. Medians over the rounds, in µs, per file:
 *
 *   build/bench/micro/bench_spirv_validate [-r rounds] FILE.spv...
 */
#include <spirv-tools/libspirv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_us(void)
{
   struct timespec ts;
   clock_gettime(CLOCK_MONOTONIC, &ts);
   return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
   const double x = *(const double *)a, y = *(const double *)b;
   return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
   qsort(v, n, sizeof(*v), cmp_double);
   return v[n / 2];
}

static uint32_t *
read_words(const char *path, size_t *words)
{
   FILE *f = fopen(path, "rb");
   if (!f)
      return NULL;
   fseek(f, 0, SEEK_END);
   const long size = ftell(f);
   fseek(f, 0, SEEK_SET);
   uint32_t *code = size > 0 && size % 4 == 0 ? malloc(size) : NULL;
   if (code && fread(code, 1, size, f) != (size_t)size) {
      free(code);
      code = NULL;
   }
   fclose(f);
   *words = size / 4;
   return code;
}

/* One module as the renderer validates it; false if invalid. */
static bool
validate_fresh(const uint32_t *code, size_t words)
{
   spv_context ctx = spvContextCreate(SPV_ENV_VULKAN_1_3);
   spv_validator_options opts = spvValidatorOptionsCreate();
   spv_const_binary_t bin = { code, words };
   const bool ok = spvValidateWithOptions(ctx, opts, &bin, NULL) == SPV_SUCCESS;
   spvValidatorOptionsDestroy(opts);
   spvContextDestroy(ctx);
   return ok;
}

int
main(int argc, char **argv)
{
   int rounds = 200, first = 1;
   if (argc > 2 && !strcmp(argv[1], "-r")) {
      rounds = atoi(argv[2]);
      first = 3;
   }
   if (rounds < 1 || first >= argc) {
      fprintf(stderr, "usage: %s [-r rounds] FILE.spv...\n", argv[0]);
      return 2;
   }
   double *t = calloc(rounds, sizeof(*t));
   spv_context shared = spvContextCreate(SPV_ENV_VULKAN_1_3);
   if (!t || !shared)
      return 1;
   printf("%-34s %7s %10s %12s\n", "module", "bytes", "fresh_us", "validate_us");
   for (int a = first; a < argc; a++) {
      size_t words;
      uint32_t *code = read_words(argv[a], &words);
      if (!code || !validate_fresh(code, words)) {
         fprintf(stderr, "%s: unreadable or invalid\n", argv[a]);
         return 1;
      }
      for (int i = 0; i < rounds; i++) {
         const double t0 = now_us();
         validate_fresh(code, words);
         t[i] = now_us() - t0;
      }
      const double fresh = median(t, rounds);
      spv_const_binary_t bin = { code, words };
      for (int i = 0; i < rounds; i++) {
         const double t0 = now_us();
         spvValidate(shared, &bin, NULL);
         t[i] = now_us() - t0;
      }
      const char *name = strrchr(argv[a], '/');
      printf("%-34s %7zu %10.1f %12.1f\n", name ? name + 1 : argv[a], words * 4, fresh,
             median(t, rounds));
      free(code);
   }
   spvContextDestroy(shared);
   free(t);
   return 0;
}
