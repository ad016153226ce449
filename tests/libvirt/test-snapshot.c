/* Snapshots, without booting anything:
 *   check:   the refusal rules on domain XML with the libvirt version injected: a host device
 *            while running (or for a snapshot that holds memory) is refused with "stop it
 *            first"; UEFI in pflash needs libvirt 10.10.0 and an NVRAM in qcow2 format.
 *   library: create/list/revert/delete on libvirt's test driver (test:///default, in-process),
 *            the refusals leaving the snapshots as they were, delete of the workstation taking
 *            its snapshots (libvirt keeps a domain with snapshots otherwise).
 *   usage:   bad names (exit 2) and foreign domains (exit 3) through the command.
 *   daemon:  the command on the real libvirtd with a workstation whose image boots nothing:
 *            a snapshot of it running (memory) and shut off (disk only: the raw seed takes no
 *            part, snapshot='no'), list, JSON, info, revert to both, delete, and `delete
 *            --keep-disk` of the workstation leaving no snapshot, in libvirt or in the kept disk.
 */
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "domains/lifecycle.h"
#include "domains/snapshot.h"
#include "domains/xml.h"
#include "tests/bed/bed.h"

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

/* ---- check: the XML rules, any libvirt version ---- */

#define V9_0_0   9000000UL
#define V10_9_0  10009000UL
#define V10_10_0 10010000UL

static const char pflash_xml[] =
    "<domain type='qemu'><name>ws</name><os><type arch='x86_64' machine='q35'>hvm</type>"
    "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
    "<nvram%s>/var/lib/libvirt/qemu/nvram/ws_VARS.fd</nvram></os></domain>";

static const char efi_auto_xml[] =
    "<domain type='qemu'><name>ws</name><os firmware='efi'><type arch='x86_64' machine='q35'>hvm"
    "</type></os></domain>";

static const char mdev_xml[] =
    "<domain type='qemu'><name>ws</name><os><type arch='x86_64'>hvm</type></os><devices>"
    "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
    "<address uuid='7b1fe5a6-2d5c-4c2e-9d3e-1f1f5e2a0b11'/></source></hostdev>"
    "</devices></domain>";

static const char bios_xml[] =
    "<domain type='qemu'><name>ws</name><os><type arch='x86_64'>hvm</type></os></domain>";

/* Returns the refusal for @xml (NULL: allowed). */
static char *
refusal(const char *xml, gboolean active, gboolean memory, unsigned long version)
{
    g_autoptr(GError) error = NULL;

    if (vs_snapshot_check_xml("ws", xml, active, memory, version, &error))
        return NULL;
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED);
    return g_strdup(error->message);
}

