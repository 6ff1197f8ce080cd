/* Unit tests of core/: errors, strbuf, units, suggestions, tables. */
#include "core/common.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hex.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "core/units.h"

#include <setjmp.h>
#include <cmocka.h>

static void test_error_codes(void **state)
{
    (void)state;
    assert_int_equal(SKYC_E_USAGE, 2);
    assert_string_equal(skyc_err_name(SKYC_E_INPUT), "INPUT");
    assert_string_equal(skyc_err_name((enum skyc_err)99), "UNKNOWN");
    struct skyc_error err = {0};
    assert_int_equal(skyc_fail(&err, SKYC_E_INPUT, "a %d", 1), SKYC_E_INPUT);
    skyc_fail(&err, SKYC_E_IO, "second");
    assert_string_equal(err.msg, "a 1"); /* the first failure wins */
    assert_int_equal(err.code, SKYC_E_INPUT);
    skyc_error_clear(&err);
    assert_int_equal(err.code, SKYC_OK);
}

static void test_strbuf(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    assert_string_equal(sb.buf, "");
    strbuf_addstr(&sb, "abc");
    strbuf_addf(&sb, "-%d-", 42);
    strbuf_addch(&sb, 'x');
    assert_string_equal(sb.buf, "abc-42-x");
    strbuf_setlen(&sb, 3);
    assert_string_equal(sb.buf, "abc");
    size_t len;
    char *s = strbuf_detach(&sb, &len);
    assert_int_equal(len, 3);
    assert_string_equal(sb.buf, "");
    free(s);
    strbuf_release(&sb);
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
        double hours;
    } cases[] = {
        {"48h", true, 48},  {"30m", true, 0.5}, {"2d", true, 48},
        {"1.5", true, 1.5}, {"90s", true, 0.025}, {"0.2h", true, 0.2},
        {"", false, 0},     {"h", false, 0},    {"-1h", false, 0},
        {"5y", false, 0},   {"nan", false, 0},  {"inf", false, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double h = -1;
        bool ok = parse_duration_hours(cases[i].in, &h);
        assert_int_equal(ok, cases[i].ok);
        if (ok)
            assert_true(fabs(h - cases[i].hours) < 1e-9);
    }
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const keys[] = {"resources", "run", "setup", "envs",
                                       NULL};
    assert_string_equal(suggest_nearest("resorces", keys), "resources");
    assert_string_equal(suggest_nearest("stup", keys), "setup");
    assert_null(suggest_nearest("zzzzzzzz", keys));
    assert_int_equal(edit_distance("abc", "acb"), 1);
}

static void test_table(void **state)
{
    (void)state;
    struct table t;
    table_init(&t);
    table_add_col(&t, "NAME", TABLE_LEFT);
    table_add_col(&t, "COST", TABLE_RIGHT);
    table_add_row(&t);
    table_cell(&t, "a");
    table_cellf(&t, "$%.2f", 1.5);
    table_add_row(&t);
    table_cell(&t, "longer");
    table_cell(&t, "$10.00");
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    table_print(&t, f);
    fclose(f);
    assert_string_equal(buf, "NAME      COST\n"
                             "a        $1.50\n"
                             "longer  $10.00\n");
    free(buf);
    table_release(&t);
}

static void test_hex_clock(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0x9f, 0xa0, 0xff};
    char out[9];
    hex_encode(in, 4, out);
    assert_string_equal(out, "009fa0ff");
    hex_encode(in, 0, out);
    assert_string_equal(out, "");
    assert_int_equal(hex_digit('7'), 7);
    assert_int_equal(hex_digit('b'), 11);
    assert_int_equal(hex_digit('F'), 15);
    assert_int_equal(hex_digit('g'), -1);
    assert_int_equal(hex_digit(0), -1);
    double w = clock_wall_s();
    int64_t ms = clock_wall_ms();
    assert_true(w > 1.6e9 && ms / 1000 - (int64_t)w <= 1);
    double a = clock_mono_s(), b = clock_mono_s();
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_codes), cmocka_unit_test(test_strbuf),
        cmocka_unit_test(test_durations),   cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_table), cmocka_unit_test(test_hex_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
