/*
 * libFuzzer entry for the store trace reader, and through it the placement
 * engine: any bytes either fail with a located error or give a trace whose
 * replay under every policy keeps the engine's invariants.
 */
#include "core/common.h"
#include "store/cost.h"
#include "store/placement.h"
#include "store/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cost_csv[] = "src,dest,cost\n"
                               "aws:a,aws:b,0.02\naws:b,aws:a,0.02\n"
                               "aws:a,gcp:c-a,0.09\ngcp:c-a,aws:a,0.12\n";
static const char *const policies[] = {
    "single-region", "replicate-all", "write-local", "always-evict",
    "ttl:1h",        "always-store",  "break-even"};

static void replay(const struct store_cost_model *m,
                   const struct store_trace *t, const char *spec)
{
    struct place p;
    struct place_policy pol;
    struct place_plan plan;
    struct skyc_error err = {0};
    uint16_t regions[3] = {0, 1, 2};
    uint32_t b;
    if (place_policy_parse(spec, m, &pol, &err))
        abort();
    place_init(&p, m);
    place_plan_init(&plan);
    if (place_bucket_create(&p, "f", &pol, regions, 3, &b, &err))
        abort();
    for (size_t i = 0; i < t->n; i++) {
        const struct store_event *e = &t->ev[i];
        uint16_t r = (uint16_t)(e->region % 3);
        const char *key = t->keys[e->key];
        enum skyc_err rc;
        skyc_error_clear(&err);
        if (e->op == STORE_OP_WRITE)
            rc = place_put(&p, b, key, e->size, r, e->t, &plan, &err);
        else if (e->op == STORE_OP_READ)
            rc = place_get(&p, b, key, r, e->t, &plan, &err);
        else
            rc = place_delete(&p, b, key, e->t, &plan, &err);
        if (rc && rc != SKYC_E_NOT_FOUND)
            abort();
    }
    place_advance(&p, t->n ? t->ev[t->n - 1].t + 1e6 : 0, NULL);
    for (size_t i = 0; i < p.nobjects; i++) {
        size_t primaries = 0;
        for (size_t c = 0; c < p.objects[i].ncopies; c++)
            primaries += p.objects[i].copies[c].primary;
        if (primaries != (p.objects[i].live ? 1u : 0u))
            abort(); /* the primary is never evicted */
    }
    struct place_bill bill;
    place_bill_total(&p, p.clock, &bill);
    if (!(bill.total_usd >= 0) || !(bill.storage_usd >= 0))
        abort();
    place_plan_release(&plan);
    place_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store_cost_model m;
    static bool loaded;
    struct skyc_error err = {0};
    if (!loaded) {
        store_cost_init(&m);
        if (store_cost_load_text(&m, cost_csv, strlen(cost_csv), NULL, 0,
                                 &err))
            abort();
        loaded = true;
    }
    if (size > 64 * 1024)
        return 0;
    struct store_trace t;
    store_trace_init(&t);
    if (store_trace_parse(&t, "fuzz.csv", (const char *)data, size, &err) ==
        SKYC_OK) {
        for (size_t i = 0; i < t.n; i++) {
            if ((i && t.ev[i].t < t.ev[i - 1].t) || t.ev[i].op > 2 ||
                t.ev[i].key >= t.nkeys || t.ev[i].region >= t.nregions)
                abort();
        }
        for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
            replay(&m, &t, policies[i]);
    } else if (strncmp(err.msg, "fuzz.csv", 8) != 0) {
        abort(); /* every input error is located */
    }
    store_trace_release(&t);
    return 0;
}
