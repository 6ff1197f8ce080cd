/*
 * cache.c - a binary image of a loaded catalog, so later runs skip CSV
 * parsing.
 *
 * The file ($XDG_CACHE_HOME/skyc/catalog-<key hash>.bin) holds a header, the
 * key string (every source path with its size and mtime), the offering,
 * region and zone arrays, and the strings. It is written to a temporary file
 * and renamed, so readers see a whole image or none. A header, key or size
 * mismatch makes the loader ignore the file and parse the CSVs again; the
 * cache is an accelerator, never a source of truth.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "catalog/catalog_internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "SKYCCAT3"

struct cache_header {
    char magic[8];
    uint32_t key_len;
    uint32_t noffers, nregions, nzones, nnames, naccels;
    uint32_t strings_len;
    uint64_t total_size;
};

struct cache_source {
    uint8_t loaded, builtin;
    uint32_t path_off; /* into strings, UINT32_MAX for none */
    uint64_t rows, offers;
    int64_t mtime;
};

struct cache_region {
    uint32_t cloud, name_off;
};

struct cache_zone {
    uint32_t region, name_off;
};

static uint32_t add_string(struct strbuf *sb, const char *s)
{
    if (!s)
        return UINT32_MAX;
    uint32_t off = (uint32_t)sb->len;
    strbuf_add(sb, s, strlen(s) + 1);
    return off;
}

static bool write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

void catalog_cache_save(const struct catalog *cat, const char *key,
                        const char *path)
{
    struct strbuf strings = STRBUF_INIT;
    struct cache_region *regions =
        xcalloc(cat->nregions + 1, sizeof(*regions));
    struct cache_zone *zones = xcalloc(cat->nzones + 1, sizeof(*zones));
    uint32_t *names = xcalloc(cat->nnames + 1, sizeof(*names));
    uint32_t *accels = xcalloc(cat->naccels + 1, sizeof(*accels));
    struct cache_source sources[CLOUD_COUNT];
    uint32_t accel_path;
    for (size_t i = 0; i < cat->nregions; i++)
        regions[i] = (struct cache_region){cat->regions[i].cloud,
                                           add_string(&strings,
                                                      cat->regions[i].name)};
    for (size_t i = 0; i < cat->nzones; i++)
        zones[i] = (struct cache_zone){cat->zones[i].region,
                                       add_string(&strings,
                                                  cat->zones[i].name)};
    for (size_t i = 0; i < cat->nnames; i++)
        names[i] = add_string(&strings, cat->names[i]);
    for (size_t i = 0; i < cat->naccels; i++)
        accels[i] = add_string(&strings, cat->accels[i]);
    for (int c = 0; c < CLOUD_COUNT; c++) {
        const struct catalog_source *s = &cat->sources[c];
        sources[c] = (struct cache_source){
            s->loaded, s->builtin, add_string(&strings, s->path), s->rows,
            s->offers, (int64_t)s->mtime};
    }
    accel_path = add_string(&strings, cat->accelerators_path);

    struct cache_header h = {0};
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.key_len = (uint32_t)strlen(key);
    h.noffers = (uint32_t)cat->noffers;
    h.nregions = (uint32_t)cat->nregions;
    h.nzones = (uint32_t)cat->nzones;
    h.nnames = (uint32_t)cat->nnames;
    h.naccels = (uint32_t)cat->naccels;
    h.strings_len = (uint32_t)strings.len;
    h.total_size = sizeof(h) + h.key_len + sizeof(sources) +
                   sizeof(accel_path) +
                   cat->noffers * sizeof(*cat->offers) +
                   cat->nregions * sizeof(*regions) +
                   cat->nzones * sizeof(*zones) +
                   cat->nnames * sizeof(*names) +
                   cat->naccels * sizeof(*accels) + strings.len;

    char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0 && write_all(fd, &h, sizeof(h)) &&
              write_all(fd, key, h.key_len) &&
              write_all(fd, sources, sizeof(sources)) &&
              write_all(fd, &accel_path, sizeof(accel_path)) &&
              write_all(fd, cat->offers, cat->noffers * sizeof(*cat->offers)) &&
              write_all(fd, regions, cat->nregions * sizeof(*regions)) &&
              write_all(fd, zones, cat->nzones * sizeof(*zones)) &&
              write_all(fd, names, cat->nnames * sizeof(*names)) &&
              write_all(fd, accels, cat->naccels * sizeof(*accels)) &&
              write_all(fd, strings.buf, strings.len);
    if (fd >= 0 && close(fd))
        ok = false;
    if (!ok || rename(tmp, path))
        unlink(tmp);
    free(tmp);
    free(regions);
    free(zones);
    free(names);
    free(accels);
    strbuf_release(&strings);
}

/* The string at off, or NULL when off is outside the string block. */
static const char *cache_str(const char *strings, uint32_t len, uint32_t off)
{
    return off < len ? strings + off : NULL;
}

