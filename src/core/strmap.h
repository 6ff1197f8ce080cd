/*
 * strmap.h - an open-addressing hash map from strings to uint32 values, and
 * the string arena it keeps its keys in.
 *
 * struct arena: a bump allocator for strings and small objects that are
 * built once and freed together (catalog names, ...). arena_strdup() copies
 * are valid until arena_release().
 *
 * struct strmap: keys are copied into the map's own arena; lookups never
 * allocate. Values are whatever the caller stores (usually array indexes).
 */
#ifndef SKYC_CORE_STRMAP_H
#define SKYC_CORE_STRMAP_H

#include "core/common.h"

struct arena_block;

struct arena {
    struct arena_block *head;
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t size); /* 8-byte aligned, zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

struct strmap_entry {
    const char *key; /* NULL = empty slot */
    uint64_t hash;
    uint32_t value;
};

struct strmap {
    struct strmap_entry *slots;
    size_t cap; /* power of two */
    size_t len;
    struct arena keys;
};

void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);

/* The value stored for key, in *value; false when absent. */
bool strmap_get(const struct strmap *m, const char *key, uint32_t *value);

/*
 * Insert key with value unless present. Returns the stored key (owned by the
 * map) and sets *value to the value now stored (the old one if present).
 */
const char *strmap_put(struct strmap *m, const char *key, uint32_t *value);

uint64_t strmap_hash(const char *s);

#endif
