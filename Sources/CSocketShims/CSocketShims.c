#define _GNU_SOURCE
#include "CSocketShims.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

int csocket_sendmmsg(int fd, const void *const *bases, const uint32_t *lengths, unsigned count,
                     const struct sockaddr *address, socklen_t address_length, int flags) {
    if (count > CSOCKET_BATCH_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct mmsghdr messages[CSOCKET_BATCH_MAX];
    struct iovec vectors[CSOCKET_BATCH_MAX];
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (void *)bases[i];
        vectors[i].iov_len = lengths[i];
        memset(&messages[i], 0, sizeof(messages[i]));
        messages[i].msg_hdr.msg_name = (void *)address;
        messages[i].msg_hdr.msg_namelen = address ? address_length : 0;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, flags);
}

int csocket_recvmmsg(int fd, void *const *bases, const uint32_t *capacities, uint32_t *lengths,
                     int *message_flags, struct sockaddr_storage *addresses, unsigned count, int flags) {
    if (count > CSOCKET_BATCH_MAX) {
        errno = EINVAL;
        return -1;
    }
    struct mmsghdr messages[CSOCKET_BATCH_MAX];
    struct iovec vectors[CSOCKET_BATCH_MAX];
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = bases[i];
        vectors[i].iov_len = capacities[i];
        memset(&messages[i], 0, sizeof(messages[i]));
        if (addresses) {
            messages[i].msg_hdr.msg_name = &addresses[i];
            messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
        }
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int received = recvmmsg(fd, messages, count, flags, NULL);
    for (int i = 0; i < received; i++) {
        lengths[i] = messages[i].msg_len;
        if (message_flags) message_flags[i] = messages[i].msg_hdr.msg_flags;
    }
    return received;
}

int csocket_msg_waitforone(void) { return MSG_WAITFORONE; }
