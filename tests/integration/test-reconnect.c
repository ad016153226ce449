/* libvirtd killed while `up` waits, on a private daemon of this test's own.
 *
 * The machine's libvirtd is shared with other tests, so this test never touches it: it runs
 * virt-station as the unprivileged user nobody on qemu:///session with HOME and every XDG folder
 * in a temporary directory. libvirt then autostarts a per-test session libvirtd (`libvirtd
 * --timeout=120`, its socket and pidfile in $XDG_RUNTIME_DIR/libvirt) on the first connection
 * and again on the first connection after it died. (As root, qemu:///session is served by the
 * system daemon, so root cannot have a private one this way.)
 *   reconnect: `up --network user` with the test image; once the wait reports the domain
 *          running, SIGKILL the daemon. QEMU must survive it (same pid, alive); `up` must say
 *          that it lost the connection and reconnected, then finish with exit 0; a new daemon
 *          runs; the guest answers `exec NAME -- true`. Measured: kill to "reconnected" (as the
 *          test sees the line appear) and the whole `up`.
 *   unreachable: the domain destroyed and `start NAME --timeout 45` run; once it runs, the
 *          daemon's runtime folder is made read-only (no new daemon can start) and the daemon is
 *          killed: `start` must fail with exit 4 within its timeout (plus slack), naming the URI
 *          and saying it could not connect again; QEMU is left running.
 * The checks run in a subprocess; the parent always cleans up after it (domain destroyed and
 * undefined through the daemon, the daemons and QEMU killed by their pidfiles, the folder
 * removed), also when a check failed. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bed/bed.h"

#define URI    "qemu:///session"
#define NOBODY 65534

/* What the parent and the checking subprocess share, through the environment. */
typedef struct {
    char *dir;   /* the private folder, owned by nobody */
    char *name;  /* the domain */
    char *pool;  /* the transient pool */
    char *vs;    /* the virt-station binary */
    char *image; /* the test image */
} Rc;

static void
rc_load(Rc *rc)
{
    rc->dir = g_strdup(g_getenv("VS_RC_DIR"));
    rc->name = g_strdup(g_getenv("VS_RC_NAME"));
    rc->pool = g_strdup(g_getenv("VS_RC_POOL"));
    rc->vs = g_strdup(g_getenv("VS_RC_VS"));
    rc->image = g_strdup(g_getenv("VS_RC_IMAGE"));
    g_assert_true(rc->dir && rc->name && rc->pool && rc->vs && rc->image);
}

static void
rc_clear(Rc *rc)
{
    g_free(rc->dir);
    g_free(rc->name);
    g_free(rc->pool);
    g_free(rc->vs);
    g_free(rc->image);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Rc, rc_clear)

/* Returns @rc->dir/@a (with @b under it when given). */
static char *
at(const Rc *rc, const char *a, const char *b)
{
    return g_build_filename(rc->dir, a, b, NULL);
}

/* Returns the argv that runs @args (NULL-terminated) as nobody in @rc's private world. */
static GStrv
as_nobody(const Rc *rc, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    const char *const head[] = {
        "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "-i", NULL};

    for (guint i = 0; head[i]; i++)
        g_ptr_array_add(argv, g_strdup(head[i]));
    g_ptr_array_add(argv, g_strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
    g_ptr_array_add(argv, g_strdup_printf("HOME=%s/home", rc->dir));
    g_ptr_array_add(argv, g_strdup_printf("XDG_RUNTIME_DIR=%s/run", rc->dir));
    g_ptr_array_add(argv, g_strdup_printf("XDG_CONFIG_HOME=%s/config", rc->dir));
    g_ptr_array_add(argv, g_strdup_printf("XDG_CACHE_HOME=%s/cache", rc->dir));
    g_ptr_array_add(argv, g_strdup_printf("XDG_DATA_HOME=%s/data", rc->dir));
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, g_strdup(args[i]));
    g_ptr_array_add(argv, NULL);
    return (GStrv)g_ptr_array_free(argv, FALSE);
}

/* Runs @args as nobody to the end. */
static VsBedRun
run_nobody(const Rc *rc, const char *const *args)
{
    g_auto(GStrv) argv = as_nobody(rc, args);
    return vs_bed_run((const char *const *)argv);
}

/* A virt-station running in the background, and whether it ended. */
typedef struct {
    GSubprocess *proc;
    gboolean ended;
} Bg;

/* Notes that the process ended (g_subprocess_wait_async's callback). Returns nothing. */
static void
on_ended(GObject *source, GAsyncResult *result, gpointer data)
{
    Bg *bg = data;

    g_subprocess_wait_finish(G_SUBPROCESS(source), result, NULL);
    bg->ended = TRUE;
}

/* Returns TRUE when @bg ended (after running the callbacks that are due). */
static gboolean
ended(Bg *bg)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
    return bg->ended;
}

