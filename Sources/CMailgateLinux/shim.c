#define _GNU_SOURCE
#include "CMailgateLinux.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

const uint32_t CMG_EPOLLIN = EPOLLIN;
const uint32_t CMG_EPOLLOUT = EPOLLOUT;
const uint32_t CMG_EPOLLERR = EPOLLERR;
const uint32_t CMG_EPOLLHUP = EPOLLHUP;
const uint32_t CMG_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t CMG_EPOLLET = EPOLLET;

int cmg_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cmg_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    static const int ops[] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL};
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(epfd, ops[op], fd, &ev);
}

int cmg_epoll_wait(int epfd, cmg_epoll_event *events, int maxevents, int timeout_ms) {
    struct epoll_event raw[256];
    if (maxevents > 256) maxevents = 256;
    int n = epoll_wait(epfd, raw, maxevents, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int cmg_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int cmg_eventfd_signal(int fd) { return eventfd_write(fd, 1); }

int cmg_eventfd_drain(int fd) {
    eventfd_t value;
    return eventfd_read(fd, &value);
}

int cmg_accept(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int cmg_tcp_socket(int family, int nonblocking) {
    int flags = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    return socket(family, flags, 0);
}

int cmg_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}
