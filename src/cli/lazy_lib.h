/* An optional shared library loaded on first use (mhd_lazy.c, yaml_lazy.c): commands that never need it never map it. */
#ifndef TD_CLI_LAZY_LIB_H
#define TD_CLI_LAZY_LIB_H

#include <dlfcn.h>
#include <stddef.h>

/* Store dlsym(h, name) into the function pointer ptr, or return from the
 * calling loader when the symbol is missing. dlsym returns void *; POSIX
 * guarantees that it converts to a function pointer. */
#define TD_LAZY_RESOLVE(h, ptr, name)                                             \
	do {                                                                      \
		void *sym_ = dlsym(h, name);                                      \
		if (!sym_)                                                        \
			return;                                                   \
		*(void **)(&(ptr)) = sym_;                                        \
	} while (0)

/* dlopen soname, else the development name (a build without the runtime
 * package's soname), local and resolved now; NULL with dlerror() set. */
static inline void *td_lazy_open(const char *soname, const char *devname)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h && devname)
		h = dlopen(devname, RTLD_NOW | RTLD_LOCAL);
	return h;
}

#endif
