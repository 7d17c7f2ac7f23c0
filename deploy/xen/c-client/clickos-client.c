/*
 * clickos-client: the planner's wire contract from C, for tools on a Xen control domain.
 * Built from proto/clickos.proto with protoc-c and libprotobuf-c (generated/, regenerated
 * by scripts/gen-proto.sh), over a ZeroMQ DEALER socket (one Envelope per message), as
 * proto/clickos.proto describes the transport.
 *
 *   clickos-client [--key KEY --planner-key PUB] ENDPOINT COMMAND ...
 *
 *   clickos-client ENDPOINT register HOST [CORES] [PACKETS_PER_CORE]
 *       registers HOST (vm backend "xen"), then sends one heartbeat for it
 *   clickos-client ENDPOINT hosts      lists the hosts the planner knows
 *   clickos-client ENDPOINT chains     lists the chains and their placements
 *
 * Prints one line per result; errors go to standard error with the planner's own message,
 * and the exit status is 1. With --key (a pair made by `clickos keygen`, its public key in
 * the planner's authorized/ directory) and --planner-key (the planner's .pub), the
 * connection is CURVE-encrypted and authenticated, as the Swift CLI's; a planner that does
 * not know the key does not answer (no reply within 5 s).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "generated/clickos.pb-c.h"

static const char *sender = "cli:clickos-client";
static uint64_t next_id = 1;

/* Sends one envelope (its payload set by the caller); returns its request id, 0 on failure. */
static uint64_t send_envelope(void *socket, Clickos__V1__Envelope *e) {
    e->version = 1;
    e->sender = (char *)sender;
    e->request_id = next_id++;
    size_t length = clickos__v1__envelope__get_packed_size(e);
    uint8_t *buffer = malloc(length ? length : 1);
    if (!buffer) return 0;
    clickos__v1__envelope__pack(e, buffer);
    int rc = zmq_send(socket, buffer, length, 0);
    free(buffer);
    if (rc < 0) {
        fprintf(stderr, "clickos-client: send: %s\n", zmq_strerror(zmq_errno()));
        return 0;
    }
    return e->request_id;
}

/* Waits up to 5 s for the reply to request `id` (messages for other ids are skipped).
 * Returns the unpacked envelope (free with clickos__v1__envelope__free_unpacked) or NULL. */
static Clickos__V1__Envelope *receive_reply(void *socket, uint64_t id) {
    for (;;) {
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 5000) <= 0) {
            fprintf(stderr, "clickos-client: no reply from the planner within 5 s\n");
            return NULL;
        }
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, socket, 0) < 0) {
            fprintf(stderr, "clickos-client: receive: %s\n", zmq_strerror(zmq_errno()));
            zmq_msg_close(&msg);
            return NULL;
        }
        Clickos__V1__Envelope *e = clickos__v1__envelope__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!e) {
            fprintf(stderr, "clickos-client: the planner sent something that is not an Envelope\n");
            return NULL;
        }
        if (e->request_id == id) {
            if (e->payload_case == CLICKOS__V1__ENVELOPE__PAYLOAD_ERROR) {
                fprintf(stderr, "clickos-client: the planner refused: %s\n", e->error->message);
                clickos__v1__envelope__free_unpacked(e, NULL);
                return NULL;
            }
            return e;
        }
        clickos__v1__envelope__free_unpacked(e, NULL);
    }
}

/* Sends a request and returns the reply if it carries `expected`, else NULL (said why). */
static Clickos__V1__Envelope *ask(void *socket, Clickos__V1__Envelope *request, Clickos__V1__Envelope__PayloadCase expected,
                                  const char *what) {
    uint64_t id = send_envelope(socket, request);
    Clickos__V1__Envelope *reply = id ? receive_reply(socket, id) : NULL;
    if (reply && reply->payload_case != expected) {
        fprintf(stderr, "clickos-client: %s: unexpected reply payload %d\n", what, reply->payload_case);
        clickos__v1__envelope__free_unpacked(reply, NULL);
        return NULL;
    }
    return reply;
}

static int do_register(void *socket, const char *host, uint32_t cores, double pps) {
    Clickos__V1__Register r = CLICKOS__V1__REGISTER__INIT;
    char *backends[] = {"xen"};
    r.host_name = (char *)host;
    r.cores = cores;
    r.memory_bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    r.n_vm_backends = 1;
    r.vm_backends = backends;
    r.packets_per_core = pps;
    r.agent_version = "clickos-client (C, protobuf-c)";
    Clickos__V1__Envelope e = CLICKOS__V1__ENVELOPE__INIT;
    e.payload_case = CLICKOS__V1__ENVELOPE__PAYLOAD_REGISTER;
    e.register_ = &r;
    Clickos__V1__Envelope *reply = ask(socket, &e, CLICKOS__V1__ENVELOPE__PAYLOAD_ACK, "register");
    if (!reply) return 1;
    clickos__v1__envelope__free_unpacked(reply, NULL);
    printf("registered %s (%" PRIu32 " cores, %.0f packets/s per core)\n", host, cores, pps);

    /* A heartbeat: the planner answers only when it does not know the host. */
    Clickos__V1__Heartbeat h = CLICKOS__V1__HEARTBEAT__INIT;
    h.host_name = (char *)host;
    h.uptime_ms = 1;
    Clickos__V1__Envelope he = CLICKOS__V1__ENVELOPE__INIT;
    he.payload_case = CLICKOS__V1__ENVELOPE__PAYLOAD_HEARTBEAT;
    he.heartbeat = &h;
    if (!send_envelope(socket, &he)) return 1;
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 300) > 0) {
        Clickos__V1__Envelope *refusal = receive_reply(socket, he.request_id);
        if (!refusal) return 1;
        clickos__v1__envelope__free_unpacked(refusal, NULL);
    }
    printf("heartbeat sent for %s\n", host);
    return 0;
}

