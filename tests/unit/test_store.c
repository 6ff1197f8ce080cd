/*
 * Unit tests of store/: the cost model, the trace reader and generator, and
 * the placement engine with hand-computed bills for every policy.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/error.h"
#include "store/cost.h"
#include "store/placement.h"
#include "store/trace.h"

#include <setjmp.h>
#include <unistd.h>
#include <cmocka.h>

#define DAY 86400.0
#define GB 1000000000ull

/*
 * Three regions: r1, r2 (aws) and r3 (gcp, no storage row: $0.020).
 * Egress: r1<->r2 $0.02, r1/r2 -> r3 $0.09, r3 -> r1/r2 $0.12.
 * Storage: r1 $0.023, r2 $0.025 per GB-month. Requests at the defaults:
 * $4e-7 per GET, $5e-6 per PUT.
 */
static const char cost_csv[] = "src,dest,cost\n"
                               "aws:r1,aws:r2,0.02\n"
                               "aws:r2,aws:r1,0.02\n"
                               "aws:r1,gcp:r3-a,0.09\n"
                               "aws:r2,gcp:r3-a,0.09\n"
                               "gcp:r3-a,aws:r1,0.12\n"
                               "gcp:r3-a,aws:r2,0.12\n";
static const char storage_csv[] =
    "Vendor,Region,Name,Group,Tier,StartingRange,EndingRange,Unit,"
    "PricePerUnit\n"
    "aws,r1,s3,storage,General Purpose,0.0,51200.0,GB-Month,0.023\n"
    "aws,r1,s3,storage,General Purpose,51200.0,inf,GB-Month,0.022\n"
    "aws,r1,s3,storage,Infrequent Access,0.0,inf,GB-Month,0.0125\n"
    "aws,r2,s3,storage,General Purpose,0.0,inf,GB-Month,0.025\n";

static struct store_cost_model model;
static uint16_t R1, R2, R3;

static int setup(void **state)
{
    (void)state;
    struct skyc_error err = {0};
    store_cost_init(&model);
    if (store_cost_load_text(&model, cost_csv, strlen(cost_csv), storage_csv,
                             strlen(storage_csv), &err))
        return -1;
    R1 = store_cost_region(&model, "aws:r1");
    R2 = store_cost_region(&model, "aws:r2");
    R3 = store_cost_region(&model, "gcp:r3"); /* the zone alias */
    return R3 == STORE_NO_REGION;
}

static int teardown(void **state)
{
    (void)state;
    store_cost_release(&model);
    return 0;
}

static void test_cost_model(void **state)
{
    (void)state;
    assert_int_equal(model.nregions, 3);
    assert_int_equal(R3, store_cost_region(&model, "gcp:r3-a"));
    assert_int_equal(store_cost_region(&model, "aws:nowhere"), STORE_NO_REGION);
    assert_true(store_cost_egress(&model, R1, R2) == 0.02);
    assert_true(store_cost_egress(&model, R3, R1) == 0.12);
    assert_true(store_cost_egress(&model, R2, R2) == 0);
    assert_true(model.storage[R1] == 0.023); /* first tier, General Purpose */
    assert_true(model.storage[R2] == 0.025);
    assert_true(model.storage[R3] == 0.020); /* GCP built-in */
    assert_true(model.get_req[R1] == 4e-7 && model.put_req[R1] == 5e-6);

    struct store_cost_model m;
    struct skyc_error err = {0};
    store_cost_init(&m);
    const char *bad[] = {
        "src,dest\naws:a,aws:b\n",
        "src,dest,cost\naws:a,aws:b,-1\n",
        "src,dest,cost\naws:a,aws:b,x\n",
        "src,dest,cost\nmars:a,aws:b,0.1\n",
        "src,dest,cost\n",
    };
    const char *want[] = {"cost.csv:1: expected columns",
                          "cost.csv:2: bad cost '-1'",
                          "cost.csv:2: bad cost 'x'",
                          "cost.csv:2: bad region 'mars:a'",
                          "cost.csv: no egress prices"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        skyc_error_clear(&err);
        assert_int_equal(store_cost_load_text(&m, bad[i], strlen(bad[i]), NULL,
                                              0, &err),
                         SKYC_E_INPUT);
        if (!strstr(err.msg, want[i]))
            fail_msg("case %zu: got '%s', want '%s'", i, err.msg, want[i]);
    }
    /* an unpriced pair gets the tier fallback */
    const char *partial = "src,dest,cost\naws:a,gcp:b,0.5\n";
    assert_int_equal(store_cost_load_text(&m, partial, strlen(partial), NULL, 0,
                                          &err),
                     SKYC_OK);
    assert_true(store_cost_egress(&m, 0, 1) == 0.5);
    assert_true(store_cost_egress(&m, 1, 0) == 0.12); /* gcp tier */
    store_cost_release(&m);
}

