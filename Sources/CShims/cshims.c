#define _GNU_SOURCE
#include "cshims.h"

#include <signal.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <grp.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <poll.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* A packet socket is opened with protocol 0, so that the kernel registers no receive
 * hook until clickos_packet_bind: setting up a ring or binding a socket whose hook is
 * registered unregisters it first, and each unregistration waits for an RCU grace period
 * (10-20 ms here). Opened, configured (ring, options), then bound, a socket costs none. */
int clickos_packet_open(void) {
    return socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int clickos_packet_bind(int fd, const char *ifname, int promiscuous) {
    unsigned index = if_nametoindex(ifname);
    if (index == 0) {
        if (!errno) errno = ENODEV;
        return -1;
    }
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int) index;
    if (bind(fd, (struct sockaddr *) &address, sizeof address) < 0) return -1;
    if (promiscuous) {
        struct packet_mreq mreq;
        memset(&mreq, 0, sizeof mreq);
        mreq.mr_ifindex = (int) index;
        mreq.mr_type = PACKET_MR_PROMISC;
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
    return 0;
}

int clickos_packet_socket(const char *ifname, int promiscuous) {
    int fd = clickos_packet_open();
    if (fd < 0) return -1;
    if (clickos_packet_bind(fd, ifname, promiscuous) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int clickos_ignore_outgoing(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
}

int clickos_packet_vnet_header(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one);
}

int clickos_receive_buffer(int fd, int bytes) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return 0;
    return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

long clickos_packet_drops(int fd) {
    struct tpacket_stats stats;
    socklen_t length = sizeof stats;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) < 0) return -1;
    return (long) stats.tp_drops;
}

int clickos_receive_frames(int fd, struct clickos_vnet_header *headers, void *const *heads, unsigned head_capacity,
                           void *const *tails, unsigned tail_capacity, unsigned *lengths, int *truncated, unsigned count) {
    struct mmsghdr messages[64];
    struct iovec vectors[64][3];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i][0].iov_base = &headers[i];
        vectors[i][0].iov_len = sizeof(struct clickos_vnet_header);
        vectors[i][1].iov_base = heads[i];
        vectors[i][1].iov_len = head_capacity;
        vectors[i][2].iov_base = tails[i];
        vectors[i][2].iov_len = tail_capacity;
        messages[i].msg_hdr.msg_iov = vectors[i];
        messages[i].msg_hdr.msg_iovlen = 3;
    }
    int n = recvmmsg(fd, messages, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        unsigned length = messages[i].msg_len;
        lengths[i] = length >= sizeof(struct clickos_vnet_header) ? length - (unsigned) sizeof(struct clickos_vnet_header) : 0;
        truncated[i] = (messages[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || length < sizeof(struct clickos_vnet_header);
    }
    return n;
}

int clickos_send_frames(int fd, const struct clickos_vnet_header *headers, const void *const *frames,
                        const unsigned *lengths, unsigned count) {
    struct mmsghdr messages[64];
    struct iovec vectors[64][2];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        unsigned k = 0;
        if (headers) {
            vectors[i][k].iov_base = (void *) &headers[i];
            vectors[i][k].iov_len = sizeof(struct clickos_vnet_header);
            k++;
        }
        vectors[i][k].iov_base = (void *) frames[i];
        vectors[i][k].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = vectors[i];
        messages[i].msg_hdr.msg_iovlen = k + 1;
    }
    return sendmmsg(fd, messages, count, 0);
}

static volatile sig_atomic_t interrupted;
/* SIGINT and SIGTERM are open while the router runs, so a router that never sleeps still
   sees them at its next scheduler round. Only clickos_ppoll closes them, between its look
   at the flag and the sleep: ppoll opens them again atomically with the sleep, so one that
   arrives in that gap interrupts the sleep instead of being lost (a lost wake-up left an
   idle VM running until it was killed). */
static sigset_t interrupt_set;
static int catching;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

/* Signals that Script(TYPE SIGNAL ...) elements wait for: the handler only marks them;
   the router runs the scripts at its next scheduler round. */
