/* `run`'s pure parts: the exit status of every way a run ends, the names of runs and of their
 * volumes, the SRC:DST rule, the kept mark in the metadata; and the command line's refusals,
 * through the program: bad usage exits 2 before anything is made, a missing --copy-in source
 * 125 (the run failed before CMD ran). */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "domains/metadata.h"
#include "provisioner/cli.h"
#include "provisioner/run.h"
#include "tests/bed/bed.h"

static void
test_exit_status(void)
{
    static const struct {
        VsRunOutcome outcome;
        int status;
    } cases[] = {
        {{.cmd_ran = FALSE}, 125}, /* boot, wait, copy-in */
        {{.cmd_ran = FALSE, .copy_out_failed = TRUE}, 125},
        {{.cmd_ran = TRUE, .cmd_status = 0}, 0}, /* CMD's own */
        {{.cmd_ran = TRUE, .cmd_status = 7}, 7},
        {{.cmd_ran = TRUE, .cmd_status = 255}, 255}, /* ssh failed */
        {{.cmd_ran = TRUE, .cmd_status = -1}, 255},  /* ssh killed */
        {{.cmd_ran = TRUE, .cmd_status = -1, .cmd_timed_out = TRUE}, 124},
        {{.cmd_ran = TRUE, .cmd_status = 0, .cmd_timed_out = TRUE}, 124},
        {{.cmd_ran = TRUE, .cmd_status = -1, .interrupted = TRUE}, 130},
        {{.cmd_ran = TRUE, .cmd_status = 0, .copy_out_failed = TRUE}, 125},
        {{.cmd_ran = TRUE, .cmd_status = 3, .copy_out_failed = TRUE}, 3}, /* CMD's failure wins */
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %u", i);
        g_assert_cmpint(vs_run_exit_status(&cases[i].outcome), ==, cases[i].status);
    }
}

static void
test_names(void)
{
    g_autofree char *a = vs_run_random_name();
    g_autofree char *b = vs_run_random_name();
    g_autofree char *owner = NULL;

    g_assert_true(g_regex_match_simple("^run-[0-9a-f]{8}$", a, 0, 0));
    g_assert_cmpstr(a, !=, b);

    owner = vs_run_volume_owner("run-ab12cd34.qcow2");
    g_assert_cmpstr(owner, ==, "run-ab12cd34");
    g_free(owner);
    owner = vs_run_volume_owner("run-ab12cd34-seed.iso");
    g_assert_cmpstr(owner, ==, "run-ab12cd34");
    g_clear_pointer(&owner, g_free);
    /* Not a run's: another prefix, another suffix, nothing after the prefix, a bad name. */
    g_assert_null(vs_run_volume_owner("ws1.qcow2"));
    g_assert_null(vs_run_volume_owner("run-ab12cd34.img"));
    g_assert_null(vs_run_volume_owner("run-.qcow2"));
    g_assert_null(vs_run_volume_owner("run-AB.qcow2"));
    g_assert_null(vs_run_volume_owner("run-a-.qcow2"));
    g_assert_null(vs_run_volume_owner("xrun-ab.qcow2"));
    /* Only what vs_run_random_name makes: a volume someone called run-backup is never swept. */
    g_assert_null(vs_run_volume_owner("run-backup.qcow2"));
    g_assert_null(vs_run_volume_owner("run-ab12cd3.qcow2"));
    g_assert_null(vs_run_volume_owner("run-ab12cd345.qcow2"));
    g_assert_null(vs_run_volume_owner("run-ab12cd3g-seed.iso"));
}

static void
test_split_copy(void)
{
    g_autofree char *src = NULL, *dst = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *long_side = g_strnfill(VS_RUN_PATH_MAX + 1, 'a');
    g_autofree char *too_long = g_strconcat(long_side, ":/x", NULL);

    g_assert_true(vs_run_split_copy("--copy-in", "dir:/tmp/in", &src, &dst, &error));
    g_assert_cmpstr(src, ==, "dir");
    g_assert_cmpstr(dst, ==, "/tmp/in");
    g_clear_pointer(&src, g_free);
    g_clear_pointer(&dst, g_free);
    /* Split at the first ':': the rest belongs to DST. */
    g_assert_true(vs_run_split_copy("--copy-out", "/tmp/a:b:c", &src, &dst, &error));
    g_assert_cmpstr(src, ==, "/tmp/a");
    g_assert_cmpstr(dst, ==, "b:c");
    for (const char *const *bad = (const char *const[]){"nocolon", ":/x", "x:", ":", NULL}; *bad;
         bad++) {
        g_clear_error(&error);
        g_assert_false(vs_run_split_copy("--copy-in", *bad, &src, &dst, &error));
        g_assert_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE);
        g_assert_nonnull(strstr(error->message, "--copy-in"));
    }
    g_clear_error(&error);
    g_assert_false(vs_run_split_copy("--copy-in", too_long, &src, &dst, &error));
    g_assert_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE);
}

