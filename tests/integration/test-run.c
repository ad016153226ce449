/* `run` on real libvirtd, with the Debian test image, user networking and a temporary pool:
 *   pair:    two runs started together. One copies a folder in (a script and 100 KiB of random
 *            data), runs `echo hi; sh script; exit 7` and copies a folder and a file out: it
 *            prints hi, exits 7, and what comes out equals the data and its SHA-256 computed
 *            here. The other runs `echo two; sleep 60` with --cmd-timeout 30: it prints two and
 *            exits 124. (The timeout counts from ssh's start: under TCG on a busy machine ssh
 *            took about 5 s to connect, so 5 s could end CMD before it printed anything.)
 *            Both leave no domain and no volume.
 *   sigint:  a run interrupted with SIGINT once its domain was created (booting) exits 125 and
 *            leaves no domain and no volume.
 *   sigkill: an unnamed run (run-RANDOM) killed with SIGKILL while booting: libvirt destroys its
 *            domain (autodestroy), its volumes stay until the next `list`, which removes them.
 * Each run logs its times. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"

#define URI "qemu:///system"

static VsBedWorld bed;

/* Returns the seconds since @start_us (monotonic). */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

/* Returns a `virt-station -c URI run` argv in the test's pool, with @extra (NULL-terminated)
 * after the common flags, then "--" and @command (NULL-terminated). */
static GPtrArray *
run_argv(const char *const *extra, const char *const *command)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    const char *virt_type = vs_bed_virt_type();
    const char *const common[] = {"virt-station", "-c",     URI,      "run",       "--image",
                                  bed.image,      "--pool", bed.pool, "--network", "user",
                                  "--memory",     "1024",   "--cpus", "1",         "--timeout",
                                  "1200",         NULL};

    for (guint i = 0; common[i]; i++)
        g_ptr_array_add(argv, g_strdup(common[i]));
    if (virt_type) {
        g_ptr_array_add(argv, g_strdup("--virt-type"));
        g_ptr_array_add(argv, g_strdup(virt_type));
    }
    for (guint i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, g_strdup(extra[i]));
    g_ptr_array_add(argv, g_strdup("--"));
    for (guint i = 0; command[i]; i++)
        g_ptr_array_add(argv, g_strdup(command[i]));
    g_ptr_array_add(argv, NULL);
    return argv;
}

/* Starts @argv with pipes for stdout and stderr. */
static GSubprocess *
start(GPtrArray *argv)
{
    g_autoptr(GError) error = NULL;
    GSubprocess *proc =
        g_subprocess_newv((const char *const *)argv->pdata,
                          G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                              G_SUBPROCESS_FLAGS_STDIN_INHERIT,
                          &error);
    g_assert_no_error(error);
    return proc;
}

/* Waits for @proc to end; returns its exit status (-1: killed by a signal), with its output. */
static int
finish(GSubprocess *proc, char **ret_out, char **ret_err)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, ret_out, ret_err, &error));
    g_assert_no_error(error);
    return g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
}

/* Reads @proc's stderr line by line until a line contains @needle; returns the lines read. The
 * test fails when stderr ends first. */
static char *
read_until(GSubprocess *proc, const char *needle)
{
    g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
    GString *seen = g_string_new(NULL);

    g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(in), FALSE);
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *line = g_data_input_stream_read_line_utf8(in, NULL, NULL, &error);
        if (!line)
            g_error("stderr ended before '%s':\n%s", needle, seen->str);
        g_string_append_printf(seen, "%s\n", line);
        if (strstr(line, needle))
            return g_string_free(seen, FALSE);
    }
}

/* Asserts that neither a domain @name nor a volume of it is left. */
static void
assert_gone(const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    g_autofree char *volumes = vs_bed_pool_volumes(bed.conn, bed.pool);

    if (dom) {
        virDomainFree(dom);
        g_error("the domain %s is left", name);
    }
    if (strstr(volumes, name))
        g_error("volumes of %s are left: %s", name, volumes);
}

/* Returns the contents of @path, which must exist. */
static GBytes *
read_bytes(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *data = NULL;
    gsize len = 0;

    g_file_get_contents(path, &data, &len, &error);
    g_assert_no_error(error);
    return g_bytes_new_take(data, len);
}

