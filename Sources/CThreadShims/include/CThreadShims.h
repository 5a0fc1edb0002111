#ifndef SKYGATE_CTHREADSHIMS_H
#define SKYGATE_CTHREADSHIMS_H

/// Names the calling thread (at most 15 bytes are kept), so `top -H`, `perf` and /proc show which
/// stage it is. glibc declares pthread_setname_np only under _GNU_SOURCE, which Swift's Glibc
/// module does not define. Returns 0 or an errno value.
int skygate_set_current_thread_name(const char *name);

#endif