/* Starts `virt-station -c URI @args...` as nobody into @bg, its stderr into @err_path. */
static void
spawn_vs(Bg *bg, const Rc *rc, const char *err_path, const char *const *args)
{
    g_autoptr(GPtrArray) full = g_ptr_array_new();
    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = NULL;

    g_ptr_array_add(full, rc->vs);
    g_ptr_array_add(full, (char *)"-c");
    g_ptr_array_add(full, (char *)URI);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(full, (char *)args[i]);
    g_ptr_array_add(full, NULL);
    argv = as_nobody(rc, (const char *const *)full->pdata);
    g_subprocess_launcher_set_stdout_file_path(launcher, "/dev/null");
    g_subprocess_launcher_set_stderr_file_path(launcher, err_path);
    bg->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    g_assert_no_error(error);
    bg->ended = FALSE;
    g_subprocess_wait_async(bg->proc, NULL, on_ended, bg);
}

/* Returns the file's text ("" when it cannot be read). */
static char *
slurp(const char *path)
{
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : g_strdup("");
}

/* Waits until @path holds @needle or @proc exits or @timeout_s pass. Returns TRUE when it holds
 * it. */
static gboolean
wait_for_text(const char *path, const char *needle, Bg *bg, guint timeout_s)
{
    gint64 until = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < until) {
        g_autofree char *text = slurp(path);
        if (strstr(text, needle))
            return TRUE;
        if (ended(bg))
            return FALSE;
        g_usleep(G_USEC_PER_SEC / 10);
    }
    return FALSE;
}

/* Waits for @proc at most @timeout_s seconds. Returns its exit status; -1 when it did not end
 * (it is killed then) or was killed. */
static int
wait_exit(Bg *bg, guint timeout_s)
{
    gint64 until = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;

    while (!ended(bg)) {
        if (g_get_monotonic_time() >= until) {
            g_subprocess_force_exit(bg->proc);
            while (!ended(bg))
                g_usleep(G_USEC_PER_SEC / 10);
            return -1;
        }
        g_usleep(G_USEC_PER_SEC / 10);
    }
    return g_subprocess_get_if_exited(bg->proc) ? g_subprocess_get_exit_status(bg->proc) : -1;
}

/* Returns the pid in the pidfile @path, or 0. */
static pid_t
read_pid(const char *path)
{
    g_autofree char *text = slurp(path);

    return (pid_t)g_ascii_strtoll(text, NULL, 10);
}

/* Returns TRUE when @pid is a live process (not a zombie) owned by nobody whose command line
 * holds @what. */
static gboolean
alive_as_nobody(pid_t pid, const char *what)
{
    g_autofree char *proc = g_strdup_printf("/proc/%d", (int)pid);
    g_autofree char *stat_path = g_build_filename(proc, "stat", NULL);
    g_autofree char *cmd_path = g_build_filename(proc, "cmdline", NULL);
    g_autofree char *stat_text = NULL, *cmdline = NULL;
    gsize len = 0;
    GStatBuf st;
    const char *paren;

    if (pid <= 0 || g_stat(proc, &st) != 0 || st.st_uid != NOBODY)
        return FALSE;
    if (!g_file_get_contents(stat_path, &stat_text, NULL, NULL) ||
        !g_file_get_contents(cmd_path, &cmdline, &len, NULL))
        return FALSE;
    paren = strrchr(stat_text, ')');
    if (!paren || paren[1] != ' ' || paren[2] == 'Z')
        return FALSE;
    for (gsize i = 0; i + 1 < len; i++) /* NUL-separated: one string */
        if (!cmdline[i])
            cmdline[i] = ' ';
    return strstr(cmdline, what) != NULL;
}

