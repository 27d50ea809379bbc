#include "common/dlpin.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct lib_names {
   char **names;
   size_t count, cap;
   bool failed;
};

static int
read_adds(struct dl_phdr_info *info, size_t size, void *data)
{
   (void)size;
   *(unsigned long long *)data = info->dlpi_adds;
   return 1; /* the first object is enough */
}

/* dl_iterate_phdr callback: copies the names, opens nothing. */
static int
collect_name(struct dl_phdr_info *info, size_t size, void *data)
{
   (void)size;
   struct lib_names *l = data;
   if (!info->dlpi_name || !info->dlpi_name[0])
      return 0; /* the executable, the vDSO */
   if (l->count == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 64;
      char **names = realloc(l->names, cap * sizeof(*names));
      if (!names) {
         l->failed = true;
         return 1;
      }
      l->names = names;
      l->cap = cap;
   }
   l->names[l->count] = strdup(info->dlpi_name);
   if (!l->names[l->count]) {
      l->failed = true;
      return 1;
   }
   l->count++;
   return 0;
}

int
pv_pin_loaded_libraries(unsigned long long *adds_seen)
{
   unsigned long long adds = 0;
   dl_iterate_phdr(read_adds, &adds);
   if (adds_seen && adds == *adds_seen)
      return 0;

   struct lib_names l = { 0 };
   dl_iterate_phdr(collect_name, &l);
   for (size_t i = 0; i < l.count; i++) {
      /* NOLOAD: only what is loaded; a library unloaded meanwhile stays so */
      (void)dlopen(l.names[i], RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
      free(l.names[i]);
   }
   free(l.names);
   if (l.failed)
      return -ENOMEM;
   if (adds_seen)
      *adds_seen = adds;
   return 0;
}
