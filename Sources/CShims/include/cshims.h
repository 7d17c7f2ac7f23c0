// The few C facilities Swift's Glibc module lacks (it is built without _GNU_SOURCE):
// AF_PACKET recvmmsg with virtio net headers and sendmmsg, wrapped in small functions so that
// Swift never handles the kernel's structures directly.
#ifndef CLICKOS_CSHIMS_H
#define CLICKOS_CSHIMS_H

#include <stddef.h>
#include <stdint.h>

/// Opens /dev/net/tun as a TUN (tap == 0) or TAP device named `name` (empty: the kernel
/// picks), non-blocking, with the 4-byte packet information header. The device's name is
/// written to `name_out` (IFNAMSIZ bytes). Returns the descriptor, or -errno.
int clickos_tun_open(const char *name, int tap, char *name_out);

/// Sets interface `name`'s IPv4 address and netmask (network order), MTU (0: unchanged)
/// and Ethernet address (NULL: unchanged), and brings it up, promiscuous; a TAP device
/// answers ARP. Returns 0, or -errno with the step that failed in `*step` (0 address,
/// 1 netmask, 2 MTU, 3 Ethernet address, 4 flags).
int clickos_interface_configure(const char *name, uint32_t address, uint32_t netmask, int mtu,
                                const unsigned char *ether, int tap, int *step);

/// A raw AF_PACKET socket bound to interface `ifname` (all protocols), non-blocking.
/// Returns the descriptor, or -1 with errno set.
int clickos_packet_socket(const char *ifname, int promiscuous);

/// A raw AF_PACKET socket that receives nothing yet (protocol 0), non-blocking: give it
/// its ring and options, then clickos_packet_bind. Returns the descriptor, or -1.
int clickos_packet_open(void);

/// Binds a socket from clickos_packet_open to `ifname` for all protocols (promiscuous if
/// asked): it starts receiving. Returns 0, or -1 with errno set.
int clickos_packet_bind(int fd, const char *ifname, int promiscuous);

/// Asks the kernel not to deliver packets this socket (or others) sent out of the same
/// interface. Returns 0 or -1.
int clickos_ignore_outgoing(int fd);

/// The virtio net header (`struct virtio_net_hdr`, host byte order) that PACKET_VNET_HDR
/// puts before each frame: `flags` bit 0 says the checksum at `csum_start + csum_offset`
/// is unfinished (it holds the pseudo-header sum); `gso_type` (1 TCPv4, 4 TCPv6, 5 UDP,
/// bit 7 ECN) and `gso_size` describe a large segment the kernel did not split.
struct clickos_vnet_header {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t header_length;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
};

/// Asks for a virtio net header before each frame the socket receives (PACKET_VNET_HDR):
/// frames then arrive as the kernel holds them, checksums unfinished and large segments
/// whole. Returns 0 or -1.
int clickos_packet_vnet_header(int fd);

/// Sets the socket's receive buffer to `bytes` (beyond the system's limit where the
/// process may: SO_RCVBUFFORCE, else SO_RCVBUF up to the limit). Returns 0 or -1.
int clickos_receive_buffer(int fd, int bytes);

/// Frames the kernel dropped for this socket since the last call (PACKET_STATISTICS), or -1.
long clickos_packet_drops(int fd);

/// Receives up to `count` (at most 64) frames of a PACKET_VNET_HDR socket with one
/// recvmmsg call, without waiting. Frame i: its virtio header into `headers[i]`, its first
/// `head_capacity` bytes at `heads[i]`, the rest (a large segment) at `tails[i]`, up to
/// `tail_capacity` bytes (callers leave `head_capacity` bytes free before `tails[i]`, so
/// that copying the head there makes the frame contiguous). Its length goes to
/// `lengths[i]`, and `truncated[i]` is non-zero if it did not fit. Returns the number of
/// frames, or -1 with errno set (EAGAIN: none waiting).
int clickos_receive_frames(int fd, struct clickos_vnet_header *headers, void *const *heads, unsigned head_capacity,
                           void *const *tails, unsigned tail_capacity, unsigned *lengths, int *truncated, unsigned count);

/// Sends `count` frames (at most 64) with one sendmmsg call; returns how many went, or -1.
/// With `headers` (the socket has PACKET_VNET_HDR), frame i goes out behind `headers[i]`.
int clickos_send_frames(int fd, const struct clickos_vnet_header *headers, const void *const *frames,
                        const unsigned *lengths, unsigned count);

/// Catches SIGINT and SIGTERM once: the first sets the flag `clickos_interrupt_flag`
/// points to (the driver then stops gracefully); the handler resets itself, so a second
/// signal ends the process as usual. The two signals are delivered whenever they come,
/// busy or idle (a router that always has work never sleeps); `clickos_ppoll` blocks them
/// between its look at the flag and the sleep, so none arriving in that gap is lost.
void clickos_catch_interrupts(void);
/// The flag the interrupt handler sets (non-zero after SIGINT or SIGTERM).
const volatile int *clickos_interrupt_flag(void);

