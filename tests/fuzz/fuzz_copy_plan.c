/*
 * libFuzzer entry for cp's plan files: any bytes as a planner plan (mapped
 * onto fixed gateways for aws:a, aws:b and gcp:c, several addresses for
 * one) or a hand-written path list. Never a crash; every error names the
 * file or the flag; every accepted plan has 1 to 64 connections per path,
 * 1 to 17 hops, and a planner plan's total stays within the cap.
 */
#include "core/common.h"
#include "transfer/copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t size, const char *const *gws,
                  size_t ngws, int cap)
{
    struct sender_path *paths;
    size_t n;
    struct skyc_error err = {0};
    if (copy_plan_parse("p.json", text, size, gws, ngws, cap, &paths, &n,
                        &err) != SKYC_OK) {
        if (paths || n ||
            (strncmp(err.msg, "p.json", 6) && strncmp(err.msg, "--gateway", 9) &&
             strncmp(err.msg, "bad --gateway", 13)))
            abort();
        return;
    }
    long total = 0;
    if (!n)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (paths[i].conns < 1 || paths[i].conns > 64 || !paths[i].nhops ||
            paths[i].nhops > 17)
            abort();
        for (size_t j = 0; j < paths[i].nhops; j++)
            if (!paths[i].hops[j])
                abort();
        total += paths[i].conns;
    }
    /* with gateways it was a planner plan: at most max(cap, routes) */
    if (ngws && total > ((cap ? cap : COPY_PLAN_MAX_CONNS) > 16
                             ? (cap ? cap : COPY_PLAN_MAX_CONNS)
                             : 16))
        abort();
    copy_paths_free(paths, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const gws[] = {
        "aws:a=127.0.0.1:1", "aws:b=127.0.0.1:2,127.0.0.1:3",
        "gcp:c=127.0.0.1:4"};
    if (size > 64 * 1024)
        return 0;
    const char *text = (const char *)data;
    check(text, size, NULL, 0, 0);
    check(text, size, gws + 1, 2, 8);
    check(text, size, gws, 3, 0);
    return 0;
}
