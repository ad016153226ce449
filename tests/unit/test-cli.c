/* The command-line contract (README, "Commands"): --version, --help listing only commands that
 * exist, global options before and after the command, and exit statuses. Runs the built
 * binary. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

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
    g_assert_nonnull(strstr(r.out, "\n  snapshot "));
    g_assert_nonnull(strstr(r.out, "\n  run "));
    /* Commands that do not exist yet are not advertised... */
    g_assert_null(strstr(r.out, "\n  migrate "));
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
    g_assert_cmpuint(commands, ==, 19);
    g_assert_nonnull(strstr(r.out, "\n  bake "));
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
    g_assert_cmpuint(checked, ==, 20);
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
    g_auto(VsBedRun) tiny = run("gpu", "probe", "--gpu-memory", "512K", "-c", UNREACHABLE, NULL);
    g_unsetenv("VIRT_STATION_SYSFS_ROOT");
    /* The rules of `up --gpu-memory`: whole MiB (512K used to become 4096 MiB unsaid). */
    g_assert_cmpint(tiny.status, ==, 2);
    g_assert_nonnull(strstr(tiny.err, "--gpu-memory"));

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

/* Returns the permission bits of @path. */
static guint
file_mode(const char *path)
{
    GStatBuf st;

    g_assert_cmpint(g_stat(path, &st), ==, 0);
    return st.st_mode & 07777;
}

/* `seed -o` writes the ISO 0600 whatever it holds (any user-data may hold secrets), unless
 * --mode asks otherwise, and never wider than the umask. */
static void
test_seed_file_mode(void)
{
    static const struct {
        mode_t umask;
        const char *mode; /* --mode, or NULL */
        gboolean secret;  /* with a password hash */
        guint expected;
    } cases[] = {
        {022, NULL, FALSE, 0600},   {077, NULL, FALSE, 0600},   {022, NULL, TRUE, 0600},
        {077, NULL, TRUE, 0600},    {022, "0644", FALSE, 0644}, {077, "0644", FALSE, 0600},
        {022, "0666", TRUE, 0644},  {077, "0666", TRUE, 0600},  {027, "0664", FALSE, 0640},
        {022, "0400", FALSE, 0400},
    };
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *hash = g_build_filename(dir, "hash", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);

    g_assert_true(g_file_set_contents(hash, "$6$rounds=4096$salt$hashhashhash\n", -1, NULL));
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *argv[12] = {"seed", "-q", "-o", iso, "--ssh-key", key};
        guint n = 6;
        if (cases[i].mode) {
            argv[n++] = "--mode";
            argv[n++] = cases[i].mode;
        }
        if (cases[i].secret) {
            argv[n++] = "--password-hash-file";
            argv[n++] = hash;
        }
        mode_t saved = umask(cases[i].umask);
        g_auto(VsBedRun) r = vs_bed_run_vs(NULL, argv);
        umask(saved);
        g_assert_cmpint(r.status, ==, 0);
        if (file_mode(iso) != cases[i].expected)
            g_error("umask %03o, --mode %s, %s: mode %04o, expected %04o", cases[i].umask,
                    cases[i].mode ? cases[i].mode : "(none)",
                    cases[i].secret ? "a password hash" : "no secret", file_mode(iso),
                    cases[i].expected);
        g_unlink(iso);
    }
    /* What is not permissions is refused, and nothing is written. */
    static const char *const bad[] = {"0888", "1777", "rw", "", "-1"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(VsBedRun) r = run("seed", "-o", iso, "--ssh-key", key, "--mode", bad[i], NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "is not octal permissions from 0 to 0777"));
        g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
    }
    g_unlink(hash);
    g_rmdir(dir);
}

/* Runs virt-station with @args (NULL-terminated) and @input on its stdin. */
static VsBedRun
run_with_input(const char *input, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    VsBedRun r = {0};

    g_ptr_array_add(argv, (char *)"virt-station");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    proc = g_subprocess_newv((const char *const *)argv->pdata,
                             G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(proc, input, NULL, &r.out, &r.err, &error));
    g_assert_no_error(error);
    r.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    return r;
}