#define CLICKOS_NSIG 65
static volatile sig_atomic_t signal_pending[CLICKOS_NSIG];
static volatile sig_atomic_t signals_pending;
static int watched[CLICKOS_NSIG];

static void on_watched(int sig) {
    if (sig > 0 && sig < CLICKOS_NSIG) signal_pending[sig] = 1;
    signals_pending = 1;
}

void clickos_catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    /* SA_RESTART: other system calls carry on (ppoll is never restarted, so a sleep still
       ends with EINTR). */
    sa.sa_flags = SA_RESETHAND | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    /* A signal a Script already waits for keeps its handler until the script gives it up. */
    if (!watched[SIGINT]) sigaction(SIGINT, &sa, NULL);
    if (!watched[SIGTERM]) sigaction(SIGTERM, &sa, NULL);
    sigaddset(&interrupt_set, SIGINT);
    sigaddset(&interrupt_set, SIGTERM);
    /* A parent may have started us with these signals blocked: open them. */
    sigprocmask(SIG_UNBLOCK, &interrupt_set, NULL);
    catching = 1;
}

const volatile int *clickos_interrupt_flag(void) {
    return (const volatile int *)&interrupted;
}

int clickos_signal_watch(int sig) {
    if (sig <= 0 || sig >= CLICKOS_NSIG || sig == SIGKILL || sig == SIGSTOP) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_watched;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) return -1;
    watched[sig] = 1;
    sigaddset(&interrupt_set, sig);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    return 0;
}

void clickos_signal_restore(int sig) {
    if (sig <= 0 || sig >= CLICKOS_NSIG || !watched[sig]) return;
    watched[sig] = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (catching && (sig == SIGINT || sig == SIGTERM)) {
        sa.sa_handler = on_interrupt;
        sa.sa_flags = SA_RESETHAND | SA_RESTART;
    } else {
        sa.sa_handler = SIG_DFL;
        sigdelset(&interrupt_set, sig);
    }
    sigaction(sig, &sa, NULL);
}

int clickos_signal_take(int sig) {
    if (sig <= 0 || sig >= CLICKOS_NSIG || !signal_pending[sig]) return 0;
    signal_pending[sig] = 0;
    return 1;
}

const volatile int *clickos_signals_pending_flag(void) {
    return (const volatile int *)&signals_pending;
}

void clickos_signals_pending_clear(void) {
    signals_pending = 0;
}

/* ---- memif and shared memory ---- */

int clickos_memfd(const char *name, unsigned long long size) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    if (ftruncate(fd, (off_t) size) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
    return fd;
}

/* ---- shared memory a peer may shrink under us ---- */

#define GUARD_SLOTS 4096
struct region_guard {
    _Atomic(uintptr_t) base;
    _Atomic(unsigned long) size;
    _Atomic(int) lost;
};
static struct region_guard guards[GUARD_SLOTS];
static _Atomic(unsigned long) lost_events;
static struct sigaction previous_sigbus;
static pthread_once_t sigbus_once = PTHREAD_ONCE_INIT;

static void sigbus_handler(int sig, siginfo_t *info, void *context) {
    uintptr_t address = (uintptr_t) info->si_addr;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t base = atomic_load_explicit(&guards[i].base, memory_order_acquire);
        unsigned long size = atomic_load_explicit(&guards[i].size, memory_order_relaxed);
        if (base && address >= base && address - base < size) {
            /* Zero pages in place of the file's: the access is retried and reads zeros. */
            mmap((void *) base, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            atomic_store_explicit(&guards[i].lost, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&lost_events, 1, memory_order_release);
            return;
        }
    }
    /* Not ours: whoever handled SIGBUS before us, or the default (the fault recurs
       when we return and kills the process, as it would have). */
    if ((previous_sigbus.sa_flags & SA_SIGINFO) && previous_sigbus.sa_sigaction) {
        previous_sigbus.sa_sigaction(sig, info, context);
    } else if (previous_sigbus.sa_handler != SIG_DFL && previous_sigbus.sa_handler != SIG_IGN) {
        previous_sigbus.sa_handler(sig);
    } else {
        signal(SIGBUS, SIG_DFL);
    }
}

