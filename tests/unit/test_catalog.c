/* Unit tests of catalog/: CSV reader, cloud files, GCP pairing, egress. */
#include "core/common.h"
#include "catalog/catalog.h"
#include "catalog/csv.h"
#include "core/paths.h"

#include <setjmp.h>
#include <cmocka.h>

static void test_csv_quotes_and_errors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int records; /* -1: error expected */
        const char *msg;
    } cases[] = {
        {"a,b\n1,2\n3,4\n", 2, NULL},
        {"a,b\r\n1,2\r\n", 1, NULL},
        {"a,b\n1,2", 1, NULL},                       /* no final newline */
        {"a,b\n\"x,y\",\"say \"\"hi\"\"\"\n", 1, NULL},
        {"a,b\n\"multi\nline\",2\n", 1, NULL},
        {"a,b\n1,2,3\n", 1, NULL},                   /* folded into b */
        {"a,b\n1\n", -1, "t.csv:2: 1 fields, but the header has 2"},
        {"a,b\n\"open,2\n", -1, "t.csv:2: unterminated quoted field"},
        {"a,b\n1,x\"y\n", -1, "t.csv:2: stray quote"},
        {"a,b\n\"x\"y,2\n", -1, "t.csv:2: text after a closing quote"},
        {"", -1, "t.csv:1: empty file"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct csv_reader r;
        struct skyc_error err = {0};
        int n = 0, rc = csv_open(&r, "t.csv", cases[i].in,
                                 strlen(cases[i].in), &err);
        while (!rc && (rc = csv_next(&r, &err)) > 0) {
            n++;
            rc = 0;
        }
        if (cases[i].records < 0) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err.msg, cases[i].msg));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(n, cases[i].records);
        }
        csv_release(&r);
    }
}

static void test_csv_fields(void **state)
{
    (void)state;
    const char *in = "x,y\n\"say \"\"hi\"\"\",\"V1,V2\"\nA,V1,V2\n";
    struct csv_reader r;
    struct skyc_error err = {0};
    assert_int_equal(csv_open(&r, "t", in, strlen(in), &err), 0);
    assert_int_equal(csv_column(&r, "y"), 1);
    assert_int_equal(csv_column(&r, "z"), -1);
    assert_int_equal(csv_next(&r, &err), 1);
    assert_string_equal(r.fields[0], "say \"hi\"");
    assert_string_equal(r.fields[1], "V1,V2");
    assert_int_equal(csv_next(&r, &err), 1);
    assert_string_equal(r.fields[1], "V1,V2"); /* Azure's unquoted tail */
    assert_int_equal(csv_next(&r, &err), 0);
    csv_release(&r);
}

static const char gcp_tiny[] =
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,"
    "Region,AvailabilityZone,Price,SpotPrice\n"
    "n1-highmem-8,8.0,52.0,,,,us-central1,us-central1-a,0.5,0.2\n"
    "n1-highmem-16,16.0,104.0,,,,us-central1,us-central1-a,1.0,0.4\n"
    "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.7,0.3\n"
    ",,,V100,1,,us-central1,us-central1-a,2.5,1.0\n"
    ",,,A100,1,,us-central1,us-central1-a,3.0,1.5\n"
    ",,,tpu-v2-8,1,,us-central1,us-central1-a,4.5,1.35\n";

static void test_gcp_pairing(void **state)
{
    (void)state;
    struct catalog cat;
    struct skyc_error err = {0};
    catalog_init(&cat);
    assert_int_equal(catalog_load_csv(&cat, CLOUD_GCP, "gcp.csv", gcp_tiny,
                                      strlen(gcp_tiny), &err),
                     SKYC_OK);
    /* 2 n1 hosts alone, V100 on n1-highmem-8 only (V100:1 allows <= 12
     * vCPUs), A100 on a2-highgpu-1g, the TPU VM; a2 alone is dropped. */
    assert_int_equal(cat.noffers, 5);
    int v100 = 0, a100 = 0, tpu = 0;
    for (size_t i = 0; i < cat.noffers; i++) {
        const struct catalog_offering *o = &cat.offers[i];
        const char *name = cat.names[o->instance];
        if (o->accel == CATALOG_NONE) {
            assert_true(!strncmp(name, "n1-", 3));
            continue;
        }
        const char *acc = cat.accels[o->accel];
        if (!strcmp(acc, "V100")) {
            v100++;
            assert_string_equal(name, "n1-highmem-8");
            assert_true(fabs(o->price - 3.0) < 1e-9);
            assert_true(fabs(o->spot_price - 1.2) < 1e-9);
        } else if (!strcmp(acc, "A100")) {
            a100++;
            assert_string_equal(name, "a2-highgpu-1g");
            assert_true(fabs(o->price - 3.7) < 1e-9);
        } else {
            tpu++;
            assert_string_equal(name, "TPU-VM");
            assert_true(fabs(o->price - 4.5) < 1e-9);
        }
    }
    assert_int_equal(v100, 1);
    assert_int_equal(a100, 1);
    assert_int_equal(tpu, 1);
    assert_string_equal(catalog_accelerator_canonical(&cat, "a100"), "A100");
    assert_null(catalog_accelerator_canonical(&cat, "A1000"));
    catalog_release(&cat);
}

