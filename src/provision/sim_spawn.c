/*
 * sim_spawn.c - detached processes with collectable exit codes, synchronous
 * runs with captured output, rm -rf (see sim_spawn.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "provision/sim_spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

double clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void shell_quote(struct strbuf *sb, const char *s)
{
    strbuf_addch(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            strbuf_addstr(sb, "'\\''");
        else
            strbuf_addch(sb, *s);
    }
    strbuf_addch(sb, '\'');
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Write text to path atomically (tmp + rename); in a child, no allocation. */
static void write_file_atomic(const char *path, const char *text)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    write_all(fd, text, strlen(text));
    close(fd);
    rename(tmp, path);
}

static int code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

SKYC_NORETURN static void exec_child(const char *const *argv,
                                     const char *const *env, const char *cwd,
                                     int log_fd)
{
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        if (null_fd > 2)
            close(null_fd);
    }
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    if (log_fd > 2)
        close(log_fd);
    closefrom(3);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (cwd && chdir(cwd) < 0) {
        dprintf(2, "skyc: error: cannot enter directory '%s': %s\n", cwd,
                strerror(errno));
        _exit(127);
    }
    for (size_t i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    execvp(argv[0], (char *const *)argv);
    dprintf(2, "skyc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
}

enum skyc_err spawn_detached(const char *const *argv, const char *const *env,
                             const char *cwd, const char *log_path,
                             const char *rec_dir, long *pid,
                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    int pfd[2] = {-1, -1};
    int log_fd = -1;
    pid_t mid = -1;

    *pid = 0;
    if (!argv || !argv[0])
        return skyc_fail(err, SKYC_E_INTERNAL, "spawn: empty command");
    if (path_mkdir_p(rec_dir, 0755) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", rec_dir,
                       strerror(errno));
        goto out;
    }
    log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot open log '%s': %s", log_path,
                       strerror(errno));
        goto out;
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "pipe: %s", strerror(errno));
        goto out;
    }
    /* Paths the shim writes, formatted before fork (no malloc after it). */
    char shim_path[4096], exit_path[4096];
    mid = fork();
    if (mid < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "fork: %s", strerror(errno));
        goto out;
    }
    if (mid == 0) {
        setsid();
        pid_t shim = fork();
        if (shim != 0)
            _exit(shim < 0 ? 1 : 0);
        /* The shim: not our child, in its own session. */
        close(pfd[0]);
        pid_t c = fork();
        if (c < 0)
            _exit(1);
        if (c == 0) {
            setpgid(0, 0);
            close(pfd[1]);
            exec_child(argv, env, cwd, log_fd);
        }
        setpgid(c, c);
        close(log_fd);
        snprintf(shim_path, sizeof(shim_path), "%s/%ld.shim", rec_dir,
                 (long)c);
        snprintf(exit_path, sizeof(exit_path), "%s/%ld.exit", rec_dir,
                 (long)c);
        char num[32];
        snprintf(num, sizeof(num), "%ld\n", (long)getpid());
        write_file_atomic(shim_path, num);
        long cl = (long)c;
        write_all(pfd[1], (const char *)&cl, sizeof(cl));
        close(pfd[1]);
        int fd0 = open("/dev/null", O_RDWR);
        if (fd0 >= 0) {
            dup2(fd0, 0);
            dup2(fd0, 1);
            dup2(fd0, 2);
        }
        closefrom(3);
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        int st;
        while (waitpid(c, &st, 0) < 0)
            if (errno != EINTR) {
                st = 255 << 8;
                break;
            }
        snprintf(num, sizeof(num), "%d\n", code_of(st));
        write_file_atomic(exit_path, num);
        unlink(shim_path);
        _exit(0);
    }
    close(pfd[1]);
    pfd[1] = -1;
    int st;
    while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
        ;
    long child = 0;
    ssize_t got;
    do
        got = read(pfd[0], &child, sizeof(child));
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof(child) || child <= 0) {
        rc = skyc_fail(err, SKYC_E_IO, "could not start '%s'", argv[0]);
        goto out;
    }
    *pid = child;
    rc = SKYC_OK;
