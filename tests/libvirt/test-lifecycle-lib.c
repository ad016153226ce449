/* The lifecycle library in-process on libvirt's test driver (test:///default: its state lives
 * as long as the connection): ownership, list of used ports, stop/start, port rewriting and
 * delete of exactly the volumes the metadata names. */
#include <libvirt/virterror.h>
#include <string.h>

#include "domains/lifecycle.h"
#include "domains/xml.h"

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

/* Returns the XML of an owned workstation @name for the test driver, with the UUID @uuid
 * (NULL: none given, none recorded, as versions before it wrote), on user networking (the test
 * driver drops the QEMU arguments that carry its NIC) or, with @network, on libvirt's network
 * "default". */
static char *
station_xml_uuid(const char *name, guint16 port, const char *uuid, gboolean network)
{
    g_autoptr(VsDomainConfig) c = vs_domain_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;
    GString *s;

    c->name = g_strdup(name);
    c->uuid = g_strdup(uuid);
    c->pool = g_strdup("default-pool");
    c->disk_volume = g_strdup_printf("%s.qcow2", name);
    c->seed_volume = g_strdup_printf("%s-seed.iso", name);
    c->net_mode = network ? VS_NET_NETWORK : VS_NET_USER;
    c->net_source = network ? g_strdup("default") : NULL;
    c->passt = FALSE;
    c->ssh_port = port;
    c->mac = g_strdup("52:54:00:00:00:01");
    c->ssh_user = g_strdup("tester");
    c->image_alias = g_strdup("debian:12");
    c->base_pool = g_strdup("default-pool");
    c->base_volume = g_strdup("base.qcow2");
    g_ptr_array_add(c->host_keys, g_strdup("ssh-ed25519 AAAATEST root@guest"));
    xml = vs_domain_xml(c, &error);
    g_assert_no_error(error);
    /* The test driver runs domains of its own type only. */
    s = g_string_new(xml);
    g_string_replace(s, "type=\"qemu\">", "type=\"test\">", 1);
    return g_string_free(s, FALSE);
}

static char *
station_xml(const char *name, guint16 port)
{
    return station_xml_uuid(name, port, NULL, FALSE);
}

static void
make_volume(virStoragePoolPtr pool, const char *name)
{
    g_autofree char *xml = g_strdup_printf("<volume><name>%s</name><capacity>1048576</capacity>"
                                           "</volume>",
                                           name);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
    g_assert_nonnull(vol);
    virStorageVolFree(vol);
}

static gboolean
has_volume(virStoragePoolPtr pool, const char *name)
{
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    if (vol)
        virStorageVolFree(vol);
    return vol != NULL;
}