static void
test_check_rules(void)
{
    g_autofree char *raw = g_strdup_printf(pflash_xml, "");
    g_autofree char *qcow2 = g_strdup_printf(pflash_xml, " format='qcow2'");

    /* BIOS: anything goes. */
    g_assert_null(refusal(bios_xml, TRUE, TRUE, V9_0_0));

    /* pflash: before 10.10.0 refused in both states, the version needed and the host's named. */
    for (guint active = 0; active < 2; active++) {
        g_autofree char *old = refusal(qcow2, active, active, V9_0_0);
        g_assert_nonnull(old);
        g_assert_nonnull(strstr(old, "ws boots UEFI firmware from pflash"));
        g_assert_nonnull(strstr(old, "need libvirt 10.10.0 or later"));
        g_assert_nonnull(strstr(old, "this host has libvirt 9.0.0"));
        /* 10.9.0 creates them but cannot revert or delete them: still refused. */
        g_autofree char *almost = refusal(qcow2, active, active, V10_9_0);
        g_assert_nonnull(strstr(almost, "this host has libvirt 10.9.0"));
        g_assert_null(refusal(qcow2, active, active, V10_10_0));
        /* A raw NVRAM cannot hold one, whatever the version. */
        g_autofree char *raw_nvram = refusal(raw, active, active, 11000000UL);
        g_assert_nonnull(strstr(raw_nvram, "NVRAM in raw format"));
    }
    /* firmware='efi' without a loader is pflash too (libvirt picks it). */
    g_autofree char *efi = refusal(efi_auto_xml, FALSE, FALSE, V9_0_0);
    g_assert_nonnull(strstr(efi, "need libvirt 10.10.0"));

    /* A host device: refused while running, and for a snapshot with memory; not shut off. */
    g_autofree char *running = refusal(mdev_xml, TRUE, TRUE, V10_10_0);
    g_assert_nonnull(running);
    g_assert_nonnull(strstr(running, "ws runs with a host device "
                                     "(7b1fe5a6-2d5c-4c2e-9d3e-1f1f5e2a0b11, a vGPU"));
    g_assert_nonnull(strstr(running, "stop it first (`virt-station stop ws`)"));
    g_autofree char *memory = refusal(mdev_xml, FALSE, TRUE, V10_10_0);
    /* Shut off already: the message must not say "stop it", which cannot help. */
    g_assert_nonnull(strstr(memory, "ws has a host device (7b1fe5a6-2d5c-4c2e-9d3e-1f1f5e2a0b11"));
    g_assert_nonnull(strstr(memory, "revert to a snapshot taken while ws was shut off"));
    g_assert_null(strstr(memory, "stop it first"));
    g_assert_null(refusal(mdev_xml, FALSE, FALSE, V9_0_0));

    /* Names: as a workstation's, bounded and anchored; the default one is one. */
    g_autoptr(GDateTime) when = g_date_time_new_utc(2026, 11, 30, 16, 5, 9);
    g_autofree char *def = vs_snapshot_default_name(when);
    g_assert_cmpstr(def, ==, "snap-20261130-160509");
    g_assert_true(vs_snapshot_name_valid(def));
    g_autofree char *longest = g_strnfill(63, 'a');
    g_autofree char *too_long = g_strnfill(64, 'a');
    g_assert_true(vs_snapshot_name_valid(longest));
    g_assert_false(vs_snapshot_name_valid(too_long));
    const char *bad[] = {"", "-a", "a-", "A", "a_b", "a.b", "a b", "a\n", "\na", "a/b", NULL};
    for (guint i = 0; bad[i]; i++)
        g_assert_false(vs_snapshot_name_valid(bad[i]));
    g_assert_false(vs_snapshot_name_valid(NULL));
}

/* ---- library: the test driver in-process ---- */

/* Returns the XML of a workstation @name for the test driver, with @extra added before
 * </devices> and @os_extra before </os>. */
static char *
station_xml(const char *name, const char *extra, const char *os_extra)
{
    g_autoptr(VsDomainConfig) c = vs_domain_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    GString *s;

    c->name = g_strdup(name);
    c->pool = g_strdup("default-pool");
    c->disk_volume = g_strdup_printf("%s.qcow2", name);
    c->seed_volume = g_strdup_printf("%s-seed.iso", name);
    c->net_mode = VS_NET_USER;
    c->ssh_port = 40022;
    c->mac = g_strdup("52:54:00:00:00:02");
    c->ssh_user = g_strdup("tester");
    c->image_alias = g_strdup("debian:12");
    c->base_pool = g_strdup("default-pool");
    c->base_volume = g_strdup("base.qcow2");
    xml = vs_domain_xml(c, &error);
    g_assert_no_error(error);
    s = g_string_new(xml);
    /* The test driver runs domains of its own type only. */
    g_string_replace(s, "type=\"qemu\">", "type=\"test\">", 1);
    if (extra)
        g_string_replace(s, "</devices>", extra, 1);
    if (os_extra)
        g_string_replace(s, "</os>", os_extra, 1);
    return g_string_free(s, FALSE);
}

/* Returns the names of @dom's snapshots, oldest first, with their state, memory and current
 * mark: "a(shut off,disk,current) b(running,memory)". */