static int do_hosts(void *socket) {
    Clickos__V1__ListHostsRequest q = CLICKOS__V1__LIST_HOSTS_REQUEST__INIT;
    Clickos__V1__Envelope e = CLICKOS__V1__ENVELOPE__INIT;
    e.payload_case = CLICKOS__V1__ENVELOPE__PAYLOAD_LIST_HOSTS;
    e.list_hosts = &q;
    Clickos__V1__Envelope *reply = ask(socket, &e, CLICKOS__V1__ENVELOPE__PAYLOAD_LIST_HOSTS_REPLY, "hosts");
    if (!reply) return 1;
    Clickos__V1__ListHostsReply *r = reply->list_hosts_reply;
    printf("hosts: %zu\n", r->n_hosts);
    for (size_t i = 0; i < r->n_hosts; i++) {
        Clickos__V1__HostSummary *h = r->hosts[i];
        printf("host %s cores %" PRIu32 " packets_per_core %.0f vms %" PRIu32 " backends", h->name, h->cores, h->packets_per_core, h->vms);
        for (size_t b = 0; b < h->n_vm_backends; b++) printf("%s%s", b ? "," : " ", h->vm_backends[b]);
        printf("\n");
    }
    clickos__v1__envelope__free_unpacked(reply, NULL);
    return 0;
}

static int do_chains(void *socket) {
    Clickos__V1__ListChainsRequest q = CLICKOS__V1__LIST_CHAINS_REQUEST__INIT;
    Clickos__V1__Envelope e = CLICKOS__V1__ENVELOPE__INIT;
    e.payload_case = CLICKOS__V1__ENVELOPE__PAYLOAD_LIST_CHAINS;
    e.list_chains = &q;
    Clickos__V1__Envelope *reply = ask(socket, &e, CLICKOS__V1__ENVELOPE__PAYLOAD_LIST_CHAINS_REPLY, "chains");
    if (!reply) return 1;
    Clickos__V1__ListChainsReply *r = reply->list_chains_reply;
    printf("chains: %zu\n", r->n_chains);
    for (size_t i = 0; i < r->n_chains; i++) {
        Clickos__V1__ChainSummary *c = r->chains[i];
        printf("chain %s generation %" PRIu64 " placements %zu\n", c->name, c->generation, c->n_placements);
    }
    clickos__v1__envelope__free_unpacked(reply, NULL);
    return 0;
}

/* Reads `name = "<40 Z85 characters>"` from a key file of `clickos keygen` into `out`
 * (41 bytes). Returns 0, or -1 after saying why. */
static int read_key(const char *path, const char *name, char *out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "clickos-client: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[512];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        char key[32], value[64];
        if (line[0] == '#') continue;
        if (sscanf(line, " %31[a-z] = \"%63[^\"]\"", key, value) == 2 && strcmp(key, name) == 0 && strlen(value) == 40) {
            memcpy(out, value, 41);
            found = 0;
        }
    }
    fclose(f);
    if (found != 0) fprintf(stderr, "clickos-client: %s: no %s key (expected %s = \"<40 Z85 characters>\")\n", path, name, name);
    return found;
}

int main(int argc, char **argv) {
    const char *key_file = NULL, *planner_key_file = NULL;
    while (argc >= 3 && (strcmp(argv[1], "--key") == 0 || strcmp(argv[1], "--planner-key") == 0)) {
        if (strcmp(argv[1], "--key") == 0) key_file = argv[2]; else planner_key_file = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: clickos-client [--key KEY --planner-key PUB] ENDPOINT register HOST [CORES] [PACKETS_PER_CORE] | hosts | chains\n");
        return 2;
    }
    if ((key_file == NULL) != (planner_key_file == NULL)) {
        fprintf(stderr, "clickos-client: --key and --planner-key go together: CURVE needs this client's key pair and the planner's public key\n");
        return 2;
    }
    void *context = zmq_ctx_new();
    void *socket = zmq_socket(context, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof linger);
    if (key_file) {
        char server[41], public_key[41], secret[41];
        if (read_key(planner_key_file, "public", server) || read_key(key_file, "public", public_key) || read_key(key_file, "secret", secret)) return 1;
        if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server, 41) || zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, public_key, 41)
            || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, secret, 41)) {
            fprintf(stderr, "clickos-client: CURVE: %s\n", zmq_strerror(zmq_errno()));
            return 1;
        }
        memset(secret, 0, sizeof secret);
    }
    if (zmq_connect(socket, argv[1]) != 0) {
        fprintf(stderr, "clickos-client: %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
        return 1;
    }
    int status;
    if (strcmp(argv[2], "register") == 0 && argc >= 4) {
        uint32_t cores = argc >= 5 ? (uint32_t)strtoul(argv[4], NULL, 10) : 2;
        double pps = argc >= 6 ? strtod(argv[5], NULL) : 1e6;
        status = do_register(socket, argv[3], cores, pps);
    } else if (strcmp(argv[2], "hosts") == 0) {
        status = do_hosts(socket);
    } else if (strcmp(argv[2], "chains") == 0) {
        status = do_chains(socket);
    } else {
        fprintf(stderr, "clickos-client: unknown command '%s'\n", argv[2]);
        status = 2;
    }
    zmq_close(socket);
    zmq_ctx_term(context);
    return status;
}