static void install_sigbus_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = sigbus_handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    sigaction(SIGBUS, &action, &previous_sigbus);
}

int clickos_guard_region(void *base, unsigned long size) {
    pthread_once(&sigbus_once, install_sigbus_handler);
    for (int i = 0; i < GUARD_SLOTS; i++) {
        uintptr_t expected = 0;
        /* Claim a free slot with a placeholder base, fill it, then publish the base. */
        if (atomic_load_explicit(&guards[i].base, memory_order_relaxed) == 0
            && atomic_compare_exchange_strong(&guards[i].base, &expected, (uintptr_t) 1)) {
            atomic_store_explicit(&guards[i].size, size, memory_order_relaxed);
            atomic_store_explicit(&guards[i].lost, 0, memory_order_relaxed);
            atomic_store_explicit(&guards[i].base, (uintptr_t) base, memory_order_release);
            return i;
        }
    }
    return -1;
}

void clickos_unguard_region(int slot) {
    if (slot < 0 || slot >= GUARD_SLOTS) return;
    atomic_store_explicit(&guards[slot].size, 0, memory_order_relaxed);
    atomic_store_explicit(&guards[slot].base, 0, memory_order_release);
}

int clickos_region_lost(int slot) {
    if (slot < 0 || slot >= GUARD_SLOTS) return 0;
    return atomic_load_explicit(&guards[slot].lost, memory_order_relaxed);
}

unsigned long clickos_lost_region_events(void) {
    return atomic_load_explicit(&lost_events, memory_order_acquire);
}

int clickos_seal_against_shrinking(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -1;
    if (seals & F_SEAL_SHRINK) return 0;
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0 ? 0 : -1;
}

