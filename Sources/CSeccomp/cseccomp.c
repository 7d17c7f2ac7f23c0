#define _GNU_SOURCE
#include "cseccomp.h"

#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* What a running VM calls (strace of VMs in every role: memif server and client with
   reconnection, control socket, stats page, hot reconfiguration, pcap files, scripts),
   plus the harmless calls libc and the Swift runtime make on their error paths. No exec,
   no fork or clone, no ptrace, no mount or namespace calls, no new inet or packet
   sockets, no privilege or identity changes. */
static const int allowed[] = {
    /* descriptors and files (inside the jail) */
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
    SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(lseek), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
    SCMP_SYS(openat), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(ioctl), SCMP_SYS(ftruncate),
    SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(chmod), SCMP_SYS(fchmod),
    SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64), SCMP_SYS(getcwd),
    /* memory: buffers, memif regions, the SIGBUS guard's zero pages */
    SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
    SCMP_SYS(memfd_create),
    /* waiting, time, events */
    SCMP_SYS(ppoll), SCMP_SYS(poll), SCMP_SYS(eventfd2), SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(getrandom),
    /* Unix sockets: memif control, the control socket, descriptor passing */
    SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(connect), SCMP_SYS(shutdown),
    SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
    /* signals (SIGSYS's handler is guarded below) */
    SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(tgkill), SCMP_SYS(kill),
    /* identity and information, read-only */
    SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid), SCMP_SYS(uname), SCMP_SYS(sched_getaffinity), SCMP_SYS(prlimit64), SCMP_SYS(getrlimit),
    /* the end */
    SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(restart_syscall),
};

/* A system call's name, looked up when a forbidden call is reported (resolving all of
   them ahead of time cost half a millisecond of every boot). */
static char name_buffer[32];

const char *clickos_seccomp_syscall_name(int number) {
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    if (!name) return "?";
    strncpy(name_buffer, name, sizeof name_buffer - 1);
    free(name);
    return name_buffer;
}

static size_t append(char *out, size_t at, size_t size, const char *text) {
    while (*text && at + 1 < size) out[at++] = *text++;
    return at;
}

/* The report, then exit. The name lookup allocates: acceptable here because SIGSYS from
   the filter is synchronous, raised at the forbidden call itself, and no call the
   allocator makes (brk, mmap, munmap, madvise, mprotect) is forbidden, so the allocator
   is never interrupted half-way; and the process ends right after. */
static void on_forbidden(int sig, siginfo_t *info, void *context) {
    (void) sig;
    (void) context;
    char line[160];
    char digits[16];
    int number = info->si_syscall;
    size_t at = append(line, 0, sizeof line, "clickos-vm: seccomp: forbidden system call ");
    at = append(line, at, sizeof line, clickos_seccomp_syscall_name(number));
    at = append(line, at, sizeof line, " (");
    int k = 0;
    unsigned v = number < 0 ? 0 : (unsigned) number;
    do { digits[k++] = (char) ('0' + v % 10); v /= 10; } while (v && k < 15);
    while (k) line[at++] = digits[--k];
    at = append(line, at, sizeof line, ")\n");
    ssize_t ignored = write(2, line, at);
    (void) ignored;
    syscall(SYS_exit_group, CLICKOS_SECCOMP_EXIT);
}

/* The filter, built by libseccomp; `packet` adds what the host switch needs on top of a
   VM's calls: packet sockets on the host's interfaces and batched sends. */
static scmp_filter_ctx build(int packet, char *error, size_t error_size) {
    /* Calls of another ABI (x32, i386) are killed by libseccomp's bad-arch action. */
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
    if (!ctx) {
        snprintf(error, error_size, "seccomp_init failed");
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && rc == 0; i++)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
    /* Sockets and socket pairs: Unix only. */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
    if (packet) {
        if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_PACKET));
        if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmmsg), 0);
        if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmmsg), 0);
    }
    /* Any signal's handler but SIGSYS's may change; touching SIGSYS's kills outright. */
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(rt_sigaction), 1, SCMP_A0(SCMP_CMP_NE, SIGSYS));
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(rt_sigaction), 1, SCMP_A0(SCMP_CMP_EQ, SIGSYS));
    if (rc != 0) {
        snprintf(error, error_size, "building the filter: %s", strerror(-rc));
        seccomp_release(ctx);
        return NULL;
    }
    return ctx;
}

int clickos_seccomp_export(int fd, int packet, char *error, size_t error_size) {
    scmp_filter_ctx ctx = build(packet, error, error_size);
    if (!ctx) return -1;
    int rc = seccomp_export_bpf(ctx, fd);
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(error, error_size, "exporting the filter: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

/* What every way of installing does first: the reporter, and no dumps or ptrace. */
static int prepare(char *error, size_t error_size) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_forbidden;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        snprintf(error, error_size, "SIGSYS handler: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        snprintf(error, error_size, "PR_SET_DUMPABLE: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int clickos_seccomp_install(char *error, size_t error_size) {
    if (prepare(error, error_size) < 0) return -1;
    scmp_filter_ctx ctx = build(0, error, error_size);
    if (!ctx) return -1;
    int rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        snprintf(error, error_size, "loading the filter: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

int clickos_seccomp_load(const char *path, char *error, size_t error_size) {
    struct sock_filter program[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, program, sizeof program);
    close(fd);
    if (n <= 0 || n % (ssize_t) sizeof program[0] != 0 || n == (ssize_t) sizeof program) {
        snprintf(error, error_size, "%s: not a filter program (%zd bytes)", path, n);
        return -1;
    }
    if (prepare(error, error_size) < 0) return -1;
    struct sock_fprog prog = { (unsigned short) (n / (ssize_t) sizeof program[0]), program };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
        snprintf(error, error_size, "loading %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
