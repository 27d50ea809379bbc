/*
 * Keeping the shared libraries loaded so far loaded for good.
 */
#ifndef PV_COMMON_DLPIN_H
#define PV_COMMON_DLPIN_H

/* Marks every shared library loaded now RTLD_NODELETE, so that a later
 * dlclose (the Vulkan loader's, at vkDestroyInstance) leaves the host driver,
 * its layers and LLVM mapped: the next instance does not load them again,
 * and LeakSanitizer attributes what a driver keeps until exit to its library
 * (tests/sanitizers.supp) instead of to an "unknown module".
 *
 * The names are collected with dl_iterate_phdr and opened after it returned:
 * dlopen inside its callback would take the dynamic loader's locks in the
 * opposite order of a concurrent dlopen.
 *
 * `adds_seen` (may be NULL) is the caller's record of the loader's load
 * count (dlpi_adds) at its last pin: nothing is done when no library was
 * loaded since, and it is updated once every library is pinned. Thread-safe.
 * Returns 0, or -ENOMEM when the names could not be collected (then some
 * libraries may be left unpinned and *adds_seen is unchanged). */
int pv_pin_loaded_libraries(unsigned long long *adds_seen);

#endif