/* The shipped profiles load and price what SOURCE.md says they do. */
static void test_cost_profiles(void **state)
{
    (void)state;
    struct store_cost_model m;
    struct skyc_error err = {0};
    store_cost_init(&m);
    enum skyc_err rc = store_cost_load(&m, NULL, &err);
    if (rc)
        fail_msg("the shared SkyStore profiles are needed: %s", err.msg);
    assert_int_equal(m.nregions, 71);
    uint16_t use1 = store_cost_region(&m, "aws:us-east-1"),
             euw1 = store_cost_region(&m, "gcp:europe-west1"),
             eus = store_cost_region(&m, "azure:eastus");
    assert_true(use1 != STORE_NO_REGION && euw1 != STORE_NO_REGION &&
                eus != STORE_NO_REGION);
    assert_true(m.storage[use1] == 0.023);
    assert_true(m.storage[eus] == 0.0208);
    assert_true(m.get_req[use1] == 4e-7 && m.put_req[use1] == 5e-6);
    double e = store_cost_egress(&m, use1, eus);
    assert_true(e >= 0.09 && e <= 0.154);
    store_cost_release(&m);
}

/* ---- traces ----------------------------------------------------------- */

static void test_trace_parse(void **state)
{
    (void)state;
    struct store_trace t;
    struct skyc_error err = {0};
    store_trace_init(&t);
    const char *ok = "timestamp,op,issue_region,data_id,size\r\n"
                     "2023-10-12 10:00:01,write,aws:eu-south-1,1234,100000\n"
                     "2023-10-12T10:00:10Z,read,aws:eu-north-1,1234,\n"
                     "1697104830.5,get,aws:eu-north-1,1234,100000\n"
                     "1697104830.5,delete,aws:eu-south-1,1234,0";
    assert_int_equal(store_trace_parse(&t, "t.csv", ok, strlen(ok), &err),
                     SKYC_OK);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.nregions, 2);
    assert_int_equal(t.nkeys, 1);
    assert_true(t.ev[0].t == 1697104801.0);
    assert_true(t.ev[1].t == 1697104810.0);
    assert_int_equal(t.ev[1].op, STORE_OP_READ);
    assert_int_equal(t.ev[2].op, STORE_OP_READ);
    assert_int_equal(t.ev[3].op, STORE_OP_DELETE);
    assert_int_equal(t.ev[0].size, 100000);
    assert_int_equal(t.region_line[1], 3);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"timestamp,op,issue_region,size\n", "t.csv:1: the header must name"},
        {"timestamp,op,issue_region,obj_key,size\n"
         "2023-13-01 00:00:00,write,aws:a,k,1\n",
         "t.csv:2: bad timestamp '2023-13-01 00:00:00'"},
        {"timestamp,op,issue_region,obj_key,size\n"
         "5,write,aws:a,k,1\n4,read,aws:a,k,1\n",
         "t.csv:3: timestamp '4' goes back in time"},
        {"timestamp,op,issue_region,obj_key,size\n1,copy,aws:a,k,1\n",
         "t.csv:2: bad op 'copy'"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,useast,k,1\n",
         "t.csv:2: bad issue_region 'useast'"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,aws:a,,1\n",
         "t.csv:2: bad obj_key"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,aws:a,k,-5\n",
         "t.csv:2: bad size '-5'"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,aws:a,k,\n",
         "t.csv:2: bad size ''"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,aws:a,\"k,1\n",
         "t.csv:2:"},
        {"timestamp,op,issue_region,obj_key,size\n1,write,aws:a,k\n",
         "t.csv:2:"},
        {"", "t.csv"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        skyc_error_clear(&err);
        assert_int_equal(store_trace_parse(&t, "t.csv", bad[i].text,
                                           strlen(bad[i].text), &err),
                         SKYC_E_INPUT);
        if (strncmp(err.msg, bad[i].want, strlen(bad[i].want)))
            fail_msg("case %zu: got '%s', want '%s'", i, err.msg, bad[i].want);
        assert_int_equal(t.n, 0);
    }
    store_trace_release(&t);
}