/// Script(TYPE SIGNAL ...): catches `sig`, marking it pending (and the flag
/// `clickos_signals_pending_flag`) and waking a sleeping `clickos_ppoll`; -1 for a signal
/// that cannot be caught. `clickos_signal_restore` gives the signal back (SIGINT and SIGTERM
/// to the driver's graceful stop once it catches them, others to their default action);
/// `clickos_signal_take` says whether `sig` arrived since the last take, and clears it.
int clickos_signal_watch(int sig);
void clickos_signal_restore(int sig);
int clickos_signal_take(int sig);
const volatile int *clickos_signals_pending_flag(void);
void clickos_signals_pending_clear(void);

// MARK: memif and shared memory

/// An anonymous shared-memory file of `size` bytes (memfd_create + ftruncate, sealed
/// against shrinking), close-on-exec. Returns the fd, or -1 with errno set.
int clickos_memfd(const char *name, unsigned long long size);

/// Peer-owned shared memory that the peer can shrink under us (a memif region whose file
/// it truncates) makes our next access fault with SIGBUS. A guarded region survives that:
/// a SIGBUS handler (installed on first use, chaining to any earlier one for faults
/// elsewhere) maps zero pages over the whole region, marks it lost and counts the event,
/// and the faulting access carries on reading zeros. The owner checks
/// `clickos_lost_region_events()` on its paths and drops lost regions.
/// Returns the guard's slot, or -1 when the table of 4,096 guards is full.
int clickos_guard_region(void *base, unsigned long size);
/// Forgets a guard (before the region is unmapped).
void clickos_unguard_region(int slot);
/// 1 if the guarded region in `slot` was lost (its pages replaced by zeros).
int clickos_region_lost(int slot);
/// How many regions have been lost so far (a cheap check for the hot paths).
unsigned long clickos_lost_region_events(void);
/// Seals a memfd against shrinking (F_SEAL_SHRINK), if it can be sealed. Returns 0 when
/// the file now cannot shrink, -1 otherwise (not a memfd, or created without sealing).
int clickos_seal_against_shrinking(int fd);

/// A non-blocking, close-on-exec eventfd with counter 0. Returns the fd, or -1.
int clickos_eventfd(void);

/// A non-blocking, close-on-exec CLOCK_MONOTONIC timerfd firing every `interval_ns`
/// (first after `interval_ns`); 0 disarms. Returns the fd, or -1.
int clickos_timerfd(long long interval_ns);
/// Re-arms a timerfd made by clickos_timerfd (0 disarms). Returns 0 or -1.
int clickos_timerfd_set(int fd, long long interval_ns);

/// Sends one datagram of `length` bytes on a SOCK_SEQPACKET socket, with `pass_fd` as
/// SCM_RIGHTS when it is >= 0. Returns the bytes sent or -1 (MSG_NOSIGNAL, non-blocking).
long clickos_seqpacket_send(int fd, const void *data, unsigned length, int pass_fd);

/// Receives one datagram into `buffer`; a descriptor passed with it (SCM_RIGHTS) lands in
/// `*received_fd` (else -1; extra descriptors are closed). Sets `*truncated` when the
/// datagram was longer than `capacity`. Returns the bytes received, 0 at EOF, or -1.
long clickos_seqpacket_receive(int fd, void *buffer, unsigned capacity, int *received_fd, int *truncated);

/// A SOCK_SEQPACKET Unix socket: listening on `path` (server) or connected to it
/// (client). A path starting with '@' is in the abstract namespace. Non-blocking and
/// close-on-exec. Returns the fd or -1 with errno set.
int clickos_seqpacket_listen(const char *path);
int clickos_seqpacket_connect(const char *path);
/// Accepts a connection, non-blocking and close-on-exec; -1 when none is waiting.
int clickos_accept(int listener);

// Ring index and flag accesses in shared memory: the memif ordering rules (release on
// publish, acquire on read, a full fence between publishing and reading the peer's
// interrupt mask).
static inline uint16_t clickos_load_acquire_u16(const void *p) { return __atomic_load_n((const uint16_t *) p, __ATOMIC_ACQUIRE); }
static inline void clickos_store_release_u16(void *p, uint16_t v) { __atomic_store_n((uint16_t *) p, v, __ATOMIC_RELEASE); }
static inline uint64_t clickos_load_relaxed_u64(const void *p) { return __atomic_load_n((const uint64_t *) p, __ATOMIC_RELAXED); }
static inline void clickos_store_relaxed_u64(void *p, uint64_t v) { __atomic_store_n((uint64_t *) p, v, __ATOMIC_RELAXED); }
static inline void clickos_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/// Spins `count` CPU pause instructions: a polling receiver waits a little between looks
/// at a ring, so that it does not steal the ring's cache line from the sender.
static inline void clickos_pause(unsigned count) {
    for (unsigned i = 0; i < count; i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
    }
}

