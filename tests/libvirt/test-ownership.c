/* Coexisting with other tools, on the real libvirtd: a domain defined with plain `virsh define`
 * is listed by `list --all` as foreign, and delete, stop, start, exec and up with its name refuse
 * it without changing it. And Ctrl-C at each creation step of `up` leaves no domain and no
 * volume behind (the VIRT_STATION_TEST_PAUSE hook holds `up` before the step). */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "bed.h"

static char *
dumpxml(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml;

    g_assert_nonnull(dom);
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    virDomainFree(dom);
    return xml;
}

static void
test_foreign_domain_refused(void)
{
    g_autofree char *name = g_strdup_printf("vs-foreign-%d", (int)getpid());
    g_autofree char *dir = g_dir_make_tmp("vs-foreign-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "foreign.xml", NULL);
    g_autofree char *image = g_build_filename(dir, "image.qcow2", NULL);
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                        "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>",
                        name);
    virConnectPtr conn = virConnectOpen("qemu:///system");

    g_assert_nonnull(conn);
    g_assert_true(g_file_set_contents(file, xml, -1, NULL));
    g_assert_true(g_file_set_contents(image, "not really an image", -1, NULL));
    g_auto(VsBedRun) def =
        vs_bed_run((const char *[]){"virsh", "-c", "qemu:///system", "define", file, NULL});
    g_assert_cmpint(def.status, ==, 0);
    g_autofree char *before = dumpxml(conn, name);

    g_auto(VsBedRun) list =
        vs_bed_run((const char *[]){"virt-station", "-c", "qemu:///system", "list", "--all", NULL});
    g_assert_cmpint(list.status, ==, 0);
    g_autofree char *row = g_strdup_printf("\n%s ", name);
    const char *line = strstr(list.out, row);
    g_assert_nonnull(line);
    g_assert_true(strstr(line, "(foreign") < strchr(line + 1, '\n'));
    g_auto(VsBedRun) mine =
        vs_bed_run((const char *[]){"virt-station", "-c", "qemu:///system", "list", NULL});
    g_assert_null(strstr(mine.out, row));
    g_auto(VsBedRun) json = vs_bed_run(
        (const char *[]){"virt-station", "-c", "qemu:///system", "list", "--all", "--json", NULL});
    g_autofree char *entry = g_strdup_printf(
        "{\"name\":\"%s\",\"owned\":false,\"state\":\"shut off\",\"vcpus\":1,\"memory_mib\":64}",
        name);
    g_assert_nonnull(strstr(json.out, entry));

    const char *refusals[][8] = {
        {"delete", name, NULL},
        {"stop", name, "--force", NULL},
        {"start", name, NULL},
        {"up", name, "--image", image, "--network", "user", NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refusals); i++) {
        const char *args[12] = {"virt-station", "-c", "qemu:///system"};
        for (guint k = 0; refusals[i][k]; k++)
            args[3 + k] = refusals[i][k];
        g_auto(VsBedRun) r = vs_bed_run(args);
        if (r.status != 3 || !strstr(r.err, "not created by virt-station"))
            g_error("%s on a foreign domain: exit %d, %s", refusals[i][0], r.status, r.err);
    }
    g_auto(VsBedRun) exec = vs_bed_run(
        (const char *[]){"virt-station", "-c", "qemu:///system", "exec", name, "--", "true", NULL});
    g_assert_cmpint(exec.status, ==, 125);

    g_autofree char *after = dumpxml(conn, name);
    g_assert_cmpstr(after, ==, before);
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_cmpint(virDomainIsActive(dom), ==, 0);
    virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    g_unlink(file);
    g_unlink(image);
    g_rmdir(dir);
}

/* ---- Ctrl-C at each creation step ---- */

static const char *const steps[] = {"pool", "base", "overlay", "seed", "define", "start"};

static void
test_interrupt_at_step(gconstpointer data)
{
    const char *step = data;
    g_autofree char *name = g_strdup_printf("vs-int-%s-%d", step, (int)getpid());
    g_autofree char *home = vs_bed_tmpdir("vs-int");
    g_autofree char *pool_dir = vs_bed_tmpdir("vs-intpool");
    g_autofree char *pool = g_strdup_printf("vs-int-%s-%d", step, (int)getpid());
    g_autofree char *image = g_build_filename(home, "image.qcow2", NULL);
    g_autofree char *pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", pool, pool_dir);
    const char *qemu_img[] = {"qemu-img", "create", "-q", "-f", "qcow2", image, "64M", NULL};
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) up = NULL;
    g_autoptr(GDataInputStream) err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) output = g_string_new(NULL);
    g_autofree char *expected = g_strdup_printf("paused before %s", step);
    virConnectPtr conn = virConnectOpen("qemu:///system");
    virStoragePoolPtr p;
    gboolean paused = FALSE;
    char *line;

    g_assert_nonnull(conn);
    p = virStoragePoolCreateXML(conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);
    g_auto(VsBedRun) img = vs_bed_run(qemu_img);
    g_assert_cmpint(img.status, ==, 0);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                         G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_setenv(launcher, "VIRT_STATION_TEST_PAUSE", step, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", home, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_CACHE_HOME", home, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_RUNTIME_DIR", home, TRUE);
    const char *up_args[] = {
        "virt-station", "-c", "qemu:///system", "up",   name,        "--image", image,
        "--pool",       pool, "--network",      "user", "--no-wait", NULL};
    g_auto(GStrv) up_argv = vs_bed_argv_with_virt_type(up_args);
    up = g_subprocess_launcher_spawnv(launcher, (const char *const *)up_argv, &error);
    g_assert_no_error(error);
    err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(up));
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        paused = strcmp(line, expected) == 0;
        g_free(line);
        if (paused)
            break;
    }
    if (!paused)
        g_error("up never paused before %s:\n%s", step, output->str);
    g_subprocess_send_signal(up, SIGINT);
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(up, NULL, NULL));
    g_assert_cmpint(g_subprocess_get_exit_status(up), ==, 1);
    g_autofree char *said = g_strdup_printf("interrupted before %s", step);
    if (!strstr(output->str, said) || (!strstr(output->str, "removed what was created") &&
                                       !strstr(output->str, "nothing had been created yet")))
        g_error("up did not say what it undid:\n%s", output->str);

    /* Nothing is left: no domain, no volume. */
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_null(dom);
    g_autofree char *vols = vs_bed_pool_volumes(conn, pool);
    g_assert_cmpstr(vols, ==, "");

    p = virStoragePoolLookupByName(conn, pool);
    virStoragePoolDestroy(p);
    virStoragePoolFree(p);
    virConnectClose(conn);
    vs_bed_rmtree(home);
    vs_bed_rmtree(pool_dir);
}

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    if (!vs_bed_daemons(&error))
        g_error("%s", error->message);
    g_test_add_func("/ownership/foreign-domain-refused", test_foreign_domain_refused);
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autofree char *path = g_strdup_printf("/ownership/interrupt/%s", steps[i]);
        g_test_add_data_func(path, steps[i], test_interrupt_at_step);
    }
    return g_test_run();
}
