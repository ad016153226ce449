/* The command-line contract (README, "Commands"): --version, --help listing only commands that
 * exist, global options before and after the command, and exit statuses. Runs the built
 * binary. */
#include <glib/gstdio.h>
#include <string.h>

#include "tests/bed/bed.h"
#include "provisioner/commands.h"
#include "vs-config.h"

/* Runs virt-station with the arguments up to NULL. */
#define run(...) vs_bed_run_vsv(NULL, __VA_ARGS__)

static void
test_version(void)
{
    g_auto(VsBedRun) r = run("--version", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, "virt-station " VS_VERSION "\n");
}

static void
test_help_lists_existing_commands(void)
{
    g_auto(VsBedRun) r = run("--help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "\n  seed "));
    g_assert_nonnull(strstr(r.out, "\n  up "));
    g_assert_nonnull(strstr(r.out, "\n  image "));
    /* Commands that do not exist yet are not advertised... */
    g_assert_null(strstr(r.out, "\n  snapshot "));
    /* ...and every command that is answers its own --help. */
    g_auto(GStrv) lines = g_strsplit(strstr(r.out, "Commands:\n") + 10, "\n", -1);
    guint commands = 0;
    for (guint i = 0; lines[i] && g_str_has_prefix(lines[i], "  "); i++) {
        g_auto(GStrv) words = g_strsplit(g_strstrip(lines[i]), " ", 2);
        g_auto(VsBedRun) help = run(words[0], "--help", NULL);
        g_assert_cmpint(help.status, ==, 0);
        g_autofree char *usage = g_strdup_printf("virt-station %s", words[0]);
        if (!strstr(help.out, usage))
            g_error("'%s --help' does not describe it:\n%s%s", words[0], help.out, help.err);
        commands++;
    }
    g_assert_cmpuint(commands, ==, 16);
    g_assert_nonnull(strstr(r.out, "\n  gpu "));
    g_assert_nonnull(strstr(r.out, "--connect URI"));

    g_auto(VsBedRun) h = run("help", "seed", NULL);
    g_assert_cmpint(h.status, ==, 0);
    g_assert_nonnull(strstr(h.out, "--output=FILE"));
    g_assert_nonnull(strstr(h.out, "--ssh-key=FILE.pub"));
}

/* Returns the long names of the options in @section ("Application Options:") of @help. */
static GPtrArray *
options_in_help(const char *help, const char *section)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *at = strstr(help, section);
    g_auto(GStrv) lines = g_strsplit(at ? at + strlen(section) + 1 : "", "\n", -1);
    g_autoptr(GRegex) re = g_regex_new("^  (?:-., )?--([a-z0-9-]+)", 0, 0, NULL);

    for (guint i = 0; lines[i] && lines[i][0]; i++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_assert_true(g_regex_match(re, lines[i], 0, &m));
        g_ptr_array_add(names, g_match_info_fetch(m, 1));
    }
    return names;
}

/* Checks that @help lists exactly the visible options of @options in @section, each with its
 * help text, short name and argument name. */
static void
assert_help_lists(const char *command, const char *help, const char *section,
                  const VsOption *options)
{
    g_autoptr(GPtrArray) listed = options_in_help(help, section);
    guint visible = 0;

    for (const VsOption *o = options; o && o->long_name; o++) {
        g_autofree char *line = NULL;
        guint index;
        if (!vs_option_visible(o)) {
            g_assert_false(
                g_ptr_array_find_with_equal_func(listed, o->long_name, g_str_equal, NULL));
            continue;
        }
        visible++;
        if (!g_ptr_array_find_with_equal_func(listed, o->long_name, g_str_equal, &index))
            g_error("'%s --help' does not list --%s:\n%s", command, o->long_name, help);
        line = g_strdup_printf("--%s%s%s ", o->long_name, o->arg_name ? "=" : "",
                               o->arg_name ? o->arg_name : "");
        g_assert_nonnull(strstr(help, line));
        g_assert_nonnull(strstr(help, o->help));
        if (o->short_name) {
            g_autofree char *both = g_strdup_printf("-%c, --%s", o->short_name, o->long_name);
            g_assert_nonnull(strstr(help, both));
        }
    }
    /* ...and nothing the table does not have. */
    g_assert_cmpuint(listed->len, ==, visible);
}