/* Returns TRUE when the file @path holds the bytes of @text. */
static gboolean
file_holds(const char *path, const char *text)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return memmem(data, len, text, strlen(text)) != NULL;
}

/* The password hash comes from a file or stdin (`--password-hash-file FILE|-`), never from the
 * command line, where every user of the machine sees it. */
static void
test_seed_password_hash_file(void)
{
    const char *hash = "$6$rounds=4096$salt$hashhashhash";
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *file = g_build_filename(dir, "hash", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *line = g_strconcat(hash, "\n", NULL);

    g_assert_true(g_file_set_contents(file, line, -1, NULL));
    {
        g_auto(VsBedRun) r =
            run("seed", "-q", "-o", iso, "--ssh-key", key, "--password-hash-file", file, NULL);
        g_assert_cmpint(r.status, ==, 0);
        /* user-data is stored as it is in the ISO: the hash, without the newline, is in it. */
        g_autofree char *quoted = g_strdup_printf("\"%s\"", hash);
        g_assert_true(file_holds(iso, quoted));
        g_unlink(iso);
    }
    {
        g_auto(VsBedRun) r =
            run_with_input(line, (const char *const[]){"seed", "-q", "-o", iso, "--ssh-key", key,
                                                       "--password-hash-file", "-", NULL});
        g_assert_cmpint(r.status, ==, 0);
        g_autofree char *quoted = g_strdup_printf("\"%s\"", hash);
        g_assert_true(file_holds(iso, quoted));
        g_unlink(iso);
    }
    {
        /* The old flag is refused and says what to use instead. */
        g_auto(VsBedRun) r =
            run("seed", "-o", iso, "--ssh-key", key, "--password-hash", hash, NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "--password-hash-file FILE|-"));
        g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
        g_auto(VsBedRun) help = run("seed", "--help", NULL);
        g_assert_nonnull(strstr(help.out, "--password-hash-file=FILE"));
        g_assert_null(strstr(help.out, "--password-hash="));
    }
    {
        /* One newline ends the line; a second one is part of a hash that is no hash. */
        g_autofree char *two = g_strconcat(hash, "\n\n", NULL);
        g_auto(VsBedRun) r =
            run_with_input(two, (const char *const[]){"seed", "-o", iso, "--ssh-key", key,
                                                      "--password-hash-file", "-", NULL});
        g_assert_cmpint(r.status, ==, 2);
        g_assert_nonnull(strstr(r.err, "does not look like a crypt(3) hash"));
        g_assert_true(g_file_set_contents(file, "", 0, NULL));
        g_auto(VsBedRun) empty =
            run("seed", "-o", iso, "--ssh-key", key, "--password-hash-file", file, NULL);
        g_assert_cmpint(empty.status, ==, 2);
        g_assert_nonnull(strstr(empty.err, "holds no password hash"));
        g_auto(VsBedRun) endless =
            run("seed", "-o", iso, "--ssh-key", key, "--password-hash-file", "/dev/zero", NULL);
        g_assert_cmpint(endless.status, ==, 2);
        g_assert_nonnull(
            strstr(endless.err, "/dev/zero line 1: the file is larger than 4 KiB, the limit"));
        g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
    }
    g_unlink(file);
    g_rmdir(dir);
}

