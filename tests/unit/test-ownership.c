/* Ownership bound to the domain's identity, the pure parts: the UUID in the metadata, the
 * reason a copy is not ours, the metadata rewritten by adopt, what a domain's XML says about
 * its disks, MAC and port, and the --osinfo check. */
#include <string.h>

#include "tests/bed/domcase.h"
#include "domains/errors.h"
#include "domains/inspect.h"
#include "domains/metadata.h"
#include "provisioner/request.h"

#define META_HEAD "<station version=\"1\""
#define META_BODY                                                                                  \
    "<image alias=\"debian:12\" pool=\"default\" volume=\"debian-12-0123\"/>"                      \
    "<gpu mode=\"none\"><reason>no GPU</reason></gpu>"                                             \
    "<volume role=\"disk\" pool=\"default\" name=\"orig1.qcow2\"/>"                                \
    "<volume role=\"seed\" pool=\"default\" name=\"orig1-seed.iso\"/>"                             \
    "<network mode=\"user\" mac=\"52:54:00:00:00:01\"/>"                                           \
    "<ssh user=\"station\" host=\"127.0.0.1\" port=\"40022\"/>"                                    \
    "<host-key>ssh-ed25519 AAAAKEY root@orig1</host-key></station>"

static void
test_uuid_parsed(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsMetadata) with = vs_metadata_parse(
        META_HEAD " uuid=\"0B5E3C2A-7F1D-4E8A-9C6B-000000000001\">" META_BODY, &error);
    g_autoptr(VsMetadata) without = vs_metadata_parse(META_HEAD ">" META_BODY, &error);

    g_assert_no_error(error);
    /* Lower case, as libvirt gives a domain's UUID. */
    g_assert_cmpstr(with->uuid, ==, "0b5e3c2a-7f1d-4e8a-9c6b-000000000001");
    g_assert_null(without->uuid);
    g_assert_cmpuint(without->volumes->len, ==, 2);
}

static void
test_clone_reason(void)
{
    g_autoptr(VsMetadata) s = vs_metadata_parse(
        META_HEAD " uuid=\"0b5e3c2a-7f1d-4e8a-9c6b-000000000001\">" META_BODY, NULL);
    g_autoptr(VsMetadata) old = vs_metadata_parse(META_HEAD ">" META_BODY, NULL);
    g_autofree char *cloned = NULL, *copied = NULL;

    /* The domain it was written for: ours, whatever the case of the UUID. */
    g_assert_null(vs_metadata_clone_reason(s, "0b5e3c2a-7f1d-4e8a-9c6b-000000000001", NULL));
    g_assert_null(vs_metadata_clone_reason(s, "0B5E3C2A-7F1D-4E8A-9C6B-000000000001", "x"));
    /* Metadata without a UUID (older versions) stays the domain's own. */
    g_assert_null(vs_metadata_clone_reason(old, "0b5e3c2a-7f1d-4e8a-9c6b-000000000099", NULL));
    /* Another domain: a copy, named after its original when that one is known. */
    cloned = vs_metadata_clone_reason(s, "0b5e3c2a-7f1d-4e8a-9c6b-000000000002", "orig1");
    g_assert_cmpstr(cloned, ==, "cloned from orig1");
    copied = vs_metadata_clone_reason(s, "0b5e3c2a-7f1d-4e8a-9c6b-000000000002", NULL);
    g_assert_cmpstr(copied, ==,
                    "copied from another workstation (UUID 0b5e3c2a-7f1d-4e8a-9c6b-000000000001)");
}