static void
test_pair(void)
{
    g_autofree char *a_name = g_strdup_printf("vs-int-run-a-%d", (int)getpid());
    g_autofree char *b_name = g_strdup_printf("vs-int-run-b-%d", (int)getpid());
    g_autofree char *in = g_build_filename(bed.dir, "in", NULL);
    g_autofree char *data_path = g_build_filename(in, "data.bin", NULL);
    g_autofree char *script = g_build_filename(in, "script.sh", NULL);
    g_autofree char *out_dir = g_build_filename(bed.dir, "out", NULL);
    g_autofree char *out_sum = g_build_filename(bed.dir, "sum", NULL);
    g_autofree char *copy_in = g_strdup_printf("%s:/tmp/in", in);
    g_autofree char *copy_out_dir = g_strdup_printf("/tmp/out/result:%s", out_dir);
    g_autofree char *copy_out_sum = g_strdup_printf("/tmp/out/result/sum:%s", out_sum);
    guint8 data[100 * 1024];
    g_autofree char *a_out = NULL, *a_err = NULL, *b_out = NULL, *b_err = NULL;

    /* The data: random bytes, so that equal output proves the copy. */
    for (gsize i = 0; i < sizeof(data); i++)
        data[i] = (guint8)g_random_int_range(0, 256);
    g_mkdir_with_parents(in, 0755);
    g_assert_true(g_file_set_contents(data_path, (const char *)data, sizeof(data), NULL));
    g_assert_true(g_file_set_contents(script,
                                      "mkdir -p /tmp/out/result\n"
                                      "cp /tmp/in/data.bin /tmp/out/result/copy.bin\n"
                                      "sha256sum < /tmp/in/data.bin | cut -c1-64 > "
                                      "/tmp/out/result/sum\n",
                                      -1, NULL));

    g_autoptr(GPtrArray) a_argv =
        run_argv((const char *const[]){"--name", a_name, "--copy-in", copy_in, "--copy-out",
                                       copy_out_dir, "--copy-out", copy_out_sum, NULL},
                 (const char *const[]){"sh", "-c", "echo hi; sh /tmp/in/script.sh; exit 7", NULL});
    g_autoptr(GPtrArray) b_argv =
        run_argv((const char *const[]){"--name", b_name, "--cmd-timeout", "30", NULL},
                 (const char *const[]){"sh", "-c", "echo two; sleep 60", NULL});
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GSubprocess) a = start(a_argv);
    g_autoptr(GSubprocess) b = start(b_argv);
    int a_status = finish(a, &a_out, &a_err);
    double a_s = since(t0);
    int b_status = finish(b, &b_out, &b_err);
    double b_s = since(t0);

    g_test_message("run with copies: exit %d after %.0f s\n%s", a_status, a_s, a_err);
    g_test_message("run with --cmd-timeout 30: exit %d after %.0f s\n%s", b_status, b_s, b_err);
    g_assert_cmpint(a_status, ==, 7);
    g_assert_cmpstr(a_out, ==, "hi\n");
    g_assert_cmpint(b_status, ==, 124);
    g_assert_cmpstr(b_out, ==, "two\n");
    g_assert_nonnull(strstr(b_err, "--cmd-timeout 30 s"));

    /* What came out equals what went in, and its SHA-256 as computed here. */
    g_autofree char *copy_path = g_build_filename(out_dir, "copy.bin", NULL);
    g_autoptr(GBytes) copy = read_bytes(copy_path);
    g_autoptr(GBytes) expected = g_bytes_new_static(data, sizeof(data));
    g_assert_true(g_bytes_equal(copy, expected));
    g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, sizeof(data));
    g_autofree char *sum_line = g_strconcat(sum, "\n", NULL);
    g_autoptr(GBytes) got_sum = read_bytes(out_sum);
    g_assert_cmpmem(g_bytes_get_data(got_sum, NULL), g_bytes_get_size(got_sum), sum_line,
                    strlen(sum_line));

    assert_gone(a_name);
    assert_gone(b_name);
}

static void
test_sigint(void)
{
    g_autofree char *name = g_strdup_printf("vs-int-run-int-%d", (int)getpid());
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GPtrArray) argv =
        run_argv((const char *const[]){"--name", name, NULL}, (const char *const[]){"true", NULL});
    g_autoptr(GSubprocess) proc = start(argv);
    g_autofree char *seen = read_until(proc, "started (transient");
    gint64 t0 = g_get_monotonic_time();

    g_subprocess_send_signal(proc, SIGINT);
    int status = finish(proc, &out, &err);
    g_test_message("SIGINT while booting: exit %d after %.1f s\n%s%s", status, since(t0), seen,
                   err);
    g_assert_cmpint(status, ==, 125);
    g_assert_cmpstr(out, ==, "");
    assert_gone(name);
}

static void
test_sigkill(void)
{
    g_autoptr(GPtrArray) argv = run_argv(NULL, (const char *const[]){"true", NULL});
    g_autoptr(GSubprocess) proc = start(argv);
    g_autofree char *seen = read_until(proc, "started (transient");
    g_autoptr(GRegex) re = g_regex_new("creating (run-[0-9a-f]{8}) from", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    g_autofree char *name = NULL, *out = NULL, *err = NULL, *volumes = NULL;
    virDomainPtr dom;
    gint64 t0;

    g_assert_true(g_regex_match(re, seen, 0, &match));
    name = g_match_info_fetch(match, 1);
    g_subprocess_send_signal(proc, SIGKILL);
    g_assert_cmpint(finish(proc, &out, &err), ==, -1);

    /* libvirt destroys the domain when the connection closes. */
    t0 = g_get_monotonic_time();
    while ((dom = virDomainLookupByName(bed.conn, name)) && since(t0) < 60) {
        virDomainFree(dom);
        g_usleep(G_USEC_PER_SEC / 5);
    }
    g_assert_null(dom);
    g_test_message("SIGKILL: domain %s gone after %.1f s", name, since(t0));
    volumes = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_test_message("volumes after SIGKILL: %s", volumes);
    g_assert_nonnull(strstr(volumes, name)); /* the sweep has something to do */

    g_auto(VsBedRun) list = vs_bed_run_vsv(URI, "list", NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_nonnull(strstr(list.err, "left by the run"));
    assert_gone(name);
}

int
main(int argc, char **argv)
{
    int status;

    g_test_init(&argc, &argv, NULL);
    vs_bed_world_setup(&bed, "vs-run", "vs-int-run");
    g_test_add_func("/run/sigint", test_sigint);
    g_test_add_func("/run/sigkill", test_sigkill);
    g_test_add_func("/run/pair", test_pair);
    status = g_test_run();
    vs_bed_world_teardown(&bed);
    return status;
}