out:
    if (log_fd >= 0)
        close(log_fd);
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    return rc;
}

static bool read_long(const char *path, long *v)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fscanf(f, "%ld", v) == 1;
    fclose(f);
    return ok;
}

static bool proc_alive(long pid)
{
    if (pid <= 0)
        return false;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return false;
    /* A zombie is dead for us: look at /proc. */
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *rp = strrchr(buf, ')');
    return !(rp && rp[1] == ' ' && rp[2] == 'Z');
}

enum skyc_err spawn_wait(const char *rec_dir, long pid, int timeout_ms,
                         bool *done, int *exit_code,
                         bool (*alive)(void *arg), void *arg,
                         struct skyc_error *err)
{
    char exit_path[4096], shim_path[4096];
    snprintf(exit_path, sizeof(exit_path), "%s/%ld.exit", rec_dir, pid);
    snprintf(shim_path, sizeof(shim_path), "%s/%ld.shim", rec_dir, pid);
    double deadline = clock_wall() + (timeout_ms < 0 ? 1e12 : timeout_ms / 1e3);
    int sleep_us = 1000;
    *done = false;
    *exit_code = -1;
    for (;;) {
        long code, shim;
        if (read_long(exit_path, &code)) {
            *done = true;
            *exit_code = (int)code;
            return SKYC_OK;
        }
        bool have_shim = read_long(shim_path, &shim);
        if (!have_shim || !proc_alive(shim)) {
            /* Re-check: the shim writes .exit before removing .shim. */
            if (!read_long(exit_path, &code))
                code = 137; /* vanished without a code */
            *done = true;
            *exit_code = (int)code;
            return SKYC_OK;
        }
        if (alive && !alive(arg)) {
            *done = true;
            *exit_code = 137;
            return SKYC_OK;
        }
        if (clock_wall() >= deadline)
            return SKYC_OK;
        usleep((useconds_t)sleep_us);
        if (sleep_us < 20000)
            sleep_us *= 2;
    }
    (void)err;
}

enum skyc_err run_capture(const char *const *argv, struct strbuf *out,
                          int *code, double timeout_s, struct skyc_error *err)
{
    int pfd[2];
    *code = -1;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return skyc_fail(err, SKYC_E_IO, "pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return skyc_fail(err, SKYC_E_IO, "fork: %s", strerror(errno));
    }
    if (c == 0) {
        close(pfd[0]);
        setpgid(0, 0);
        exec_child(argv, NULL, NULL, pfd[1]);
    }
    setpgid(c, c);
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
    double deadline = clock_wall() + timeout_s;
    bool timed_out = false, exited = false, eof = false;
    int st = 0;
    char buf[4096];
    /*
     * Until the command exits (not until EOF: a process it left behind,
     * such as an ssh control master, may keep the pipe open), then drain.
     */
    while (!exited) {
        double left = deadline - clock_wall();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int r = eof ? 0 : poll(&p, 1, (int)SKYC_MIN(left * 1000, 20) + 1);
        if (eof)
            usleep(5000);
        if (r > 0) {
            ssize_t n = read(pfd[0], buf, sizeof(buf));
            if (n > 0 && out && out->len < 65536)
                strbuf_add(out, buf, (size_t)n);
            if (n == 0)
                eof = true;
        }
        pid_t w = waitpid(c, &st, WNOHANG);
        if (w == c)
            exited = true;
    }
    for (;;) {
        ssize_t n = read(pfd[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out && out->len < 65536)
            strbuf_add(out, buf, (size_t)n);
    }
    close(pfd[0]);
    if (timed_out) {
        kill(-c, SIGKILL);
        while (waitpid(c, &st, 0) < 0 && errno == EINTR)
            ;
    }
    *code = timed_out ? 124 : code_of(st);
    return SKYC_OK;
}

int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = path_join(path, e->d_name);
        if (remove_tree(sub) < 0)
            rc = -1;
        free(sub);
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}
