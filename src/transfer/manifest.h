/*
 * manifest.h - what a transfer has already moved, so that re-running the
 * same `skyc cp` after any failure sends only the missing chunks.
 *
 * The transfer id is SHA-256 of the source and destination specs, the chunk
 * size, the codec flags and every object's key, size and mtime: change any
 * of them and it is a new transfer. The manifest is an append-only log under
 * $XDG_STATE_HOME/skyc/transfers/<id>.log: "c <chunk>" when the destination
 * acknowledged a chunk (written, checksum good), "f <object>" when it
 * committed an object. A torn last line is ignored. manifest_remove() deletes
 * it once the transfer is complete.
 */
#ifndef SKYC_TRANSFER_MANIFEST_H
#define SKYC_TRANSFER_MANIFEST_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/endpoint.h"

struct manifest {
    char id[65];
    char *path;
    FILE *log;
    bool *chunk_done; /* nchunks */
    bool *obj_done;   /* nobjs (committed) */
    size_t nchunks, nobjs;
    size_t loaded_chunks; /* chunks already done when opened */
};

void manifest_id(char out[65], const char *src, const char *dst,
                 uint32_t chunk_size, unsigned flags,
                 const struct ep_list *objs);
/* Open (creating) the manifest of id, reading what it already holds. */
enum skyc_err manifest_open(struct manifest *m, const char *id,
                            size_t nchunks, size_t nobjs,
                            struct skyc_error *err);
void manifest_chunk_done(struct manifest *m, size_t chunk);
void manifest_obj_done(struct manifest *m, size_t obj);
/* Close and delete the log (the transfer is complete). */
void manifest_remove(struct manifest *m);
void manifest_release(struct manifest *m);

#endif
