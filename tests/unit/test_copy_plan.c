/* Unit tests of transfer/copyplan: a planner plan decomposed into paths,
 * regions mapped to gateway addresses (several per region), connections
 * apportioned and capped; the hand-written form; refusals. */
#include "core/common.h"
#include "transfer/copy.h"

#include <setjmp.h>
#include <cmocka.h>

/* Two relays in a chain (a -> b -> d -> c, 30 conns at 3 Gbps) beside the
 * direct a -> c (10 conns at 1 Gbps), plus a zero-flow edge. */
static const char PLAN[] =
    "{\"src\": \"aws:a\", \"dst\": \"gcp:c\", \"plan\": {\"edges\": ["
    "{\"from\": \"aws:a\", \"to\": \"gcp:c\", \"gbps\": 1, \"connections\": 10},"
    "{\"from\": \"aws:a\", \"to\": \"aws:b\", \"gbps\": 3, \"connections\": 30},"
    "{\"from\": \"aws:b\", \"to\": \"aws:d\", \"gbps\": 3, \"connections\": 20},"
    "{\"from\": \"aws:d\", \"to\": \"gcp:c\", \"gbps\": 3, \"connections\": 25},"
    "{\"from\": \"aws:b\", \"to\": \"gcp:c\", \"gbps\": 0, \"connections\": 0}"
    "]}}";

static enum skyc_err parse(const char *text, const char *const *gws,
                           size_t n, int cap, struct sender_path **p,
                           size_t *np, struct skyc_error *err)
{
    skyc_error_clear(err);
    return copy_plan_parse("p.json", text, strlen(text), gws, n, cap, p, np,
                           err);
}

static void test_paths_and_conns(void **state)
{
    (void)state;
    const char *const gws[] = {"aws:b=h:1", "aws:d=h:2", "gcp:c=h:3"};
    struct sender_path *p;
    size_t n;
    struct skyc_error err = {0};
    assert_int_equal(parse(PLAN, gws, 3, 0, &p, &n, &err), SKYC_OK);
    assert_int_equal(n, 2);
    /* direct first (edge order), then the relayed chain */
    assert_int_equal(p[0].nhops, 1);
    assert_string_equal(p[0].hops[0], "h:3");
    assert_int_equal(p[0].conns, 10);
    assert_int_equal(p[1].nhops, 3);
    assert_string_equal(p[1].hops[0], "h:1");
    assert_string_equal(p[1].hops[1], "h:2");
    assert_string_equal(p[1].hops[2], "h:3");
    assert_int_equal(p[1].conns, 30);
    copy_paths_free(p, n);
    /* capped at 8: 2 + 6 */
    assert_int_equal(parse(PLAN, gws, 3, 8, &p, &n, &err), SKYC_OK);
    assert_int_equal(p[0].conns, 2);
    assert_int_equal(p[1].conns, 6);
    copy_paths_free(p, n);
    /* capped at 1: each path still gets one */
    assert_int_equal(parse(PLAN, gws, 3, 1, &p, &n, &err), SKYC_OK);
    assert_int_equal(p[0].conns + p[1].conns, 2);
    copy_paths_free(p, n);
}

static void test_several_addresses(void **state)
{
    (void)state;
    /* a source gateway, and two VMs in aws:b: the relayed path splits in
     * two sub-paths of 15, alternating aws:b's addresses */
    const char *const gws[] = {"aws:a=s:0", "aws:b=b1:1,b2:1", "aws:d=h:2",
                               "gcp:c=h:3"};
    struct sender_path *p;
    size_t n;
    struct skyc_error err = {0};
    assert_int_equal(parse(PLAN, gws, 4, 0, &p, &n, &err), SKYC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(p[0].nhops, 2);
    assert_string_equal(p[0].hops[0], "s:0");
    assert_string_equal(p[1].hops[1], "b1:1");
    assert_string_equal(p[2].hops[1], "b2:1");
    assert_int_equal(p[1].conns, 15);
    assert_int_equal(p[2].conns, 15);
    assert_int_equal(p[1].nhops, 4);
    copy_paths_free(p, n);
}

static void test_refusals(void **state)
{
    (void)state;
    struct sender_path *p;
    size_t n;
    struct skyc_error err = {0};
    const char *const no_d[] = {"aws:b=h:1", "gcp:c=h:3"};
    assert_int_equal(parse(PLAN, no_d, 2, 0, &p, &n, &err), SKYC_E_USAGE);
    assert_null(p);
    assert_non_null(strstr(err.msg, "no gateway address for aws:d (a relay "
                                    "on the path aws:a -> aws:b -> aws:d -> "
                                    "gcp:c)"));
    const char *const bad[] = {"gcp:c=h"};
    assert_int_equal(parse(PLAN, bad, 1, 0, &p, &n, &err), SKYC_E_USAGE);
    assert_non_null(strstr(err.msg, "'h' is not HOST:PORT"));
    const char *const noeq[] = {"gcp:c"};
    assert_int_equal(parse(PLAN, noeq, 1, 0, &p, &n, &err), SKYC_E_USAGE);
    assert_non_null(strstr(err.msg, "want REGION=HOST:PORT"));
    const char *const gws[] = {"gcp:c=h:3"};
    assert_int_equal(parse("{\"src\": \"aws:a\", \"dst\": \"gcp:c\", "
                           "\"plan\": {\"edges\": []}}",
                           gws, 1, 0, &p, &n, &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "moves nothing from aws:a to gcp:c"));
    assert_int_equal(parse("{\"plan\": {}}", NULL, 0, 0, &p, &n, &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "needs \"src\", \"dst\""));
    assert_int_equal(parse("{\"src\": \"aws:a\", \"dst\": \"gcp:c\", "
                           "\"plan\": {\"edges\": [{\"from\": \"aws:a\", "
                           "\"to\": \"gcp:c\", \"gbps\": -1, "
                           "\"connections\": 1}]}}",
                           gws, 1, 0, &p, &n, &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "plan.edges[0]"));
    assert_int_equal(parse("{\"pareto\": []}", NULL, 0, 0, &p, &n, &err),
                     SKYC_E_INPUT);
    assert_int_equal(parse("{\"paths\": [", NULL, 0, 0, &p, &n, &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "p.json:1:"));
}

static void test_hand_written(void **state)
{
    (void)state;
    struct sender_path *p;
    size_t n;
    struct skyc_error err = {0};
    assert_int_equal(parse("{\"paths\": [{\"hops\": [\"a:1\", \"b:2\"], "
                           "\"connections\": 3, \"key_to\": \"c:3\"}]}",
                           NULL, 0, 0, &p, &n, &err),
                     SKYC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].nhops, 2);
    assert_int_equal(p[0].conns, 3);
    assert_string_equal(p[0].key_to, "c:3");
    copy_paths_free(p, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_and_conns),
        cmocka_unit_test(test_several_addresses),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_hand_written),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
