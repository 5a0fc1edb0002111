// Page-touch tracer for Scripts/trace-code-pages.sh (docs/performance.md, stop 28): loaded with
// LD_PRELOAD, it makes the r-x segment of the executable named by CODE_TRACE_BINARY inaccessible
// before main runs. Each page's first touch then faults once; the handler writes the page's file
// offset (hex, one a line) to CODE_TRACE_OUT and gives the page back its access. Every page
// becomes a mapping of its own, so only touched pages are resident while it runs.
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uintptr_t low, high, fileOffset;
static int out = -1;

static void touched(int signal, siginfo_t *info, void *context) {
    (void)context;
    uintptr_t address = (uintptr_t)info->si_addr;
    if (address < low || address >= high) {
        // Not ours: the default action, as if we were not here.
        struct sigaction fallback = {0};
        fallback.sa_handler = SIG_DFL;
        sigaction(signal, &fallback, 0);
        return;
    }
    uintptr_t page = address & ~(uintptr_t)4095;
    mprotect((void *)page, 4096, PROT_READ | PROT_EXEC);
    char digits[2 * sizeof(uintptr_t) + 1];
    int length = 0;
    uintptr_t value = page - low + fileOffset;
    char reversed[2 * sizeof(uintptr_t)];
    int count = 0;
    do { reversed[count++] = "0123456789abcdef"[value & 15]; value >>= 4; } while (value);
    while (count) digits[length++] = reversed[--count];
    digits[length++] = '\n';
    (void)!write(out, digits, length);
}

__attribute__((constructor)) static void start(void) {
    const char *path = getenv("CODE_TRACE_OUT"), *name = getenv("CODE_TRACE_BINARY");
    if (!path || !name) return;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps) return;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long from, to, offset;
        char permissions[8], file[256] = "";
        if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %255s", &from, &to, permissions, &offset, file) == 5
            && strcmp(strrchr(file, '/') ? strrchr(file, '/') + 1 : file, name) == 0 && permissions[2] == 'x') {
            low = from; high = to; fileOffset = offset;
        }
    }
    fclose(maps);
    if (!low || (out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) return;
    struct sigaction action = {0};
    action.sa_sigaction = touched;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, 0);
    mprotect((void *)low, high - low, PROT_NONE);
}