static void test_trace_generate(void **state)
{
    (void)state;
    struct store_gen_params gp;
    struct store_trace a, b;
    struct skyc_error err = {0};
    store_gen_defaults(&gp);
    gp.events = 20000;
    gp.objects = 2000;
    store_trace_init(&a);
    store_trace_init(&b);
    assert_int_equal(store_trace_generate(&a, &gp, &err), SKYC_OK);
    assert_int_equal(a.n, 20000);
    assert_int_equal(a.nregions, 4);
    /* deterministic per seed, different across seeds */
    assert_int_equal(store_trace_generate(&b, &gp, &err), SKYC_OK);
    assert_memory_equal(a.ev, b.ev, a.n * sizeof(*a.ev));
    gp.seed = 2;
    assert_int_equal(store_trace_generate(&b, &gp, &err), SKYC_OK);
    assert_true(memcmp(a.ev, b.ev, a.n * sizeof(*a.ev)) != 0);

    /* shape: time order, first op a write, ~10% writes, reads of written
     * objects only, popularity skewed (the top 1% of objects take a large
     * share of reads), reads local to the object's home mostly */
    size_t writes = 0, reads = 0, local = 0;
    uint16_t *home = xcalloc(a.nkeys, sizeof(uint16_t));
    bool *written = xcalloc(a.nkeys, sizeof(bool));
    size_t *hits = xcalloc(a.nkeys, sizeof(size_t));
    size_t per_region_hour[4][24] = {{0}};
    for (size_t i = 0; i < a.n; i++) {
        const struct store_event *e = &a.ev[i];
        if (i)
            assert_true(e->t >= a.ev[i - 1].t);
        assert_true(e->t == floor(e->t));
        per_region_hour[e->region][(long)(e->t / 3600) % 24]++;
        if (e->op == STORE_OP_WRITE) {
            if (!written[e->key])
                home[e->key] = e->region;
            written[e->key] = true;
            writes++;
            assert_true(e->size >= 1000000 && e->size <= 256000000);
        } else {
            assert_true(written[e->key]);
            reads++;
            hits[e->key]++;
            local += home[e->key] == e->region;
        }
    }
    assert_int_equal(a.ev[0].op, STORE_OP_WRITE);
    assert_true(writes > 1500 && writes < 2500);
    assert_true(local > reads / 2);
    size_t top = 0, sorted_hits = 0;
    for (size_t k = 0; k < a.nkeys; k++) /* the 20 most read objects */
        sorted_hits += hits[k];
    for (int pass = 0; pass < 20; pass++) {
        size_t best = 0;
        for (size_t k = 1; k < a.nkeys; k++)
            if (hits[k] > hits[best])
                best = k;
        top += hits[best];
        hits[best] = 0;
    }
    assert_int_equal(sorted_hits, reads);
    print_message("top 1%% of objects: %zu of %zu reads\n", top, reads);
    assert_true(top > reads / 20); /* 5x the uniform share */
    /* diurnal: aws:us-east-1 (UTC-5) peaks near 19:00 UTC, dips near 07:00 */
    assert_true(per_region_hour[0][19] > 2 * per_region_hour[0][7]);
    free(home);
    free(written);
    free(hits);

    /* round trip through the CSV format */
    char path[] = "/tmp/skyc-trace-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(store_trace_write(&a, path, &err), SKYC_OK);
    assert_int_equal(store_trace_load(&b, path, &err), SKYC_OK);
    assert_int_equal(b.n, a.n);
    for (size_t i = 0; i < a.n; i++) {
        assert_true(a.ev[i].t == b.ev[i].t);
        assert_int_equal(a.ev[i].op, b.ev[i].op);
        assert_int_equal(a.ev[i].size, b.ev[i].size);
        assert_string_equal(a.keys[a.ev[i].key], b.keys[b.ev[i].key]);
        assert_string_equal(a.regions[a.ev[i].region],
                            b.regions[b.ev[i].region]);
    }
    unlink(path);

    gp.zipf = 9;
    assert_int_equal(store_trace_generate(&b, &gp, &err), SKYC_E_USAGE);
    store_trace_release(&a);
    store_trace_release(&b);
}

/* ---- placement: hand-computed bills ------------------------------------ */

struct step {
    enum store_op op;
    double day;
    uint16_t *region;
};

/*
 * Scenario A: a 1 GB object written in r1 at day 0, read from r2 on days 1
 * and 2 and from r3 on day 10; billed at day 30 (one month).
 */
static double run_a(const char *spec, struct place_bill *bill,
                    uint64_t *evictions)
{
    struct place p;
    struct place_policy pol;
    struct place_plan plan;
    struct skyc_error err = {0};
    uint32_t b;
    uint16_t regions[3] = {R1, R2, R3};
    assert_int_equal(place_policy_parse(spec, &model, &pol, &err), SKYC_OK);
    place_init(&p, &model);
    place_plan_init(&plan);
    assert_int_equal(place_bucket_create(&p, "a", &pol, regions, 3, &b, &err),
                     SKYC_OK);
    *evictions = 0;
    assert_int_equal(place_put(&p, b, "k", GB, R1, 0, &plan, &err), SKYC_OK);
    const struct step steps[] = {{STORE_OP_READ, 1, &R2},
                                 {STORE_OP_READ, 2, &R2},
                                 {STORE_OP_READ, 10, &R3}};
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        assert_int_equal(place_get(&p, b, "k", *steps[i].region,
                                   steps[i].day * DAY, &plan, &err),
                         SKYC_OK);
        for (size_t a = 0; a < plan.n; a++)
            *evictions += plan.a[a].act == PLACE_ACT_DELETE;
    }
    plan.n = 0;
    place_advance(&p, 30 * DAY, &plan);
    *evictions += plan.n;
    place_bill_total(&p, 30 * DAY, bill);
    /* the primary is still there, in r1 */
    const struct place_object *o = place_object(&p, b, "k");
    assert_non_null(o);
    bool primary = false;
    for (size_t i = 0; i < o->ncopies; i++)
        primary |= o->copies[i].primary && o->copies[i].region == R1;
    assert_true(primary);
    place_plan_release(&plan);
    place_release(&p);
    return bill->total_usd;
}

