${header}
/* The recorder thread's side of vn_record.h: one call per record. */
#include "venus/generated/vn_record.h"

% for name, members in records:
void
vn_replay_${name}(PFN_vkVoidFunction fn, const void *args)
{
   const struct vn_record_${name} *r = args;
   ((PFN_${name})fn)(${', '.join('r->' + p.name for p, _, _, _ in members)});
}

% endfor
