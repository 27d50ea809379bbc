#include "venus/pvk_budget.h"

void
pvk_memory_pool_of(VkPhysicalDeviceType device_type, uint32_t gpu_index,
                   const VkPhysicalDeviceMemoryProperties *props, uint32_t type_index,
                   bool ram_backed, struct pv_memory_pool *out)
{
   *out = (struct pv_memory_pool){ .index = PV_MEMORY_POOL_RAM };
   const uint32_t heap = props->memoryTypes[type_index].heapIndex;
   if (ram_backed || device_type != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU ||
       heap >= props->memoryHeapCount ||
       !(props->memoryHeaps[heap].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT))
      return;
   uint64_t size = 0;
   for (uint32_t i = 0; i < props->memoryHeapCount && i < VK_MAX_MEMORY_HEAPS; i++) {
      if (props->memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
         size += props->memoryHeaps[i].size;
   }
   *out = (struct pv_memory_pool){
      .index = PV_MEMORY_POOL_GPU(gpu_index),
      .heap = heap,
      .heap_size = size,
   };
}
