#ifndef CSOCKETSHIMS_H
#define CSOCKETSHIMS_H

// Batched datagram system calls for Swift. sendmmsg, recvmmsg and struct mmsghdr are declared by
// glibc only under _GNU_SOURCE, which Swift's Glibc module does not define; this header declares
// plain functions over pointer and length arrays instead, and CSocketShims.c (which defines
// _GNU_SOURCE) builds the mmsghdr arrays on its stack.

#include <stdint.h>
#include <sys/socket.h>

/// Most datagrams one call moves. The kernel caps a call at UIO_MAXIOV (1024); 256 keeps the
/// message arrays on the caller's stack small (about 20 KB) and already amortises the call.
#define CSOCKET_BATCH_MAX 256

/// Sends `count` datagrams (at most CSOCKET_BATCH_MAX) in one sendmmsg call, datagram i being
/// `lengths[i]` bytes at `bases[i]`, each to `address` (or to the connected peer when `address`
/// is NULL). Returns how many were sent (the first ones), or -1 with errno set.
int csocket_sendmmsg(int fd, const void *const *bases, const uint32_t *lengths, unsigned count,
                     const struct sockaddr *address, socklen_t address_length, int flags);

/// Receives up to `count` datagrams (at most CSOCKET_BATCH_MAX) in one recvmmsg call into the
/// buffers `bases[i]` of `capacities[i]` bytes. Writes each datagram's length to `lengths[i]`,
/// its kernel message flags (MSG_TRUNC when it did not fit) to `message_flags[i]` when that is not
/// NULL, and its source address to `addresses[i]` when that is not NULL. Returns how many
/// datagrams were received, or -1 with errno set.
int csocket_recvmmsg(int fd, void *const *bases, const uint32_t *capacities, uint32_t *lengths,
                     int *message_flags, struct sockaddr_storage *addresses, unsigned count, int flags);

/// MSG_WAITFORONE (return once one datagram has arrived), which is hidden behind _GNU_SOURCE too.
int csocket_msg_waitforone(void);

#endif
