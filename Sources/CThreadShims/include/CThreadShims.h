#ifndef SKYGATE_CTHREADSHIMS_H
#define SKYGATE_CTHREADSHIMS_H

/// Names the calling thread (at most 15 bytes are kept), so `top -H`, `perf` and /proc show which
/// stage it is. glibc declares pthread_setname_np only under _GNU_SOURCE, which Swift's Glibc
/// module does not define. Returns 0 or an errno value.
int skygate_set_current_thread_name(const char *name);

/// Asks the kernel to reclaim the pages of this process's private read-only file mappings (the
/// program's and the libraries' code and constants) with madvise(MADV_PAGEOUT), Linux 5.4 and
/// later. The kernel skips pages another process maps too; whatever runs again faults back in.
/// Returns the bytes of the mappings advised, or -errno when /proc/self/maps cannot be read or
/// the kernel refuses the advice (EINVAL before 5.4).
long long skygate_page_out_file_mappings(void);

#endif
