/* vs_listing_collect (what `list` shows) against libvirt asked one domain at a time: on the test
 * driver in-process (its statistics carry only the state, so the rest comes from the per-domain
 * fallback) and on the real libvirtd (one statistics call, metadata and volume sizes asked by
 * several threads), with owned, foreign and cloned domains, a running one, one whose balloon is
 * below its maximum, volumes present and missing, and snapshots. */
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "domains/lifecycle.h"
#include "domains/listing.h"
#include "domains/xml.h"
#include "tests/bed/bed.h"

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

/* Returns the XML of an owned workstation @name of domain type @type with its volumes in @pool
 * (@uuid: the one its metadata records, NULL for none). */
static char *
station_xml(const char *type, const char *name, const char *pool, const char *uuid, guint16 port)
{
    g_autoptr(VsDomainConfig) c = vs_domain_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *from = NULL;
    GString *s;

    c->name = g_strdup(name);
    c->uuid = g_strdup(uuid);
    c->pool = g_strdup(pool);
    c->disk_volume = g_strdup_printf("%s.qcow2", name);
    c->seed_volume = g_strdup_printf("%s-seed.iso", name);
    c->net_mode = VS_NET_USER;
    c->passt = FALSE;
    c->ssh_port = port;
    c->memory_mib = 128;
    c->vcpus = 1;
    c->mac = g_strdup("52:54:00:00:00:01");
    c->ssh_user = g_strdup("tester");
    c->image_alias = g_strdup("debian:12");
    c->base_pool = g_strdup(pool);
    c->base_volume = g_strdup("base.qcow2");
    xml = vs_domain_xml(c, &error);
    g_assert_no_error(error);
    s = g_string_new(xml);
    from = g_strdup_printf("type=\"%s\">", type);
    g_string_replace(s, "type=\"qemu\">", from, 1);
    return g_string_free(s, FALSE);
}

static virDomainPtr
define(virConnectPtr conn, const char *xml)
{
    virDomainPtr dom = virDomainDefineXML(conn, xml);
    if (!dom)
        g_error("defining: %s", virGetLastErrorMessage());
    return dom;
}

static void
make_volume(virConnectPtr conn, const char *pool_name, const char *name, guint64 capacity,
            const char *format)
{
    g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, pool_name);
    g_autofree char *xml = g_strdup_printf("<volume><name>%s</name><capacity>%" G_GUINT64_FORMAT
                                           "</capacity><target><format type='%s'/></target>"
                                           "</volume>",
                                           name, capacity, format);
    g_assert_nonnull(pool);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    if (!vol)
        g_error("creating volume %s: %s", name, virGetLastErrorMessage());
    virStorageVolFree(vol);
}

/* Checks the entries of @entries (those whose names start with @prefix: other tests' domains
 * may change meanwhile) against what libvirt says of their domain when asked alone. */
static void
check_against_libvirt(virConnectPtr conn, GPtrArray *entries, const char *prefix)
{
    for (guint i = 0; i < entries->len; i++) {
        const VsListed *e = entries->pdata[i];
        virDomainInfo info;
        if (i > 0)
            g_assert_cmpint(strcmp(virDomainGetName(((VsListed *)entries->pdata[i - 1])->dom),
                                   virDomainGetName(e->dom)),
                            <, 0);
        if (!g_str_has_prefix(virDomainGetName(e->dom), prefix))
            continue;
        g_assert_cmpint(virDomainGetInfo(e->dom, &info), ==, 0);
        g_assert_true(e->state_known);
        g_assert_cmpint(e->state, ==, info.state);
        g_assert_cmpuint(e->vcpus, ==, info.nrVirtCpu);
        g_assert_cmpuint(e->max_kib, ==, info.maxMem);
        g_assert_cmpuint(e->current_kib, ==, info.memory);
        if (!e->station)
            continue;
        g_assert_nonnull(e->sizes);
        for (guint v = 0; v < e->station->volumes->len; v++) {
            const VsOwnedVolume *owned = e->station->volumes->pdata[v];
            g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, owned->pool);
            g_autoptr(virStorageVol) vol =
                pool ? virStorageVolLookupByName(pool, owned->name) : NULL;
            virStorageVolInfo vi;
            if (!vol) {
                g_assert_false(e->sizes[v].known);
                continue;
            }
            g_assert_cmpint(virStorageVolGetInfo(vol, &vi), ==, 0);
            g_assert_true(e->sizes[v].known);
            g_assert_cmpuint(e->sizes[v].capacity, ==, vi.capacity);
            g_assert_cmpuint(e->sizes[v].allocation, ==, vi.allocation);
        }
    }
}

