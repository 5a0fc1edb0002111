#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "CThreadShims.h"

int skygate_set_current_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    return pthread_setname_np(pthread_self(), truncated);
}

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

long long skygate_page_out_file_mappings(void) {
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return -(long long)errno;
    long long advised = 0;
    int refused = 0;
    char line[512];
    int midLine = 0;  // a line longer than the buffer: the rest is skipped
    while (fgets(line, sizeof line, maps) != NULL) {
        int complete = strchr(line, '\n') != NULL;
        int skip = midLine;
        midLine = !complete;
        if (skip) continue;
        unsigned long start, end, inode;
        char perms[5];
        int pathAt = 0;
        // start-end perms offset dev inode path
        if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &start, &end, perms, &inode, &pathAt) != 4) continue;
        if (inode == 0 || pathAt == 0 || line[pathAt] != '/') continue;
        if (perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p') continue;
        if (madvise((void *)start, end - start, MADV_PAGEOUT) == 0) {
            advised += (long long)(end - start);
        } else if (refused == 0) {
            refused = errno;
        }
    }
    fclose(maps);
    return advised == 0 && refused != 0 ? -(long long)refused : advised;
}
