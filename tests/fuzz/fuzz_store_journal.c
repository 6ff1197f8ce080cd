/*
 * libFuzzer entry for the placement engine's journal reader
 * (place_journal_replay): any bytes either replay, keeping the engine's
 * invariants (one primary per live object, a non-negative bill), or fail
 * with an error located as "fuzz.journal:LINE".
 */
#include "core/common.h"
#include "store/cost.h"
#include "store/placement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cost_csv[] = "src,dest,cost\n"
                               "aws:a,aws:b,0.02\naws:b,aws:a,0.02\n"
                               "aws:a,gcp:c-a,0.09\ngcp:c-a,aws:a,0.12\n";

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
    struct place p;
    size_t applied = 0;
    place_init(&p, &m);
    if (place_journal_replay(&p, (const char *)data, size, "fuzz.journal",
                             &applied, &err) == SKYC_OK) {
        for (size_t i = 0; i < p.nobjects; i++) {
            size_t primaries = 0;
            for (size_t c = 0; c < p.objects[i].ncopies; c++)
                primaries += p.objects[i].copies[c].primary;
            if (primaries != (p.objects[i].live ? 1u : 0u))
                abort();
        }
        struct place_bill bill;
        place_bill_total(&p, p.clock, &bill);
        if (!(bill.total_usd >= 0))
            abort();
    } else if (strncmp(err.msg, "fuzz.journal:", 13) != 0) {
        abort();
    }
    place_release(&p);
    return 0;
}
