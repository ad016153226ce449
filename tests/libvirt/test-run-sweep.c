/* The sweep of what killed runs left, and keeping a failed run, on libvirt's test driver
 * (test:///default), with the locks in a folder of the test's own:
 *   a run-* volume whose name lock is free and whose domain is gone is deleted, both its
 *   overlay and its seed; one whose lock another process holds (a run that lives) is not, until
 *   that process lets go; one whose domain exists (a run kept with --keep-on-failure) is not;
 *   and volumes that are no run's are never looked at.
 *   vs_run_keep makes a running transient domain persistent with <vs:kept reason=.../>. */
#include <libvirt/virterror.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "domains/lifecycle.h"
#include "domains/metadata.h"
#include "provisioner/lock.h"
#include "provisioner/run.h"
#include "provisioner/target.h"
#include "tests/bed/bed.h"

#define URI "test:///default"

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

static void
make_volume(virStoragePoolPtr pool, const char *name)
{
    g_autofree char *xml =
        g_strdup_printf("<volume><name>%s</name><capacity>1048576</capacity></volume>", name);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);

    if (!vol)
        g_error("creating %s: %s", name, virGetLastErrorMessage());
    virStorageVolFree(vol);
}

/* Returns TRUE when the pool holds @name. */
static gboolean
has_volume(virStoragePoolPtr pool, const char *name)
{
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);

    if (!vol)
        return FALSE;
    virStorageVolFree(vol);
    return TRUE;
}

/* Returns the XML of a test-driver domain @name with virt-station metadata. */
static char *
domain_xml(const char *name)
{
    return g_strdup_printf(
        "<domain type='test'><name>%s</name><memory>1024</memory><os><type>hvm</type></os>"
        "<metadata><vs:station xmlns:vs='urn:virt-station:domain:1' version='1'>"
        "<vs:volume role='disk' pool='default-pool' name='%s.qcow2'/></vs:station></metadata>"
        "</domain>",
        name, name);
}

static void
collect(void *data, const char *message)
{
    g_string_append_printf(data, "%s\n", message);
}

/* Holds the name lock of @name in a child process until @release is closed; returns its pid. */
static pid_t
hold_lock_elsewhere(virConnectPtr conn, const char *name, int release[2])
{
    g_autofree char *host = vs_target_host_uri(conn, URI);
    g_autofree char *key = vs_lock_key_name(host, name);
    int ready[2];
    char c;
    pid_t pid;

    g_assert_cmpint(pipe(ready), ==, 0);
    g_assert_cmpint(pipe(release), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        VsLock *lock = vs_lock_take(VS_LOCK_NAME, key, FALSE, NULL);
        close(release[1]);
        if (write(ready[1], lock ? "y" : "n", 1) != 1)
            _exit(2);
        while (read(release[0], &c, 1) > 0)
            ;
        _exit(lock ? 0 : 1);
    }
    close(release[0]);
    close(ready[1]);
    g_assert_cmpint(read(ready[0], &c, 1), ==, 1);
    g_assert_cmpint(c, ==, 'y');
    close(ready[0]);
    return pid;
}

static void
test_sweep(void)
{
    virConnectPtr conn = virConnectOpen(URI);
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    g_autoptr(GString) steps = g_string_new(NULL);
    VsProgress progress = {.step = collect, .warn = collect, .data = steps};
    g_autofree char *kept_xml = domain_xml("run-0000000c");
    virDomainPtr kept;
    int release[2], status;
    pid_t holder;

    g_assert_nonnull(pool);
    make_volume(pool, "run-0000000a.qcow2");
    make_volume(pool, "run-0000000a-seed.iso");
    make_volume(pool, "run-0000000b.qcow2");
    make_volume(pool, "run-0000000c.qcow2");
    make_volume(pool, "keep-me.qcow2");
    make_volume(pool, "run-0000000d.img");
    kept = virDomainDefineXML(conn, kept_xml);
    g_assert_nonnull(kept);
    holder = hold_lock_elsewhere(conn, "run-0000000b", release);

    g_assert_cmpuint(vs_run_sweep(conn, URI, &progress), ==, 2);
    g_test_message("%s", steps->str);
    g_assert_false(has_volume(pool, "run-0000000a.qcow2"));
    g_assert_false(has_volume(pool, "run-0000000a-seed.iso"));
    g_assert_nonnull(strstr(steps->str, "removed volume default-pool/run-0000000a.qcow2, left by "
                                        "the run run-0000000a"));
    g_assert_true(has_volume(pool, "run-0000000b.qcow2")); /* its run lives */
    g_assert_true(has_volume(pool, "run-0000000c.qcow2")); /* kept: its domain exists */
    g_assert_true(has_volume(pool, "keep-me.qcow2"));
    g_assert_true(has_volume(pool, "run-0000000d.img"));

    /* The run ends without removing its volume (SIGKILL): the next sweep takes it. */
    close(release[1]);
    g_assert_cmpint(waitpid(holder, &status, 0), ==, holder);
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_cmpuint(vs_run_sweep(conn, URI, &progress), ==, 1);
    g_assert_false(has_volume(pool, "run-0000000b.qcow2"));
    g_assert_true(has_volume(pool, "run-0000000c.qcow2"));

    virDomainUndefine(kept);
    virDomainFree(kept);
    virStoragePoolFree(pool);
    virConnectClose(conn);
}

static void
test_keep(void)
{
    virConnectPtr conn = virConnectOpen(URI);
    g_autofree char *xml = domain_xml("run-0000000e");
    virDomainPtr dom = virDomainCreateXML(conn, xml, 0);
    virDomainPtr kept;
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) station = NULL;

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsPersistent(dom), ==, 0);
    kept = vs_run_keep(dom, "the run exited 7", &error);
    g_assert_no_error(error);
    g_assert_nonnull(kept);
    g_assert_cmpint(virDomainIsPersistent(kept), ==, 1);
    g_assert_cmpint(virDomainIsActive(kept), ==, 1);
    station = vs_lifecycle_owned(kept, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(station->kept, ==, "the run exited 7");
    g_assert_cmpuint(station->volumes->len, ==, 1);
    /* Both definitions carry the mark: the one a later start uses, too. */
    g_autofree char *inactive = virDomainGetXMLDesc(kept, VIR_DOMAIN_XML_INACTIVE);
    g_assert_nonnull(strstr(inactive, "kept reason=\"the run exited 7\""));
    virDomainDestroy(kept);
    virDomainUndefine(kept);
    virDomainFree(kept);
    virDomainFree(dom);
    virConnectClose(conn);
}

int
main(int argc, char **argv)
{
    g_autofree char *locks = vs_bed_tmpdir("vs-test-run-locks");

    g_setenv("VIRT_STATION_LOCK_DIR", locks, TRUE);
    virSetErrorFunc(NULL, ignore_error);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/run/sweep", test_sweep);
    g_test_add_func("/run/keep", test_keep);
    int status = g_test_run();
    vs_bed_rmtree(locks);
    return status;
}