int clickos_eventfd(void) {
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

int clickos_timerfd_set(int fd, long long interval_ns) {
    struct itimerspec spec;
    memset(&spec, 0, sizeof spec);
    spec.it_interval.tv_sec = interval_ns / 1000000000LL;
    spec.it_interval.tv_nsec = interval_ns % 1000000000LL;
    spec.it_value = spec.it_interval;
    return timerfd_settime(fd, 0, &spec, NULL);
}

int clickos_timerfd(long long interval_ns) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -1;
    if (clickos_timerfd_set(fd, interval_ns) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

long clickos_seqpacket_send(int fd, const void *data, unsigned length, int pass_fd) {
    struct iovec iov = { (void *) data, length };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    union { char buffer[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    if (pass_fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buffer;
        msg.msg_controllen = sizeof control.buffer;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    long n;
    do { n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    return n;
}

long clickos_seqpacket_receive(int fd, void *buffer, unsigned capacity, int *received_fd, int *truncated) {
    struct iovec iov = { buffer, capacity };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    union { char buffer[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } control;
    msg.msg_control = control.buffer;
    msg.msg_controllen = sizeof control.buffer;
    *received_fd = -1;
    *truncated = 0;
    long n;
    do { n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) *truncated = 1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int passed;
            memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (*received_fd < 0) *received_fd = passed; else close(passed);
        }
    }
    return n;
}

static socklen_t unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof address->sun_path) {
        errno = ENAMETOOLONG;
        return 0;
    }
    memcpy(address->sun_path, path, length);
    if (path[0] == '@') {
        address->sun_path[0] = 0;  /* abstract: the length, not a NUL, ends the name */
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + length);
    }
    return (socklen_t) sizeof *address;
}

int clickos_seqpacket_listen(const char *path) {
    struct sockaddr_un address;
    socklen_t length = unix_address(path, &address);
    if (length == 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *) &address, length) < 0 || listen(fd, 16) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int clickos_seqpacket_connect(const char *path) {
    struct sockaddr_un address;
    socklen_t length = unix_address(path, &address);
    if (length == 0) return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    /* A blocking connect: a Unix connect completes or fails at once. */
    if (connect(fd, (struct sockaddr *) &address, length) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int clickos_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

/* ---- spawning isolated VM processes ---- */

#define CAP_NET_RAW_NUMBER 13

static void child_fail(const char *what) {
    char message[256];
    int n = snprintf(message, sizeof message, "clickos-vm spawn: %s: %s\n", what, strerror(errno));
    if (n > 0) { ssize_t ignored = write(2, message, (size_t) n); (void) ignored; }
    _exit(127);
}

/* The jail: each bind mounted at its place in the new root (read-only ones remounted so),
   then pivot_root into the root, the old root detached (the host's whole tree goes with
   it), a /proc of the VM's PID namespace mounted, and the root made read-only (the VM
   writes only where a writable bind says: its run directory, its ports). */
static void enter_jail(const struct clickos_spawn_spec *spec) {
    if (mount(spec->jail_root, spec->jail_root, NULL, MS_BIND, NULL) < 0) child_fail("jail root");
    for (int i = 0; i < spec->bind_count; i++) {
        const struct clickos_bind *b = &spec->binds[i];
        if (mount(b->source, b->target, NULL, MS_BIND, NULL) < 0) child_fail(b->source);
        /* Read-only binds are remounted so (a bind takes no flags of its own). Writable
           ones stay as bound: the VM can exec nothing anyway (seccomp) and gains nothing
           from set-user-id files (no_new_privs). */
        if (b->read_only && mount(NULL, b->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
            child_fail(b->target);
    }
    if (chdir(spec->jail_root) < 0) child_fail("jail root");
    /* pivot_root(".", "."): the old root is stacked under the new one, then detached. */
    if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail("pivot_root");
    if (umount2(".", MNT_DETACH) < 0) child_fail("detaching the host's root");
    if (chdir("/") < 0) child_fail("/");
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) child_fail("/proc");
    if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) child_fail("read-only root");
}

/* Limits, and every capability out of reach for good (the bounding set needs
   CAP_SETPCAP: we are still root here). */
static void harden(const struct clickos_spawn_spec *spec) {
    struct { int resource; unsigned long long value; } limits[] = {
        { RLIMIT_NOFILE, spec->limit_nofile }, { RLIMIT_NPROC, spec->limit_nproc },
        { RLIMIT_MEMLOCK, spec->limit_memlock }, { RLIMIT_FSIZE, spec->limit_fsize },
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        if (!limits[i].value) continue;   /* 0: keep the inherited limit */
        struct rlimit r = { (rlim_t) limits[i].value, (rlim_t) limits[i].value };
        if (setrlimit(limits[i].resource, &r) < 0) child_fail("resource limit");
    }
    struct rlimit no_core = { 0, 0 };     /* no core dumps of packet memory */
    if (setrlimit(RLIMIT_CORE, &no_core) < 0) child_fail("resource limit");
    for (int cap = 0; cap <= 63; cap++) {
        if (spec->keep_net_raw && cap == CAP_NET_RAW_NUMBER) continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) child_fail("dropping capabilities");
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    /* Keep the permitted set across the switch of user; keep_net_raw() then narrows it. */
    if (spec->keep_net_raw && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail("keeping CAP_NET_RAW");
}

/* After the switch of user: CAP_NET_RAW alone, effective, inheritable and ambient, so it
   survives execve into the (unprivileged) clickos-vm. */
static void keep_net_raw(void) {
    struct { unsigned version; int pid; } header = { 0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0 };
    struct { unsigned effective, permitted, inheritable; } data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = data[0].inheritable = 1u << CAP_NET_RAW_NUMBER;
    if (syscall(SYS_capset, &header, data) < 0) child_fail("CAP_NET_RAW");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW_NUMBER, 0, 0) < 0) child_fail("ambient CAP_NET_RAW");
}

static int spawn_child(void *argument) {
    const struct clickos_spawn_spec *spec = argument;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    if (spec->stderr_fd >= 0 && dup2(spec->stderr_fd, 2) < 0) _exit(127);
    setsid();
    if (spec->new_namespaces && !spec->host_network && spec->netns_fd >= 0 && setns(spec->netns_fd, CLONE_NEWNET) < 0) child_fail("network namespace");
    if (spec->new_namespaces && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) child_fail("private mounts");
    /* Host paths first: the cgroups and /dev/null, before the jail hides the host. */
    for (const char *const *p = spec->cgroup_procs; p && *p; p++) {
        int fd = open(*p, O_WRONLY | O_CLOEXEC);
        if (fd < 0) child_fail(*p);
        if (write(fd, "0", 1) != 1) child_fail(*p);
        close(fd);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) child_fail("/dev/null");
    if (spec->new_namespaces && spec->jail_root) {
        enter_jail(spec);
    } else if (spec->new_namespaces && mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        /* A /proc of its own PID namespace: the VM sees itself as PID 1 and no host
           process. Best effort: where /proc may not be mounted (a container with masked
           /proc paths), the VM keeps the host's, and its stderr says so. */
        char message[160];
        int n = snprintf(message, sizeof message, "clickos-vm spawn: warning: /proc of the host kept (%s)\n", strerror(errno));
        if (n > 0) { ssize_t ignored = write(2, message, (size_t) n); (void) ignored; }
    }
    dup2(null, 0);
    dup2(spec->stdout_fd >= 0 ? spec->stdout_fd : null, 1);
    if (spec->stderr_fd < 0) dup2(null, 2);
    if (spec->keep_fd >= 0) {
        if (spec->keep_fd == 3) fcntl(3, F_SETFD, 0);
        else if (dup2(spec->keep_fd, 3) < 0) child_fail("descriptor 3");
    }
    syscall(SYS_close_range, 4U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
    if (spec->cpu_mask) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int cpu = 0; cpu < 64; cpu++) if (spec->cpu_mask & (1ULL << cpu)) CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0) child_fail("CPU affinity");
    }
    if (spec->harden) harden(spec);
    if (spec->gid >= 0) {
        if (setgroups((size_t) spec->group_count, (const gid_t *) spec->groups) < 0) child_fail("setgroups");
        if (setgid((gid_t) spec->gid) < 0) child_fail("setgid");
    }
    if (spec->uid >= 0 && setuid((uid_t) spec->uid) < 0) child_fail("setuid");
    if (spec->harden && spec->keep_net_raw) keep_net_raw();
    /* After the switch: a process that is not root keeps no capability (no KEEP_CAPS), and
       with the bounding set empty it can never regain one. */
    if (spec->harden && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) child_fail("no_new_privs");
    execve(spec->path, spec->argv, spec->envp);
    child_fail(spec->path);
    return 127;
}

int clickos_spawn(const struct clickos_spawn_spec *spec) {
    /* Like posix_spawn: the child shares our memory and runs on its own stack until it
       execs (CLONE_VM | CLONE_VFORK), so spawning costs no copy of the caller. */
    size_t stack_size = 256 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &saved);
    int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
    if (spec->new_namespaces) flags |= CLONE_NEWNS | CLONE_NEWPID | (spec->netns_fd >= 0 || spec->host_network ? 0 : CLONE_NEWNET);
    int pid = clone(spawn_child, (char *) stack + stack_size, flags, (void *) spec);
    int saved_errno = errno;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    munmap(stack, stack_size);
    errno = saved_errno;
    return pid;
}

