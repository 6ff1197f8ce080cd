/*
 * placement.h - where the copies of each object of a virtual bucket live,
 * and what that costs: the placement engine shared by the S3 server
 * (`skyc store serve`) and the simulator (`skyc store sim`).
 *
 * THE SEAM. The engine does no I/O and reads no clock: every call takes
 * `now` (seconds, any epoch, the caller's clock) and returns a plan, a list
 * of physical actions the caller carries out on the regions' backends, in
 * order:
 *   PLACE_ACT_STORE  write the client's bytes into region dst (PUT; or, on
 *                    a GET, keep the bytes just read as a replica in dst)
 *   PLACE_ACT_COPY   copy the object from region src to region dst
 *   PLACE_ACT_READ   serve the client in region dst from the copy in src
 *   PLACE_ACT_DELETE remove the copy in region dst
 * The server calls place_put() / place_get() / place_delete()
 * for each S3 request and place_advance() from a timer (at
 * place_next_expiry()) to carry out TTL evictions; put/get/delete also
 * run the due evictions first, so a plan may begin with DELETEs. The engine
 * updates its own view (which region holds what) as if the plan succeeded.
 * Time never goes back: a `now` earlier than one already seen is taken as
 * the latest seen.
 *
 * Policies (per bucket, changeable with place_bucket_set_policy(); a
 * change applies to later requests, replicas already made keep their TTL):
 *   single-region   every write goes to the bucket's home region; reads come
 *                   from there
 *   replicate-all   a write lands in the writer's region (the primary) and
 *                   is copied to every region of the bucket, each copy from
 *                   the cheapest region already holding it
 *   write-local     a write lands in the writer's region; reads come from
 *                   the cheapest copy and are never cached
 *   copy-on-read    a write lands in the writer's region; a read from a
 *                   region without a copy is served from the cheapest copy
 *                   and kept there as a replica for a TTL, reset by every
 *                   read of that replica. TTL modes:
 *                     fixed TTL      ttl:DURATION ("ttl:1h", "ttl:7d")
 *                     always-store   TTL = infinity
 *                     always-evict   TTL = 0 (no replica: the bill equals
 *                                    write-local's, by construction)
 *                     break-even     TTL = egress $/GB from the cheapest
 *                                    other holder to the reader / storage
 *                                    $/GB-second at the reader: keep the
 *                                    replica while storing it costs less
 *                                    than fetching it again (ski rental:
 *                                    on each gap between reads it pays at
 *                                    most twice the better of storing and
 *                                    refetching)
 * Every policy: the primary copy (the first one written) is never evicted;
 * reads come from the cheapest copy (least egress $/GB to the reader, the
 * reader's own region being free; ties go to the primary); an overwrite
 * replaces the object in place where the new placement keeps a copy and
 * deletes the other copies; a delete removes every copy.
 *
 * The bill, per bucket and region (cost.h for units and prices):
 *   storage   byte-seconds each copy existed, at the holding region's price
 *   egress    bytes moved out of a region (a write from a client in another
 *             region, a read served to another region, a replication copy)
 *             times the pair's price, billed to the source region
 *   requests  a PUT at each region written (client write, replica, copy
 *             target) and a GET at each region read (client read, copy
 *             source); DELETEs are free, as on S3
 *
 * Names: the engine's API is prefixed place_ (the optimizer's placement_
 * is another module).
 *
 * Threads: an engine is not locked; call it from one thread (the server's
 * event loop) or serialise the calls.
 *
 * Ownership: the engine keeps a pointer to the cost model (which must
 * outlive it) and owns everything else; place_release() frees it. A
 * plan is caller-owned scratch reused across calls (each call resets it).
 */
#ifndef SKYC_STORE_PLACEMENT_H
#define SKYC_STORE_PLACEMENT_H

#include "core/common.h"
#include "core/error.h"
#include "core/strbuf.h"
#include "core/strmap.h"
#include "store/cost.h"

