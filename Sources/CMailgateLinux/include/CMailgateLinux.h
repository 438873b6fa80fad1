// Thin wrappers over Linux calls whose C shapes do not import cleanly into Swift:
// `struct epoll_event` is packed on x86_64, and socket type flags are macros.
#ifndef CMAILGATE_LINUX_H
#define CMAILGATE_LINUX_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

/// One readiness event, unpacked from `struct epoll_event`.
typedef struct {
    uint32_t events;
    uint64_t data;
} cmg_epoll_event;

extern const uint32_t CMG_EPOLLIN;
extern const uint32_t CMG_EPOLLOUT;
extern const uint32_t CMG_EPOLLERR;
extern const uint32_t CMG_EPOLLHUP;
extern const uint32_t CMG_EPOLLRDHUP;
extern const uint32_t CMG_EPOLLET;

int cmg_epoll_create(void);
/// `op` is 0 add, 1 modify, 2 delete.
int cmg_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int cmg_epoll_wait(int epfd, cmg_epoll_event *events, int maxevents, int timeout_ms);

/// An eventfd in non-blocking, close-on-exec mode.
int cmg_eventfd(void);
int cmg_eventfd_signal(int fd);
int cmg_eventfd_drain(int fd);

/// `accept4` with SOCK_NONBLOCK | SOCK_CLOEXEC.
int cmg_accept(int fd, struct sockaddr *addr, socklen_t *len);
/// A non-blocking, close-on-exec TCP socket of the given family.
int cmg_tcp_socket(int family, int nonblocking);
int cmg_set_nonblocking(int fd, int on);

#endif
