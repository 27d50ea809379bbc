/*
 * Runs the Venus decoder fuzz target (fuzz_venus_decoder.c) without
 * libFuzzer: on the files given as arguments, or else on deterministic
 * pseudo-random command streams (command types in and past the known range,
 * flags, then small or wild dwords, object ids the target's table knows), so
 * CI exercises the decoder and the dispatcher with any compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
   rng_state ^= rng_state << 13;
   rng_state ^= rng_state >> 7;
   rng_state ^= rng_state << 17;
   return (uint32_t)rng_state;
}

/* Counts, sizes, sTypes' low values, ids of the target's object table
 * (1..112), pointers' "present" markers and wild values. */
static uint32_t
field(void)
{
   static const uint32_t pick[] = { 0,      1,           2,           3,           4,
                                    8,      16,          64,          112,         113,
                                    0x1000, 0xffffffffu, 0x80000000u, 1000001000u, 1000150000u };
   uint32_t r = rnd();
   if (r & 1)
      return pick[(r >> 1) % (sizeof(pick) / sizeof(pick[0]))];
   return (r & 2) ? 1 + (r >> 2) % 112 : rnd();
}

/* Commands of 2..41 dwords: type (some past the last known one), flags. */
static size_t
make_input(uint32_t *buf, size_t cap)
{
   size_t n = 0;
   unsigned cmds = 1 + rnd() % 16;
   for (unsigned c = 0; c < cmds; c++) {
      unsigned nw = 2 + rnd() % 40;
      if (n + nw > cap)
         break;
      buf[n] = rnd() % 320;
      buf[n + 1] = rnd() % 8 == 0 ? rnd() : 0;
      for (unsigned i = 2; i < nw; i++)
         buf[n + i] = field();
      n += nw;
   }
   return n;
}

int
main(int argc, char **argv)
{
   if (argc > 1) {
      static uint8_t file_buf[1 << 20];
      for (int i = 1; i < argc; i++) {
         FILE *f = fopen(argv[i], "rb");
         if (!f) {
            fprintf(stderr, "venus fuzz smoke: cannot open %s\n", argv[i]);
            return 1;
         }
         size_t n = fread(file_buf, 1, sizeof(file_buf), f);
         fclose(f);
         LLVMFuzzerTestOneInput(file_buf, n);
      }
      return 0;
   }
   static uint32_t buf[1024];
   for (int i = 0; i < 3000; i++) {
      size_t n = make_input(buf, sizeof(buf) / sizeof(buf[0]));
      /* now and then a stream cut inside a dword */
      size_t bytes = n * 4 - (rnd() % 8 == 0 ? rnd() % 4 : 0);
      LLVMFuzzerTestOneInput((const uint8_t *)buf, bytes);
   }
   printf("venus fuzz smoke: 3000 inputs ok\n");
   return 0;
}