enum place_kind {
    PLACE_SINGLE_REGION,
    PLACE_REPLICATE_ALL,
    PLACE_WRITE_LOCAL,
    PLACE_FIXED_TTL,
    PLACE_ALWAYS_STORE,
    PLACE_ALWAYS_EVICT,
    PLACE_BREAK_EVEN,
};

struct place_policy {
    enum place_kind kind;
    double ttl_s;  /* PLACE_FIXED_TTL */
    uint16_t home; /* PLACE_SINGLE_REGION: a region, or STORE_NO_REGION for
                      the bucket's first region */
};

/*
 * Parse "single-region", "single-region:REGION", "replicate-all",
 * "write-local", "ttl:DURATION" (fixed TTL; "copy-on-read:DURATION" too),
 * "always-store", "always-evict", "break-even". SKYC_E_USAGE on junk.
 */
enum skyc_err place_policy_parse(const char *spec,
                                     const struct store_cost_model *m,
                                     struct place_policy *out,
                                     struct skyc_error *err);

/* The canonical spelling of a policy, parseable again. */
void place_policy_format(const struct place_policy *p,
                             const struct store_cost_model *m, char *buf,
                             size_t size);

enum place_act {
    PLACE_ACT_STORE,
    PLACE_ACT_COPY,
    PLACE_ACT_READ,
    PLACE_ACT_DELETE,
};

struct place_action {
    enum place_act act;
    uint16_t src, dst; /* src is STORE_NO_REGION where it has no meaning */
    uint32_t bucket;
    uint32_t object; /* place_object_key() names it */
    uint64_t bytes;
};

struct place_plan {
    struct place_action *a;
    size_t n, alloc;
};

void place_plan_init(struct place_plan *pl);
void place_plan_release(struct place_plan *pl);

/* The bill of one (bucket, region), or of a sum of them. */
struct place_bill {
    double storage_byte_s;
    double storage_usd;
    double egress_bytes;
    double egress_usd;
    uint64_t gets, puts;
    double request_usd;
    double total_usd;
};

struct place_copy {
    uint16_t region;
    bool primary;
    uint32_t id;   /* unique among live copies, for the eviction heap */
    double expire; /* INFINITY for the primary and permanent replicas */
};

struct place_object {
    uint32_t bucket;
    const char *key; /* owned by the engine's key map */
    uint64_t size;
    bool live;       /* false after a delete */
    uint16_t ncopies, copies_alloc;
    struct place_copy *copies;
};

struct place_cell; /* per (bucket, region) accumulator */
struct place_expiry;

struct place_bucket {
    char *name;
    struct place_policy policy;
    uint16_t *regions; /* the bucket's regions, in the order given */
    size_t nregions;
    struct place_cell *cells; /* one per model region */
};

struct place {
    const struct store_cost_model *model;
    double clock; /* the latest `now` seen */
    uint64_t journal_gen; /* saved, not interpreted: the generation of the
                             journal that follows this state (server) */
    struct place_bucket *buckets;
    size_t nbuckets, buckets_alloc;
    struct place_object *objects;
    size_t nobjects, objects_alloc;
    struct strmap object_index; /* "<bucket>/<key>" -> objects[] index */
    struct place_expiry *heap;
    size_t nheap, heap_alloc;
    uint32_t next_copy_id;
    struct strbuf scratch;
};

void place_init(struct place *p, const struct store_cost_model *m);
void place_release(struct place *p);

/*
 * Add a bucket spanning regions[0..n) (model indexes, n >= 1, no repeats).
 * SKYC_E_INPUT for a duplicate name, an unknown region, or a single-region
 * home outside the bucket. Sets *bucket to its index.
 */
enum skyc_err place_bucket_create(struct place *p, const char *name,
                                      const struct place_policy *policy,
                                      const uint16_t *regions, size_t n,
                                      uint32_t *bucket, struct skyc_error *err);

/* Index of the bucket named name, or UINT32_MAX. */
uint32_t place_bucket_find(const struct place *p, const char *name);

enum skyc_err place_bucket_set_policy(struct place *p, uint32_t bucket,
                                          const struct place_policy *policy,
                                          struct skyc_error *err);