struct netns_request { int fd; int error; };

static void *netns_thread(void *argument) {
    struct netns_request *request = argument;
    /* The network namespace is per thread: only this thread moves, and it then ends. */
    if (unshare(CLONE_NEWNET) < 0) { request->error = errno; return NULL; }
    request->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (request->fd < 0) request->error = errno;
    return NULL;
}

int clickos_create_netns(void) {
    struct netns_request request = { -1, 0 };
    pthread_t thread;
    int failed = pthread_create(&thread, NULL, netns_thread, &request);
    if (failed) { errno = failed; return -1; }
    pthread_join(thread, NULL);
    if (request.fd < 0) errno = request.error;
    return request.fd;
}

int clickos_unpin_thread(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    long cpus = sysconf(_SC_NPROCESSORS_CONF);
    for (long cpu = 0; cpu < cpus && cpu < CPU_SETSIZE; cpu++) CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int clickos_seccomp_mode(void) {
    return prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
}

int clickos_pidfd_open(int pid) {
    return (int) syscall(SYS_pidfd_open, pid, 0);
}

static int signals_watched(void) {
    for (int sig = 1; sig < CLICKOS_NSIG; ++sig)
        if (watched[sig]) return 1;
    return 0;
}

int clickos_ppoll(void *fds, unsigned long count, long long timeout_ns) {
    struct timespec ts, *limit = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t) (timeout_ns / 1000000000LL);
        ts.tv_nsec = (long) (timeout_ns % 1000000000LL);
        limit = &ts;
    }
    /* A zero-timeout check cannot lose a wake-up: no masking needed. */
    if ((!catching && !signals_watched()) || timeout_ns == 0) return ppoll((struct pollfd *) fds, count, limit, NULL);
    sigset_t open_mask;
    sigprocmask(SIG_BLOCK, &interrupt_set, &open_mask);
    for (int sig = 1; sig < CLICKOS_NSIG; ++sig)
        if (sigismember(&interrupt_set, sig) == 1) sigdelset(&open_mask, sig);
    int r;
    if (interrupted || signals_pending) {
        r = -1;
        errno = EINTR;
    } else {
        r = ppoll((struct pollfd *) fds, count, limit, &open_mask);
    }
    int saved = errno;
    sigprocmask(SIG_UNBLOCK, &interrupt_set, NULL);
    errno = saved;
    return r;
}

