/* helper_paths.h - where the helper executables are. */
#ifndef ADC_HELPER_PATHS_H
#define ADC_HELPER_PATHS_H

#include <stddef.h>

#ifndef ADC_LIBEXECDIR
#define ADC_LIBEXECDIR "/usr/lib/arvados-dispatch-cloud"
#endif

/* flag if given; else <dir of this executable>/<name> if executable; else
 * ADC_LIBEXECDIR/<name>. 0, or -ENOENT with a log line naming what was tried. */
int helper_path(const char *flag, const char *argv0, const char *name, char *out, size_t len);

#endif
