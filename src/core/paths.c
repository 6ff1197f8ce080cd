#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"

#include <ftw.h>
#include <sys/stat.h>

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    if (n && dir[n - 1] == '/')
        return xasprintf("%s%s", dir, name);
    return xasprintf("%s/%s", dir, name);
}

static char *xdg_dir(const char *env, const char *fallback)
{
    const char *base = getenv(env);
    if (base && *base == '/')
        return path_join(base, "skyc");
    const char *home = getenv("HOME");
    if (!home || !*home)
        home = "/tmp";
    return xasprintf("%s/%s/skyc", home, fallback);
}

char *path_state_dir(void)
{
    return xdg_dir("XDG_STATE_HOME", ".local/state");
}

char *path_cache_dir(void)
{
    return xdg_dir("XDG_CACHE_HOME", ".cache");
}

char *path_config_dir(void)
{
    return xdg_dir("XDG_CONFIG_HOME", ".config");
}

bool path_is_dir(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISDIR(st.st_mode);
}

bool path_is_file(const char *path)
{
    struct stat st;
    return !stat(path, &st) && S_ISREG(st.st_mode);
}

char *path_shared_data(void)
{
    const char *env = getenv("SKYC_SHARED_DATA");
    if (env && *env)
        return path_is_dir(env) ? xstrdup(env) : NULL;
    if (path_is_dir("../shared/data"))
        return xstrdup("../shared/data");
#ifdef SKYC_SOURCE_DIR
    char *beside = xasprintf("%s/../shared/data", SKYC_SOURCE_DIR);
    if (path_is_dir(beside))
        return beside;
    free(beside);
#endif
    return NULL;
}

int path_mkdir_p(const char *path, unsigned mode)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) && errno != EEXIST) {
            rc = -1;
            goto out;
        }
        *s = '/';
    }
    if (mkdir(p, mode) && errno != EEXIST)
        rc = -1;
out:
    free(p);
    return rc;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) && errno != ENOENT ? -1 : 0;
}

int path_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return errno == ENOENT ? 0 : -1;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
