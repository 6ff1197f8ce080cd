/*
 * spot_bench - figures for bench/spot.sh: the paper simulator's 9,600 runs
 * (2 trace sets x 4 settings x 4 policies x 300 windows) and the exact
 * optimum of one 92-hour window, timed in-process after the traces load.
 *
 * usage: spot_bench WINDOWS_DIR
 */
#include "core/common.h"
#include "core/alloc.h"
#include "spot/markov.h"
#include "spot/sim.h"
#include "spot/trace.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: spot_bench WINDOWS_DIR\n");
        return 2;
    }
    struct trace_sets ts;
    struct skyc_error err = {0};
    struct trace_read_opts ro = {TRACE_AUTO, 1};
    double t0 = now_ms();
    if (trace_sets_load(&ts, argv[1], &ro, &err)) {
        fprintf(stderr, "spot_bench: %s\n", err.msg);
        return 1;
    }
    double load_ms = now_ms() - t0;
    const char *names[2] = {"us-west-2a_v100_1", "us-west-2b_v100_1"};
    const struct trace_set *sets[2] = {NULL, NULL};
    for (size_t i = 0; i < ts.n; i++)
        for (int k = 0; k < 2; k++)
            if (!strcmp(ts.sets[i].name, names[k]))
                sets[k] = &ts.sets[i];
    if (!sets[0] || !sets[1]) {
        fprintf(stderr, "spot_bench: sets %s and %s not found\n", names[0],
                names[1]);
        return 1;
    }
    static const double Ds[2] = {52, 70}, ds[2] = {0.05, 0.2};
    static const enum spot_policy_id ids[4] = {SPOT_POL_OD, SPOT_POL_GREEDY,
                                               SPOT_POL_SLICED, SPOT_POL_UP};
    struct spot_run *runs = xcalloc(300, sizeof(*runs));
    size_t nruns = 0;
    double check = 0;
    t0 = now_ms();
    for (int s = 0; s < 2; s++) {
        struct spot_window *w;
        size_t nw;
        if (spot_windows_make(&sets[s], 1, 300, 0, 1, &w, &nw, &err)) {
            fprintf(stderr, "spot_bench: %s\n", err.msg);
            return 1;
        }
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++) {
                struct spot_job job = {48 * 3600.0, Ds[a] * 3600, ds[b] * 3600,
                                       3.06, 0.9731};
                for (int p = 0; p < 4; p++) {
                    struct spot_policy pol;
                    spot_policy_init(&pol, ids[p]);
                    spot_eval(&pol, &job, w, nw, runs, &err);
                    nruns += nw;
                    for (size_t i = 0; i < nw; i++)
                        check += runs[i].cost;
                }
            }
        free(w);
    }
    double sim_ms = now_ms() - t0;

    /* the optimum over whole 92-hour windows (554 ticks): C = 48 h,
     * D = 92 h, d = 0.2 h and 0.05 h; mean and worst per window */
    struct spot_window *w;
    size_t nw;
    spot_windows_make(&sets[0], 1, 300, 0, 1, &w, &nw, &err);
    double opt_mean[2], opt_max[2];
    for (int b = 0; b < 2; b++) {
        struct spot_job job = {48 * 3600.0, 92 * 3600.0, ds[1 - b] * 3600,
                               3.06, 0.9731};
        double sum = 0, mx = 0;
        for (size_t i = 0; i < nw; i++) {
            struct spot_run r;
            double s0 = now_ms();
            if (spot_optimum(&job, &w[i], &r, NULL, 0, NULL, &err)) {
                fprintf(stderr, "spot_bench: %s\n", err.msg);
                return 1;
            }
            double dt = now_ms() - s0;
            sum += dt;
            mx = SKYC_MAX(mx, dt);
            check += r.cost;
        }
        opt_mean[b] = sum / (double)nw;
        opt_max[b] = mx;
    }
    /* one markov table (ours), C = 48 h, D = 60 h, d = 0.2 h */
    struct spot_markov_model mm;
    spot_markov_fit(w, nw, &mm);
    struct spot_markov m;
    struct spot_job job = {48 * 3600.0, 60 * 3600.0, 0.2 * 3600, 3.06, 0.9731};
    t0 = now_ms();
    if (spot_markov_build(&m, &job, w[0].gap, &mm, &err)) {
        fprintf(stderr, "spot_bench: %s\n", err.msg);
        return 1;
    }
    double mk_ms = now_ms() - t0;
    spot_markov_release(&m);
    free(w);
    free(runs);
    trace_sets_release(&ts);

    printf("%-52s %12s %12s %16s\n", "figure", "skyc", "target",
           "paper's Python");
    printf("%-52s %9.1f ms %12s %16s\n", "load 2,400 trace windows (JSON)",
           load_ms, "-", "-");
    printf("%-52s %9.1f ms %12s %16s\n",
           "9,600 runs (2 sets x 4 settings x 4 policies x 300)", sim_ms,
           "<= 1000 ms", "244 s");
    printf("%-52s %9.2f ms %12s %16s\n",
           "optimum, one 92-hour window, d=0.2h (mean)", opt_mean[0],
           "<= 50 ms", "ILP: minutes");
    printf("%-52s %9.2f ms %12s %16s\n",
           "optimum, one 92-hour window, d=0.2h (worst of 300)", opt_max[0],
           "<= 50 ms", "-");
    printf("%-52s %9.2f ms %12s %16s\n",
           "optimum, one 92-hour window, d=0.05h (mean)", opt_mean[1],
           "<= 50 ms", "-");
    printf("%-52s %9.1f ms %12s %16s\n",
           "markov table (ours), C=48h D=60h d=0.2h", mk_ms, "-", "-");
    printf("(%zu runs; checksum %.2f)\n", nruns, check);
    return 0;
}
