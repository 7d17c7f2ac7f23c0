#ifndef CLICKOS_CSECCOMP_H
#define CLICKOS_CSECCOMP_H

#include <stddef.h>

/// Installs a VM's system call allow-list: a seccomp-bpf filter, built with libseccomp,
/// that lets through only what a VM does once it is running (I/O on its descriptors,
/// memory, memif's shared memory and descriptor passing, Unix sockets, timers and clocks,
/// signals). Any other call, a socket of another family than AF_UNIX, a change to SIGSYS's
/// handler, or a call of another architecture's ABI stops the VM: the kernel raises SIGSYS,
/// whose handler writes `clickos-vm: seccomp: forbidden system call NAME (NUMBER)` to
/// standard error and exits with status 159 (128 + SIGSYS). The process must already have
/// no_new_privs (the backend sets it) or be root. It also makes the process non-dumpable
/// (no ptrace or /proc/PID/mem by its own user). Returns 0, or -1 with `error` filled.
int clickos_seccomp_install(char *error, size_t error_size);

/// Writes the same filter, compiled, to `fd` (the process backend does it once; each VM
/// then loads it with `clickos_seccomp_load` instead of compiling its own: half a
/// millisecond of every boot). With `packet`, the host switch's filter: also AF_PACKET
/// sockets, sendmmsg and recvmmsg. Returns 0, or -1 with `error` filled.
int clickos_seccomp_export(int fd, int packet, char *error, size_t error_size);

/// Installs the compiled filter in file `path` (from `clickos_seccomp_export`), with the
/// same SIGSYS report, non-dumpable process and no_new_privs as `clickos_seccomp_install`.
int clickos_seccomp_load(const char *path, char *error, size_t error_size);

/// The exit status of a VM stopped by its filter.
#define CLICKOS_SECCOMP_EXIT 159

/// The name of system call `number` on this architecture ("?" if unknown).
const char *clickos_seccomp_syscall_name(int number);

#endif
