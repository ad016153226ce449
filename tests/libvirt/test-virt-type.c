/* `up --virt-type kvm` where KVM cannot run a guest: exit status 1, a message naming /dev/kvm
 * and the fix, and nothing created: no domain, no volume, on the real libvirtd. Once with a fake
 * host root whose /dev/kvm QEMU's user cannot open (so it holds on every machine), once on the
 * machine as it is when the test bed's probe found that KVM does not work here. And `auto` on
 * the same fake host falls back to qemu with one line saying why. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/bed/bed.h"

typedef struct {
    virConnectPtr conn;
    char *dir;
    char *pool;
    char *image;
    char *root; /* a fake host: dev/kvm a plain file of mode 0600 */
} Bed;

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

static void
bed_setup(Bed *bed)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *pool_xml = NULL, *dev = NULL, *kvm = NULL;
    virStoragePoolPtr p;

    g_assert_true(vs_bed_daemons(&error));
    g_assert_no_error(error);
    virSetErrorFunc(NULL, ignore_error);
    bed->conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(bed->conn);
    bed->dir = vs_bed_tmpdir("vs-virt-type");
    bed->pool = g_strdup_printf("vs-test-vt-%d", (int)getpid());
    pool_xml = g_strdup_printf("<pool type='dir'><name>%s</name><target><path>%s</path></target>"
                               "</pool>",
                               bed->pool, bed->dir);
    p = virStoragePoolCreateXML(bed->conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);

    /* Outside the pool's folder, or the pool would list it. */
    bed->root = g_dir_make_tmp("vs-host-root-XXXXXX", NULL);
    bed->image = g_build_filename(bed->root, "image.qcow2", NULL);
    {
        const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", bed->image, "64M", NULL};
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 0);
    }
    dev = g_build_filename(bed->root, "dev", NULL);
    kvm = g_build_filename(dev, "kvm", NULL);
    g_assert_cmpint(g_mkdir(dev, 0755), ==, 0);
    g_assert_true(g_file_set_contents(kvm, "", -1, NULL));
    g_assert_cmpint(chmod(kvm, 0600), ==, 0);
}

static void
bed_teardown(Bed *bed)
{
    virStoragePoolPtr p = virStoragePoolLookupByName(bed->conn, bed->pool);
    g_autofree char *dev = g_build_filename(bed->root, "dev", NULL);
    g_autofree char *kvm = g_build_filename(dev, "kvm", NULL);

    if (p) {
        virStoragePoolDestroy(p);
        virStoragePoolFree(p);
    }
    g_remove(bed->image);
    g_remove(kvm);
    g_rmdir(dev);
    g_rmdir(bed->root);
    vs_bed_rmtree(bed->dir);
    virConnectClose(bed->conn);
    g_free(bed->dir);
    g_free(bed->pool);
    g_free(bed->image);
    g_free(bed->root);
}

/* Asserts that no domain @name exists and the bed's pool holds no volume. */
static void
assert_nothing_created(Bed *bed, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed->conn, name);
    g_autofree char *volumes = vs_bed_pool_volumes(bed->conn, bed->pool);

    if (dom) {
        virDomainFree(dom);
        g_error("a domain %s was created", name);
    }
    g_assert_cmpstr(volumes, ==, "");
}

static void
test_kvm_refused_on_fake_host(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-dryrun-vt-%d", (int)getpid());
    g_autofree char *root_env = NULL;

    bed_setup(&bed);
    root_env = g_strdup_printf("VIRT_STATION_HOST_ROOT=%s", bed.root);
    {
        const char *argv[] = {
            "env",       root_env,    "virt-station", "-c",          "qemu:///system",
            "up",        name,        "--image",      bed.image,     "--pool",
            bed.pool,    "--network", "user",         "--virt-type", "kvm",
            "--no-wait", NULL};
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_nonnull(strstr(r.err, "--virt-type kvm cannot work on this host: QEMU's user "));
        g_assert_nonnull(strstr(r.err, "cannot open /dev/kvm (-rw------- root:root): chgrp kvm "
                                       "/dev/kvm && chmod 0660 /dev/kvm"));
        g_assert_nonnull(strstr(r.err, "or use --virt-type qemu"));
        assert_nothing_created(&bed, name);
    }
    {
        /* auto on the same host: emulated, with the reason, as a dry run. */
        const char *argv[] = {
            "env",  root_env,      "virt-station", "-c",        "qemu:///system", "up",
            name,   "--image",     bed.image,      "--pool",    bed.pool,         "--network",
            "user", "--virt-type", "auto",         "--dry-run", "--print-xml",    NULL};
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_true(g_str_has_prefix(
            r.out,
            "<domain xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\" type=\"qemu\">"));
        g_assert_nonnull(strstr(r.err, "KVM is not usable, the guest is emulated (domain type "
                                       "qemu, much slower): QEMU's user "));
        /* The device QEMU cannot open also makes libvirt slow: said once. */
        g_assert_nonnull(strstr(r.err, "libvirt is slow on this host"));
        g_assert_true(strstr(r.err, "libvirt is slow") == g_strrstr(r.err, "libvirt is slow"));
        assert_nothing_created(&bed, name);
    }
    bed_teardown(&bed);
}

static void
test_kvm_refused_on_this_host(void)
{
    Bed bed = {0};
    g_autofree char *name = g_strdup_printf("vs-dryrun-vt-%d", (int)getpid());

    if (g_strcmp0(vs_bed_virt_type(), "qemu") != 0) {
        /* A machine where KVM runs guests: `--virt-type kvm` is meant to work here. */
        g_test_skip("the test bed's probe ran a KVM guest on this machine");
        return;
    }
    bed_setup(&bed);
    {
        const char *argv[] = {"virt-station", "-c",        "qemu:///system",
                              "up",           name,        "--image",
                              bed.image,      "--pool",    bed.pool,
                              "--network",    "user",      "--virt-type",
                              "kvm",          "--no-wait", NULL};
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 1);
        g_assert_nonnull(strstr(r.err, "--virt-type kvm cannot work on this host: "));
        g_assert_nonnull(strstr(r.err, "/dev/kvm"));
        assert_nothing_created(&bed, name);
    }
    bed_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virt-type/kvm-refused-on-fake-host", test_kvm_refused_on_fake_host);
    g_test_add_func("/virt-type/kvm-refused-on-this-host", test_kvm_refused_on_this_host);
    return g_test_run();
}
