/*
 * paths.h - where skyc keeps and finds things.
 *
 * XDG base directories (state, cache, config) with skyc's own subfolder, and
 * the shared public data ($SKYC_SHARED_DATA, else ../shared/data beside the
 * project). Every function returns a newly allocated string the caller frees.
 */
#ifndef SKYC_CORE_PATHS_H
#define SKYC_CORE_PATHS_H

#include "core/common.h"

/* $XDG_STATE_HOME/skyc or ~/.local/state/skyc */
char *path_state_dir(void);
/* $XDG_CACHE_HOME/skyc or ~/.cache/skyc */
char *path_cache_dir(void);
/* $XDG_CONFIG_HOME/skyc or ~/.config/skyc */
char *path_config_dir(void);

/*
 * The shared data directory: $SKYC_SHARED_DATA when set; otherwise the first
 * existing of ../shared/data (from the working directory) and the copy
 * beside the source tree. Returns NULL when none exists.
 */
char *path_shared_data(void);

/* mkdir -p; returns 0 or -1 with errno. */
int path_mkdir_p(const char *path, unsigned mode);

/* rm -rf: remove path and everything under it (no symlinks followed);
 * a missing path is success. Returns 0 or -1 with errno. */
int path_remove_tree(const char *path);

/* Whether path names an existing directory / regular file. */
bool path_is_dir(const char *path);
bool path_is_file(const char *path);

/* dir + "/" + name, newly allocated. */
char *path_join(const char *dir, const char *name);

#endif
