/*
 * chunk.h - splitting a list of objects into chunks.
 *
 * Objects are taken in key order. An object of at least chunk_size/2 bytes
 * gets chunks of its own (chunk_size each, the last one shorter); smaller
 * objects are packed together, up to chunk_size bytes and CHUNK_MAX_SEGS
 * objects per chunk. The layout depends only on the list and chunk_size, so
 * the same transfer has the same chunk ids on every run (the manifest relies
 * on it). An object that spans several chunks needs a COMMIT once all its
 * chunks are written; a packed or single-chunk object is complete with its
 * chunk.
 */
#ifndef SKYC_TRANSFER_CHUNK_H
#define SKYC_TRANSFER_CHUNK_H

#include "core/common.h"
#include "transfer/endpoint.h"

#define CHUNK_DEFAULT_SIZE (64u << 20)
#define CHUNK_MIN_SIZE (64u << 10)
#define CHUNK_MAX_SIZE (256u << 20)
#define CHUNK_MAX_SEGS 8192

struct chunk_seg {
    uint32_t obj;     /* index into the object list */
    uint64_t offset;
    uint32_t len;
};

struct chunk {
    uint32_t first_seg, nsegs;
    uint64_t bytes;
};

struct chunk_layout {
    struct chunk *chunks;
    size_t nchunks;
    struct chunk_seg *segs;
    size_t nsegs;
    /* per object: its chunk count, and whether it needs a COMMIT */
    uint32_t *obj_nchunks;
    bool *obj_commit;
    uint64_t total_bytes;
};

void chunk_layout_build(struct chunk_layout *lay, const struct ep_list *objs,
                        uint32_t chunk_size);
void chunk_layout_release(struct chunk_layout *lay);

#endif
