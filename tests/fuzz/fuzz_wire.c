/* libFuzzer entry for the data plane's wire decoders: frame header, chunk
 * body, commit segment, HELLO, SOURCE request and STATUS. Any bytes, never a crash; whatever decodes
 * satisfies the invariants the gateway relies on. */
#include "core/common.h"
#include "transfer/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_hdr h;
    struct wire_body body;
    struct wire_seg seg;
    struct wire_hello hello;
    struct wire_source src;
    struct wire_status status;
    if (size > 1 << 20)
        return 0;
    if (wire_hdr_decode(&h, data, size, NULL) == SKYC_OK &&
        (h.payload_len > WIRE_MAX_PAYLOAD || h.type > WIRE_STATUS))
        abort();
    if (wire_body_decode(&body, data, size, NULL) == SKYC_OK) {
        uint64_t total = 0;
        for (size_t i = 0; i < body.nsegs; i++) {
            const struct wire_seg *s = &body.segs[i];
            if (!wire_path_ok(s->path, strlen(s->path)) ||
                s->offset + s->len > s->file_size)
                abort();
            total += s->len;
        }
        if (total != body.data_len || body.data + body.data_len > data + size)
            abort();
        wire_body_release(&body);
    }
    if (wire_seg_decode(&seg, data, size, NULL) == SKYC_OK)
        wire_seg_release(&seg);
    if (wire_hello_decode(&hello, data, size, NULL) == SKYC_OK) {
        if (strlen(hello.transfer) != 64 || !hello.dest)
            abort();
        wire_hello_release(&hello);
    }
    if (wire_source_decode(&src, data, size, NULL) == SKYC_OK) {
        if (!src.npaths || !*src.src || !*src.dst)
            abort();
        for (size_t i = 0; i < src.npaths; i++)
            if (!src.paths[i].nhops || src.paths[i].conns < 1)
                abort();
        wire_source_release(&src);
    }
    if (wire_status_decode(&status, data, size, NULL) == SKYC_OK &&
        strnlen(status.msg, sizeof(status.msg)) == sizeof(status.msg))
        abort();
    return 0;
}