static char *
snapshots(virDomainPtr dom)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = vs_snapshot_list(dom, &error);
    GString *out = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = 0; i < list->len; i++) {
        const VsSnapshotInfo *s = list->pdata[i];
        g_string_append_printf(out, "%s%s(%s,%s%s)", i ? " " : "", s->name, s->state,
                               s->memory ? "memory" : "disk", s->current ? ",current" : "");
        g_assert_cmpint(s->created, >, 1700000000);
    }
    return g_string_free(out, FALSE);
}

static virDomainPtr
define(virConnectPtr conn, const char *xml)
{
    g_autoptr(GError) error = NULL;
    virDomainPtr dom = vs_lifecycle_define(conn, xml, &error);

    g_assert_no_error(error);
    return dom;
}

static void
test_library(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_autofree char *xml = station_xml("ws1", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(virDomain) dom = NULL;
    gboolean memory = TRUE;

    g_assert_nonnull(conn);
    dom = define(conn, xml);

    /* Shut off: the disk alone. */
    g_assert_true(vs_snapshot_create(dom, "off1", 0, &memory, &error));
    g_assert_no_error(error);
    g_assert_false(memory);
    /* Running: with the memory. */
    g_assert_true(vs_lifecycle_start(dom, &error));
    g_assert_true(vs_snapshot_create(dom, "run1", 0, &memory, &error));
    g_assert_true(memory);
    g_autofree char *two = snapshots(dom);
    g_assert_cmpstr(two, ==, "off1(shut off,disk) run1(running,memory,current)");

    /* Taken, bad, unknown: refused with the kind of error the command maps to its status. */
    g_assert_false(vs_snapshot_create(dom, "run1", 0, NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS);
    g_assert_nonnull(strstr(error->message, "ws1 has a snapshot called run1 already"));
    g_clear_error(&error);
    g_assert_false(vs_snapshot_create(dom, "Bad_Name", 0, NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(vs_snapshot_revert(dom, "nosuch", 0, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "ws1 has no snapshot called nosuch"));
    g_clear_error(&error);
    g_assert_false(vs_snapshot_delete(dom, "nosuch", &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND);
    g_clear_error(&error);

    /* Revert: to the shut-off one stops it, to the running one runs it again. */
    g_assert_true(vs_snapshot_revert(dom, "off1", 0, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "shut off");
    g_assert_true(vs_snapshot_revert(dom, "run1", 0, &error));
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "running");

    /* Delete one. */
    g_assert_true(vs_snapshot_delete(dom, "off1", &error));
    g_assert_no_error(error);
    g_autofree char *one = snapshots(dom);
    g_assert_cmpstr(one, ==, "run1(running,memory,current)");

    /* All of them: then libvirt undefines the domain without being told about snapshots. */
    g_assert_true(vs_snapshot_create(dom, "run2", 0, NULL, &error));
    g_assert_true(vs_snapshot_delete_all(dom, TRUE, &error));
    g_assert_no_error(error);
    g_autofree char *none = snapshots(dom);
    g_assert_cmpstr(none, ==, "");
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_cmpint(virDomainUndefine(dom), ==, 0);
    virConnectClose(conn);
}

/* Refused before anything changes: a running workstation with a vGPU; UEFI firmware in pflash
 * on this libvirt (the test driver reports the library's own version) and on an injected old
 * one, allowed on an injected 10.10.0. */
static void
test_library_refusals(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_autofree char *vgpu_xml =
        station_xml("ws-vgpu",
                    "<hostdev mode=\"subsystem\" type=\"mdev\" model=\"vfio-pci\"><source>"
                    "<address uuid=\"7b1fe5a6-2d5c-4c2e-9d3e-1f1f5e2a0b11\"/></source></hostdev>"
                    "</devices>",
                    NULL);
    g_autofree char *efi_xml =
        station_xml("ws-efi", NULL,
                    "<loader readonly=\"yes\" type=\"pflash\">/usr/share/OVMF/OVMF_CODE_4M.fd"
                    "</loader><nvram format=\"qcow2\">/var/tmp/ws-efi_VARS.qcow2</nvram></os>");
    g_autoptr(GError) error = NULL;
    g_autoptr(virDomain) vgpu = NULL, efi = NULL;
    unsigned long version = 0;

    g_assert_nonnull(conn);
    vgpu = define(conn, vgpu_xml);
    g_assert_true(vs_snapshot_create(vgpu, "off", 0, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(vs_lifecycle_start(vgpu, &error));
    g_autofree char *before = snapshots(vgpu);
    g_assert_false(vs_snapshot_create(vgpu, "on", 0, NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "ws-vgpu runs with a host device"));
    g_assert_nonnull(strstr(error->message, "stop it first"));
    g_clear_error(&error);
    g_autofree char *after = snapshots(vgpu);
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpstr(after, ==, "off(shut off,disk,current)");
    g_assert_cmpstr(vs_lifecycle_state(vgpu), ==, "running");

    efi = define(conn, efi_xml);
    g_assert_cmpint(virConnectGetLibVersion(conn, &version), ==, 0);
    g_autofree char *have = vs_snapshot_version_string(version);
    g_autofree char *have_text = g_strdup_printf("this host has libvirt %s", have);
    if (version < V10_10_0) {
        g_assert_false(vs_snapshot_create(efi, "s", 0, NULL, &error));
        g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "need libvirt 10.10.0 or later"));
        g_assert_nonnull(strstr(error->message, have_text));
        g_clear_error(&error);
    }
    g_assert_false(vs_snapshot_create(efi, "s", V9_0_0, NULL, &error));
    g_assert_nonnull(strstr(error->message, "this host has libvirt 9.0.0"));
    g_clear_error(&error);
    g_autofree char *none = snapshots(efi);
    g_assert_cmpstr(none, ==, "");
    /* 10.10.0 passes the version check; libvirt before 9.2 does not keep <nvram format>, and
     * then the NVRAM counts as raw. */
    g_autofree char *kept = virDomainGetXMLDesc(efi, VIR_DOMAIN_XML_INACTIVE);
    if (strstr(kept, "format=\"qcow2\"")) {
        g_assert_true(vs_snapshot_create(efi, "s", V10_10_0, NULL, &error));
        g_assert_no_error(error);
    } else {
        g_assert_false(vs_snapshot_create(efi, "s", V10_10_0, NULL, &error));
        g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED);
        g_assert_nonnull(strstr(error->message, "NVRAM in raw format"));
        g_clear_error(&error);
        /* Made behind virt-station's back (the test driver does not mind pflash). */
        virDomainSnapshotPtr made =
            virDomainSnapshotCreateXML(efi, "<domainsnapshot><name>s</name></domainsnapshot>", 0);
        g_assert_nonnull(made);
        virDomainSnapshotFree(made);
    }
    /* Reverting is checked too, and changes nothing when refused. */
    g_assert_true(vs_lifecycle_start(efi, &error));
    g_assert_false(vs_snapshot_revert(efi, "s", V9_0_0, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "need libvirt 10.10.0"));
    g_clear_error(&error);
    g_assert_cmpstr(vs_lifecycle_state(efi), ==, "running");
    virConnectClose(conn);
}

/* vs_lifecycle_delete (what `delete` runs) removes a workstation that has snapshots. */
static void
test_delete_workstation(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    g_autofree char *xml = station_xml("ws-del", NULL, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VsMetadata) station = NULL;
    g_autoptr(virDomain) dom = NULL;

    g_assert_nonnull(pool);
    for (const char *const *v = (const char *const[]){"ws-del.qcow2", "ws-del-seed.iso", NULL}; *v;
         v++) {
        g_autofree char *vol = g_strdup_printf("<volume><name>%s</name><capacity>1048576"
                                               "</capacity></volume>",
                                               *v);
        virStorageVolPtr made = virStorageVolCreateXML(pool, vol, 0);
        g_assert_nonnull(made);
        virStorageVolFree(made);
    }
    virDomainFree(define(conn, xml));
    dom = vs_lifecycle_lookup(conn, "ws-del", &station, &error);
    g_assert_no_error(error);
    g_assert_true(vs_snapshot_create(dom, "a", 0, NULL, &error));
    g_assert_true(vs_lifecycle_start(dom, &error));
    g_assert_true(vs_snapshot_create(dom, "b", 0, NULL, &error));
    g_assert_no_error(error);

    g_assert_true(vs_lifecycle_delete(dom, station, FALSE, kept, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(kept->len, ==, 0);
    virDomainPtr gone = virDomainLookupByName(conn, "ws-del");
    g_assert_null(gone);
    g_assert_null(virStorageVolLookupByName(pool, "ws-del.qcow2"));
    virStoragePoolFree(pool);
    virConnectClose(conn);
}

/* ---- usage: through the command, before any libvirt call that changes anything ---- */

static void
test_usage(void)
{
    const char *bad[] = {"Bad", "x-", "a_b", "a.b", "a b", "x\n", "", "\xc3\xbc", NULL};
    g_autofree char *too_long = g_strnfill(64, 'a');

    for (guint i = 0; bad[i]; i++) {
        g_auto(VsBedRun) r =
            vs_bed_run_vsv("test:///default", "snapshot", "create", "test", bad[i], NULL);
        if (r.status != 2 || !strstr(r.err, "invalid snapshot name"))
            g_error("snapshot create test '%s': exit %d, %s", bad[i], r.status, r.err);
    }
    g_auto(VsBedRun) long_name =
        vs_bed_run_vsv("test:///default", "snapshot", "revert", "test", too_long, NULL);
    g_assert_cmpint(long_name.status, ==, 2);
    g_auto(VsBedRun) bad_ws =
        vs_bed_run_vsv("test:///default", "snapshot", "list", "Not_A_Name", NULL);
    g_assert_cmpint(bad_ws.status, ==, 2);
    g_assert_nonnull(strstr(bad_ws.err, "invalid name 'Not_A_Name'"));
    const char *const wrong[][5] = {
        {"snapshot", NULL},
        {"snapshot", "make", "ws", NULL},
        {"snapshot", "revert", "ws", NULL},
        {"snapshot", "delete", "ws", NULL},
        {"snapshot", "list", "ws", "s1", NULL},
        {"snapshot", "create", "ws", "s1", "s2"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(wrong); i++) {
        const char *args[8] = {"-c", "test:///default"};
        for (guint k = 0; k < 5 && wrong[i][k]; k++)
            args[2 + k] = wrong[i][k];
        g_auto(VsBedRun) r = vs_bed_run_vs(NULL, args);
        if (r.status != 2 || !strstr(r.err, "snapshot: the commands are"))
            g_error("case %u: exit %d, %s", i, r.status, r.err);
    }
    g_auto(VsBedRun) json =
        vs_bed_run_vsv("test:///default", "snapshot", "create", "test", "--json", NULL);
    g_assert_cmpint(json.status, ==, 2);

    /* The test driver's own domain `test` is not a workstation: exit 3, for every action. */
    const char *actions[] = {"create", "list", "revert", "delete", NULL};
    for (guint i = 0; actions[i]; i++) {
        g_auto(VsBedRun) r = vs_bed_run_vsv("test:///default", "snapshot", actions[i], "test",
                                            strcmp(actions[i], "list") == 0 ? NULL : "s1", NULL);
        if (r.status != 3 || !strstr(r.err, "test was not created by virt-station"))
            g_error("snapshot %s test: exit %d, %s", actions[i], r.status, r.err);
    }
    g_auto(VsBedRun) missing =
        vs_bed_run_vsv("test:///default", "snapshot", "list", "nosuch", NULL);
    g_assert_cmpint(missing.status, ==, 3);
}

/* ---- daemon: the command on the real libvirtd, nothing booted ---- */

#define URI     "qemu:///system"
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

static void
test_daemon(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *home = vs_bed_tmpdir("vs-snap");
    g_autofree char *pool_dir = vs_bed_tmpdir("vs-snappool");
    g_autofree char *pool = g_strdup_printf("vs-test-snap-%d", (int)getpid());
    g_autofree char *name = g_strdup_printf("vs-life-snap-%d", (int)getpid());
    g_autofree char *image = g_build_filename(home, "image.qcow2", NULL);
    g_autofree char *pool_xml = NULL;
    virConnectPtr conn;
    virStoragePoolPtr p;

    g_assert_true(vs_bed_daemons(&error));
    conn = virConnectOpen(URI);
    g_assert_nonnull(conn);
    pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", pool, pool_dir);
    p = virStoragePoolCreateXML(conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);
    g_auto(VsBedRun) img =
        vs_bed_run((const char *[]){"qemu-img", "create", "-q", "-f", "qcow2", image, "64M", NULL});
    g_assert_cmpint(img.status, ==, 0);
    g_setenv("XDG_DATA_HOME", home, TRUE);
    g_setenv("XDG_RUNTIME_DIR", home, TRUE);

    /* Running (its firmware finds nothing to boot): disk and memory. */
    g_auto(VsBedRun) up = vs("up", name, "--image", image, "--pool", pool, "--network", "user",
                             "--memory", "256", "--no-wait", NULL);
    if (up.status != 0)
        g_error("up: exit %d, %s", up.status, up.err);
    gint64 t0 = g_get_monotonic_time();
    g_auto(VsBedRun) run = vs("snapshot", "create", name, "on", NULL);
    if (run.status != 0)
        g_error("snapshot create (running): exit %d, %s", run.status, run.err);
    g_test_message("snapshot create of a running 256 MiB domain: %.1f s",
                   (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    g_assert_cmpstr(run.out, ==, "on\n");
    g_assert_nonnull(strstr(run.err, "(disk and memory)"));

    /* Shut off: the qcow2 disk alone; the raw seed (snapshot='no') is left out. */
    g_auto(VsBedRun) off = vs("stop", name, "--force", NULL);
    g_assert_cmpint(off.status, ==, 0);
    g_auto(VsBedRun) disk = vs("snapshot", "create", name, NULL);
    if (disk.status != 0)
        g_error("snapshot create (shut off): exit %d, %s", disk.status, disk.err);
    g_autofree char *auto_name = g_strdup(g_strstrip(disk.out));
    g_assert_true(g_regex_match_simple("^snap-[0-9]{8}-[0-9]{6}$", auto_name, 0, 0));
    g_assert_nonnull(strstr(disk.err, "(disk only: it is shut off)"));
    g_auto(VsBedRun) again = vs("snapshot", "create", name, auto_name, NULL);
    g_assert_cmpint(again.status, ==, 3);
    g_assert_nonnull(strstr(again.err, "already"));

    g_auto(VsBedRun) list = vs("snapshot", "list", name, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_auto(GStrv) rows = g_strsplit(list.out, "\n", -1);
    g_assert_cmpuint(g_strv_length(rows), ==, 4); /* header, two rows, "" */
    g_assert_true(g_str_has_prefix(rows[0], "SNAPSHOT "));
    g_assert_true(g_str_has_prefix(rows[1], "on "));
    g_assert_nonnull(strstr(rows[1], " running "));
    g_assert_false(g_str_has_suffix(rows[1], "yes"));
    g_assert_true(g_str_has_prefix(rows[2], auto_name));
    g_assert_nonnull(strstr(rows[2], " shut off "));
    g_assert_true(g_str_has_suffix(rows[2], " yes"));

    g_auto(VsBedRun) json = vs("snapshot", "list", name, "--json", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_autofree char *head = g_strdup_printf(
        "{\"version\":1,\"name\":\"%s\",\"snapshots\":[{\"name\":\"on\",\"created\":\"", name);
    g_assert_true(g_str_has_prefix(json.out, head));
    g_assert_nonnull(strstr(json.out, "Z\",\"state\":\"running\",\"memory\":true,\"current\":false}"
                                      ",{\"name\":\"snap-"));
    g_assert_true(g_str_has_suffix(
        json.out, "Z\",\"state\":\"shut off\",\"memory\":false,\"current\":true}]}\n"));

    g_auto(VsBedRun) info = vs("info", name, NULL);
    g_assert_cmpint(info.status, ==, 0);
    g_assert_nonnull(strstr(info.out, "\nsnapshot: on ("));
    g_autofree char *current = g_strdup_printf("\nsnapshot: %s (", auto_name);
    g_assert_nonnull(strstr(info.out, current));
    g_assert_nonnull(strstr(info.out, ", shut off, current)\n"));
    g_auto(VsBedRun) info_json = vs("info", name, "--json", NULL);
    g_assert_cmpint(info_json.status, ==, 0);
    g_assert_nonnull(strstr(info_json.out, "],\"snapshots\":[{\"name\":\"on\",\"created\":\""));
    g_assert_true(g_str_has_suffix(info_json.out, "\"current\":true}]}}\n"));

    /* Revert to the running one: it runs; to the shut-off one: it is shut off. */
    g_auto(VsBedRun) rev_on = vs("snapshot", "revert", name, "on", NULL);
    if (rev_on.status != 0)
        g_error("revert on: exit %d, %s", rev_on.status, rev_on.err);
    g_assert_nonnull(strstr(rev_on.err, "it is running"));
    g_auto(VsBedRun) rev_off = vs("snapshot", "revert", name, auto_name, NULL);
    g_assert_cmpint(rev_off.status, ==, 0);
    g_assert_nonnull(strstr(rev_off.err, "it is shut off"));
    g_auto(VsBedRun) missing = vs("snapshot", "revert", name, "nosuch", NULL);
    g_assert_cmpint(missing.status, ==, 3);

    g_auto(VsBedRun) del = vs("snapshot", "delete", name, "on", NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_auto(VsBedRun) left = vs("snapshot", "list", name, NULL);
    g_assert_null(strstr(left.out, "\non "));
    g_assert_nonnull(strstr(left.out, auto_name));

    /* The workstation with its remaining snapshot, keeping its disk: the domain is gone, virsh
     * finds no snapshot, and the kept disk holds none any more (libvirt forgetting them would
     * leave them in the qcow2). */
    g_autofree char *kept_disk = g_strdup_printf("%s/%s.qcow2", pool_dir, name);
    g_auto(VsBedRun) held =
        vs_bed_run((const char *[]){"qemu-img", "snapshot", "-U", "-l", kept_disk, NULL});
    g_assert_nonnull(strstr(held.out, auto_name));
    g_auto(VsBedRun) gone = vs("delete", name, "--keep-disk", NULL);
    if (gone.status != 0)
        g_error("delete: exit %d, %s", gone.status, gone.err);
    g_auto(VsBedRun) virsh =
        vs_bed_run((const char *[]){"virsh", "-c", URI, "snapshot-list", name, NULL});
    g_assert_cmpint(virsh.status, !=, 0);
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_null(dom);
    g_autofree char *vols = vs_bed_pool_volumes(conn, pool);
    g_autofree char *disk_vol = g_strdup_printf("%s.qcow2", name);
    g_assert_nonnull(strstr(vols, disk_vol));
    g_auto(VsBedRun) inside =
        vs_bed_run((const char *[]){"qemu-img", "snapshot", "-l", kept_disk, NULL});
    g_assert_cmpint(inside.status, ==, 0);
    g_assert_null(strstr(inside.out, auto_name));
    g_assert_null(strstr(inside.out, "Snapshot list"));

    vs_bed_pool_remove(conn, pool, (const char *const[]){name, NULL});
    virConnectClose(conn);
    vs_bed_rmtree(home);
    vs_bed_rmtree(pool_dir);
    g_unsetenv("XDG_DATA_HOME");
    g_unsetenv("XDG_RUNTIME_DIR");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    g_test_add_func("/snapshot/check-rules", test_check_rules);
    g_test_add_func("/snapshot/library", test_library);
    g_test_add_func("/snapshot/library-refusals", test_library_refusals);
    g_test_add_func("/snapshot/delete-workstation", test_delete_workstation);
    g_test_add_func("/snapshot/usage", test_usage);
    g_test_add_func("/snapshot/daemon", test_daemon);
    return g_test_run();
}