int clickos_set_timer_slack(unsigned long nanoseconds) {
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}

int clickos_pin_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

int clickos_tun_open(const char *name, int tap, char *name_out) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = tap ? IFF_TAP : IFF_TUN;
    if (name && *name) strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    name_out[IFNAMSIZ - 1] = 0;
    return fd;
}

int clickos_interface_configure(const char *name, uint32_t address, uint32_t netmask, int mtu,
                                const unsigned char *ether, int tap, int *step) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    struct sockaddr_in sin;
    int result = 0;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    /* Linux wants the address before the netmask. */
    sin.sin_addr.s_addr = address;
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0) { *step = 0; result = -errno; goto out; }
    sin.sin_addr.s_addr = netmask;
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) { *step = 1; result = -errno; goto out; }
    if (mtu > 0) {
        ifr.ifr_mtu = mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0) { *step = 2; result = -errno; goto out; }
    }
    if (ether) {
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, ether, 6);
        if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0) { *step = 3; result = -errno; goto out; }
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) { *step = 4; result = -errno; goto out; }
    if (tap) ifr.ifr_flags &= ~IFF_NOARP;
    ifr.ifr_flags |= IFF_UP | IFF_PROMISC;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { *step = 4; result = -errno; goto out; }
out:
    close(s);
    return result;
}

// MARK: A guest's init

#include <sys/reboot.h>
#include <sys/stat.h>

int clickos_guest_mounts(void) {
    static const struct { const char *type, *target; } mounts[] = {
        {"devtmpfs", "/dev"}, {"proc", "/proc"}, {"sysfs", "/sys"},
    };
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        mkdir(mounts[i].target, 0755);
        if (mount(mounts[i].type, mounts[i].target, mounts[i].type, MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY) return -1;
    }
    return 0;
}

int clickos_load_module(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    long rc = syscall(SYS_finit_module, fd, "", 0);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc == 0 ? 0 : -1;
}

int clickos_interface_up(const char *name) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (rc == 0) {
        ifr.ifr_flags |= IFF_UP;
        rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

void clickos_power_off(void) {
    sync();
    reboot(RB_POWER_OFF);
}

// As PID 1 of a VM image (/init), /proc and /dev must be there before the Swift runtime's
// own initializers run: the runtime finds its path through them and stops the program
// when it cannot. glibc passes argc/argv to constructors; priority 101 runs before the
// runtime's (default-priority) initializers.
__attribute__((constructor(101))) static void clickos_guest_early_mounts(int argc, char **argv, char **envp) {
    (void)envp;
    if (getpid() == 1 && argc > 0 && argv && argv[0] && strcmp(argv[0], "/init") == 0) (void)clickos_guest_mounts();
}