/*
 * A PUT of size bytes from a client in region at time now. Plan: due
 * evictions, then STORE at the primary, then COPYs and DELETEs.
 */
enum skyc_err place_put(struct place *p, uint32_t bucket,
                            const char *key, uint64_t size, uint16_t region,
                            double now, struct place_plan *plan,
                            struct skyc_error *err);

/*
 * A GET from a client in region. SKYC_E_NOT_FOUND when the object does not
 * exist (nothing is billed). Plan: due evictions, READ, maybe STORE.
 */
enum skyc_err place_get(struct place *p, uint32_t bucket,
                            const char *key, uint16_t region, double now,
                            struct place_plan *plan,
                            struct skyc_error *err);

/* A DELETE: every copy goes. SKYC_E_NOT_FOUND when there is no object. */
enum skyc_err place_delete(struct place *p, uint32_t bucket,
                               const char *key, double now,
                               struct place_plan *plan,
                               struct skyc_error *err);

/* Carry out the evictions due by now: appends DELETEs to plan (which may
 * be NULL), without resetting it. */
void place_advance(struct place *p, double now,
                       struct place_plan *plan);

/* When the next eviction is due; INFINITY when none is scheduled. */
double place_next_expiry(const struct place *p);

/* The object by (bucket, key), or NULL. */
const struct place_object *place_object(const struct place *p,
                                                uint32_t bucket,
                                                const char *key);

/* The bill of (bucket, region) as of now (live copies counted up to now). */
void place_bill_cell(const struct place *p, uint32_t bucket,
                         uint16_t region, double now,
                         struct place_bill *out);

/* The whole bill as of now. */
void place_bill_total(const struct place *p, double now,
                          struct place_bill *out);

/*
 * Save the state (clock, buckets, policies, objects and copies, bill
 * accumulators) as JSON to path, and load it back against the same model.
 * Load gives SKYC_E_INPUT with "PATH: what" for a malformed file and for
 * region names the model does not know.
 */
enum skyc_err place_save(const struct place *p, const char *path,
                             struct skyc_error *err);
enum skyc_err place_load(struct place *p, const char *path,
                             struct skyc_error *err);

/*
 * The journal: the engine's calls as text, one line each, so a server saves
 * its state incrementally (a snapshot from place_save() plus the calls
 * since, replayed on load) instead of rewriting it whole. Each
 * place_journal_*() appends the line of one call made (with the same
 * arguments) to out. Records, tab-separated, times as %.17g, regions by
 * their cost-model names, keys with bytes <= ' ', '%' and >= 0x7f as %XX:
 *   b NOW BUCKET POLICY R1,R2..   a bucket created (regions in order)
 *   p NOW BUCKET POLICY           its policy set
 *   w NOW BUCKET REGION SIZE KEY  place_put
 *   r NOW BUCKET REGION KEY       place_get
 *   d NOW BUCKET KEY              place_delete
 *   a NOW                         place_advance
 * place_journal_replay() makes the calls of text again, in order (their
 * plans dropped, their own errors ignored as the server ignores them); a
 * last line without its newline (a crash mid-append) is skipped.
 * SKYC_E_INPUT "PATH:LINE: what" for a malformed line; *applied counts
 * the lines replayed.
 */
void place_journal_bucket(struct strbuf *out, const struct place *p,
                          uint32_t bucket, double now);
void place_journal_policy(struct strbuf *out, const struct place *p,
                          uint32_t bucket, double now);
void place_journal_put(struct strbuf *out, const struct place *p,
                       uint32_t bucket, const char *key, uint64_t size,
                       uint16_t region, double now);
void place_journal_get(struct strbuf *out, const struct place *p,
                       uint32_t bucket, const char *key, uint16_t region,
                       double now);
void place_journal_delete(struct strbuf *out, const struct place *p,
                          uint32_t bucket, const char *key, double now);
void place_journal_advance(struct strbuf *out, double now);
enum skyc_err place_journal_replay(struct place *p, const char *text,
                                   size_t len, const char *path,
                                   size_t *applied, struct skyc_error *err);

#endif