/* Every command of the table (the program's and the module's) answers --help with its own
 * synopsis, description and options, all of them and no others. */
static void
test_help_matches_table(void)
{
    g_autofree char *program = g_find_program_in_path("virt-station");
    g_autofree char *dir = g_path_get_dirname(program);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) commands = NULL;
    guint checked = 0;

    /* The table as the program sees it: the module beside the program, loaded. */
    g_setenv("VIRT_STATION_MODULE_DIR", dir, TRUE);
    commands = vs_commands_all(&error);
    g_assert_no_error(error);
    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        g_auto(VsBedRun) r = run(cmd->name, "--help", NULL);
        g_autofree char *usage =
            g_strdup_printf("virt-station %s [OPTION…] %s\n", cmd->name, cmd->args);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_nonnull(strstr(r.out, usage));
        g_assert_nonnull(strstr(r.out, cmd->description));
        assert_help_lists(cmd->name, r.out, "Application Options:", cmd->options);
        assert_help_lists(cmd->name, r.out, "Global options:", vs_cli_global_options);
        checked++;
    }
    g_assert_cmpuint(checked, ==, 17);
    /* The program's commands are its own entries; the module's come from the module's table (a
     * copy of the entries this test links, so equal but not the same). */
    g_assert_cmpstr(vs_commands_find("xml", NULL)->args, ==, vs_command_xml.args);
    g_assert_true(vs_commands_find("seed", NULL) == &vs_command_seed);
    g_unsetenv("VIRT_STATION_MODULE_DIR");
}

static void
test_usage_errors_exit_2(void)
{
    g_auto(VsBedRun) none = run(NULL, NULL);
    g_assert_cmpint(none.status, ==, 2);
    g_auto(VsBedRun) unknown = run("frobnicate", NULL);
    g_assert_cmpint(unknown.status, ==, 2);
    g_assert_nonnull(strstr(unknown.err, "unknown command 'frobnicate'"));
    g_auto(VsBedRun) flag = run("--frob", NULL);
    g_assert_cmpint(flag.status, ==, 2);
    g_auto(VsBedRun) cmd_flag = run("seed", "--frob", NULL);
    g_assert_cmpint(cmd_flag.status, ==, 2);
    g_assert_nonnull(strstr(cmd_flag.err, "Unknown option --frob"));
    g_auto(VsBedRun) no_output = run("seed", NULL);
    g_assert_cmpint(no_output.status, ==, 2);
    g_assert_nonnull(strstr(no_output.err, "-o/--output FILE is required"));
    g_auto(VsBedRun) json = run("seed", "--json", "-o", "x.iso", NULL);
    g_assert_cmpint(json.status, ==, 2);
    g_assert_nonnull(strstr(json.err, "--json is not supported"));
    g_auto(VsBedRun) mac = run("seed", "-o", "x.iso", "--mac", "zz", NULL);
    g_assert_cmpint(mac.status, ==, 2);
    g_assert_nonnull(strstr(mac.err, "invalid MAC address 'zz'"));
    g_assert_false(g_file_test("x.iso", G_FILE_TEST_EXISTS));
}

static void
test_global_options_either_side(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);

    g_auto(VsBedRun) before = run("-q", "seed", "-o", iso, "--ssh-key", key, NULL);
    g_assert_cmpint(before.status, ==, 0);
    g_assert_cmpstr(before.err, ==, "");
    g_auto(VsBedRun) after = run("seed", "-o", iso, "--ssh-key", key, "--quiet", NULL);
    g_assert_cmpint(after.status, ==, 0);
    g_assert_cmpstr(after.err, ==, "");
    g_auto(VsBedRun) loud = run("seed", "-o", iso, "--ssh-key", key, NULL);
    g_autofree char *progress = g_strdup_printf("wrote %s\n", iso);
    g_assert_cmpstr(loud.err, ==, progress);
    g_assert_cmpint(loud.status, ==, 0);
    g_remove(iso);
    g_rmdir(dir);
}

