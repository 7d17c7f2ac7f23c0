#define _GNU_SOURCE
#include "cshims.h"

#include <signal.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

int clickos_packet_socket(const char *ifname, int promiscuous) {
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) return -1;
    unsigned index = if_nametoindex(ifname);
    if (index == 0) {
        int saved = errno;
        close(fd);
        errno = saved ? saved : ENODEV;
        return -1;
    }
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int) index;
    if (bind(fd, (struct sockaddr *) &address, sizeof address) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (promiscuous) {
        struct packet_mreq mreq;
        memset(&mreq, 0, sizeof mreq);
        mreq.mr_ifindex = (int) index;
        mreq.mr_type = PACKET_MR_PROMISC;
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    }
    return fd;
}

int clickos_ignore_outgoing(int fd) {
    int one = 1;
    return setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
}

void *clickos_rx_ring(int fd, unsigned block_size, unsigned block_count, unsigned frame_size, unsigned timeout_ms) {
    int version = TPACKET_V3;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) return NULL;
    struct tpacket_req3 req;
    memset(&req, 0, sizeof req);
    req.tp_block_size = block_size;
    req.tp_block_nr = block_count;
    req.tp_frame_size = frame_size;
    req.tp_frame_nr = (block_size / frame_size) * block_count;
    req.tp_retire_blk_tov = timeout_ms;
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return NULL;
    void *ring = mmap(NULL, (size_t) block_size * block_count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return ring == MAP_FAILED ? NULL : ring;
}

void clickos_rx_ring_free(void *ring, unsigned block_size, unsigned block_count) {
    if (ring) munmap(ring, (size_t) block_size * block_count);
}

static struct tpacket_block_desc *block_at(void *ring, unsigned block_size, unsigned index) {
    return (struct tpacket_block_desc *) ((char *) ring + (size_t) block_size * index);
}

int clickos_block_ready(void *ring, unsigned block_size, unsigned index) {
    struct tpacket_block_desc *b = block_at(ring, block_size, index);
    return (__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

unsigned clickos_block_packet_count(void *ring, unsigned block_size, unsigned index) {
    return block_at(ring, block_size, index)->hdr.bh1.num_pkts;
}

void *clickos_block_first_packet(void *ring, unsigned block_size, unsigned index) {
    struct tpacket_block_desc *b = block_at(ring, block_size, index);
    return (char *) b + b->hdr.bh1.offset_to_first_pkt;
}

void clickos_block_release(void *ring, unsigned block_size, unsigned index) {
    __atomic_store_n(&block_at(ring, block_size, index)->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

void *clickos_packet_next(void *packet) {
    struct tpacket3_hdr *h = (struct tpacket3_hdr *) packet;
    return (char *) packet + h->tp_next_offset;
}

const unsigned char *clickos_packet_data(void *packet, unsigned *length) {
    struct tpacket3_hdr *h = (struct tpacket3_hdr *) packet;
    *length = h->tp_snaplen;
    return (const unsigned char *) packet + h->tp_mac;
}

int clickos_send_frames(int fd, const void *const *frames, const unsigned *lengths, unsigned count) {
    struct mmsghdr messages[64];
    struct iovec vectors[64];
    if (count > 64) count = 64;
    memset(messages, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        vectors[i].iov_base = (void *) frames[i];
        vectors[i].iov_len = lengths[i];
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    return sendmmsg(fd, messages, count, 0);
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
    (void)sig;
    interrupted = 1;
}

void clickos_catch_interrupts(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESETHAND;   /* no SA_RESTART: a sleeping poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A parent may have started us with these signals blocked. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

const volatile int *clickos_interrupt_flag(void) {
    return (const volatile int *)&interrupted;
}