/// Asks the CPU to start loading the cache line at `p` (a packet's metadata a few
/// packets ahead of the one being sent).
static inline void clickos_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

// MARK: spawning isolated VM processes

/// What `clickos_spawn` does in the child before exec. Every string is prepared by the
/// caller, so the child runs only async-signal-safe code.
struct clickos_spawn_spec {
    const char *path;              ///< executable
    char *const *argv;
    char *const *envp;
    int new_namespaces;            ///< non-zero: new network, mount and PID namespaces
    int host_network;              ///< with new_namespaces: stay in the caller's network
                                   ///< namespace (the host switch)
    int netns_fd;                  ///< with new_namespaces: join this network namespace
                                   ///< (from clickos_create_netns) instead of creating one (-1)
    int stdout_fd, stderr_fd;      ///< dup2'ed to 1 and 2 (-1: /dev/null)
    int keep_fd;                   ///< kept open as fd 3 (-1: none)
    const char *const *cgroup_procs; ///< NULL-terminated list of cgroup.procs files to join
    int uid, gid;                  ///< switch to this user after setup (-1: stay)
    unsigned long long cpu_mask;   ///< CPUs 0-63 the process may run on (0: any)

    // The jail (with new_namespaces): a root of its own, nothing of the host's.
    const char *jail_root;         ///< non-NULL: bind `binds` into it, pivot_root into it,
                                   ///< detach the old root, mount /proc, make / read-only
    const struct clickos_bind *binds;
    int bind_count;
    const unsigned *groups;        ///< supplementary groups (with uid/gid)
    int group_count;
    int harden;                    ///< drop every capability (bounding and ambient sets),
                                   ///< set no_new_privs, apply the limits below
    int keep_net_raw;              ///< with harden: keep CAP_NET_RAW alone (ambient), for
                                   ///< a VM with host network access (AF_PACKET)
    unsigned long long limit_nofile, limit_nproc, limit_memlock, limit_fsize;
};

/// One bind mount of a jail: `source` (a host file or directory) at `target` (an absolute
/// host path inside the jail root, made beforehand), read-only when asked.
struct clickos_bind {
    const char *source;
    const char *target;
    int read_only;
};

/// Starts `spec->path` in a new session (and, when asked, new namespaces, with mounts made
/// private and a /proc of the new PID namespace, and a jail) as a child of the caller.
/// With a jail, `spec->path` is the executable's path inside the jail. Returns the
/// child's pid (in the caller's PID namespace) or -1 with errno set. When the child fails
/// before exec, it exits with 127 and writes the reason to its stderr.
int clickos_spawn(const struct clickos_spawn_spec *spec);

/// Creates a new, empty network namespace (loopback only, down) and returns a descriptor
/// for it (O_CLOEXEC), or -1 with errno set. The caller's own namespace is untouched: the
/// namespace is made on a short-lived thread. Creating one costs about 0.6 ms on these
/// machines, so the process backend makes the next VM's ahead of time.
int clickos_create_netns(void);

/// poll(2) with a timeout in nanoseconds (ppoll): -1 waits without limit. `fds` points
/// to `count` struct pollfd (count may be 0: a plain sleep). Once interrupts are caught
/// (clickos_catch_interrupts), a wait that is not a zero-timeout check returns at once,
/// with -1 and EINTR, if the interrupt flag is already set.
int clickos_ppoll(void *fds, unsigned long count, long long timeout_ns);

/// Sets this thread's timer slack (PR_SET_TIMERSLACK): how late the kernel may wake a
/// timed sleep. The default, 50 µs, is longer than the naps of a busy memif receiver.
int clickos_set_timer_slack(unsigned long nanoseconds);

/// Pins the calling thread to CPU `cpu` (sched_setaffinity). Returns 0 or -1.
int clickos_pin_thread(int cpu);

/// Lets the calling thread run on every CPU again. Returns 0 or -1.
int clickos_unpin_thread(void);

/// A pollable descriptor for process `pid` (pidfd_open), or -1.
int clickos_pidfd_open(int pid);

/// This thread's seccomp mode (PR_GET_SECCOMP: 0 none, 2 filter), or -1 where the kernel
/// has no seccomp.
int clickos_seccomp_mode(void);

#endif

// MARK: A guest's init (clickos-vm as PID 1 of a VM image)

/// Mounts devtmpfs on /dev, proc on /proc and sysfs on /sys (creating the directories);
/// returns 0, or -1 with errno for the first that failed (already mounted counts as done).
int clickos_guest_mounts(void);
/// Loads the kernel module in `path` (finit_module); 0, or -1 with errno (EEXIST: loaded).
int clickos_load_module(const char *path);
/// Sets IFF_UP on interface `name`; 0 or -1 with errno.
int clickos_interface_up(const char *name);
/// Syncs and powers the machine off (PID 1 only); returns only on failure.
void clickos_power_off(void);