static const VsListed *
find(GPtrArray *entries, const char *name)
{
    for (guint i = 0; i < entries->len; i++)
        if (strcmp(virDomainGetName(((VsListed *)entries->pdata[i])->dom), name) == 0)
            return entries->pdata[i];
    return NULL;
}

static void
test_test_driver(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = NULL;
    g_autoptr(GPtrArray) mine = NULL;
    char orig_uuid[VIR_UUID_STRING_BUFLEN];

    g_assert_nonnull(conn);
    /* 30 workstations, every third running, every fifth with its disk volume present. */
    for (guint i = 0; i < 30; i++) {
        g_autofree char *name = g_strdup_printf("ws%02u", 29 - i);
        g_autofree char *xml = station_xml("test", name, "default-pool", NULL, 40022);
        g_autoptr(virDomain) dom = define(conn, xml);
        g_autofree char *disk = g_strdup_printf("%s.qcow2", name);
        if (i % 3 == 0)
            g_assert_cmpint(virDomainCreate(dom), ==, 0);
        if (i % 5 == 0)
            make_volume(conn, "default-pool", disk, 1048576 * (i + 1), "raw");
    }
    /* A copy of ws00 (its metadata names ws00's UUID): foreign, with the reason. */
    {
        g_autoptr(virDomain) orig = virDomainLookupByName(conn, "ws00");
        g_assert_cmpint(virDomainGetUUIDString(orig, orig_uuid), ==, 0);
        const char *own = "7d3c2b1a-0000-4000-8000-00000000c0de";
        g_autofree char *xml = station_xml("test", "copy", "default-pool", own, 40022);
        g_autofree char *attr = g_strdup_printf("uuid=\"%s\"", own);
        g_autofree char *orig_attr = g_strdup_printf("uuid=\"%s\"", orig_uuid);
        GString *s = g_string_new(xml);
        /* the metadata's UUID (an attribute) becomes ws00's; the domain's <uuid> stays */
        g_assert_cmpuint(g_string_replace(s, attr, orig_attr, 0), ==, 1);
        g_autofree char *copy_xml = g_string_free(s, FALSE);
        g_autoptr(virDomain) copy = define(conn, copy_xml);
    }

    /* two snapshots of ws04 */
    {
        g_autoptr(virDomain) dom = virDomainLookupByName(conn, "ws04");
        for (guint k = 0; k < 2; k++) {
            g_autofree char *xml =
                g_strdup_printf("<domainsnapshot><name>s%u</name></domainsnapshot>", k);
            virDomainSnapshotPtr snap = virDomainSnapshotCreateXML(dom, xml, 0);
            g_assert_nonnull(snap);
            virDomainSnapshotFree(snap);
        }
    }

    all = vs_listing_collect(conn,
                             VS_LISTING_FOREIGN | VS_LISTING_FOREIGN_REASONS | VS_LISTING_VOLUMES |
                                 VS_LISTING_SNAPSHOTS,
                             &error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 32); /* 30, the copy, the driver's own "test" */
    check_against_libvirt(conn, all, "");
    g_assert_null(find(all, "test")->station);
    g_assert_null(find(all, "test")->reason);
    g_assert_null(find(all, "copy")->station);
    g_assert_cmpstr(find(all, "copy")->reason, ==, "cloned from ws00");
    g_assert_nonnull(find(all, "ws07")->station);
    g_assert_false(find(all, "ws07")->bulk); /* the test driver's statistics: the state only */
    g_assert_cmpuint(find(all, "ws04")->snapshots->len, ==, 2);
    g_assert_cmpuint(find(all, "ws07")->snapshots->len, ==, 0);
    g_assert_null(find(all, "copy")->snapshots); /* foreign: not read */
    g_assert_cmpstr(find(all, "ws07")->station->ssh_user, ==, "tester");

    mine = vs_listing_collect(conn, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(mine->len, ==, 30);
    g_assert_cmpstr(virDomainGetName(((VsListed *)mine->pdata[0])->dom), ==, "ws00");
    g_assert_cmpstr(virDomainGetName(((VsListed *)mine->pdata[29])->dom), ==, "ws29");
    g_assert_null(find(mine, "copy"));
    for (guint i = 0; i < mine->len; i++)
        g_assert_null(((VsListed *)mine->pdata[i])->sizes);
    virConnectClose(conn);
}

static void
test_real_daemon(void)
{
    VsBedWorld bed = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int pid = (int)getpid();
    guint found = 0;

    vs_bed_world_setup(&bed, "vs-listing", "vs-test-listing");
    for (guint i = 0; i < 12; i++) {
        g_autofree char *name = g_strdup_printf("vs-life-list%02u-%d", i, pid);
        g_autofree char *xml = station_xml("qemu", name, bed.pool, NULL, vs_bed_free_port());
        g_autoptr(virDomain) dom = define(bed.conn, xml);
        g_autofree char *disk = g_strdup_printf("%s.qcow2", name);
        g_autofree char *seed = g_strdup_printf("%s-seed.iso", name);
        if (i % 2 == 0)
            make_volume(bed.conn, bed.pool, disk, 1048576 * (i + 1), "qcow2");
        if (i % 4 == 0)
            make_volume(bed.conn, bed.pool, seed, 65536, "raw");
        if (i == 3) /* a balloon below the maximum in the persistent definition */
            g_assert_cmpint(virDomainSetMemoryFlags(dom, 96 * 1024, VIR_DOMAIN_AFFECT_CONFIG), ==,
                            0);
        if (i == 4 && virDomainCreate(dom) < 0) /* running: its figures come from QEMU */
            g_error("starting %s: %s", name, virGetLastErrorMessage());
        g_ptr_array_add(names, g_steal_pointer(&name));
    }
    g_ptr_array_add(names, NULL);

    entries = vs_listing_collect(bed.conn, VS_LISTING_VOLUMES, &error);
    g_assert_no_error(error);
    check_against_libvirt(bed.conn, entries, "vs-life-list");
    for (guint i = 0; i + 1 < names->len; i++) {
        const VsListed *e = find(entries, names->pdata[i]);
        g_assert_nonnull(e);
        g_assert_true(e->bulk);
        g_assert_cmpint(e->state, ==, i == 4 ? VIR_DOMAIN_RUNNING : VIR_DOMAIN_SHUTOFF);
        g_assert_cmpuint(e->vcpus, ==, 1);
        g_assert_cmpuint(e->max_kib, ==, 128 * 1024);
        g_assert_cmpuint(e->current_kib, ==, i == 3 ? 96 * 1024 : 128 * 1024);
        g_assert_cmpint(e->sizes[0].known, ==, i % 2 == 0);
        g_assert_cmpint(e->sizes[1].known, ==, i % 4 == 0);
        if (i % 2 == 0)
            g_assert_cmpuint(e->sizes[0].capacity, ==, 1048576 * (i + 1));
        found++;
    }
    g_assert_cmpuint(found, ==, 12);
    vs_bed_pool_remove(bed.conn, bed.pool, (const char *const *)names->pdata);
    vs_bed_world_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    g_test_add_func("/listing/test-driver", test_test_driver);
    g_test_add_func("/listing/real-daemon", test_real_daemon);
    return g_test_run();
}