static void
test_bad_input_leaves_no_file(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *ud =
        g_build_filename(VS_SOURCE_DIR, "tests/data/cloudinit/inputs/plain.txt", NULL);

    g_auto(VsBedRun) r = run("seed", "-o", iso, "--user-data", ud, NULL);
    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, "the first line is no cloud-init header"));
    g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
    g_rmdir(dir);
}

#define UNREACHABLE "qemu+unix:///system?socket=/nonexistent/libvirt-sock"

static void
test_up_dry_run_without_libvirt(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);

    g_auto(VsBedRun) r = run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "--network",
                             "user", "-c", UNREACHABLE, "--cpus", "3", "--memory", "3G", NULL);
    g_assert_cmpint(r.status, ==, 0);
    /* It says what it assumed, and the XML follows from the assumption. */
    g_assert_nonnull(strstr(r.err, "connecting to " UNREACHABLE));
    g_assert_nonnull(strstr(r.err, "assuming an x86_64 host without KVM (domain type qemu)"));
    g_assert_true(g_str_has_prefix(
        r.out, "<domain xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\" type=\"qemu\">"));
    g_assert_nonnull(strstr(r.out, "<vcpu placement=\"static\">3</vcpu>"));
    g_assert_nonnull(strstr(r.out, "<memory unit=\"MiB\">3072</memory>"));
    g_assert_nonnull(strstr(r.out, "hostfwd=tcp:127.0.0.1:"));
    /* The base volume is named after the image's content (sha256 of tester.pub). */
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(image, &data, &len, NULL));
    g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
    g_autofree char *volume = g_strdup_printf("volume=\"tester.pub-%.12s\"", sha);
    g_assert_nonnull(strstr(r.out, volume));
}

/* config.yaml gives the connection and the network when the command line does not. */
static void
test_up_uses_config_file(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *home = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(home, "virt-station", NULL);
    g_autofree char *config = g_build_filename(dir, "config.yaml", NULL);
    g_autofree char *saved = g_strdup(g_getenv("XDG_CONFIG_HOME"));

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(
        g_file_set_contents(config, "connect: " UNREACHABLE "\nnetwork: user\n", -1, NULL));
    g_setenv("XDG_CONFIG_HOME", home, TRUE);
    g_auto(VsBedRun) r = run("up", "ws1", "--image", image, "--dry-run", "--print-xml", NULL);
    g_auto(VsBedRun) flag = run("up", "ws1", "--image", image, "--dry-run", "--print-xml",
                                "--network", "network:lab", NULL);
    if (saved)
        g_setenv("XDG_CONFIG_HOME", saved, TRUE);
    else
        g_unsetenv("XDG_CONFIG_HOME");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.err, "connecting to " UNREACHABLE));
    g_assert_nonnull(strstr(r.out, "hostfwd=tcp:127.0.0.1:"));
    /* A flag wins over the file. */
    g_assert_cmpint(flag.status, ==, 0);
    g_assert_nonnull(strstr(flag.out, "<source network=\"lab\"/>"));
    g_unlink(config);
    g_rmdir(dir);
    g_rmdir(home);
}

/* --gpu in a dry run, on fake sysfs hosts: auto picks virgl on a Mesa render node and a vGPU
 * where one is free (the same plan `gpu probe` shows), explicit vGPU and passthrough plan the
 * device, and what a connection cannot attach is refused clearly. */
