#ifndef CLICKOS_JAIL_PROBE_H
#define CLICKOS_JAIL_PROBE_H

/// Test-only: system calls an attacker inside a VM would try, for the jail tests' probe
/// (Swift cannot call C's variadic ptrace or syscall).
long probe_ptrace_traceme(void);
long probe_syscall0(long number);

#endif