static void assert_near(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-9 * SKYC_MAX(1.0, fabs(want)))
        fail_msg("%s: got %.12f, want %.12f", what, got, want);
}

static void test_bills_by_policy(void **state)
{
    (void)state;
    static const struct {
        const char *policy;
        double storage, egress;
        uint64_t gets, puts, evictions;
    } cases[] = {
        /* home r1 for a month; reads cross r1->r2 twice, r1->r3 once */
        {"single-region", 0.023, 0.02 + 0.02 + 0.09, 3, 1, 0},
        {"write-local", 0.023, 0.13, 3, 1, 0},
        {"always-evict", 0.023, 0.13, 3, 1, 0},
        /* a copy everywhere for the month, made r1->r2, then r1->r3 */
        {"replicate-all", 0.023 + 0.025 + 0.020, 0.02 + 0.09, 5, 3, 0},
        /* r2 from day 1, r3 from day 10, to day 30; the day-10 read comes
         * from r1 (r1 and r2 tie at $0.09, the primary wins) */
        {"always-store", 0.023 + 0.025 * 29 / 30 + 0.020 * 20 / 30,
         0.02 + 0.09, 3, 3, 0},
        /* 36 h TTL: r2 days 1-3.5 (reset on day 2), r3 days 10-11.5 */
        {"ttl:36h", 0.023 + 0.025 * 2.5 / 30 + 0.020 * 1.5 / 30, 0.11, 3, 3,
         2},
        /* break-even at r2: 0.02 / (0.025/30 d) = 24 days, so days 1-26;
         * at r3: 0.09 / (0.020/30 d) = 135 days, past the bill */
        {"break-even", 0.023 + 0.025 * 25 / 30 + 0.020 * 20 / 30, 0.11, 3, 3,
         1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct place_bill bill;
        uint64_t ev;
        double total = run_a(cases[i].policy, &bill, &ev);
        char what[64];
        snprintf(what, sizeof(what), "%s storage", cases[i].policy);
        assert_near(bill.storage_usd, cases[i].storage, what);
        snprintf(what, sizeof(what), "%s egress", cases[i].policy);
        assert_near(bill.egress_usd, cases[i].egress, what);
        if (bill.gets != cases[i].gets || bill.puts != cases[i].puts ||
            ev != cases[i].evictions)
            fail_msg("%s: %" PRIu64 " gets, %" PRIu64 " puts, %" PRIu64
                     " evictions",
                     cases[i].policy, bill.gets, bill.puts, ev);
        double req = cases[i].gets * 4e-7 + cases[i].puts * 5e-6;
        snprintf(what, sizeof(what), "%s total", cases[i].policy);
        assert_near(total, cases[i].storage + cases[i].egress + req, what);
    }
}

static void test_plans_and_overwrite(void **state)
{
    (void)state;
    struct place p;
    struct place_policy pol;
    struct place_plan plan;
    struct skyc_error err = {0};
    uint32_t b;
    uint16_t regions[3] = {R1, R2, R3};
    place_init(&p, &model);
    place_plan_init(&plan);
    assert_int_equal(place_policy_parse("replicate-all", &model, &pol, &err),
                     SKYC_OK);
    assert_int_equal(place_bucket_create(&p, "b", &pol, regions, 3, &b, &err),
                     SKYC_OK);
    /* a write from r3: STORE at r3, then r3->r1 ($0.12) and r1->r2 ($0.02,
     * cheaper than r3->r2) */
    assert_int_equal(place_put(&p, b, "k", GB, R3, 0, &plan, &err), SKYC_OK);
    assert_int_equal(plan.n, 3);
    assert_int_equal(plan.a[0].act, PLACE_ACT_STORE);
    assert_int_equal(plan.a[0].dst, R3);
    assert_int_equal(plan.a[1].act, PLACE_ACT_COPY);
    assert_int_equal(plan.a[1].src, R3);
    assert_int_equal(plan.a[1].dst, R1);
    assert_int_equal(plan.a[2].src, R1);
    assert_int_equal(plan.a[2].dst, R2);
    /* a read is local everywhere */
    assert_int_equal(place_get(&p, b, "k", R2, 1, &plan, &err), SKYC_OK);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.a[0].act, PLACE_ACT_READ);
    assert_int_equal(plan.a[0].src, R2);
    /* switch to always-store at run time; an overwrite from r1 keeps only
     * the new primary and deletes the other copies */
    assert_int_equal(place_policy_parse("always-store", &model, &pol, &err),
                     SKYC_OK);
    assert_int_equal(place_bucket_set_policy(&p, b, &pol, &err), SKYC_OK);
    assert_int_equal(place_put(&p, b, "k", GB, R1, 2, &plan, &err), SKYC_OK);
    size_t deletes = 0, stores = 0;
    for (size_t i = 0; i < plan.n; i++) {
        deletes += plan.a[i].act == PLACE_ACT_DELETE;
        stores += plan.a[i].act == PLACE_ACT_STORE && plan.a[i].dst == R1;
    }
    assert_int_equal(deletes, 2);
    assert_int_equal(stores, 1);
    const struct place_object *o = place_object(&p, b, "k");
    assert_int_equal(o->ncopies, 1);
    assert_true(o->copies[0].primary && o->copies[0].region == R1);
    /* a read from r3 now makes a replica there */
    assert_int_equal(place_get(&p, b, "k", R3, 3, &plan, &err), SKYC_OK);
    assert_int_equal(plan.n, 2);
    assert_int_equal(plan.a[1].act, PLACE_ACT_STORE);
    assert_int_equal(plan.a[1].dst, R3);
    /* delete: both copies go; then reads are NOT_FOUND */
    assert_int_equal(place_delete(&p, b, "k", 4, &plan, &err), SKYC_OK);
    assert_int_equal(plan.n, 2);
    assert_null(place_object(&p, b, "k"));
    skyc_error_clear(&err);
    assert_int_equal(place_get(&p, b, "k", R1, 5, &plan, &err),
                     SKYC_E_NOT_FOUND);
    assert_int_equal(place_delete(&p, b, "nope", 5, &plan, &err),
                     SKYC_E_NOT_FOUND);
    /* no storage accrues after the delete */
    struct place_bill b1, b2;
    place_bill_total(&p, 5, &b1);
    place_bill_total(&p, 500 * DAY, &b2);
    assert_true(b1.storage_usd == b2.storage_usd);
    /* bad arguments */
    assert_int_equal(place_put(&p, 7, "k", 1, R1, 6, &plan, &err),
                     SKYC_E_NOT_FOUND);
    assert_int_equal(place_put(&p, b, "k", 1, 99, 6, &plan, &err),
                     SKYC_E_INPUT);
    assert_int_equal(place_bucket_create(&p, "b", &pol, regions, 3, NULL, &err),
                     SKYC_E_INPUT);
    assert_int_equal(place_policy_parse("single-region:aws:r9", &model, &pol,
                                        &err),
                     SKYC_E_USAGE);
    assert_int_equal(place_policy_parse("ttl:soon", &model, &pol, &err),
                     SKYC_E_USAGE);
    assert_int_equal(place_policy_parse("lru", &model, &pol, &err),
                     SKYC_E_USAGE);
    place_plan_release(&plan);
    place_release(&p);
}