static void
test_up_gpu_selection(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *laptop =
        g_build_filename(VS_SOURCE_DIR, "tests/data/sysfs/laptop-intel", NULL);
    g_autofree char *t4 = g_build_filename(VS_SOURCE_DIR, "tests/data/sysfs/rhel-t4", NULL);

    g_setenv("VIRT_STATION_SYSFS_ROOT", laptop, TRUE);
    g_auto(VsBedRun) virgl =
        run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "-c", UNREACHABLE, NULL);
    g_setenv("VIRT_STATION_SYSFS_ROOT", t4, TRUE);
    g_auto(VsBedRun) autovgpu =
        run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) vgpu = run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "--gpu",
                                "vgpu:GRID T4-2Q", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) unknown = run("up", "ws1", "--image", image, "--dry-run", "--gpu",
                                   "vgpu:nvidia-999", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) pass = run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "--gpu",
                                "passthrough:0000:3b:00.0", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) nowhere = run("up", "ws1", "--image", image, "--dry-run", "--gpu",
                                   "passthrough:0000:3b:00.7", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) session = run("up", "ws1", "--image", image, "--dry-run", "--gpu", "vgpu",
                                   "-c", "qemu:///session", NULL);
    g_auto(VsBedRun) bogus =
        run("up", "ws1", "--image", image, "--dry-run", "--gpu", "fast", "-c", UNREACHABLE, NULL);
    g_auto(VsBedRun) probe = run("gpu", "probe", "--json", "-c", UNREACHABLE, NULL);
    g_unsetenv("VIRT_STATION_SYSFS_ROOT");

    /* `gpu probe` shows exactly the plan `up` makes, on a host with a free vGPU: the same mode
     * and the same reasons, in the same order. */
    g_assert_cmpint(probe.status, ==, 0);
    g_assert_nonnull(strstr(probe.out, "\"plan\":{\"mode\":\"vgpu\",\"device\":\"0000:3b:00.0\","
                                       "\"vgpu_type\":\"nvidia-224\","));
    {
        g_autoptr(GRegex) json_re = g_regex_new("\"reasons\":\\[\"(.*)\"\\]\\}", 0, 0, NULL);
        g_autoptr(GRegex) xml_re = g_regex_new("<vs:reason>([^<]*)</vs:reason>", 0, 0, NULL);
        g_autoptr(GMatchInfo) m = NULL;
        g_autoptr(GPtrArray) in_xml = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *list = NULL;
        g_auto(GStrv) in_probe = NULL;

        g_assert_true(g_regex_match(json_re, probe.out, 0, &m));
        list = g_match_info_fetch(m, 1);
        in_probe = g_strsplit(list, "\",\"", -1);
        g_clear_pointer(&m, g_match_info_free);
        for (g_regex_match(xml_re, autovgpu.out, 0, &m); g_match_info_matches(m);
             g_match_info_next(m, NULL))
            g_ptr_array_add(in_xml, g_match_info_fetch(m, 1));
        g_assert_cmpuint(in_xml->len, ==, g_strv_length(in_probe));
        g_assert_cmpuint(in_xml->len, >=, 2);
        for (guint i = 0; i < in_xml->len; i++)
            g_assert_cmpstr(in_xml->pdata[i], ==, in_probe[i]);
    }

    g_assert_cmpint(virgl.status, ==, 0);
    g_assert_nonnull(strstr(virgl.out, "<acceleration accel3d=\"yes\"/>"));
    g_assert_nonnull(strstr(virgl.out, "rendernode=\"/dev/dri/renderD128\""));
    g_assert_nonnull(strstr(virgl.out, "<vs:gpu mode=\"virgl\" device=\"0000:00:02.0\""));
    /* auto takes a free vGPU: an mdev hostdev with the candidate UUID the metadata also names. */
    g_assert_cmpint(autovgpu.status, ==, 0);
    g_assert_nonnull(strstr(autovgpu.out, "<vs:gpu mode=\"vgpu\" device=\"0000:3b:00.0\" "
                                          "vgpu-type=\"nvidia-224\" vgpu-kind=\"mdev\""));
    g_assert_nonnull(strstr(autovgpu.out, "<hostdev mode=\"subsystem\" type=\"mdev\" "
                                          "model=\"vfio-pci\" display=\"off\">"));
    g_assert_cmpint(vgpu.status, ==, 0);
    g_assert_nonnull(strstr(vgpu.out, "vgpu-type=\"nvidia-223\""));
    g_assert_cmpint(unknown.status, ==, 3);
    g_assert_nonnull(strstr(unknown.err, "vGPU type nvidia-999: no device offers it"));
    /* Passthrough: the whole device, UEFI by default (its BARs need a 64-bit window). */
    g_assert_cmpint(pass.status, ==, 0);
    g_assert_nonnull(strstr(pass.out, "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\">"));
    g_assert_nonnull(strstr(pass.out, "firmware=\"efi\""));
    g_assert_cmpint(nowhere.status, ==, 3);
    g_assert_nonnull(strstr(nowhere.err, "passthrough:0000:3b:00.7: no GPU at that address"));
    g_assert_cmpint(session.status, ==, 1);
    g_assert_nonnull(
        strstr(session.err, "a qemu:///session connection cannot attach host devices"));
    g_assert_cmpint(bogus.status, ==, 2);
    g_assert_nonnull(strstr(bogus.err, "--gpu: 'fast' is not one of"));
}

