/* The test bed's KVM decision on a device QEMU's user cannot open, for real: a device node of
 * the test's own (VS_TESTBED_KVM_DEVICE; the host's /dev/kvm is not touched) of mode 0600
 * root:root is set to root:kvm 0660 as udev would, the running libvirtd is restarted and
 * answers again, the probe decides, and the decision's lock is free afterwards (a libvirtd
 * started while the script held it once kept it, and every later call hung). Runs alone: it
 * restarts libvirtd. */
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tests/bed/bed.h"

/* Returns TRUE when a process called libvirtd has @path open. */
static gboolean
libvirtd_holds(const char *path)
{
    g_auto(VsBedRun) pids = vs_bed_run((const char *[]){"pgrep", "-x", "libvirtd", NULL});
    g_auto(GStrv) lines = g_strsplit(pids.out ? pids.out : "", "\n", -1);

    for (guint i = 0; lines[i]; i++) {
        g_autofree char *dir = NULL;
        g_autoptr(GDir) fds = NULL;
        const char *fd;
        if (!*lines[i])
            continue;
        dir = g_strdup_printf("/proc/%s/fd", lines[i]);
        fds = g_dir_open(dir, 0, NULL);
        while (fds && (fd = g_dir_read_name(fds))) {
            g_autofree char *link = g_build_filename(dir, fd, NULL);
            g_autofree char *target = g_file_read_link(link, NULL);
            if (g_strcmp0(target, path) == 0)
                return TRUE;
        }
    }
    return FALSE;
}

static void
test_denied_device_fixed(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = vs_bed_tmpdir("vs-bed-kvm");
    g_autofree char *device = g_build_filename(dir, "kvm", NULL);
    g_autofree char *lock = g_build_filename(dir, ".kvm-lock", NULL);
    g_autofree char *script =
        g_build_filename(g_getenv("VS_SOURCE_DIR"), "tests", "bed", "ensure-bed.sh", NULL);
    g_autofree char *env_dev = g_strdup_printf("VS_TESTBED_KVM_DEVICE=%s", device);
    g_autofree char *env_cache = g_strdup_printf("VS_TESTBED_CACHE=%s", dir);
    g_autofree char *said = g_strdup_printf("set %s to root:kvm 0660", device);
    const char *argv[] = {"timeout", "120", "env", env_dev, env_cache, script, "--kvm", NULL};
    struct group *kvm = getgrnam("kvm");
    struct stat st;

    g_assert_true(vs_bed_daemons(&error));
    g_assert_no_error(error);
    g_assert_nonnull(kvm);
    g_assert_cmpint(mknod(device, S_IFCHR | 0600, makedev(10, 232)), ==, 0);
    g_assert_cmpint(chown(device, 0, 0), ==, 0);
    {
        g_auto(VsBedRun) r = vs_bed_run(argv);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(g_strstrip(r.out), ==, "qemu");
        g_assert_nonnull(strstr(r.err, said));
        g_assert_nonnull(strstr(r.err, "restarting libvirtd"));
        /* The node has no driver behind it: still not openable, so emulation. */
        g_assert_nonnull(strstr(r.err, "guests run with --virt-type qemu: "));
    }
    g_assert_cmpint(stat(device, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0660);
    g_assert_cmpint(st.st_gid, ==, kvm->gr_gid);
    g_assert_false(libvirtd_holds(lock));
    {
        /* libvirtd answers again, and the next decision does not wait on a lock. */
        g_auto(VsBedRun) version =
            vs_bed_run((const char *[]){"virsh", "-c", "qemu:///system", "version", NULL});
        g_auto(VsBedRun) again = vs_bed_run(argv);
        g_assert_cmpint(version.status, ==, 0);
        g_assert_cmpint(again.status, ==, 0);
        g_assert_cmpstr(g_strstrip(again.out), ==, "qemu");
    }
    g_assert_false(libvirtd_holds(lock));
    vs_bed_rmtree(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bed-kvm/denied-device-fixed", test_denied_device_fixed);
    return g_test_run();
}
