#include "core/common.h"
#include "core/alloc.h"
#include "core/strmap.h"

struct arena_block {
    struct arena_block *next;
    size_t used, size;
    max_align_t data[];
};

void arena_init(struct arena *a)
{
    a->head = NULL;
}

void arena_release(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void *arena_alloc(struct arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t bsize = SKYC_MAX((size_t)64 * 1024, size);
        b = xcalloc(1, sizeof(*b) + bsize);
        b->size = bsize;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof(*m));
    arena_init(&m->keys);
}

void strmap_release(struct strmap *m)
{
    free(m->slots);
    arena_release(&m->keys);
    strmap_init(m);
}

static struct strmap_entry *find_slot(struct strmap_entry *slots, size_t cap,
                                      const char *key, uint64_t hash)
{
    size_t i = (size_t)hash & (cap - 1);
    for (;;) {
        struct strmap_entry *e = &slots[i];
        if (!e->key || (e->hash == hash && !strcmp(e->key, key)))
            return e;
        i = (i + 1) & (cap - 1);
    }
}

bool strmap_get(const struct strmap *m, const char *key, uint32_t *value)
{
    if (!m->cap)
        return false;
    struct strmap_entry *e =
        find_slot(m->slots, m->cap, key, strmap_hash(key));
    if (!e->key)
        return false;
    *value = e->value;
    return true;
}

static void grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct strmap_entry *ns = xcalloc(ncap, sizeof(*ns));
    for (size_t i = 0; i < m->cap; i++) {
        struct strmap_entry *e = &m->slots[i];
        if (e->key)
            *find_slot(ns, ncap, e->key, e->hash) = *e;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

const char *strmap_put(struct strmap *m, const char *key, uint32_t *value)
{
    if ((m->len + 1) * 4 > m->cap * 3)
        grow(m);
    uint64_t hash = strmap_hash(key);
    struct strmap_entry *e = find_slot(m->slots, m->cap, key, hash);
    if (e->key) {
        *value = e->value;
        return e->key;
    }
    e->key = arena_strdup(&m->keys, key);
    e->hash = hash;
    e->value = *value;
    m->len++;
    return e->key;
}
