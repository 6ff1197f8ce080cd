/*
 * chunk.c - the chunk layout of a transfer.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "transfer/chunk.h"

struct builder {
    struct chunk_layout *lay;
    size_t calloc_, salloc;
    bool open; /* the last chunk is a pack that still takes objects */
};

static struct chunk *new_chunk(struct builder *b)
{
    struct chunk_layout *lay = b->lay;
    ALLOC_GROW(lay->chunks, lay->nchunks + 1, b->calloc_);
    struct chunk *c = &lay->chunks[lay->nchunks++];
    c->first_seg = (uint32_t)lay->nsegs;
    c->nsegs = 0;
    c->bytes = 0;
    return c;
}

static void add_seg(struct builder *b, struct chunk *c, uint32_t obj,
                    uint64_t off, uint32_t len)
{
    struct chunk_layout *lay = b->lay;
    ALLOC_GROW(lay->segs, lay->nsegs + 1, b->salloc);
    lay->segs[lay->nsegs].obj = obj;
    lay->segs[lay->nsegs].offset = off;
    lay->segs[lay->nsegs].len = len;
    lay->nsegs++;
    c->nsegs++;
    c->bytes += len;
    lay->obj_nchunks[obj]++;
}

void chunk_layout_build(struct chunk_layout *lay, const struct ep_list *objs,
                        uint32_t chunk_size)
{
    struct builder b = {lay, 0, 0, false};
    memset(lay, 0, sizeof(*lay));
    lay->obj_nchunks = xcalloc(objs->n + 1, sizeof(uint32_t));
    lay->obj_commit = xcalloc(objs->n + 1, sizeof(bool));
    for (size_t i = 0; i < objs->n; i++) {
        uint64_t size = objs->v[i].size;
        lay->total_bytes += size;
        if (size >= chunk_size / 2) {
            b.open = false;
            for (uint64_t off = 0; off < size; off += chunk_size) {
                struct chunk *c = new_chunk(&b);
                add_seg(&b, c, (uint32_t)i, off,
                        (uint32_t)SKYC_MIN(chunk_size, size - off));
            }
            lay->obj_commit[i] = lay->obj_nchunks[i] > 1;
            continue;
        }
        struct chunk *c = b.open ? &lay->chunks[lay->nchunks - 1] : NULL;
        if (!c || c->bytes + size > chunk_size || c->nsegs >= CHUNK_MAX_SEGS)
            c = new_chunk(&b);
        add_seg(&b, c, (uint32_t)i, 0, (uint32_t)size);
        b.open = true;
    }
}

void chunk_layout_release(struct chunk_layout *lay)
{
    free(lay->chunks);
    free(lay->segs);
    free(lay->obj_nchunks);
    free(lay->obj_commit);
    memset(lay, 0, sizeof(*lay));
}