/* The i-th uint32 of an unaligned array. */
static uint32_t u32_at(const void *base, size_t i)
{
    uint32_t v;
    memcpy(&v, (const char *)base + i * sizeof(v), sizeof(v));
    return v;
}

/* Take n bytes at *p if they fit before end. */
static const void *take(const char **p, const char *end, size_t n)
{
    if ((size_t)(end - *p) < n)
        return NULL;
    const void *r = *p;
    *p += n;
    return r;
}

bool catalog_cache_load(struct catalog *cat, const char *key,
                        const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    bool ok = false;
    if (strbuf_read_file(&sb, path))
        goto out;
    const char *p = sb.buf, *end = sb.buf + sb.len;
    struct cache_header h;
    const void *hp = take(&p, end, sizeof(h));
    if (!hp)
        goto out;
    memcpy(&h, hp, sizeof(h));
    if (memcmp(h.magic, CACHE_MAGIC, 8) || h.total_size != sb.len ||
        h.key_len != strlen(key))
        goto out;
    const char *k = take(&p, end, h.key_len);
    if (!k || memcmp(k, key, h.key_len))
        goto out;
    struct cache_source sources[CLOUD_COUNT];
    uint32_t accel_path;
    const void *sp = take(&p, end, sizeof(sources));
    const void *ap = take(&p, end, sizeof(accel_path));
    const void *op = take(&p, end, (size_t)h.noffers * sizeof(*cat->offers));
    const char *rp =
        take(&p, end, (size_t)h.nregions * sizeof(struct cache_region));
    const char *zp =
        take(&p, end, (size_t)h.nzones * sizeof(struct cache_zone));
    const void *np = take(&p, end, (size_t)h.nnames * sizeof(uint32_t));
    const void *cp = take(&p, end, (size_t)h.naccels * sizeof(uint32_t));
    const char *strings = take(&p, end, h.strings_len);
    if (!sp || !ap || !op || !rp || !zp || !np || !cp || !strings ||
        p != end || (h.strings_len && strings[h.strings_len - 1]))
        goto out;
    memcpy(sources, sp, sizeof(sources));
    memcpy(&accel_path, ap, sizeof(accel_path));
    for (uint32_t i = 0; i < h.nregions; i++) {
        struct cache_region r;
        memcpy(&r, rp + i * sizeof(r), sizeof(r));
        if (r.cloud >= CLOUD_COUNT || !cache_str(strings, h.strings_len, r.name_off) ||
            catalog_intern_region(cat, (enum cloud)r.cloud,
                                  cache_str(strings, h.strings_len, r.name_off)) != i)
            goto out;
    }
    for (uint32_t i = 0; i < h.nzones; i++) {
        struct cache_zone z;
        memcpy(&z, zp + i * sizeof(z), sizeof(z));
        if (z.region >= h.nregions || !cache_str(strings, h.strings_len, z.name_off) ||
            catalog_intern_zone(cat, z.region, cache_str(strings, h.strings_len, z.name_off)) != i)
            goto out;
    }
    for (uint32_t i = 0; i < h.nnames; i++)
        if (!cache_str(strings, h.strings_len, u32_at(np, i)) || catalog_intern_name(cat, cache_str(strings, h.strings_len, u32_at(np, i))) != i)
            goto out;
    for (uint32_t i = 0; i < h.naccels; i++)
        if (!cache_str(strings, h.strings_len, u32_at(cp, i)) || catalog_intern_accel(cat, cache_str(strings, h.strings_len, u32_at(cp, i))) != i)
            goto out;
    cat->offers = xcalloc(h.noffers + 1, sizeof(*cat->offers));
    memcpy(cat->offers, op, (size_t)h.noffers * sizeof(*cat->offers));
    cat->noffers = cat->offers_alloc = h.noffers;
    for (uint32_t i = 0; i < h.noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        if (o->region >= h.nregions || o->instance >= h.nnames ||
            (o->zone != CATALOG_NONE && o->zone >= h.nzones) ||
            (o->accel != CATALOG_NONE && o->accel >= h.naccels) ||
            o->cloud >= CLOUD_COUNT)
            goto out;
    }
    for (int c = 0; c < CLOUD_COUNT; c++) {
        struct catalog_source *s = &cat->sources[c];
        s->loaded = sources[c].loaded;
        s->builtin = sources[c].builtin;
        s->path = cache_str(strings, h.strings_len, sources[c].path_off) ? xstrdup(cache_str(strings, h.strings_len, sources[c].path_off))
                                           : NULL;
        s->rows = (size_t)sources[c].rows;
        s->offers = (size_t)sources[c].offers;
        s->mtime = (time_t)sources[c].mtime;
    }
    if (cache_str(strings, h.strings_len, accel_path))
        cat->accelerators_path = xstrdup(cache_str(strings, h.strings_len, accel_path));
    ok = true;
out:
    strbuf_release(&sb);
    return ok;
}