/* Buckets have their own policies and bills; single-region with a home. */
static void test_buckets_and_policy_change(void **state)
{
    (void)state;
    struct place p;
    struct place_policy wl, home2;
    struct place_plan plan;
    struct skyc_error err = {0};
    uint32_t a, b;
    uint16_t regions[2] = {R1, R2};
    place_init(&p, &model);
    place_plan_init(&plan);
    assert_int_equal(place_policy_parse("write-local", &model, &wl, &err), 0);
    assert_int_equal(
        place_policy_parse("single-region:aws:r2", &model, &home2, &err), 0);
    assert_int_equal(place_bucket_create(&p, "a", &wl, regions, 2, &a, &err), 0);
    assert_int_equal(place_bucket_create(&p, "b", &home2, regions, 2, &b, &err),
                     0);
    assert_int_equal(place_bucket_find(&p, "b"), b);
    assert_int_equal(place_bucket_find(&p, "c"), UINT32_MAX);
    /* b: a write from r1 crosses to r2 (egress billed to r1) */
    assert_int_equal(place_put(&p, b, "x", GB, R1, 0, &plan, &err), 0);
    assert_int_equal(plan.a[0].dst, R2);
    struct place_bill c;
    place_bill_cell(&p, b, R1, 0, &c);
    assert_near(c.egress_usd, 0.02, "b r1 egress");
    place_bill_cell(&p, b, R2, 30 * DAY, &c);
    assert_near(c.storage_usd, 0.025, "b r2 storage");
    assert_int_equal(c.puts, 1);
    place_bill_cell(&p, a, R2, 30 * DAY, &c);
    assert_true(c.total_usd == 0);
    /* a: write-local never caches; switched to ttl:1d it does */
    assert_int_equal(place_put(&p, a, "x", GB, R1, 0, &plan, &err), 0);
    assert_int_equal(place_get(&p, a, "x", R2, DAY, &plan, &err), 0);
    assert_int_equal(plan.n, 1);
    struct place_policy ttl;
    assert_int_equal(place_policy_parse("ttl:1d", &model, &ttl, &err), 0);
    assert_int_equal(place_bucket_set_policy(&p, a, &ttl, &err), 0);
    assert_int_equal(place_get(&p, a, "x", R2, 2 * DAY, &plan, &err), 0);
    assert_int_equal(plan.n, 2);
    assert_true(place_next_expiry(&p) == 3 * DAY);
    /* shorter TTL after a policy change still evicts on time */
    assert_int_equal(place_policy_parse("ttl:1h", &model, &ttl, &err), 0);
    assert_int_equal(place_bucket_set_policy(&p, a, &ttl, &err), 0);
    assert_int_equal(place_get(&p, a, "x", R2, 2 * DAY + 60, &plan, &err), 0);
    assert_int_equal(plan.a[0].src, R2); /* a local hit resets the TTL */
    plan.n = 0;
    place_advance(&p, 2 * DAY + 60 + 3600, &plan);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.a[0].act, PLACE_ACT_DELETE);
    assert_int_equal(plan.a[0].dst, R2);
    place_bill_cell(&p, a, R2, 100 * DAY, &c);
    assert_near(c.storage_usd, 0.025 * (60 + 3600) / (30 * DAY), "a r2");
    /* a single-region home outside the bucket is refused */
    struct place_policy h3;
    assert_int_equal(place_policy_parse("single-region:gcp:r3", &model, &h3,
                                        &err),
                     0);
    skyc_error_clear(&err);
    assert_int_equal(place_bucket_set_policy(&p, a, &h3, &err), SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "not one of bucket 'a''s regions"));
    char buf[64];
    place_policy_format(&home2, &model, buf, sizeof(buf));
    assert_string_equal(buf, "single-region:aws:r2");
    place_policy_format(&ttl, &model, buf, sizeof(buf));
    assert_string_equal(buf, "ttl:1h");
    place_plan_release(&plan);
    place_release(&p);
}

