/* Snapshots of a booted workstation on real libvirtd (the Debian test image, user networking,
 * one boot): a file written in the guest, `snapshot create` (disk and memory), the file changed,
 * `snapshot revert`: the file is back and the guest runs on; `snapshot list` and its JSON show
 * the snapshot; a disk-only snapshot of the shut-off domain; reverting to the running snapshot
 * from shut off resumes it running; `snapshot delete`; `delete` of the workstation leaves no
 * snapshot (virsh snapshot-list fails: the domain is gone) and no volume of its own. Measures
 * create and revert of the running TCG guest. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"

#define URI     "qemu:///system"
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

/* Returns the seconds since @start_us (monotonic). */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

/* Returns "absent" or the state of @name in libvirt's numbers. */
static int
domain_state(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    int state = -1, reason;

    if (!dom)
        return -1;
    virDomainGetState(dom, &state, &reason, 0);
    virDomainFree(dom);
    return state;
}

/* Returns the contents of ~/snap.txt in the guest @name, stripped. */
static char *
guest_file(const char *name)
{
    g_auto(VsBedRun) cat = vs("exec", name, "--", "cat", "snap.txt", NULL);

    if (cat.status != 0)
        g_error("exec cat: exit %d, %s", cat.status, cat.err);
    return g_strdup(g_strstrip(cat.out));
}

/* Writes @text into ~/snap.txt in the guest @name and syncs. */
static void
guest_write(const char *name, const char *text)
{
    g_autofree char *script = g_strdup_printf("echo %s > snap.txt && sync", text);
    g_auto(VsBedRun) w = vs("exec", name, "--", "sh", "-c", script, NULL);

    if (w.status != 0)
        g_error("exec write: exit %d, %s", w.status, w.err);
}

/* One scenario on one booted guest, step after step: splitting it would only pass the guest
 * around. */
static void
test_snapshot_booted(void)
{
    VsBedWorld bed = {0};
    g_autofree char *name = g_strdup_printf("vs-int-snap-%d", (int)getpid());
    gint64 t0;

    vs_bed_world_setup(&bed, "vs-snap", "vs-int-snap");
    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) up = vs("up", name, "--image", bed.image, "--pool", bed.pool, "--network",
                             "user", "--memory", "1024", "--timeout", "600", NULL);
    if (up.status != 0)
        g_error("up exited %d:\n%s", up.status, up.err);
    g_test_message("up: ready after %.0f s", since(t0));

    guest_write(name, "before");
    g_autofree char *written = guest_file(name);
    g_assert_cmpstr(written, ==, "before");

    /* Disk and memory of the running guest. */
    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) create = vs("snapshot", "create", name, "s1", NULL);
    double create_s = since(t0);
    if (create.status != 0)
        g_error("snapshot create: exit %d, %s", create.status, create.err);
    g_test_message("snapshot create of the running guest (1024 MiB, TCG): %.1f s", create_s);
    g_assert_cmpstr(create.out, ==, "s1\n");
    g_assert_nonnull(strstr(create.err, "disk and memory"));
    g_assert_cmpint(domain_state(bed.conn, name), ==, VIR_DOMAIN_RUNNING);

    guest_write(name, "after");
    g_autofree char *changed = guest_file(name);
    g_assert_cmpstr(changed, ==, "after");

    g_auto(VsBedRun) list = vs("snapshot", "list", name, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_true(g_str_has_prefix(list.out, "SNAPSHOT "));
    const char *row = strstr(list.out, "\ns1 ");
    g_assert_nonnull(row);
    g_autofree char *line = g_strndup(row + 1, strcspn(row + 1, "\n"));
    g_assert_nonnull(strstr(line, " running "));
    g_assert_true(g_str_has_suffix(line, " yes"));
    g_auto(VsBedRun) json = vs("snapshot", "list", name, "--json", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_autofree char *json_head = g_strdup_printf(
        "{\"version\":1,\"name\":\"%s\",\"snapshots\":[{\"name\":\"s1\",\"created\":\"", name);
    g_assert_true(g_str_has_prefix(json.out, json_head));
    g_assert_true(g_str_has_suffix(
        json.out, "Z\",\"state\":\"running\",\"memory\":true,\"current\":true}]}\n"));

    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) revert = vs("snapshot", "revert", name, "s1", NULL);
    double revert_s = since(t0);
    if (revert.status != 0)
        g_error("snapshot revert: exit %d, %s", revert.status, revert.err);
    g_test_message("snapshot revert of the running guest: %.1f s", revert_s);
    g_assert_cmpint(domain_state(bed.conn, name), ==, VIR_DOMAIN_RUNNING);
    g_autofree char *back = guest_file(name);
    g_assert_cmpstr(back, ==, "before");

    /* Shut off: the disk alone, cheap. */
    g_auto(VsBedRun) off = vs("stop", name, "--force", NULL);
    g_assert_cmpint(off.status, ==, 0);
    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) disk = vs("snapshot", "create", name, "s-off", NULL);
    g_assert_cmpint(disk.status, ==, 0);
    g_test_message("snapshot create of the shut-off domain: %.1f s", since(t0));
    g_assert_nonnull(strstr(disk.err, "disk only"));
    g_auto(VsBedRun) info = vs("info", name, NULL);
    g_assert_cmpint(info.status, ==, 0);
    g_assert_nonnull(strstr(info.out, "\nsnapshot: s1 ("));
    g_assert_nonnull(strstr(info.out, ", running)\n"));
    g_assert_nonnull(strstr(info.out, "\nsnapshot: s-off ("));
    g_assert_nonnull(strstr(info.out, ", shut off, current)\n"));

    /* The running snapshot from shut off: it runs again, with the file as it was then. */
    g_auto(VsBedRun) resume = vs("snapshot", "revert", name, "s1", NULL);
    g_assert_cmpint(resume.status, ==, 0);
    g_assert_cmpint(domain_state(bed.conn, name), ==, VIR_DOMAIN_RUNNING);
    g_autofree char *resumed = guest_file(name);
    g_assert_cmpstr(resumed, ==, "before");

    g_auto(VsBedRun) del_snap = vs("snapshot", "delete", name, "s-off", NULL);
    g_assert_cmpint(del_snap.status, ==, 0);
    g_auto(VsBedRun) after_del = vs("snapshot", "list", name, NULL);
    g_assert_null(strstr(after_del.out, "s-off"));
    g_assert_nonnull(strstr(after_del.out, "\ns1 "));

    /* delete of the workstation, with its snapshot s1: nothing is left. */
    g_auto(VsBedRun) del = vs("delete", name, NULL);
    if (del.status != 0)
        g_error("delete: exit %d, %s", del.status, del.err);
    g_assert_cmpint(domain_state(bed.conn, name), ==, -1);
    g_auto(VsBedRun) virsh =
        vs_bed_run((const char *[]){"virsh", "-c", URI, "snapshot-list", name, NULL});
    g_assert_cmpint(virsh.status, !=, 0);
    g_assert_nonnull(strstr(virsh.err, name));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_null(strstr(vols, name));
    vs_bed_world_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/integration/snapshot/booted", test_snapshot_booted);
    return g_test_run();
}