static void test_bad_rows(void **state)
{
    (void)state;
    static const struct {
        const char *csv;
        const char *msg;
    } cases[] = {
        {"InstanceType,vCPUs,MemoryGiB,Price,Region\nm,2,4,abc,r\n",
         "x.csv:2: Price 'abc' is not a non-negative number"},
        {"InstanceType,vCPUs,MemoryGiB,Price,Region\nm,2,4,-1,r\n",
         "x.csv:2: Price '-1' is not a non-negative number"},
        {"InstanceType,vCPUs,MemoryGiB,Price\nm,2,4,1\n",
         "x.csv:1: header has no 'Region' column"},
        {"InstanceType,vCPUs,MemoryGiB,Price,Region\nm,2,4,1,\n",
         "x.csv:2: empty Region"},
        {"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,"
         "Price,Region\nm,V100,0,2,4,1,r\n",
         "x.csv:2: accelerator 'V100' needs a positive AcceleratorCount"},
        {"InstanceType,vCPUs,MemoryGiB,Price,Region\nm,nan,4,1,r\n",
         "x.csv:2: vCPUs 'nan' is not a non-negative number"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct catalog cat;
        struct skyc_error err = {0};
        catalog_init(&cat);
        assert_int_equal(catalog_load_csv(&cat, CLOUD_AWS, "x.csv",
                                          cases[i].csv, strlen(cases[i].csv),
                                          &err),
                         SKYC_E_INPUT);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got '%s'", i, err.msg);
        catalog_release(&cat);
    }
}

static void test_builtin_and_egress(void **state)
{
    (void)state;
    struct catalog cat;
    struct skyc_error err = {0};
    struct catalog_options opts = {.builtin_only = true};
    assert_int_equal(catalog_load(&cat, &opts, &err), SKYC_OK);
    assert_true(cat.sources[CLOUD_AWS].builtin);
    assert_true(cat.sources[CLOUD_AWS].offers >= 20);
    uint32_t use1 = catalog_region_index(&cat, CLOUD_AWS, "us-east-1");
    uint32_t usw2 = catalog_region_index(&cat, CLOUD_AWS, "us-west-2");
    uint32_t gcp = catalog_region_index(&cat, CLOUD_GCP, "us-central1");
    assert_int_not_equal(use1, CATALOG_NONE);
    assert_int_not_equal(gcp, CATALOG_NONE);
    assert_true(catalog_egress_price(&cat, use1, use1) == 0);
    /* same-cloud cross-region traffic is priced, unlike SkyPilot */
    assert_true(catalog_egress_price(&cat, use1, usw2) > 0);
    assert_true(catalog_egress_price(&cat, use1, gcp) >=
                catalog_egress_price(&cat, use1, usw2));
    assert_true(catalog_bandwidth_gbps(&cat, use1, gcp) > 0);
    catalog_release(&cat);
}

static void test_missing_dir(void **state)
{
    (void)state;
    struct catalog cat;
    struct skyc_error err = {0};
    struct catalog_options opts = {.dir = "/nonexistent/catalogs"};
    assert_int_equal(catalog_load(&cat, &opts, &err), SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/catalogs"));
}

/* The binary cache gives the same catalog, and a damaged one is ignored. */
static void test_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/skyc-cache-test.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], cachedir[512];
    snprintf(path, sizeof(path), "%s/cat/gcp", dir);
    assert_int_equal(path_mkdir_p(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/cat/gcp/vms.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(gcp_tiny, f);
    fclose(f);
    snprintf(cachedir, sizeof(cachedir), "%s/cache", dir);
    setenv("XDG_CACHE_HOME", cachedir, 1);
    snprintf(path, sizeof(path), "%s/cat", dir);
    struct catalog_options opts = {.dir = path};
    struct skyc_error err = {0};
    struct catalog cold, warm, again;
    assert_int_equal(catalog_load(&cold, &opts, &err), SKYC_OK);
    assert_int_equal(catalog_load(&warm, &opts, &err), SKYC_OK);
    assert_int_equal(cold.noffers, warm.noffers);
    assert_int_equal(cold.nregions, warm.nregions);
    for (size_t i = 0; i < cold.noffers; i++) {
        assert_int_equal(cold.offers[i].instance, warm.offers[i].instance);
        assert_true(cold.offers[i].price == warm.offers[i].price ||
                    (isnan(cold.offers[i].price) &&
                     isnan(warm.offers[i].price)));
    }
    assert_string_equal(warm.sources[CLOUD_GCP].path,
                        cold.sources[CLOUD_GCP].path);
    assert_string_equal(catalog_accelerator_canonical(&warm, "v100"), "V100");
    /* damage every cache file: the next load parses the CSVs again */
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "for f in %s/skyc/*.bin; do head -c 100 \"$f\" > \"$f.x\" && "
             "mv \"$f.x\" \"$f\"; done",
             cachedir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(catalog_load(&again, &opts, &err), SKYC_OK);
    assert_int_equal(again.noffers, cold.noffers);
    catalog_release(&cold);
    catalog_release(&warm);
    catalog_release(&again);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_quotes_and_errors),
        cmocka_unit_test(test_csv_fields),
        cmocka_unit_test(test_gcp_pairing),
        cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_builtin_and_egress),
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
