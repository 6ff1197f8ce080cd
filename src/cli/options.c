#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "core/units.h"
#include "cli/options.h"

void opt_list_release(struct opt_list *l)
{
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void usage_with_options(const char *const *usage, const struct option *opts,
                        FILE *out)
{
    for (size_t i = 0; usage && usage[i]; i++)
        fprintf(out, "%s%s\n", i ? "   or: " : "usage: ", usage[i]);
    fputc('\n', out);
    for (const struct option *o = opts; o && o->type != OPTION_END; o++) {
        if (o->type == OPTION_GROUP) {
            fprintf(out, "\n%s\n", o->help);
            continue;
        }
        struct strbuf sb = STRBUF_INIT;
        strbuf_addstr(&sb, "    ");
        if (o->short_name)
            strbuf_addf(&sb, "-%c%s", o->short_name, o->long_name ? ", " : "");
        if (o->long_name)
            strbuf_addf(&sb, "--%s", o->long_name);
        if (o->argh)
            strbuf_addf(&sb, " <%s>", o->argh);
        if (sb.len < 30)
            strbuf_addchars(&sb, ' ', 30 - sb.len);
        else
            strbuf_addf(&sb, "\n%30s", "");
        fprintf(out, "%s%s\n", sb.buf, o->help ? o->help : "");
        strbuf_release(&sb);
    }
}

static const struct option *find_long(const struct option *opts,
                                      const char *name, size_t len)
{
    for (const struct option *o = opts; o->type != OPTION_END; o++)
        if (o->long_name && strlen(o->long_name) == len &&
            !strncmp(o->long_name, name, len))
            return o;
    return NULL;
}

static const struct option *find_short(const struct option *opts, int c)
{
    for (const struct option *o = opts; o->type != OPTION_END; o++)
        if (o->short_name == c)
            return o;
    return NULL;
}

static void option_label(const struct option *o, char *buf, size_t size)
{
    if (o->long_name)
        snprintf(buf, size, "--%s", o->long_name);
    else
        snprintf(buf, size, "-%c", o->short_name);
}

static int set_value(const struct option *o, const char *arg,
                     struct skyc_error *err)
{
    char label[64];
    option_label(o, label, sizeof(label));
    switch (o->type) {
    case OPTION_FLAG:
        *(bool *)o->value = true;
        return 0;
    case OPTION_STRING:
        *(const char **)o->value = arg;
        return 0;
    case OPTION_LIST: {
        struct opt_list *l = o->value;
        ALLOC_GROW(l->items, l->n + 1, l->alloc);
        l->items[l->n++] = arg;
        return 0;
    }
    case OPTION_INT:
        if (!parse_long_range(arg, LONG_MIN, LONG_MAX, o->value)) {
            skyc_fail(err, SKYC_E_USAGE,
                      "option '%s' expects a whole number, got '%s'", label,
                      arg);
            return -2;
        }
        return 0;
    case OPTION_DOUBLE:
        if (!parse_nonneg_double(arg, o->value)) {
            skyc_fail(err, SKYC_E_USAGE,
                      "option '%s' expects a non-negative number, got '%s'",
                      label, arg);
            return -2;
        }
        return 0;
    case OPTION_HOURS:
        if (!parse_duration_hours(arg, o->value)) {
            skyc_fail(err, SKYC_E_USAGE,
                      "option '%s' expects a duration such as '48h', '30m' "
                      "or '2d', got '%s'",
                      label, arg);
            return -2;
        }
        return 0;
    default:
        return 0;
    }
}

static int unknown_option(const struct option *opts, const char *name,
                          struct skyc_error *err)
{
    const char *names[128];
    size_t n = 0;
    for (const struct option *o = opts; o->type != OPTION_END && n < 127; o++)
        if (o->long_name)
            names[n++] = o->long_name;
    names[n++] = "help";
    names[n] = NULL;
    const char *near = suggest_nearest(name, names);
    if (near)
        skyc_fail(err, SKYC_E_USAGE,
                  "unknown option '--%s' (did you mean '--%s'?)", name, near);
    else
        skyc_fail(err, SKYC_E_USAGE,
                  "unknown option '--%s' (see '--help' for the options)",
                  name);
    return -2;
}

int parse_options(int argc, const char **argv, const struct option *opts,
                  const char *const *usage, struct skyc_error *err)
{
    int npos = 0;
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || !arg[1]) {
            argv[npos++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_positional = true;
            continue;
        }
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage_with_options(usage, opts, stdout);
            return PARSE_OPT_HELP;
        }
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const struct option *o = find_long(opts, name, len);
            if (!o) {
                char tmp[128];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)SKYC_MIN(len, 120),
                         name);
                return unknown_option(opts, tmp, err);
            }
            const char *val = NULL;
            if (o->type == OPTION_FLAG) {
                if (eq) {
                    skyc_fail(err, SKYC_E_USAGE,
                              "option '--%s' takes no value", o->long_name);
                    return -2;
                }
            } else if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                skyc_fail(err, SKYC_E_USAGE, "option '--%s' requires a value",
                          o->long_name);
                return -2;
            }
            if (set_value(o, val, err))
                return -2;
            continue;
        }
        /* one or more short options: -v, -vq, -c NAME, -cNAME */
        for (const char *s = arg + 1; *s; s++) {
            const struct option *o = find_short(opts, *s);
            if (!o) {
                skyc_fail(err, SKYC_E_USAGE,
                          "unknown switch '-%c' (see '--help' for the options)",
                          *s);
                return -2;
            }
            if (o->type == OPTION_FLAG) {
                set_value(o, NULL, err);
                continue;
            }
            const char *val = s[1] ? s + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val) {
                skyc_fail(err, SKYC_E_USAGE, "switch '-%c' requires a value",
                          *s);
                return -2;
            }
            if (set_value(o, val, err))
                return -2;
            break;
        }
    }
    argv[npos] = NULL;
    return npos;
}