static void
test_kept_mark(void)
{
    const char *xml = "<station xmlns=\"urn:virt-station:domain:1\" version=\"1\">"
                      "<volume role=\"disk\" pool=\"p\" name=\"run-1.qcow2\"/></station>";
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) plain = vs_metadata_parse(xml, &error);
    g_autofree char *marked = NULL, *again = NULL;
    g_autoptr(VsMetadata) kept = NULL;
    g_autoptr(VsMetadata) kept2 = NULL;

    g_assert_no_error(error);
    g_assert_null(plain->kept);
    marked = vs_metadata_mark_kept(xml, "the run exited 7", &error);
    g_assert_no_error(error);
    kept = vs_metadata_parse(marked, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(kept->kept, ==, "the run exited 7");
    g_assert_cmpuint(kept->volumes->len, ==, 1); /* the rest stays */
    /* Marked again: one mark, the new reason. */
    again = vs_metadata_mark_kept(marked, "the run exited 1", &error);
    g_assert_no_error(error);
    g_assert_nonnull(strstr(again, "kept"));
    g_assert_null(strstr(strstr(again, "kept") + 4, "<kept"));
    kept2 = vs_metadata_parse(again, &error);
    g_assert_cmpstr(kept2->kept, ==, "the run exited 1");
    /* Not ours: refused. */
    g_assert_null(vs_metadata_mark_kept("<domain/>", "x", &error));
    g_assert_nonnull(error);
}

/* Runs `virt-station run ARGS...` (no libvirt is reached by any of these). */
static VsBedRun
run(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    g_ptr_array_add(argv, "virt-station");
    g_ptr_array_add(argv, "-c");
    g_ptr_array_add(argv, "test:///default");
    g_ptr_array_add(argv, "run");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    return vs_bed_run((const char *const *)argv->pdata);
}