/* Returns the seconds since @t0 (monotonic). */
static double
since(gint64 t0)
{
    return (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

/* Prints a measurement on stderr, which the trap passes through to the test log (the
 * subprocess runs without --tap, where g_test_message() says nothing). */
#define note(...) g_printerr("# " __VA_ARGS__)

/* The checks; run in a subprocess. */
static void
checks(void)
{
    g_auto(Rc) rc = {0};
    const char *virt_type = vs_bed_virt_type();
    g_autofree char *daemon_pidfile = NULL, *qemu_pidfile = NULL, *pool_dir = NULL;
    g_autofree char *up_err = NULL, *start_err = NULL, *runtime = NULL;
    g_autofree char *text = NULL;
    pid_t daemon, qemu, daemon2;
    gint64 t_up, t_kill;
    double reconnect_s, up_s, start_s;
    int status;

    rc_load(&rc);
    daemon_pidfile = at(&rc, "run", "libvirt/libvirtd.pid");
    runtime = at(&rc, "run", "libvirt");
    {
        g_autofree char *file = g_strdup_printf("libvirt/qemu/run/%s.pid", rc.name);
        qemu_pidfile = at(&rc, "run", file);
    }
    pool_dir = at(&rc, "home", "pool");
    up_err = at(&rc, "up.err", NULL);
    start_err = at(&rc, "start.err", NULL);

    /* The pool, on a first connection that autostarts the private daemon. */
    g_auto(VsBedRun) pool =
        run_nobody(&rc, (const char *const[]){"virsh", "-c", URI, "pool-create-as", rc.pool, "dir",
                                              "--target", pool_dir, NULL});
    g_assert_cmpint(pool.status, ==, 0);
    g_assert_true(alive_as_nobody(read_pid(daemon_pidfile), "libvirtd"));

    /* -- reconnect -- */
    t_up = g_get_monotonic_time();
    Bg up = {0};
    spawn_vs(&up, &rc, up_err,
             (const char *const[]){"up", rc.name, "--image", rc.image, "--pool", rc.pool,
                                   "--network", "user", "--user", "station", "--memory", "1024",
                                   "--virt-type", virt_type ? virt_type : "qemu", "--timeout",
                                   "600", NULL});
    if (!wait_for_text(up_err, "domain running", &up, 300)) {
        text = slurp(up_err);
        g_error("up did not report the domain running:\n%s", text);
    }
    daemon = read_pid(daemon_pidfile);
    qemu = read_pid(qemu_pidfile);
    g_assert_true(alive_as_nobody(daemon, "libvirtd"));
    g_assert_true(alive_as_nobody(qemu, rc.name));
    t_kill = g_get_monotonic_time();
    g_assert_cmpint(kill(daemon, SIGKILL), ==, 0);
    g_usleep(G_USEC_PER_SEC / 2);
    g_assert_false(alive_as_nobody(daemon, "libvirtd"));
    g_assert_true(alive_as_nobody(qemu, rc.name)); /* QEMU outlives its daemon */
    if (!wait_for_text(up_err, "reconnected to " URI " after", &up, 120)) {
        text = slurp(up_err);
        g_error("up did not reconnect within 120 s of the kill:\n%s", text);
    }
    reconnect_s = since(t_kill);
    status = wait_exit(&up, 600);
    up_s = since(t_up);
    text = slurp(up_err);
    note("reconnect: killed libvirtd %d %.1f s after up began; \"reconnected\" seen "
         "%.1f s after the kill; up exited %d after %.1f s in all\n%s\n",
         (int)daemon, (double)(t_kill - t_up) / G_USEC_PER_SEC, reconnect_s, status, up_s, text);
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(text, "lost the connection to libvirt at " URI " ("));
    g_assert_nonnull(strstr(text, "); reconnecting"));
    g_assert_nonnull(strstr(text, "cloud-init finished"));
    g_assert_cmpfloat(reconnect_s, <, 30);
    /* A new daemon serves the session now; the domain is the same QEMU, not a restarted one. */
    daemon2 = read_pid(daemon_pidfile);
    g_assert_cmpint(daemon2, !=, daemon);
    g_assert_true(alive_as_nobody(daemon2, "libvirtd"));
    g_assert_cmpint(read_pid(qemu_pidfile), ==, qemu);
    g_assert_true(alive_as_nobody(qemu, rc.name));
    g_auto(VsBedRun) exec = run_nobody(
        &rc, (const char *const[]){rc.vs, "-c", URI, "exec", rc.name, "--", "true", NULL});
    g_assert_cmpint(exec.status, ==, 0);

    /* -- unreachable: the daemon cannot come back -- */
    g_auto(VsBedRun) destroy =
        run_nobody(&rc, (const char *const[]){"virsh", "-c", URI, "destroy", rc.name, NULL});
    g_assert_cmpint(destroy.status, ==, 0);
    gint64 t_start = g_get_monotonic_time();
    Bg start = {0};
    spawn_vs(&start, &rc, start_err,
             (const char *const[]){"start", rc.name, "--timeout", "45", NULL});
    if (!wait_for_text(start_err, "domain running", &start, 120)) {
        g_free(text);
        text = slurp(start_err);
        g_error("start did not report the domain running:\n%s", text);
    }
    daemon = read_pid(daemon_pidfile);
    qemu = read_pid(qemu_pidfile);
    /* A daemon needs to write its socket and pidfile there: none can start any more. */
    g_assert_cmpint(g_chmod(runtime, 0500), ==, 0);
    g_assert_cmpint(kill(daemon, SIGKILL), ==, 0);
    status = wait_exit(&start, 200);
    start_s = since(t_start);
    g_free(text);
    text = slurp(start_err);
    note("unreachable: start --timeout 45 exited %d after %.1f s\n%s\n", status, start_s, text);
    g_assert_cmpint(status, ==, 4);
    g_assert_cmpfloat(start_s, <, 45 + 30);
    g_assert_cmpfloat(start_s, >=, 45);
    g_assert_nonnull(strstr(text, "lost the connection to libvirt at " URI));
    g_assert_nonnull(strstr(text, "could not connect again"));
    g_assert_nonnull(strstr(text, "timed out after 45 s"));
    g_assert_null(strstr(text, "reconnected to"));
    g_assert_true(alive_as_nobody(qemu, rc.name)); /* the workstation is kept */
}
/* Kills @pid when it is a live process of nobody running @what. Returns nothing. */
static void
kill_nobody(pid_t pid, const char *what)
{
    if (alive_as_nobody(pid, what))
        kill(pid, SIGKILL);
}

/* Removes everything the checks may have left, whatever state they left it in. */
static void
cleanup(Rc *rc)
{
    g_autofree char *runtime = at(rc, "run", "libvirt");
    g_autofree char *daemon_pidfile = at(rc, "run", "libvirt/libvirtd.pid");
    g_autofree char *logd_pidfile = at(rc, "run", "libvirt/virtlogd.pid");
    g_autofree char *file = g_strdup_printf("libvirt/qemu/run/%s.pid", rc->name);
    g_autofree char *qemu_pidfile = at(rc, "run", file);
    pid_t qemu = read_pid(qemu_pidfile);

    g_chmod(runtime, 0700);
    /* What the daemon that starts now finds: the log says so when the checks failed. */
    {
        g_autofree char *log_name = g_strdup_printf("libvirt/qemu/log/%s.log", rc->name);
        g_autofree char *log_path = at(rc, "cache", log_name);
        g_autofree char *log = slurp(log_path);
        g_auto(VsBedRun) state = run_nobody(
            rc, (const char *const[]){"virsh", "-c", URI, "domstate", "--reason", rc->name, NULL});
        const char *tail = strlen(log) > 600 ? log + strlen(log) - 600 : log;
        g_test_message("cleanup: QEMU %d %s; QEMU's log ends:\n%s", (int)qemu,
                       alive_as_nobody(qemu, rc->name) ? "alive" : "gone", tail);
    }
    /* Through a daemon first (one starts again for it), so that it forgets the domain. */
    for (const char *const *cmd = (const char *const[]){"destroy", "undefine", NULL}; *cmd; cmd++) {
        g_auto(VsBedRun) r =
            run_nobody(rc, (const char *const[]){"virsh", "-c", URI, *cmd, rc->name, NULL});
    }
    g_auto(VsBedRun) p =
        run_nobody(rc, (const char *const[]){"virsh", "-c", URI, "pool-destroy", rc->pool, NULL});
    kill_nobody(qemu, rc->name);
    kill_nobody(read_pid(daemon_pidfile), "libvirtd");
    kill_nobody(read_pid(logd_pidfile), "virtlogd");
    /* What else of nobody's names the folder: QEMU's capability probes, a domain's QEMU whose
     * pidfile is gone. */
    {
        g_autoptr(GDir) procs = g_dir_open("/proc", 0, NULL);
        const char *entry;
        while (procs && (entry = g_dir_read_name(procs))) {
            pid_t pid = (pid_t)g_ascii_strtoll(entry, NULL, 10);
            if (pid > 0 && pid != getpid())
                kill_nobody(pid, rc->dir);
        }
    }
    g_usleep(G_USEC_PER_SEC);
    vs_bed_rmtree(rc->dir);
}

static void
test_reconnect(void)
{
    g_autoptr(GError) error = NULL;
    g_auto(Rc) rc = {0};
    const char *const homes[] = {"home", "home/pool", "run", "config", "cache",
                                 /* libvirt 9.0's session driver does not make the folder of
                                  * the serial console's log itself */
                                 "cache/libvirt", "cache/libvirt/qemu", "cache/libvirt/qemu/log",
                                 "data", NULL};

    if (geteuid() != 0) {
        g_test_skip("runs virt-station as nobody: needs root");
        return;
    }
    rc.image = vs_bed_image(&error);
    g_assert_no_error(error);
    rc.vs = g_find_program_in_path("virt-station");
    g_assert_nonnull(rc.vs);
    rc.dir = vs_bed_tmpdir("vs-rc");
    rc.name = g_strdup_printf("vs-int-rc-%d", (int)getpid());
    rc.pool = g_strdup_printf("vs-test-rc-%d", (int)getpid());
    for (guint i = 0; homes[i]; i++) {
        g_autofree char *path = at(&rc, homes[i], NULL);
        g_assert_cmpint(g_mkdir_with_parents(path, 0700), ==, 0);
        g_assert_cmpint(chown(path, NOBODY, NOBODY), ==, 0);
    }
    g_assert_cmpint(chown(rc.dir, NOBODY, NOBODY), ==, 0);
    g_setenv("VS_RC_DIR", rc.dir, TRUE);
    g_setenv("VS_RC_NAME", rc.name, TRUE);
    g_setenv("VS_RC_POOL", rc.pool, TRUE);
    g_setenv("VS_RC_VS", rc.vs, TRUE);
    g_setenv("VS_RC_IMAGE", rc.image, TRUE);

    g_test_trap_subprocess("/integration/reconnect/libvirtd-killed/subprocess", 0,
                           G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
    cleanup(&rc);
    g_test_trap_assert_passed();
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/reconnect/libvirtd-killed", test_reconnect);
    /* GLib runs a ".../subprocess" path only when asked for it: the trap does. */
    g_test_add_func("/integration/reconnect/libvirtd-killed/subprocess", checks);
    return g_test_run();
}