/* ---- placement on generated traces: properties ------------------------- */

static double replay_total(const struct store_cost_model *m,
                           const struct store_trace *t, const char *spec,
                           double horizon, bool check_primary)
{
    struct place p;
    struct place_policy pol;
    struct place_plan plan;
    struct skyc_error err = {0};
    uint32_t b;
    uint16_t *map = xcalloc(t->nregions, sizeof(uint16_t));
    for (size_t i = 0; i < t->nregions; i++) {
        map[i] = store_cost_region(m, t->regions[i]);
        assert_true(map[i] != STORE_NO_REGION);
    }
    assert_int_equal(place_policy_parse(spec, m, &pol, &err), 0);
    place_init(&p, m);
    place_plan_init(&plan);
    assert_int_equal(
        place_bucket_create(&p, "g", &pol, map, t->nregions, &b, &err), 0);
    for (size_t i = 0; i < t->n; i++) {
        const struct store_event *e = &t->ev[i];
        enum skyc_err rc =
            e->op == STORE_OP_WRITE
                ? place_put(&p, b, t->keys[e->key], e->size, map[e->region],
                            e->t, &plan, &err)
                : place_get(&p, b, t->keys[e->key], map[e->region], e->t,
                            &plan, &err);
        assert_int_equal(rc, SKYC_OK);
        for (size_t a = 0; a < plan.n; a++) /* a primary is never deleted */
            if (plan.a[a].act == PLACE_ACT_DELETE && check_primary &&
                e->op == STORE_OP_READ) {
                const struct place_object *o = &p.objects[plan.a[a].object];
                bool has_primary = false;
                for (size_t c = 0; c < o->ncopies; c++)
                    has_primary |= o->copies[c].primary;
                assert_true(has_primary);
            }
    }
    double end = t->ev[t->n - 1].t + horizon;
    place_advance(&p, end, NULL);
    if (check_primary)
        for (size_t i = 0; i < p.nobjects; i++) {
            size_t primaries = 0;
            for (size_t c = 0; c < p.objects[i].ncopies; c++)
                primaries += p.objects[i].copies[c].primary;
            assert_int_equal(primaries, 1);
        }
    struct place_bill bill;
    place_bill_total(&p, end, &bill);
    place_plan_release(&plan);
    place_release(&p);
    free(map);
    return bill.total_usd;
}

/*
 * Break-even TTL is the ski-rental rule: on each gap between two reads of
 * a region's replica it pays at most twice the cheaper of keeping it and
 * fetching it again. Summed over a trace that bounds it by twice the better
 * of always-store and always-evict. On these traces it does much better;
 * the test holds it to the proven factor 2 and reports the ratio seen.
 */
