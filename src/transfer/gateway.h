/*
 * gateway.h - the `skyc gateway` daemon of the data plane (libuv).
 *
 * A gateway listens on one TCP address. Each incoming connection starts with
 * a HELLO (wire.h). With hops left on its route the gateway is a relay for
 * that connection: it connects to the next hop, forwards the HELLO minus that
 * hop, then forwards frames in both directions from memory (never touching
 * disk), reading from the upstream side only while the downstream side keeps
 * up. With no hops left it is the last hop: it opens the HELLO's destination
 * endpoint, and for each CHUNK verifies the checksum (and GCM tag), writes
 * the segments and answers ACK; a bad chunk gets NACK so the sender resends
 * it; a COMMIT makes a multi-chunk object visible. Decoding and writing run
 * on libuv's thread pool, two chunks at a time per connection.
 *
 * A HELLO that carries a key (sent by the client straight to the last hop,
 * never through relays) registers the transfer's AES-256-GCM key.
 */
#ifndef SKYC_TRANSFER_GATEWAY_H
#define SKYC_TRANSFER_GATEWAY_H

#include "core/common.h"
#include "core/error.h"

struct gateway_opts {
    const char *listen;     /* "HOST:PORT"; port 0 picks one */
    bool exit_with_parent;  /* die when the parent process does */
    /* Only write under this directory (HELLO destinations must be inside
     * it; S3 destinations are refused). NULL: anywhere this user may. */
    const char *root;
    /* Chunk bytes held for writing at the last hop, all connections
     * together, before reading pauses (0: 512 MiB). */
    uint64_t max_buffer;
    /* Testing: flip one bit in the payload of the Nth CHUNK this gateway
     * forwards or receives (1-based; 0 = never), to show it is caught. */
    long fault_flip;
    /* Testing: exit abruptly (as if killed) on the Nth CHUNK (0 = never). */
    long fault_exit;
};

/*
 * Serve until SIGTERM/SIGINT. Prints "listening on HOST:PORT" on stdout
 * (flushed) once bound. Returns SKYC_E_NETWORK when it cannot listen.
 */
enum skyc_err gateway_run(const struct gateway_opts *o, struct skyc_error *err);

#endif
