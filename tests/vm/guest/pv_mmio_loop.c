/*
 * Guest program of tests/vm/qemu_shmem_test.py: reads one 32-bit MMIO
 * register over and over for a while and counts the reads that differ from
 * the first one.
 *
 *   pv_mmio_loop PHYS_ADDR SECONDS
 *
 * The register must be constant (the test reads the local APIC's version
 * register). Sixteen reads follow one another with no branch between them,
 * so under TCG they share a translation block: a memory map change that
 * lands while one of them waits for the big lock is followed by more reads
 * through the same TLB entry before the CPU can flush it, which is what
 * vmm/qemu/0007 is about. Prints one line "PV_MMIO reads N bad N want X
 * first_bad X"; exits 1 when a read differed, 2 on a usage or system error.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define READS_PER_ROUND 16

static double
elapsed(const struct timespec *t0)
{
   struct timespec t;
   clock_gettime(CLOCK_MONOTONIC, &t);
   return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

int
main(int argc, char **argv)
{
   if (argc != 3) {
      fprintf(stderr, "usage: %s PHYS_ADDR SECONDS\n", argv[0]);
      return 2;
   }
   const uint64_t phys = strtoull(argv[1], NULL, 0);
   const double seconds = atof(argv[2]);
   const long page = sysconf(_SC_PAGESIZE);
   int fd = open("/dev/mem", O_RDONLY | O_SYNC);
   if (fd < 0) {
      perror("open /dev/mem");
      return 2;
   }
   void *map =
      mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, (off_t)(phys & ~(uint64_t)(page - 1)));
   if (map == MAP_FAILED) {
      perror("mmap /dev/mem");
      return 2;
   }
   volatile const uint32_t *reg =
      (volatile const uint32_t *)((const char *)map + (phys & (uint64_t)(page - 1)));
   const uint32_t want = *reg;
   uint32_t first_bad = 0;
   unsigned long reads = 0, bad = 0;
   struct timespec t0;
   clock_gettime(CLOCK_MONOTONIC, &t0);
   do {
      for (unsigned i = 0; i < 4096 / READS_PER_ROUND; i++) {
         uint32_t v[READS_PER_ROUND];
         /* one straight line of loads: no loop the compiler could keep */
#define R(n) v[n] = *reg
         R(0);
         R(1);
         R(2);
         R(3);
         R(4);
         R(5);
         R(6);
         R(7);
         R(8);
         R(9);
         R(10);
         R(11);
         R(12);
         R(13);
         R(14);
         R(15);
#undef R
         for (unsigned j = 0; j < READS_PER_ROUND; j++) {
            if (v[j] != want) {
               if (!bad)
                  first_bad = v[j];
               bad++;
            }
         }
         reads += READS_PER_ROUND;
      }
   } while (elapsed(&t0) < seconds);
   printf("PV_MMIO reads %lu bad %lu want 0x%08x first_bad 0x%08x\n", reads, bad, want, first_bad);
   munmap(map, (size_t)page);
   close(fd);
   return bad ? 1 : 0;
}