static void test_break_even_bound(void **state)
{
    (void)state;
    struct store_cost_model m;
    struct skyc_error err = {0};
    store_cost_init(&m);
    if (store_cost_load(&m, NULL, &err))
        fail_msg("the shared SkyStore profiles are needed: %s", err.msg);
    static const struct {
        uint64_t seed;
        double days, zipf, locality, write_ratio, horizon_days;
    } cases[] = {
        {1, 7, 1.1, 0.7, 0.1, 0},     {2, 30, 0.8, 0.5, 0.05, 30},
        {3, 90, 1.3, 0.9, 0.2, 0},    {4, 2, 1.0, 0.3, 0.1, 60},
        {5, 60, 0.6, 0.6, 0.02, 10},
        /* cold: a year of rare, flat reads, billed for another year */
        {6, 365, 0.2, 0.2, 0.3, 365},
        {7, 180, 0.0, 0.0, 0.5, 720},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct store_gen_params gp;
        struct store_trace t;
        store_gen_defaults(&gp);
        gp.seed = cases[i].seed;
        gp.events = 8000;
        gp.objects = 800;
        gp.days = cases[i].days;
        gp.zipf = cases[i].zipf;
        gp.locality = cases[i].locality;
        gp.write_ratio = cases[i].write_ratio;
        store_trace_init(&t);
        assert_int_equal(store_trace_generate(&t, &gp, &err), 0);
        double h = cases[i].horizon_days * DAY;
        double as = replay_total(&m, &t, "always-store", h, true);
        double ae = replay_total(&m, &t, "always-evict", h, true);
        double be = replay_total(&m, &t, "break-even", h, true);
        double wl = replay_total(&m, &t, "write-local", h, false);
        (void)replay_total(&m, &t, "ttl:1h", h, true);
        assert_near(ae, wl, "always-evict equals write-local");
        double best = SKYC_MIN(as, ae);
        print_message("trace %zu: always-store %.2f always-evict %.2f "
                      "break-even %.2f (%.3f x the better)\n",
                      i, as, ae, be, be / best);
        assert_true(be <= 2 * best);
        /* observed on these seeded traces (deterministic): within 10%
         * of the better, and below it whenever always-store wins */
        assert_true(be <= 1.1 * best);
        if (as <= ae)
            assert_true(be <= as * (1 + 1e-9));
        store_trace_release(&t);
    }
    store_cost_release(&m);
}

static void test_state_round_trip(void **state)
{
    (void)state;
    struct place p, q;
    struct place_policy pol;
    struct skyc_error err = {0};
    uint32_t b;
    uint16_t regions[3] = {R1, R2, R3};
    place_init(&p, &model);
    place_init(&q, &model);
    assert_int_equal(place_policy_parse("ttl:2d", &model, &pol, &err), 0);
    assert_int_equal(place_bucket_create(&p, "s", &pol, regions, 3, &b, &err),
                     0);
    assert_int_equal(place_put(&p, b, "a", GB, R1, 0, NULL, &err), 0);
    assert_int_equal(place_put(&p, b, "b\"c", 2 * GB, R3, 10, NULL, &err), 0);
    assert_int_equal(place_get(&p, b, "a", R2, DAY, NULL, &err), 0);
    char path[] = "/tmp/skyc-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(place_save(&p, path, &err), 0);
    assert_int_equal(place_load(&q, path, &err), 0);
    /* the same future under both */
    struct place_bill x, y;
    place_advance(&p, 40 * DAY, NULL);
    place_advance(&q, 40 * DAY, NULL);
    place_bill_total(&p, 40 * DAY, &x);
    place_bill_total(&q, 40 * DAY, &y);
    assert_near(y.total_usd, x.total_usd, "reloaded bill");
    assert_near(y.storage_usd, 0.023 * 40 / 30 + 0.020 * 2 * (40 * DAY - 10) /
                                                     (30 * DAY) +
                                   0.025 * 2 / 30,
                "storage");
    assert_non_null(place_object(&q, 0, "b\"c"));
    /* a damaged file is an INPUT error naming the file */
    FILE *f = fopen(path, "w");
    fputs("{\"skyc_store_state\": 1, \"buckets\": [{\"name\": \"s\", "
          "\"policy\": \"lru\", \"regions\": []}], \"objects\": []}",
          f);
    fclose(f);
    skyc_error_clear(&err);
    assert_int_equal(place_load(&q, path, &err), SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, path));
    f = fopen(path, "w");
    fputs("{\"skyc_store_state\": 1,", f);
    fclose(f);
    assert_int_equal(place_load(&q, path, &err), SKYC_E_INPUT);
    unlink(path);
    place_release(&p);
    place_release(&q);
}

/* The journal replays to the same engine: a snapshot + the calls since
 * give the bill and copies the live engine has. */