static void
test_rewrite(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) volumes =
        g_ptr_array_new_with_free_func((GDestroyNotify)vs_owned_volume_free);
    g_autofree char *xml = NULL;
    g_autoptr(VsMetadata) s = NULL;
    const VsOwnedVolume *v;

    g_ptr_array_add(volumes, vs_owned_volume_new("disk", "default", "clone1.qcow2"));
    g_ptr_array_add(volumes, vs_owned_volume_new("seed", "default", "orig1-seed.iso"));
    xml = vs_metadata_rewrite(META_HEAD " uuid=\"0b5e3c2a-7f1d-4e8a-9c6b-000000000001\">" META_BODY,
                              "0b5e3c2a-7f1d-4e8a-9c6b-000000000002", volumes, "52:54:00:aa:bb:cc",
                              40100, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_prefix(xml, "<station "));
    s = vs_metadata_parse(xml, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s->uuid, ==, "0b5e3c2a-7f1d-4e8a-9c6b-000000000002");
    g_assert_cmpuint(s->volumes->len, ==, 2);
    v = s->volumes->pdata[0];
    g_assert_cmpstr(v->role, ==, "disk");
    g_assert_cmpstr(v->name, ==, "clone1.qcow2");
    v = s->volumes->pdata[1];
    g_assert_cmpstr(v->role, ==, "seed");
    g_assert_cmpstr(v->name, ==, "orig1-seed.iso");
    g_assert_cmpstr(s->mac, ==, "52:54:00:aa:bb:cc");
    g_assert_cmpuint(s->ssh_port, ==, 40100);
    /* Everything else as it was. */
    g_assert_cmpstr(s->image_alias, ==, "debian:12");
    g_assert_cmpstr(s->gpu_reasons->pdata[0], ==, "no GPU");
    g_assert_cmpstr(s->host_keys->pdata[0], ==, "ssh-ed25519 AAAAKEY root@orig1");
    g_assert_cmpstr(s->ssh_user, ==, "station");
    /* The volumes stay between the GPU and the network, where `up` writes them. */
    g_assert_true(strstr(xml, "<gpu") < strstr(xml, "clone1.qcow2"));
    g_assert_true(strstr(xml, "orig1-seed.iso") < strstr(xml, "<network"));

    /* No volume left, no port: the port stays, the volumes go. */
    g_ptr_array_set_size(volumes, 0);
    g_autofree char *none =
        vs_metadata_rewrite(META_HEAD ">" META_BODY, "u2", volumes, NULL, 0, &error);
    g_autoptr(VsMetadata) n = vs_metadata_parse(none, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(n->volumes->len, ==, 0);
    g_assert_cmpuint(n->ssh_port, ==, 40022);
    g_assert_cmpstr(n->mac, ==, "52:54:00:00:00:01");

    g_assert_null(vs_metadata_rewrite("<domain/>", "u", volumes, NULL, 0, &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN);
}

static void
test_inspect_disks(void)
{
    const char *xml =
        "<domain type='qemu'><name>c</name><devices>"
        "<disk type='volume' device='disk'><source pool='default' volume='c.qcow2'/>"
        "<target dev='vda'/></disk>"
        "<disk type='file' device='disk'><source file='/var/lib/libvirt/images/o-seed.iso'/>"
        "<target dev='vdb'/><readonly/></disk>"
        "<disk type='block' device='disk'><source dev='/dev/vg/lv'/><target dev='vdc'/></disk>"
        "<disk type='file' device='cdrom'><target dev='sda'/></disk>"
        "<disk type='network' device='disk'><source protocol='nbd' name='x'/>"
        "<target dev='vdd'/></disk>"
        "</devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) disks = vs_inspect_disks(xml, &error);
    const VsDiskSource *d;

    g_assert_no_error(error);
    /* The empty cdrom and the network disk have no source in a pool: not listed. */
    g_assert_cmpuint(disks->len, ==, 3);
    d = disks->pdata[0];
    g_assert_cmpstr(d->target, ==, "vda");
    g_assert_cmpstr(d->pool, ==, "default");
    g_assert_cmpstr(d->volume, ==, "c.qcow2");
    g_assert_null(d->path);
    g_assert_false(d->readonly);
    d = disks->pdata[1];
    g_assert_cmpstr(d->path, ==, "/var/lib/libvirt/images/o-seed.iso");
    g_assert_null(d->pool);
    g_assert_true(d->readonly);
    d = disks->pdata[2];
    g_assert_cmpstr(d->path, ==, "/dev/vg/lv");
    g_assert_cmpstr(d->device, ==, "disk");

    g_assert_null(vs_inspect_disks("<station/>", &error));
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED);
}