static void
test_up_errors(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *spec = g_build_filename(dir, "spec.yaml", NULL);

    g_auto(VsBedRun) name =
        run("up", "Bad_Name", "--image", image, "--dry-run", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(name.status, ==, 2);
    g_assert_nonnull(strstr(name.err, "invalid name 'Bad_Name'"));
    g_auto(VsBedRun) noimage = run("up", "ws1", "--dry-run", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(noimage.status, ==, 2);
    g_assert_nonnull(strstr(noimage.err, "--image is needed"));
    g_auto(VsBedRun) size =
        run("up", "ws1", "--image", image, "--dry-run", "--memory", "lots", NULL);
    g_assert_cmpint(size.status, ==, 2);
    g_assert_nonnull(strstr(size.err, "--memory: 'lots' is not a size"));
    g_assert_true(g_file_set_contents(spec, "name: ws1\nimage: x.qcow2\ncolour: blue\n", -1, NULL));
    g_auto(VsBedRun) key = run("up", "-f", spec, "--dry-run", NULL);
    g_assert_cmpint(key.status, ==, 2);
    g_autofree char *expected = g_strdup_printf("%s line 3: unknown key 'colour'", spec);
    g_assert_nonnull(strstr(key.err, expected));
    /* Without a dry run, an unreachable libvirt is an error, and nothing is assumed. */
    g_auto(VsBedRun) real = run("up", "ws1", "--image", image, "-c", UNREACHABLE, NULL);
    g_assert_cmpint(real.status, ==, 1);
    g_assert_nonnull(strstr(real.err, "connecting to " UNREACHABLE));
    g_assert_null(strstr(real.err, "assuming"));
    g_remove(spec);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cli/version", test_version);
    g_test_add_func("/cli/help-lists-existing-commands", test_help_lists_existing_commands);
    g_test_add_func("/cli/help-matches-table", test_help_matches_table);
    g_test_add_func("/cli/usage-errors-exit-2", test_usage_errors_exit_2);
    g_test_add_func("/cli/global-options-either-side", test_global_options_either_side);
    g_test_add_func("/cli/bad-input-leaves-no-file", test_bad_input_leaves_no_file);
    g_test_add_func("/cli/up/dry-run-without-libvirt", test_up_dry_run_without_libvirt);
    g_test_add_func("/cli/up/errors", test_up_errors);
    g_test_add_func("/cli/up/config-file", test_up_uses_config_file);
    g_test_add_func("/cli/up/gpu-selection", test_up_gpu_selection);
    return g_test_run();
}