static void
test_usage(void)
{
    static const struct {
        const char *args[8];
        int status;
        const char *says;
    } cases[] = {
        {{"--image", "x", NULL}, 2, "give the command after --"},
        {{"--image", "x", "--", NULL}, 2, "give the command after --"},
        {{"stray", "--", "true", NULL}, 2, "unexpected argument 'stray'"},
        {{"--bogus", "--", "true", NULL}, 2, "--bogus"},
        {{"--name", "Bad_Name", "--", "true", NULL}, 2, "invalid name 'Bad_Name'"},
        {{"--copy-in", "nocolon", "--", "true", NULL}, 2, "'nocolon' is not SRC:DST"},
        {{"--copy-out", ":/x", "--", "true", NULL}, 2, "--copy-out"},
        {{"--cmd-timeout", "-1", "--", "true", NULL}, 2, "--cmd-timeout"},
        {{"--timeout", "0", "--", "true", NULL}, 2, "--timeout"},
        {{"--seed-from", "http://127.0.0.1/", "--", "true", NULL}, 2, "--seed-from"},
        {{"--print-xml", "--", "true", NULL}, 2, "--print-xml goes with --dry-run"},
        {{"--copy-in", "/nonexistent-vs-run:/x", "--", "true", NULL},
         125,
         "/nonexistent-vs-run does not exist"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(VsBedRun) r = run(cases[i].args);
        if (r.status != cases[i].status || !strstr(r.err, cases[i].says))
            g_error("case %u: exit %d (wanted %d), stderr:\n%s", i, r.status, cases[i].status,
                    r.err);
        g_assert_cmpstr(r.out, ==, "");
    }
}

/* Writes the executable @path with @content. */
static void
write_script(const char *path, const char *content)
{
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(path, content, -1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
}

/* Returns the mode bits of @path. */
static mode_t
mode_of(const char *path)
{
    struct stat st;

    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* The copies, with an `ssh` on PATH that runs the remote command here: a folder copied out
 * lands with its content and without the guest's setuid bit or world-writable modes (tar run as
 * root keeps them unless told not to); a file round-trips; a missing source is named. */
static void
test_copies(void)
{
    g_autofree char *tmp = g_dir_make_tmp("vs-run-copy-XXXXXX", NULL);
    g_autofree char *bin = g_build_filename(tmp, "bin", NULL);
    g_autofree char *fake = g_build_filename(bin, "ssh", NULL);
    g_autofree char *guest = g_build_filename(tmp, "guest", NULL);
    g_autofree char *guest_sub = g_build_filename(guest, "open", NULL);
    g_autofree char *guest_tool = g_build_filename(guest, "tool", NULL);
    g_autofree char *out = g_build_filename(tmp, "out", NULL);
    g_autofree char *out_sub = g_build_filename(out, "open", NULL);
    g_autofree char *out_tool = g_build_filename(out, "tool", NULL);
    g_autofree char *back = g_build_filename(tmp, "back", "tool", NULL);
    g_autofree char *path = g_strdup_printf("%s:%s", bin, g_getenv("PATH"));
    g_autofree char *content = NULL;
    g_autoptr(GError) error = NULL;
    VsSshTarget t = {.user = (char *)"u",
                     .host = (char *)"h",
                     .port = 22,
                     .alias = (char *)"vs-x",
                     .known_hosts = (char *)"/dev/null"};

    g_assert_nonnull(tmp);
    g_assert_cmpint(g_mkdir_with_parents(bin, 0755), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(guest_sub, 0755), ==, 0);
    write_script(fake, "#!/bin/sh\nfor a; do last=$a; done\nexec sh -c \"$last\"\n");
    write_script(guest_tool, "#!/bin/sh\necho tool\n");
    g_assert_cmpint(g_chmod(guest_tool, 04755), ==, 0);
    g_assert_cmpint(g_chmod(guest_sub, 0777), ==, 0);
    g_setenv("PATH", path, TRUE);
    umask(022);

    g_assert_true(vs_run_copy_out(&t, guest, out, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(out_tool, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "#!/bin/sh\necho tool\n");
    g_assert_cmpint(mode_of(out_tool), ==, 0755);
    g_assert_cmpint(mode_of(out_sub), ==, 0755);

    g_assert_true(vs_run_copy_out(&t, guest_tool, back, &error));
    g_assert_no_error(error);
    g_clear_pointer(&content, g_free);
    g_assert_true(g_file_get_contents(back, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, "#!/bin/sh\necho tool\n");

    g_assert_false(vs_run_copy_out(&t, "/nonexistent-vs-run", back, &error));
    g_assert_nonnull(strstr(error->message, "copying /nonexistent-vs-run out"));
    g_clear_error(&error);

    {
        char *argv[] = {(char *)"rm", (char *)"-rf", tmp, NULL};
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                   NULL, NULL));
    }
}

/* `list` sweeps what killed runs left, `list --names` (what shell completion runs) does not:
 * a test-driver host whose pool holds an unnamed run's overlay and no domain. */
static void
test_list_sweeps(void)
{
    static const char node[] =
        "<node><pool type='dir'><name>p</name>"
        "<uuid>35bb2ad9-388a-cdfe-461a-b8907f6e5555</uuid><capacity>10000000</capacity>"
        "<allocation>0</allocation><available>10000000</available><target><path>/p</path>"
        "</target><volume type='file'><name>run-0000abcd.qcow2</name><capacity>1000</capacity>"
        "<target><path>/p/run-0000abcd.qcow2</path></target></volume></pool></node>";
    g_autofree char *tmp = g_dir_make_tmp("vs-run-list-XXXXXX", NULL);
    g_autofree char *xml = g_build_filename(tmp, "node.xml", NULL);
    g_autofree char *locks = g_build_filename(tmp, "locks", NULL);
    g_autofree char *uri = g_strdup_printf("test://%s", xml);
    const char *names[] = {"virt-station", "-c", uri, "list", "--names", "--all", NULL};
    const char *plain[] = {"virt-station", "-c", uri, "list", NULL};

    g_assert_true(g_file_set_contents(xml, node, -1, NULL));
    g_setenv("VIRT_STATION_LOCK_DIR", locks, TRUE);
    {
        g_auto(VsBedRun) r = vs_bed_run(names);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_null(strstr(r.err, "removed volume"));
    }
    {
        g_auto(VsBedRun) r = vs_bed_run(plain);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_nonnull(strstr(r.err, "removed volume p/run-0000abcd.qcow2"));
    }
    {
        char *argv[] = {(char *)"rm", (char *)"-rf", tmp, NULL};
        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                   NULL, NULL));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/run/exit-status", test_exit_status);
    g_test_add_func("/run/names", test_names);
    g_test_add_func("/run/split-copy", test_split_copy);
    g_test_add_func("/run/kept-mark", test_kept_mark);
    g_test_add_func("/run/usage", test_usage);
    g_test_add_func("/run/copies", test_copies);
    g_test_add_func("/run/list-sweeps", test_list_sweeps);
    return g_test_run();
}
