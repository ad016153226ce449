/* Proves the test bed: the Debian test image boots under real libvirtd with a NoCloud seed built
 * by virt-station's own seed code, user-mode networking forwards the guest's port 22 to
 * 127.0.0.1, and the hostname, user, key and network-config from the seed take effect.
 *
 * The domain is transient and started with VIR_DOMAIN_START_AUTODESTROY: libvirtd destroys it
 * when this process's connection closes, however the test ends. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "provisioner/cloudinit.h"
#include "provisioner/seed.h"

#define GUEST_USER "tester"

typedef struct {
    char *dir;
    char *keydir;
    char *key;
    char *hostname;
    char *mac;
    char *console_log;
    guint16 port;
    virConnectPtr conn;
    virDomainPtr dom;
} Bed;

static guint
boot_timeout(void)
{
    const char *env = g_getenv("VS_TEST_BOOT_TIMEOUT");
    return env ? (guint)g_ascii_strtoull(env, NULL, 10) : 420;
}

static void
make_seed(Bed *bed, const char *path)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *pub = g_strdup_printf("%s.pub", bed->key);

    spec.hostname = g_strdup(bed->hostname);
    spec.user = g_strdup(GUEST_USER);
    spec.mac = g_strdup(bed->mac);
    spec.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(vs_cloudinit_read_ssh_keys(pub, spec.ssh_keys, &error));
    g_assert_no_error(error);
    g_assert_true(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(vs_seed_write(&files, path, 0644, &error));
    g_assert_no_error(error);
}

/* Returns the domain type: KVM where the test bed's probe ran a KVM guest, TCG otherwise
 * (libvirt offering kvm is not enough: its /dev/kvm may not run a guest). */
static char *
domain_type(void)
{
    const char *decided = vs_bed_virt_type();
    return g_strdup(decided ? decided : "qemu");
}

static void
bed_boot(Bed *bed, const char *image)
{
    g_autofree char *disk = g_build_filename(bed->dir, "disk.qcow2", NULL);
    g_autofree char *seed = g_build_filename(bed->dir, "seed.iso", NULL);
    g_autofree char *type = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *netdev = NULL, *nic = NULL;
    const char *qemu_img[] = {"qemu-img", "create", "-q",  "-f", "qcow2", "-F",
                              "qcow2",    "-b",     image, disk, NULL};
    g_autoptr(GError) error = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)qemu_img, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_cmpint(status, ==, 0);
    make_seed(bed, seed);

    /* libvirtd may have been restarted by a test before (bed-kvm): running again first. */
    g_assert_true(vs_bed_daemons(&error));
    bed->conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(bed->conn);
    type = domain_type();
    netdev = g_strdup_printf("user,id=vsnet0,hostfwd=tcp:127.0.0.1:%u-:22", bed->port);
    nic = g_strdup_printf("virtio-net-pci,netdev=vsnet0,bus=pcie.0,addr=0x10,mac=%s", bed->mac);
    xml = g_markup_printf_escaped(
        "<domain type='%s' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
        "<name>%s</name><memory unit='MiB'>1024</memory><vcpu>2</vcpu>"
        "<os><type arch='x86_64' machine='q35'>hvm</type><boot dev='hd'/>"
        "<smbios mode='sysinfo'/></os>"
        "<sysinfo type='smbios'><system><entry name='serial'>ds=nocloud</entry></system>"
        "</sysinfo><features><acpi/><apic/></features><clock offset='utc'/>"
        "<devices>"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='%s'/><target dev='vdb' bus='virtio'/><readonly/></disk>"
        "<serial type='pty'><log file='%s' append='off'/><target port='0'/></serial>"
        "<console type='pty'><target type='serial' port='0'/></console>"
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
        "</devices>"
        "<qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='%s'/>"
        "<qemu:arg value='-device'/><qemu:arg value='%s'/></qemu:commandline>"
        "</domain>",
        type, bed->hostname, disk, seed, bed->console_log, netdev, nic);
    bed->dom = virDomainCreateXML(bed->conn, xml, VIR_DOMAIN_START_AUTODESTROY);
    if (!bed->dom)
        g_error("starting the test domain failed: %s", virGetLastErrorMessage());
}

static void
bed_teardown(Bed *bed)
{
    if (bed->dom) {
        virDomainDestroy(bed->dom);
        virDomainFree(bed->dom);
    }
    if (bed->conn)
        virConnectClose(bed->conn);
    vs_bed_rmtree(bed->dir);
    vs_bed_rmtree(bed->keydir);
    g_free(bed->dir);
    g_free(bed->keydir);
    g_free(bed->key);
    g_free(bed->hostname);
    g_free(bed->mac);
    g_free(bed->console_log);
}

static char *
guest(Bed *bed, const char *command)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = -1;

    g_assert_true(vs_bed_ssh("127.0.0.1", bed->port, GUEST_USER, bed->key, command, &out, &err,
                             &status, &error));
    g_assert_no_error(error);
    if (status != 0)
        g_error("guest command '%s' exited %d: %s", command, status, err);
    return g_strstrip(g_steal_pointer(&out));
}

static void
test_boot_with_seed(void)
{
    Bed bed = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *image = vs_bed_image(&error);

    g_assert_no_error(error);
    bed.dir = vs_bed_tmpdir("vs-boot");
    bed.keydir = vs_bed_tmpdir("vs-key");
    g_chmod(bed.keydir, 0700);
    bed.key = vs_bed_keypair(bed.keydir, &error);
    g_assert_no_error(error);
    bed.hostname = g_strdup_printf("vs-bed-%d", (int)getpid());
    bed.mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                              g_random_int_range(0, 256), g_random_int_range(0, 256));
    bed.console_log = g_build_filename(bed.dir, "console.log", NULL);
    bed.port = vs_bed_free_port();

    bed_boot(&bed, image);
    g_test_message("booted %s; waiting for SSH on 127.0.0.1:%u", bed.hostname, bed.port);
    if (!vs_bed_wait_ssh("127.0.0.1", bed.port, GUEST_USER, bed.key, boot_timeout(),
                         bed.console_log, &error)) {
        g_autofree char *msg = g_strdup(error->message);
        bed_teardown(&bed);
        g_error("%s", msg);
    }

    /* What the seed asked for. */
    g_autofree char *hostname = guest(&bed, "hostname");
    g_assert_cmpstr(hostname, ==, bed.hostname);
    g_autofree char *user = guest(&bed, "id -un");
    g_assert_cmpstr(user, ==, GUEST_USER);
    g_autofree char *root = guest(&bed, "sudo -n id -u");
    g_assert_cmpstr(root, ==, "0");
    g_autofree char *keys = guest(&bed, "cat ~/.ssh/authorized_keys");
    g_assert_nonnull(strstr(keys, "virt-station-test"));
    /* network-config matched the NIC by MAC, renamed it eth0 and got a lease from SLIRP. */
    g_autofree char *mac = guest(&bed, "cat /sys/class/net/eth0/address");
    g_assert_cmpstr(mac, ==, bed.mac);
    g_autofree char *addr = guest(&bed, "ip -4 -o addr show dev eth0");
    g_assert_nonnull(strstr(addr, "10.0.2.15/"));

    bed_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/bed/boot-with-seed", test_boot_with_seed);
    return g_test_run();
}