/* Returns YAML text @prefix then a value nested @depth deep: flow sequences or flow mappings. */
static char *
deep_yaml(const char *prefix, gboolean mapping, guint depth)
{
    GString *s = g_string_new(prefix);

    for (guint i = 0; i < depth; i++)
        g_string_append(s, mapping ? "{a: " : "[");
    g_string_append(s, mapping ? "b" : "");
    for (guint i = 0; i < depth; i++)
        g_string_append_c(s, mapping ? '}' : ']');
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

/* YAML nested past 256 levels, in user-data, network-config or a spec file, is refused with the
 * file, the line and the limit (exit 2), not a crash (60,000 levels overflowed libyaml's
 * emitter's stack); 200 levels work. */
static void
test_deep_yaml(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *ud = g_build_filename(dir, "user-data", NULL);
    g_autofree char *nc = g_build_filename(dir, "network-config", NULL);
    g_autofree char *spec = g_build_filename(dir, "spec.yaml", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    static const guint depths[] = {300, 60000};

    for (guint d = 0; d < G_N_ELEMENTS(depths); d++) {
        for (int mapping = 0; mapping < 2; mapping++) {
            g_autofree char *user_data = deep_yaml("#cloud-config\nx: ", mapping, depths[d]);
            g_autofree char *network = deep_yaml("version: 2\nx: ", mapping, depths[d]);
            g_autofree char *spec_value = deep_yaml("x: ", mapping, depths[d]);
            g_autofree char *spec_text =
                g_strdup_printf("name: ws1\nimage: %s\n%s", image, spec_value);
            g_autofree char *in_ud = g_strdup_printf("%s line 2 column ", ud);
            g_autofree char *in_nc = g_strdup_printf("%s line 2 column ", nc);
            g_autofree char *in_spec = g_strdup_printf("%s line 3 column ", spec);
            const char *limit = ": YAML nested more than 256 levels deep, the limit";

            g_assert_true(g_file_set_contents(ud, user_data, -1, NULL));
            g_assert_true(g_file_set_contents(nc, network, -1, NULL));
            g_assert_true(g_file_set_contents(spec, spec_text, -1, NULL));
            g_auto(VsBedRun) seed =
                run("seed", "-o", iso, "--ssh-key", key, "--user-data", ud, NULL);
            g_auto(VsBedRun) net =
                run("seed", "-o", iso, "--ssh-key", key, "--network-config", nc, NULL);
            g_auto(VsBedRun) up = run("up", "-f", spec, "--dry-run", "-c", UNREACHABLE, NULL);
            g_assert_cmpint(seed.status, ==, 2);
            g_assert_nonnull(strstr(seed.err, in_ud));
            g_assert_nonnull(strstr(seed.err, limit));
            g_assert_cmpint(net.status, ==, 2);
            g_assert_nonnull(strstr(net.err, in_nc));
            g_assert_nonnull(strstr(net.err, limit));
            g_assert_cmpint(up.status, ==, 2);
            g_assert_nonnull(strstr(up.err, in_spec));
            g_assert_nonnull(strstr(up.err, limit));
            g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
        }
    }
    /* 200 levels are nothing unusual: the seed is written, the nested value in it. */
    for (int mapping = 0; mapping < 2; mapping++) {
        g_autofree char *user_data = deep_yaml("#cloud-config\nx: ", mapping, 200);
        g_assert_true(g_file_set_contents(ud, user_data, -1, NULL));
        g_auto(VsBedRun) seed = run("seed", "-o", iso, "--ssh-key", key, "--user-data", ud, NULL);
        g_assert_cmpint(seed.status, ==, 0);
        g_assert_nonnull(strstr(seed.err, "unknown cloud-config key 'x'"));
        g_assert_true(file_holds(iso, mapping ? "{a: {a: {a: " : "[[[[[[[[["));
        g_unlink(iso);
    }
    g_unlink(ud);
    g_unlink(nc);
    g_unlink(spec);
    g_rmdir(dir);
}

/* Writes @bytes bytes of YAML comment lines (64 bytes each, after @header) to @path. */
static void
write_sized(const char *path, const char *header, gsize bytes)
{
    GString *s = g_string_new(header);

    while (s->len < bytes)
        g_string_append_printf(s, "# %061u\n", 0);
    g_string_truncate(s, bytes);
    g_assert_true(g_file_set_contents(path, s->str, (gssize)s->len, NULL));
    g_string_free(s, TRUE);
}

/* Each input's size limit holds at its own value: a spec file and network-config 1 MiB,
 * user-data and vendor-data 16 MiB; one byte more is refused with the file, the line and the
 * limit (exit 2). */
static void
test_input_size_limits(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    g_autofree char *file = g_build_filename(dir, "input", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    static const struct {
        const char *flag, *header;
        gsize limit;
        const char *words;
    } inputs[] = {
        {"--network-config", "version: 2\n", 1 << 20, "the limit for it"},
        {"--user-data", "#cloud-config\n", 16 << 20, "the limit for it"},
        {"--vendor-data", "#cloud-config\n", 16 << 20, "the limit for it"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
        g_autofree char *limit =
            g_strdup_printf("larger than %" G_GSIZE_FORMAT " MiB, ", inputs[i].limit >> 20);
        /* Line 1 is the header (not 64 bytes): the first byte past the limit is on line
         * (limit - header) / 64 + 2. */
        g_autofree char *line =
            g_strdup_printf("%s line %" G_GSIZE_FORMAT ": ", file,
                            (inputs[i].limit - strlen(inputs[i].header)) / 64 + 2);
        write_sized(file, inputs[i].header, inputs[i].limit);
        g_auto(VsBedRun) fits =
            run("seed", "-q", "-o", iso, "--ssh-key", key, inputs[i].flag, file, NULL);
        g_assert_cmpint(fits.status, ==, 0);
        g_unlink(iso);
        write_sized(file, inputs[i].header, inputs[i].limit + 1);
        g_auto(VsBedRun) over =
            run("seed", "-o", iso, "--ssh-key", key, inputs[i].flag, file, NULL);
        g_assert_cmpint(over.status, ==, 2);
        if (!strstr(over.err, line) || !strstr(over.err, limit))
            g_error("%s: expected '%s...%s' in: %s", inputs[i].flag, line, limit, over.err);
        g_assert_false(g_file_test(iso, G_FILE_TEST_EXISTS));
    }
    {
        /* A 10-byte first line, then 64-byte lines: byte 1048576 is on (1048576 - 10) / 64 + 2. */
        g_autofree char *line = g_strdup_printf("%s line 16385: the file is larger than 1 MiB, "
                                                "the limit for it",
                                                file);
        write_sized(file, "name: ws1\n", (1 << 20) + 1);
        g_auto(VsBedRun) up = run("up", "-f", file, "--dry-run", "-c", UNREACHABLE, NULL);
        g_assert_cmpint(up.status, ==, 2);
        g_assert_nonnull(strstr(up.err, line));
    }
    g_unlink(file);
    g_rmdir(dir);
}

/* GLib's $ matches before a final newline too: every value checked by a pattern is refused with
 * one (exit 2), and nothing is printed or written. The same values without it pass. */
/* up --seed-from: refused without --no-wait (nothing could verify the guest's sshd), before
 * libvirt is asked anything; with it, the plan has no seed volume and says why, and the XML
 * points cloud-init at the URL and records no seed volume and no host key. */
static void
test_seed_from(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    const char *url = "http://127.0.0.1:8/seed/";

    g_auto(VsBedRun) refused = run("up", "demo", "--image", image, "--seed-from", url, "--dry-run",
                                   "-c", UNREACHABLE, NULL);
    g_assert_cmpint(refused.status, ==, 2);
    g_assert_nonnull(strstr(refused.err, "up: --seed-from needs --no-wait: the guest then gets its "
                                         "SSH host key from your seed server"));
    g_assert_null(strstr(refused.err, "connecting to"));
    g_assert_cmpstr(refused.out, ==, "");

    g_auto(VsBedRun) plan = run("up", "demo", "--image", image, "--seed-from", url, "--no-wait",
                                "--dry-run", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(plan.status, ==, 0);
    g_assert_nonnull(strstr(plan.err, "  no seed volume: cloud-init fetches user-data and "
                                      "meta-data from http://127.0.0.1:8/seed/; no SSH host key is "
                                      "recorded (wait, ssh and exec refuse demo)"));
    g_assert_null(strstr(plan.err, "seed.iso"));
    g_assert_null(strstr(plan.err, "upload"));

    g_auto(VsBedRun) xml = run("up", "demo", "--image", image, "--seed-from", url, "--no-wait",
                               "--dry-run", "--print-xml", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(xml.status, ==, 0);
    g_assert_nonnull(strstr(xml.out, "ds=nocloud;s=http://127.0.0.1:8/seed/"));
    g_assert_null(strstr(xml.out, "seed.iso"));
    g_assert_null(strstr(xml.out, "role=\"seed\""));
    g_assert_null(strstr(xml.out, "host-key"));
}

static void
test_trailing_newline_refused(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *iso = g_build_filename(dir, "s.iso", NULL);
    static const struct {
        const char *flag, *good, *message;
    } up_values[] = {
        {NULL, "demo", "invalid name 'demo\\n'"},
        {"--user", "alice", "invalid user name 'alice\n'"},
        {"--mac", "52:54:00:12:34:56", "is not a unicast MAC address"},
        {"--network", "network:lab", "is not a valid network or bridge name"},
        {"--seed-from", "http://10.0.0.1/seed/", "must be an http:// or https:// URL ending in"},
        {"--instance-type", "c2m2048", "is not of the form cNmM"},
        {"--osinfo", "http://debian.org/debian/12", "is not a libosinfo id"},
    };
    static const struct {
        const char *flag, *good, *message;
    } seed_values[] = {
        {"--hostname", "station", "invalid hostname 'station\n'"},
        {"--user", "alice", "invalid user name 'alice\n'"},
        {"--mac", "52:54:00:12:34:56", "invalid MAC address '52:54:00:12:34:56\n'"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(up_values); i++) {
        for (int newline = 0; newline < 2; newline++) {
            g_autofree char *value = g_strconcat(up_values[i].good, newline ? "\n" : "", NULL);
            const char *flag = up_values[i].flag;
            g_auto(VsBedRun) r = run("up", flag ? "demo" : value, "--image", image, "--dry-run",
                                     "--print-xml", "--no-wait", "-c", UNREACHABLE,
                                     flag ? flag : "--pool", flag ? value : "default", NULL);
            if (!newline) {
                g_assert_cmpint(r.status, ==, 0);
                g_assert_nonnull(strstr(r.out, "<name>demo</name>"));
                continue;
            }
            g_assert_cmpint(r.status, ==, 2);
            if (!strstr(r.err, up_values[i].message))
                g_error("%s: expected '%s' in: %s", flag ? flag : "NAME", up_values[i].message,
                        r.err);
            g_assert_cmpstr(r.out, ==, "");
        }
    }
    for (guint i = 0; i < G_N_ELEMENTS(seed_values); i++) {
        for (int newline = 0; newline < 2; newline++) {
            g_autofree char *value = g_strconcat(seed_values[i].good, newline ? "\n" : "", NULL);
            g_auto(VsBedRun) r =
                run("seed", "-q", "-o", iso, "--ssh-key", key, seed_values[i].flag, value, NULL);
            g_assert_cmpint(r.status, ==, newline ? 2 : 0);
            g_assert_true(g_file_test(iso, G_FILE_TEST_EXISTS) == !newline);
            if (newline && !strstr(r.err, seed_values[i].message))
                g_error("%s: expected '%s' in: %s", seed_values[i].flag, seed_values[i].message,
                        r.err);
            g_unlink(iso);
        }
    }
    g_rmdir(dir);
}

/* A NAME no workstation can have is bad usage (exit 2) for every command that takes one, before
 * any lookup (it was "not found", 3); exec says so with its own 125. */
static void
test_invalid_name_exit_2(void)
{
    static const char *const commands[] = {"info", "xml",     "delete", "ssh",     "start",
                                           "stop", "restart", "wait",   "console", "adopt"};
    static const char *const names[] = {"Bad_Name", "demo\n"};

    for (guint n = 0; n < G_N_ELEMENTS(names); n++) {
        g_autofree char *shown = g_strescape(names[n], NULL);
        for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
            g_autofree char *message =
                g_strdup_printf("virt-station: %s: invalid name '%s'", commands[i], shown);
            g_auto(VsBedRun) r = run(commands[i], names[n], "-c", "test:///default", NULL);
            g_assert_cmpint(r.status, ==, 2);
            if (!strstr(r.err, message))
                g_error("%s: expected '%s' in: %s", commands[i], message, r.err);
        }
        g_auto(VsBedRun) exec = run("exec", names[n], "-c", "test:///default", "--", "true", NULL);
        g_assert_cmpint(exec.status, ==, 125);
        g_assert_nonnull(strstr(exec.err, "exec: invalid name"));
    }
    /* A valid name that names nothing is still "not found". */
    g_auto(VsBedRun) missing = run("info", "nosuch", "-c", "test:///default", NULL);
    g_assert_cmpint(missing.status, ==, 3);
}

/* A bad NAME (or any value checked without the host) stops `up` before the image is requested:
 * the test server logs no request. With a good name the same command does fetch (and fails on
 * the sum), so the log would show one. */
static void
test_up_checks_before_download(void)
{
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *srv = g_build_filename(dir, "srv", NULL);
    g_autofree char *img = g_build_filename(srv, "img.qcow2", NULL);
    g_autofree char *log = g_build_filename(dir, "requests.log", NULL);
    g_autofree char *url = NULL;
    g_autofree char *zeros = g_strnfill(64, '0');
    VsBedHttp http = {0};

    g_assert_cmpint(g_mkdir_with_parents(srv, 0755), ==, 0);
    g_assert_true(g_file_set_contents(img, "not really an image", -1, NULL));
    vs_bed_http_start(&http, srv, log, NULL, NULL);
    url = g_strconcat(http.base, "img.qcow2", NULL);
    g_auto(VsBedRun) name = run("up", "Bad_Name", "--image", url, "--image-sha256", zeros, "-c",
                                "test:///default", NULL);
    g_auto(VsBedRun) memory = run("up", "ws1", "--image", url, "--image-sha256", zeros, "--memory",
                                  "1K", "-c", "test:///default", NULL);
    g_autofree char *none = vs_bed_http_requests(&http, "img.qcow2");
    g_auto(VsBedRun) good =
        run("up", "ws1", "--image", url, "--image-sha256", zeros, "-c", "test:///default", NULL);
    g_autofree char *fetched = vs_bed_http_requests(&http, "img.qcow2");
    vs_bed_http_stop(&http);

    g_assert_cmpint(name.status, ==, 2);
    g_assert_nonnull(strstr(name.err, "invalid name 'Bad_Name'"));
    g_assert_null(strstr(name.err, "fetching"));
    g_assert_cmpint(memory.status, ==, 2);
    g_assert_nonnull(strstr(memory.err, "--memory: '1K' is less than 1 MiB"));
    g_assert_cmpstr(none, ==, "");
    g_assert_cmpint(good.status, !=, 0);
    g_assert_nonnull(strstr(fetched, "\"path\": \"/img.qcow2\""));
    g_unlink(img);
    g_unlink(log);
    g_rmdir(srv);
    g_rmdir(dir);
}

/* --memory, --disk and --gpu-memory follow the spec file's rules: memory and the vGPU
 * framebuffer are whole MiB from 1 MiB (512K no longer became the 4096 MiB default), memory and
 * disk at most 16 TiB. */
static void
test_up_size_limits(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    static const struct {
        const char *flag, *value, *message;
    } bad[] = {
        {"--memory", "1K", "--memory: '1K' is less than 1 MiB"},
        {"--memory", "1536K", "--memory: '1536K' is not a whole number of MiB"},
        {"--memory", "16777215T", "--memory: '16777215T' is more than 16 TiB, the limit"},
        {"--disk", "16777215T", "--disk: '16777215T' is more than 16 TiB, the limit"},
        {"--gpu-memory", "512K", "--gpu-memory: '512K' is less than 1 MiB"},
        {"--gpu-memory", "1536K", "--gpu-memory: '1536K' is not a whole number of MiB"},
        {"--gpu-memory", "2T", "--gpu-memory: '2T' is more than 1 TiB, the limit"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(VsBedRun) r = run("up", "ws1", "--image", image, "--dry-run", "-c", UNREACHABLE,
                                 bad[i].flag, bad[i].value, NULL);
        g_assert_cmpint(r.status, ==, 2);
        if (!strstr(r.err, bad[i].message))
            g_error("expected '%s' in: %s", bad[i].message, r.err);
    }
    g_auto(VsBedRun) most =
        run("up", "ws1", "--image", image, "--dry-run", "--print-xml", "-c", UNREACHABLE,
            "--memory", "16T", "--disk", "16T", "--gpu-memory", "1M", "--gpu", "none", NULL);
    g_assert_cmpint(most.status, ==, 0);
    g_assert_nonnull(strstr(most.out, "<memory unit=\"MiB\">16777216</memory>"));
}

/* Flags override what `-f spec.yaml` sets, key by key; what no flag gives comes from the
 * spec. */
static void
test_up_spec_flags_override(void)
{
    g_autofree char *key = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *dir = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *image = g_build_filename(dir, "disk.img", NULL);
    g_autofree char *spec = g_build_filename(dir, "spec.yaml", NULL);
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(key, &data, &len, NULL));
    g_assert_true(g_file_set_contents(image, data, (gssize)len, NULL));
    g_autofree char *text =
        g_strdup_printf("name: specws\nimage: %s\ncpus: 2\nmemory: 2G\nnetwork: user\n", image);
    g_assert_true(g_file_set_contents(spec, text, -1, NULL));
    g_auto(VsBedRun) plain =
        run("up", "-f", spec, "--dry-run", "--print-xml", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(plain.status, ==, 0);
    g_assert_nonnull(strstr(plain.out, "<name>specws</name>"));
    g_assert_nonnull(strstr(plain.out, "<vcpu placement=\"static\">2</vcpu>"));
    g_assert_nonnull(strstr(plain.out, "<memory unit=\"MiB\">2048</memory>"));
    g_assert_nonnull(strstr(plain.out, "hostfwd=tcp:127.0.0.1:"));
    /* The spec's image: the base is named after it (less .img) and its content. */
    g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
    g_autofree char *volume = g_strdup_printf("volume=\"disk-%.12s\"", sha);
    g_assert_nonnull(strstr(plain.out, volume));

    g_auto(VsBedRun) flags = run("up", "-f", spec, "--cpus", "4", "--network", "network:lab",
                                 "--dry-run", "--print-xml", "-c", UNREACHABLE, NULL);
    g_assert_cmpint(flags.status, ==, 0);
    g_assert_nonnull(strstr(flags.out, "<vcpu placement=\"static\">4</vcpu>"));
    g_assert_nonnull(strstr(flags.out, "<source network=\"lab\"/>"));
    g_assert_null(strstr(flags.out, "hostfwd="));
    /* What no flag overrides still comes from the spec. */
    g_assert_nonnull(strstr(flags.out, "<name>specws</name>"));
    g_assert_nonnull(strstr(flags.out, "<memory unit=\"MiB\">2048</memory>"));
    g_remove(spec);
    g_remove(image);
    g_rmdir(dir);
}

/* `image list --catalog` lists every alias the README names, for both architectures, and an
 * alias a user catalog adds; --json gives the same aliases. */
static void
test_image_list_catalog(void)
{
    static const char *const aliases[] = {
        "ubuntu:24.04", "ubuntu:22.04", "ubuntu:24.04-minimal", "ubuntu:daily:24.04", "fedora:41",
        "debian:12",    "debian:13"};
    g_autofree char *home = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(home, "virt-station", NULL);
    g_autofree char *mine = g_build_filename(dir, "images.yaml", NULL);
    g_autofree char *saved = g_strdup(g_getenv("XDG_CONFIG_HOME"));

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(mine,
                                      "mine:1:\n"
                                      "  checksums-format: sha256sums\n"
                                      "  signature: none\n"
                                      "  x86_64:\n"
                                      "    url: https://example.org/mine.img\n"
                                      "    checksums: https://example.org/SHA256SUMS\n",
                                      -1, NULL));
    g_setenv("XDG_CONFIG_HOME", home, TRUE);
    g_auto(VsBedRun) text = run("image", "list", "--catalog", NULL);
    g_auto(VsBedRun) json = run("image", "list", "--catalog", "--json", NULL);
    if (saved)
        g_setenv("XDG_CONFIG_HOME", saved, TRUE);
    else
        g_unsetenv("XDG_CONFIG_HOME");

    g_assert_cmpint(text.status, ==, 0);
    g_auto(GStrv) lines = g_strsplit(text.out, "\n", -1);
    for (gsize i = 0; i < G_N_ELEMENTS(aliases); i++) {
        for (int a = 0; a < 2; a++) {
            const char *arch = a ? "aarch64" : "x86_64";
            gboolean found = FALSE;
            for (char **l = lines; *l && !found; l++) {
                found = g_str_has_prefix(*l, aliases[i]) && (*l)[strlen(aliases[i])] == ' ' &&
                        strstr(*l, arch) && strstr(*l, "https://");
            }
            if (!found)
                g_error("no line for %s %s in:\n%s", aliases[i], arch, text.out);
        }
        g_autofree char *quoted = g_strdup_printf("\"alias\":\"%s\"", aliases[i]);
        if (!strstr(json.out, quoted))
            g_error("no %s in the JSON:\n%s", quoted, json.out);
    }
    g_assert_nonnull(strstr(text.out, "https://example.org/mine.img"));
    g_assert_cmpint(json.status, ==, 0);
    g_assert_nonnull(strstr(json.out, "https://example.org/mine.img"));
    g_remove(mine);
    g_rmdir(dir);
    g_rmdir(home);
}

/* `list` on libvirt's test driver (in-process, no daemon), whose one domain `test` is not a
 * workstation: without --all nothing is listed; --all marks it foreign; --names prints the
 * names only, one per line. */
static void
test_list_names(void)
{
    g_auto(VsBedRun) mine = run("-c", "test:///default", "list", "--names", NULL);
    g_assert_cmpint(mine.status, ==, 0);
    g_assert_cmpstr(mine.out, ==, "");
    g_auto(VsBedRun) all = run("-c", "test:///default", "list", "--all", NULL);
    g_assert_cmpint(all.status, ==, 0);
    g_assert_nonnull(strstr(all.out, "(foreign: not virt-station's)"));
    g_auto(VsBedRun) names = run("-c", "test:///default", "list", "--all", "--names", NULL);
    g_assert_cmpint(names.status, ==, 0);
    g_assert_cmpstr(names.out, ==, "test\n");
}

/* A dry run downloads nothing: an alias not in the cache is shown as the base volume
 * `<alias>-not-in-cache`, and the cache stays empty. */
static void
test_up_dry_run_not_in_cache(void)
{
    g_autofree char *cache = g_dir_make_tmp("vs-cli-XXXXXX", NULL);
    g_autofree char *saved = g_strdup(g_getenv("XDG_CACHE_HOME"));

    g_setenv("XDG_CACHE_HOME", cache, TRUE);
    g_auto(VsBedRun) r = run("up", "ws1", "--image", "debian:12", "--arch", "x86_64", "--dry-run",
                             "--print-xml", "-c", UNREACHABLE, NULL);
    if (saved)
        g_setenv("XDG_CACHE_HOME", saved, TRUE);
    else
        g_unsetenv("XDG_CACHE_HOME");
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "volume=\"debian-12-not-in-cache\""));
    g_autoptr(GDir) d = g_dir_open(cache, 0, NULL);
    g_assert_nonnull(d);
    const char *left = g_dir_read_name(d);
    if (left)
        g_error("the dry run wrote %s into the cache", left);
    g_rmdir(cache);
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
    g_test_add_func("/cli/up/checks-before-download", test_up_checks_before_download);
    g_test_add_func("/cli/up/size-limits", test_up_size_limits);
    g_test_add_func("/cli/seed/file-mode", test_seed_file_mode);
    g_test_add_func("/cli/seed/password-hash-file", test_seed_password_hash_file);
    g_test_add_func("/cli/deep-yaml", test_deep_yaml);
    g_test_add_func("/cli/input-size-limits", test_input_size_limits);
    g_test_add_func("/cli/trailing-newline-refused", test_trailing_newline_refused);
    g_test_add_func("/cli/seed-from", test_seed_from);
    g_test_add_func("/cli/invalid-name-exit-2", test_invalid_name_exit_2);
    g_test_add_func("/cli/up/spec-flags-override", test_up_spec_flags_override);
    g_test_add_func("/cli/image/list-catalog", test_image_list_catalog);
    g_test_add_func("/cli/list/names", test_list_names);
    g_test_add_func("/cli/up/dry-run-not-in-cache", test_up_dry_run_not_in_cache);
    return g_test_run();
}