static void
test_inspect_mac_port(void)
{
    const char *cases[] = {"domains/user-slirp.yaml", "domains/basic-user-passt.yaml",
                           "domains/kvm-network-efi.yaml"};
    const guint ports[] = {40022, 40022, 0};

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = vs_domcase_xml(cases[i], &error);
        g_autofree char *mac = NULL;
        g_assert_no_error(error);
        mac = vs_inspect_mac(xml);
        g_assert_cmpstr(mac, ==, "52:54:00:12:34:56");
        g_assert_cmpuint(vs_inspect_port(xml), ==, ports[i]);
    }
    /* A NIC given to QEMU directly, in upper case; a forward of another port is not SSH's. */
    const char *slirp =
        "<domain xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><name>x</name>"
        "<qemu:commandline><qemu:arg value='-netdev'/>"
        "<qemu:arg value='user,id=n,hostfwd=tcp:127.0.0.1:8080-:80'/>"
        "<qemu:arg value='-device'/>"
        "<qemu:arg value='virtio-net-pci,netdev=n,mac=52:54:00:AB:CD:EF,addr=0x10'/>"
        "</qemu:commandline></domain>";
    g_autofree char *mac = vs_inspect_mac(slirp);
    g_assert_cmpstr(mac, ==, "52:54:00:ab:cd:ef");
    g_assert_cmpuint(vs_inspect_port(slirp), ==, 0);
    g_assert_null(vs_inspect_mac("<domain><name>x</name></domain>"));
    g_assert_null(vs_inspect_mac("not xml"));
}

static void
test_osinfo(void)
{
    const char *good[] = {"http://debian.org/debian/12", "http://ubuntu.com/ubuntu/24.04",
                          "http://opensuse.org/opensuse/15.5", "http://centos.org/centos-stream/9",
                          "https://example.org/os/1"};
    const char *bad[] = {"debian12",
                         "",
                         "http://debian.org",
                         "ftp://debian.org/debian/12",
                         "http://debian.org/debian 12",
                         "http://debian.org/debian/12\"/><x",
                         "http://debian.org/debian/12\n"};

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_true(vs_request_check_osinfo(good[i], &error));
        g_assert_no_error(error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(vs_request_check_osinfo(bad[i], &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "osinfo: '"));
    }
    /* Bounded: 200 characters pass, 201 do not. */
    g_autoptr(GString) id = g_string_new("http://example.org/");
    while (id->len < 200)
        g_string_append_c(id, 'a');
    g_assert_true(vs_request_check_osinfo(id->str, NULL));
    g_string_append_c(id, 'a');
    g_assert_false(vs_request_check_osinfo(id->str, NULL));

    /* The spec's id wins over the catalog's; a bad one refuses the request (exit 2). */
    g_autoptr(VsPlanInputs) facts =
        vs_domcase_parse_facts("kvm: false\narch: x86_64\nssh-port: 1\nimage-alias: debian:12\n"
                               "mac: 52:54:00:00:00:01\ngpu: {mode: none}\n");
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    spec->name = g_strdup("os1");
    g_autoptr(VsDomainConfig) catalog = vs_request_config(spec, facts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(catalog->os_id, ==, "http://debian.org/debian/12");
    spec->osinfo = g_strdup("http://debian.org/debian/13");
    g_autoptr(VsDomainConfig) given = vs_request_config(spec, facts, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(given->os_id, ==, "http://debian.org/debian/13");
    g_free(spec->osinfo);
    spec->osinfo = g_strdup("debian13");
    g_assert_null(vs_request_config(spec, facts, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ownership/metadata-uuid", test_uuid_parsed);
    g_test_add_func("/ownership/clone-reason", test_clone_reason);
    g_test_add_func("/ownership/rewrite", test_rewrite);
    g_test_add_func("/ownership/inspect-disks", test_inspect_disks);
    g_test_add_func("/ownership/inspect-mac-port", test_inspect_mac_port);
    g_test_add_func("/ownership/osinfo", test_osinfo);
    return g_test_run();
}
