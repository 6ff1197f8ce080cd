/*
 * jobs_env.c - the settings a managed job runs with (jobs.h): snapshot of
 * the submitting command's environment, applied by the controller around
 * everything it does for that job.
 *
 * Kept: every SKYC_* variable except the controller's own knobs
 * (SKYC_JOBS_*), plus PATH, XDG_CONFIG_HOME, XDG_CACHE_HOME and
 * XDG_DATA_HOME. Not kept: XDG_STATE_HOME and HOME (they locate jobs.db,
 * so they are the controller's by definition).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "jobs/jobs.h"

#include <jansson.h>
#include <stdlib.h>

extern char **environ;

bool jobs_env_kept(const char *name, size_t len)
{
    static const char *const extra[] = {"PATH", "XDG_CONFIG_HOME",
                                        "XDG_CACHE_HOME", "XDG_DATA_HOME"};
    if (len >= 5 && !strncmp(name, "SKYC_", 5))
        return !(len >= 10 && !strncmp(name, "SKYC_JOBS_", 10));
    for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
        if (strlen(extra[i]) == len && !strncmp(name, extra[i], len))
            return true;
    return false;
}

char *jobs_env_snapshot(void)
{
    json_t *o = json_object();
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || !jobs_env_kept(*e, (size_t)(eq - *e)))
            continue;
        char *k = xstrndup(*e, (size_t)(eq - *e));
        json_object_set_new(o, k, json_string(eq + 1));
        free(k);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s ? s : xstrdup("{}");
}

void jobs_env_apply(const char *snapshot)
{
    json_t *o = snapshot ? json_loads(snapshot, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    /* drop the kept variables the snapshot does not have (collect the
     * names first: unsetenv changes environ) */
    char **drop = NULL;
    size_t n = 0, alloc = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || !jobs_env_kept(*e, (size_t)(eq - *e)))
            continue;
        char *k = xstrndup(*e, (size_t)(eq - *e));
        if (json_object_get(o, k)) {
            free(k);
            continue;
        }
        ALLOC_GROW(drop, n + 1, alloc);
        drop[n++] = k;
    }
    for (size_t i = 0; i < n; i++) {
        unsetenv(drop[i]);
        free(drop[i]);
    }
    free(drop);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v) || !jobs_env_kept(k, strlen(k)))
            continue;
        const char *cur = getenv(k);
        if (!cur || strcmp(cur, json_string_value(v)))
            setenv(k, json_string_value(v), 1);
    }
    json_decref(o);
}