static void
test_lifecycle_on_test_driver(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    g_autofree char *xml = station_xml("ws1", 40022);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) station = NULL;
    virDomainPtr dom, moved;

    g_assert_nonnull(conn);
    g_assert_nonnull(pool);
    make_volume(pool, "base.qcow2");
    make_volume(pool, "ws1.qcow2");
    make_volume(pool, "ws1-seed.iso");
    make_volume(pool, "unrelated.img");

    /* The driver's own domain is foreign: refused, named. */
    g_assert_null(vs_lifecycle_lookup(conn, "test", NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN);
    g_assert_cmpstr(error->message, ==, "test was not created by virt-station; it is left alone");
    g_clear_error(&error);
    g_assert_null(vs_lifecycle_lookup(conn, "nosuch", NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND);
    g_clear_error(&error);

    dom = vs_lifecycle_define(conn, xml, &error);
    g_assert_no_error(error);
    virDomainFree(dom);
    dom = vs_lifecycle_lookup(conn, "ws1", &station, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(station->ssh_user, ==, "tester");
    g_assert_cmpuint(station->ssh_port, ==, 40022);
    g_assert_cmpuint(station->volumes->len, ==, 2);
    g_assert_cmpuint(station->host_keys->len, ==, 1);
    g_autoptr(GHashTable) used = vs_lifecycle_used_ports(conn, NULL, NULL);
    g_assert_true(g_hash_table_contains(used, GUINT_TO_POINTER(40022)));
    g_assert_cmpuint(g_hash_table_size(used), ==, 1);

    /* start, stop */
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "shut off");
    g_assert_true(vs_lifecycle_start(dom, &error));
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "running");
    g_assert_true(vs_lifecycle_stop(dom, FALSE, 5, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "shut off");
    g_assert_true(vs_lifecycle_start(dom, &error));
    g_assert_true(vs_lifecycle_stop(dom, TRUE, 0, &error));
    g_assert_cmpstr(vs_lifecycle_state(dom), ==, "shut off");

    /* A new forwarded port goes into the metadata (the test driver keeps no QEMU arguments;
     * test-domain-xml checks those). */
    moved = vs_lifecycle_set_port(dom, 40100, &error);
    g_assert_no_error(error);
    g_autoptr(VsMetadata) after = vs_lifecycle_owned(moved, &error);
    g_assert_cmpuint(after->ssh_port, ==, 40100);

    /* delete: the domain and the volumes the metadata names, nothing else. */
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(vs_lifecycle_delete(moved, after, FALSE, kept, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(kept->len, ==, 0);
    virDomainPtr gone = virDomainLookupByName(conn, "ws1");
    g_assert_null(gone);
    g_assert_false(has_volume(pool, "ws1.qcow2"));
    g_assert_false(has_volume(pool, "ws1-seed.iso"));
    g_assert_true(has_volume(pool, "base.qcow2"));
    g_assert_true(has_volume(pool, "unrelated.img"));

    virDomainFree(dom);
    virDomainFree(moved);
    virStoragePoolFree(pool);
    virConnectClose(conn);
}

static void
test_delete_keep_disk(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    g_autofree char *xml = station_xml("ws2", 40023);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) station = NULL;
    virDomainPtr dom;

    make_volume(pool, "ws2.qcow2");
    make_volume(pool, "ws2-seed.iso");
    virDomainFree(vs_lifecycle_define(conn, xml, &error));
    dom = vs_lifecycle_lookup(conn, "ws2", &station, &error);
    g_assert_no_error(error);
    g_assert_true(vs_lifecycle_start(dom, &error));
    /* A running workstation is stopped first. */
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_assert_true(vs_lifecycle_delete(dom, station, TRUE, kept, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(kept->len, ==, 0);
    g_assert_true(has_volume(pool, "ws2.qcow2"));
    g_assert_false(has_volume(pool, "ws2-seed.iso"));
    virDomainFree(dom);
    virStoragePoolFree(pool);
    virConnectClose(conn);
}

/* A copy of a workstation as virt-clone makes it: a new name, UUID, MAC and disk, the seed
 * shared, the metadata copied verbatim. One scenario, step after step on the same domains:
 * longer than a function should be, because splitting it would only pass its state around. */
static void
test_clone_adopt_delete(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default-pool");
    g_autofree char *xml =
        station_xml_uuid("orig", 0, "0b5e3c2a-7f1d-4e8a-9c6b-0000000000a1", TRUE);
    g_autoptr(GString) clone = g_string_new(xml);
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) orig_station = NULL;
    g_autoptr(VsMetadata) copied = NULL;
    g_autoptr(VsMetadata) adopted = NULL;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *reason = NULL;
    virDomainPtr orig, copy, taken;

    make_volume(pool, "orig.qcow2");
    make_volume(pool, "orig-seed.iso");
    make_volume(pool, "orig-clone.qcow2");
    virDomainFree(vs_lifecycle_define(conn, xml, &error));
    g_assert_no_error(error);
    g_string_replace(clone, "<name>orig</name>", "<name>orig-clone</name>", 1);
    g_string_replace(clone, "<uuid>0b5e3c2a-7f1d-4e8a-9c6b-0000000000a1</uuid>",
                     "<uuid>0b5e3c2a-7f1d-4e8a-9c6b-0000000000a2</uuid>", 1);
    g_string_replace(clone, "volume=\"orig.qcow2\"/>\n      <target",
                     "volume=\"orig-clone.qcow2\"/>\n      <target", 1);
    g_string_replace(clone, "<mac address=\"52:54:00:00:00:01\"/>",
                     "<mac address=\"52:54:00:00:00:02\"/>", 1);
    copy = vs_lifecycle_define(conn, clone->str, &error);
    g_assert_no_error(error);

    /* The copy is not ours: refused with the reason; the original is. */
    g_assert_null(vs_lifecycle_lookup(conn, "orig-clone", NULL, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN);
    g_assert_cmpstr(error->message, ==,
                    "orig-clone is not virt-station's: cloned from orig, virt-station's metadata "
                    "included; it is left alone (`virt-station adopt orig-clone` takes it over)");
    g_clear_error(&error);
    orig = vs_lifecycle_lookup(conn, "orig", &orig_station, &error);
    g_assert_no_error(error);
    copied = vs_lifecycle_metadata(copy, &error);
    g_assert_no_error(error);
    reason = vs_lifecycle_clone_reason(copy, copied);
    g_assert_cmpstr(reason, ==, "cloned from orig");

    /* What the disks use: the copy's own disk and the shared seed. */
    g_autoptr(GHashTable) users = vs_lifecycle_disk_users(conn, orig, NULL);
    g_assert_cmpstr(g_hash_table_lookup(users, "default-pool/orig-clone.qcow2"), ==, "orig-clone");
    g_assert_cmpstr(g_hash_table_lookup(users, "default-pool/orig-seed.iso"), ==, "orig-clone");
    g_assert_null(g_hash_table_lookup(users, "default-pool/orig.qcow2"));

    /* adopt, the copy running (started behind virt-station's back): the copy's UUID, its own
     * disk, the shared seed, its own MAC, in the persistent and the live definition. */
    g_assert_cmpint(virDomainCreate(copy), ==, 0);
    taken = vs_lifecycle_adopt(copy, 0, notes, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(notes->len, ==, 0);
    g_autofree char *live = virDomainGetMetadata(taken, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS,
                                                 VIR_DOMAIN_AFFECT_LIVE);
    g_autoptr(VsMetadata) live_station = vs_metadata_parse(live, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(live_station->uuid, ==, "0b5e3c2a-7f1d-4e8a-9c6b-0000000000a2");
    g_assert_cmpstr(live_station->mac, ==, "52:54:00:00:00:02");
    g_assert_cmpuint(live_station->volumes->len, ==, 2);
    adopted = vs_lifecycle_owned(taken, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(adopted->uuid, ==, "0b5e3c2a-7f1d-4e8a-9c6b-0000000000a2");
    g_assert_cmpuint(adopted->volumes->len, ==, 2);
    g_assert_cmpstr(((VsOwnedVolume *)adopted->volumes->pdata[0])->name, ==, "orig-clone.qcow2");
    g_assert_cmpstr(((VsOwnedVolume *)adopted->volumes->pdata[0])->role, ==, "disk");
    g_assert_cmpstr(((VsOwnedVolume *)adopted->volumes->pdata[1])->name, ==, "orig-seed.iso");
    g_assert_cmpstr(((VsOwnedVolume *)adopted->volumes->pdata[1])->role, ==, "seed");
    g_assert_cmpstr(adopted->mac, ==, "52:54:00:00:00:02");
    g_assert_cmpstr(adopted->ssh_user, ==, "tester");

    /* delete of the adopted copy: its own disk goes, the seed the original uses stays. */
    g_assert_true(vs_lifecycle_delete(taken, adopted, FALSE, kept, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(kept->len, ==, 1);
    g_assert_cmpstr(kept->pdata[0], ==,
                    "kept volume default-pool/orig-seed.iso: orig uses it as a disk");
    g_assert_false(has_volume(pool, "orig-clone.qcow2"));
    g_assert_true(has_volume(pool, "orig-seed.iso"));
    g_assert_true(has_volume(pool, "orig.qcow2"));

    /* The original, its metadata naming a volume that is not its disk: that one stays. */
    g_ptr_array_add(orig_station->volumes,
                    vs_owned_volume_new("disk", "default-pool", "other.img"));
    make_volume(pool, "other.img");
    g_ptr_array_set_size(kept, 0);
    g_assert_true(vs_lifecycle_delete(orig, orig_station, FALSE, kept, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(kept->len, ==, 1);
    g_assert_cmpstr(kept->pdata[0], ==,
                    "kept volume default-pool/other.img: it is not a disk of orig");
    g_assert_true(has_volume(pool, "other.img"));
    g_assert_false(has_volume(pool, "orig.qcow2"));
    g_assert_false(has_volume(pool, "orig-seed.iso"));

    virDomainFree(orig);
    virDomainFree(copy);
    virDomainFree(taken);
    virStoragePoolFree(pool);
    virConnectClose(conn);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    g_test_add_func("/lifecycle-lib/test-driver", test_lifecycle_on_test_driver);
    g_test_add_func("/lifecycle-lib/delete-keep-disk", test_delete_keep_disk);
    g_test_add_func("/lifecycle-lib/clone-adopt-delete", test_clone_adopt_delete);
    return g_test_run();
}