static void test_journal_replay(void **state)
{
    (void)state;
    struct place p, q;
    struct place_policy pol, pol2;
    struct place_plan plan;
    struct skyc_error err = {0};
    struct strbuf j = STRBUF_INIT;
    uint32_t b;
    uint16_t regions[3] = {R2, R1, R3};
    size_t applied = 0;
    place_init(&p, &model);
    place_init(&q, &model);
    place_plan_init(&plan);
    assert_int_equal(place_policy_parse("ttl:1d", &model, &pol, &err), 0);
    assert_int_equal(place_policy_parse("replicate-all", &model, &pol2, &err),
                     0);
    assert_int_equal(place_bucket_create(&p, "jb", &pol, regions, 3, &b, &err),
                     0);
    place_journal_bucket(&j, &p, b, 0);
    static const char *const keys[] = {"a", "k with space", "100%\n\x7f", "z"};
    for (int i = 0; i < 200; i++) {
        const char *k = keys[i % 4];
        uint16_t r = regions[(i * 7) % 3];
        double now = i * 3600.0;
        if (i == 120) {
            assert_int_equal(place_bucket_set_policy(&p, b, &pol2, &err), 0);
            place_journal_policy(&j, &p, b, now);
        }
        if (i % 5 == 0) {
            assert_int_equal(place_put(&p, b, k, GB * (1 + i % 3), r, now,
                                       &plan, &err), 0);
            place_journal_put(&j, &p, b, k, GB * (1 + i % 3), r, now);
        } else if (i % 11 == 0) {
            if (!place_delete(&p, b, k, now, &plan, &err))
                place_journal_delete(&j, &p, b, k, now);
            skyc_error_clear(&err);
        } else if (i % 13 == 0) {
            place_advance(&p, now, &plan);
            place_journal_advance(&j, now);
        } else if (!place_get(&p, b, k, r, now, &plan, &err)) {
            place_journal_get(&j, &p, b, k, r, now);
        }
        skyc_error_clear(&err);
    }
    size_t full = j.len;
    strbuf_addstr(&j, "r\t1e9\tjb\taws:r1"); /* torn last line: skipped */
    assert_int_equal(place_journal_replay(&q, j.buf, j.len, "j", &applied, &err),
                     SKYC_OK);
    assert_true(applied > 150);
    struct place_bill x, y;
    place_bill_total(&p, 400 * 3600.0, &x);
    place_bill_total(&q, 400 * 3600.0, &y);
    assert_near(y.total_usd, x.total_usd, "replayed bill");
    assert_near(y.egress_usd, x.egress_usd, "replayed egress");
    for (size_t i = 0; i < 4; i++) {
        const struct place_object *a = place_object(&p, 0, keys[i]);
        const struct place_object *c = place_object(&q, 0, keys[i]);
        assert_true(!a == !c);
        if (a)
            assert_int_equal(a->ncopies, c->ncopies);
    }
    assert_int_equal(q.buckets[0].policy.kind, PLACE_REPLICATE_ALL);
    assert_int_equal(q.buckets[0].regions[0], R2);
    /* damaged lines say file:line and what */
    static const char *const bad[][2] = {
        {"x\t0\n", "j:1: unknown record"},
        {"w\t0\tjb\taws:r1\t1\n", "j:1: wrong number of fields"},
        {"a\tsoon\n", "j:1: bad time"},
        {"r\t0\tnope\taws:r1\tk\n", "j:1: unknown bucket"},
        {"a\t0\nr\t0\tjb\tmars:x\tk\n", "j:2: unknown region"},
        {"w\t0\tjb\taws:r1\t-3\tk\n", "j:1: bad size"},
        {"d\t0\tjb\t%4\n", "j:1: bad key"},
        {"p\t0\tjb\tlru\n", "j:1: bad policy"},
        {"b\t0\tnb\tttl:1h\taws:r1,mars:x\n", "j:1: unknown region"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        skyc_error_clear(&err);
        assert_int_equal(place_journal_replay(&q, bad[i][0], strlen(bad[i][0]),
                                              "j", &applied, &err),
                         SKYC_E_INPUT);
        if (!strstr(err.msg, bad[i][1]))
            fail_msg("journal %zu: '%s' does not say '%s'", i, err.msg,
                     bad[i][1]);
    }
    (void)full;
    strbuf_release(&j);
    place_plan_release(&plan);
    place_release(&p);
    place_release(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_model),
        cmocka_unit_test(test_cost_profiles),
        cmocka_unit_test(test_trace_parse),
        cmocka_unit_test(test_trace_generate),
        cmocka_unit_test(test_bills_by_policy),
        cmocka_unit_test(test_plans_and_overwrite),
        cmocka_unit_test(test_buckets_and_policy_change),
        cmocka_unit_test(test_break_even_bound),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_journal_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
