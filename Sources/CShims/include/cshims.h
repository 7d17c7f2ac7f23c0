// The few C facilities Swift's Glibc module lacks (it is built without _GNU_SOURCE):
// AF_PACKET TPACKET_V3 receive rings and sendmmsg, wrapped in small functions so that
// Swift never handles the kernel's structures directly.
#ifndef CLICKOS_CSHIMS_H
#define CLICKOS_CSHIMS_H

#include <stddef.h>
#include <stdint.h>

/// A raw AF_PACKET socket bound to interface `ifname` (all protocols), non-blocking.
/// Returns the descriptor, or -1 with errno set.
int clickos_packet_socket(const char *ifname, int promiscuous);

/// Asks the kernel not to deliver packets this socket (or others) sent out of the same
/// interface. Returns 0 or -1.
int clickos_ignore_outgoing(int fd);

/// Sets up a TPACKET_V3 receive ring of `block_count` blocks of `block_size` bytes and
/// maps it. Returns the ring, or NULL with errno set.
void *clickos_rx_ring(int fd, unsigned block_size, unsigned block_count, unsigned frame_size, unsigned timeout_ms);

/// Unmaps a ring made by clickos_rx_ring.
void clickos_rx_ring_free(void *ring, unsigned block_size, unsigned block_count);

/// Block `index` of a ring: non-zero if the kernel has handed it to user space.
int clickos_block_ready(void *ring, unsigned block_size, unsigned index);
unsigned clickos_block_packet_count(void *ring, unsigned block_size, unsigned index);
/// The first packet header of a ready block.
void *clickos_block_first_packet(void *ring, unsigned block_size, unsigned index);
/// Gives a block back to the kernel.
void clickos_block_release(void *ring, unsigned block_size, unsigned index);

/// The next packet header after `packet` in its block.
void *clickos_packet_next(void *packet);
/// The captured bytes of `packet` and their count.
const unsigned char *clickos_packet_data(void *packet, unsigned *length);

/// Sends `count` frames (at most 64) with one sendmmsg call; returns how many went, or -1.
int clickos_send_frames(int fd, const void *const *frames, const unsigned *lengths, unsigned count);

/// Catches SIGINT and SIGTERM once: the first sets the flag `clickos_interrupt_flag`
/// points to (the driver then stops gracefully); the handler resets itself, so a second
/// signal ends the process as usual.
void clickos_catch_interrupts(void);
/// The flag the interrupt handler sets (non-zero after SIGINT or SIGTERM).
const volatile int *clickos_interrupt_flag(void);

#endif
