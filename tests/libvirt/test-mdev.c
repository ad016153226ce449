/* The node-device backend of the GPU operations table (domains/mdev.c), on libvirt's test
 * driver with a host of its own (tests/data/testdriver/gpu-host.xml: a T4 with mdev types and
 * one mdev), which lists node devices but creates none: the node-device XML against libvirt's
 * schema; finding an mdev by its <uuid>; a creation libvirt cannot do turning into
 * VS_GPU_ERROR_UNSUPPORTED naming mdevctl, or into a call of the fallback with a note; the VF
 * operations refused without a fallback; and domains with mdev and PCI host devices starting
 * on that driver. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/relaxng.h>
#include <string.h>

#include "domains/mdev.h"
#include "domains/vs-xml.h"
#include "tests/bed/domcase.h"
#include "tests/bed/golden.h"

#define NODEDEV_SCHEMA "/usr/share/libvirt/schemas/nodedev.rng"
#define EXISTING       "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define NEW_UUID       "7c1f2b3a-9d4e-4f5a-8b6c-0d1e2f3a4b5c"

static char *uri;

/* Returns whether @xml validates against libvirt's node-device schema. */
static gboolean
nodedev_valid(const char *xml)
{
    static xmlRelaxNGPtr schema;
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "nodedev.xml", NULL, 0);
    xmlRelaxNGValidCtxtPtr ctxt;
    int rc;

    g_assert_nonnull(doc);
    if (!schema) {
        xmlRelaxNGParserCtxtPtr parser = xmlRelaxNGNewParserCtxt(NODEDEV_SCHEMA);
        schema = xmlRelaxNGParse(parser);
        xmlRelaxNGFreeParserCtxt(parser);
        if (!schema)
            g_error("cannot load libvirt's schema %s (package libvirt-daemon-common or "
                    "libvirt-clients)",
                    NODEDEV_SCHEMA);
    }
    ctxt = xmlRelaxNGNewValidCtxt(schema);
    rc = xmlRelaxNGValidateDoc(ctxt, doc);
    xmlRelaxNGFreeValidCtxt(ctxt);
    return rc == 0;
}

static char *
xpath_string(const char *xml, const char *expr)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, 0);
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    g_autoptr(xmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctxt);
    xmlChar *s = xmlXPathCastToString(obj);
    char *ret = g_strdup((char *)s);

    xmlFree(s);
    return ret;
}

static void
test_nodedev_xml(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_mdev_nodedev_xml("0000:3b:00.0", "nvidia-222", NEW_UUID, &error);

    g_assert_no_error(error);
    g_assert_true(nodedev_valid(xml));
    g_autofree char *parent = xpath_string(xml, "string(/device/parent)");
    g_autofree char *type = xpath_string(xml, "string(/device/capability[@type='mdev']/type/@id)");
    g_autofree char *uuid = xpath_string(xml, "string(/device/capability[@type='mdev']/uuid)");
    g_assert_cmpstr(parent, ==, "pci_0000_3b_00_0");
    g_assert_cmpstr(type, ==, "nvidia-222");
    g_assert_cmpstr(uuid, ==, NEW_UUID);
    g_autofree char *name = xpath_string(xml, "string(/device/name)");
    g_assert_cmpstr(name, ==, "mdev_7c1f2b3a_9d4e_4f5a_8b6c_0d1e2f3a4b5c_0000_3b_00_0");
    /* The short form of an address, and a domain other than 0000. */
    g_autofree char *other = vs_mdev_nodedev_xml("0001:c1:01.3", "nvidia-1", NEW_UUID, &error);
    g_assert_no_error(error);
    g_autofree char *other_parent = xpath_string(other, "string(/device/parent)");
    g_assert_cmpstr(other_parent, ==, "pci_0001_c1_01_3");

    /* A type with markup stays one attribute value. */
    g_autofree char *hostile = vs_mdev_nodedev_xml("3b:00.0", "a'\"<b/>&x", NEW_UUID, &error);
    g_assert_no_error(error);
    g_autofree char *hostile_type =
        xpath_string(hostile, "string(/device/capability[@type='mdev']/type/@id)");
    g_autofree char *count = xpath_string(hostile, "string(count(//b))");
    g_assert_cmpstr(hostile_type, ==, "a'\"<b/>&x");
    g_assert_cmpstr(count, ==, "0");

    /* Malformed input is refused before libvirt sees it. */
    const char *bad[][3] = {{"3b:00", "nvidia-222", NEW_UUID},
                            {"0000:3b:00.0", "nvidia-222", "not-a-uuid"},
                            {"0000:3b:00.0", "", NEW_UUID}};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_null(vs_mdev_nodedev_xml(bad[i][0], bad[i][1], bad[i][2], &e));
        g_assert_error(e, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    }
}

/* ---- a fallback that records its calls ---- */

typedef struct {
    GPtrArray *calls;
} Recorder;

static gboolean
rec_create(void *data, const char *parent, const char *type, const char *uuid, gboolean persistent,
           GError **error)
{
    Recorder *r = data;
    g_ptr_array_add(r->calls,
                    g_strdup_printf("create %s %s %s %d", parent, type, uuid, persistent));
    return TRUE;
}

static gboolean
rec_remove(void *data, const char *uuid, GError **error)
{
    Recorder *r = data;
    g_ptr_array_add(r->calls, g_strdup_printf("remove %s", uuid));
    return TRUE;
}

static gboolean
rec_exists(void *data, const char *uuid)
{
    return FALSE;
}

static gboolean
rec_set_type(void *data, const char *vf, const char *type, GError **error)
{
    Recorder *r = data;
    g_ptr_array_add(r->calls, g_strdup_printf("set %s %s", vf, type));
    return TRUE;
}

static char *
rec_get_type(void *data, const char *vf, GError **error)
{
    return g_strdup("1099");
}

static char *
rec_driver(void *data, const char *address)
{
    return g_strdup("vfio-pci");
}

static VsGpuInventory *
rec_inventory(void *data, GError **error)
{
    return vs_gpu_inventory_new();
}

/* Frees a backend made by vs_mdev_ops_nodedev() (as vs_gpu_ops_free does, which the sysfs and
 * fake backends' file holds). */
typedef VsGpuOps TestOps;
static void
ops_free(TestOps *ops)
{
    ops->free(ops->data);
    g_free(ops);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestOps, ops_free)

static virConnectPtr
open_test_host(void)
{
    virConnectPtr conn = virConnectOpen(uri);

    g_assert_nonnull(conn);
    return conn;
}

static void
test_exists_by_uuid(void)
{
    virConnectPtr conn = open_test_host();
    g_autoptr(TestOps) ops = vs_mdev_ops_nodedev(conn, NULL);

    virConnectClose(conn); /* the backend holds its own reference */
    g_assert_cmpstr(ops->name, ==, "node-device");
    g_assert_true(ops->mdev_exists(ops->data, EXISTING));
    /* Upper case is the same UUID. */
    g_assert_true(ops->mdev_exists(ops->data, "4B20D080-1B54-4048-85B3-A6A62D165C01"));
    g_assert_false(ops->mdev_exists(ops->data, NEW_UUID));
    /* Where no fallback reads sysfs, the driver comes from the node device (the test driver
     * keeps none: libvirt fills it from sysfs), as in the XML a real libvirt gives. */
    g_autofree char *driver = ops->pci_driver(ops->data, "0000:3b:00.0");
    g_assert_null(driver);
    g_autofree char *none = ops->pci_driver(ops->data, "0000:99:00.0");
    g_assert_null(none);
    g_autoptr(GBytes) real = vs_golden_read("nodedev/rhel-t4/pci_0000_3b_00_0.xml");
    g_autofree char *real_xml = g_strndup(g_bytes_get_data(real, NULL), g_bytes_get_size(real));
    g_autofree char *real_driver = vs_mdev_nodedev_driver(real_xml);
    g_assert_cmpstr(real_driver, ==, "nvidia");
    g_autofree char *no_driver = vs_mdev_nodedev_driver("<device><name>x</name></device>");
    g_assert_null(no_driver);
    g_autofree char *broken = vs_mdev_nodedev_driver("<device><driver>");
    g_assert_null(broken);
    /* And the node devices give the inventory: the T4 and its types. */
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(inv->devices->len, ==, 1);
    VsGpuDevice *t4 = inv->devices->pdata[0];
    g_assert_cmpstr(t4->address, ==, "0000:3b:00.0");
    g_assert_cmpuint(t4->vgpu_types->len, ==, 8);
}

/* The test driver creates no mdevs (it takes every node device it is asked to create for a
 * vHBA; define is unsupported): without a fallback, that is UNSUPPORTED naming mdevctl. */
static void
test_create_unsupported(void)
{
    virConnectPtr conn = open_test_host();
    g_autoptr(TestOps) ops = vs_mdev_ops_nodedev(conn, NULL);

    virConnectClose(conn);
    for (int persistent = 0; persistent <= 1; persistent++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(ops->mdev_create(ops->data, "0000:3b:00.0", "nvidia-222", NEW_UUID,
                                        persistent, &error));
        g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(error->message, "`apt install mdevctl`"));
        g_assert_nonnull(strstr(error->message, "`dnf install mdevctl`"));
        /* libvirt's own reason is kept. */
        g_assert_nonnull(strstr(error->message,
                                persistent ? "virNodeDeviceDefineXML" : "not a fibre channel HBA"));
    }
    g_assert_false(ops->mdev_exists(ops->data, NEW_UUID));
    g_autoptr(GPtrArray) notes = vs_mdev_ops_take_notes(ops);
    g_assert_cmpuint(notes->len, ==, 0);
    /* Malformed input is INVALID, not a libvirt failure. */
    g_autoptr(GError) error = NULL;
    g_assert_false(ops->mdev_create(ops->data, "nonsense", "nvidia-222", NEW_UUID, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
}

/* With the fallback (a local root connection), the same creation goes through it, with a note
 * for the caller to print. */
static void
test_create_falls_back(void)
{
    Recorder rec = {g_ptr_array_new_with_free_func(g_free)};
    VsGpuOps fallback = {.name = "recorder",
                         .mdev_create = rec_create,
                         .mdev_remove = rec_remove,
                         .mdev_exists = rec_exists,
                         .vf_set_type = rec_set_type,
                         .vf_get_type = rec_get_type,
                         .pci_driver = rec_driver,
                         .inventory = rec_inventory,
                         .data = &rec};
    virConnectPtr conn = open_test_host();
    g_autoptr(TestOps) ops = vs_mdev_ops_nodedev(conn, &fallback);
    g_autoptr(GError) error = NULL;

    virConnectClose(conn);
    g_assert_true(
        ops->mdev_create(ops->data, "0000:3b:00.0", "nvidia-222", NEW_UUID, TRUE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(rec.calls->len, ==, 1);
    g_assert_cmpstr(rec.calls->pdata[0], ==, "create 0000:3b:00.0 nvidia-222 " NEW_UUID " 1");
    g_autoptr(GPtrArray) notes = vs_mdev_ops_take_notes(ops);
    g_assert_cmpuint(notes->len, ==, 1);
    g_assert_true(
        g_str_has_prefix(notes->pdata[0], "libvirt cannot create mediated devices here ("));
    g_assert_nonnull(strstr(notes->pdata[0], "virNodeDeviceDefineXML"));
    g_assert_true(g_str_has_suffix(notes->pdata[0],
                                   "): wrote the sysfs create file directly; the device will not "
                                   "survive a host reboot, `start` recreates it"));
    /* Taken: the next call starts a new list. */
    g_autoptr(GPtrArray) again = vs_mdev_ops_take_notes(ops);
    g_assert_cmpuint(again->len, ==, 0);

    /* The VF operations and the driver go to the fallback. */
    g_assert_true(ops->vf_set_type(ops->data, "0000:c1:01.3", "1099", &error));
    g_assert_cmpstr(rec.calls->pdata[1], ==, "set 0000:c1:01.3 1099");
    g_autofree char *type = ops->vf_get_type(ops->data, "0000:c1:01.3", &error);
    g_assert_cmpstr(type, ==, "1099");
    g_autofree char *driver = ops->pci_driver(ops->data, "0000:3b:00.0");
    g_assert_cmpstr(driver, ==, "vfio-pci");

    /* Removing: a UUID libvirt does not list is gone already, the fallback is not asked. */
    g_assert_true(ops->mdev_remove(ops->data, NEW_UUID, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(rec.calls->len, ==, 2);
    /* The existing one is stopped through libvirt (the test driver's destroy succeeds, yet
     * keeps listing it, and cannot say whether it is persistent: nothing to undefine): the
     * fallback is not asked. */
    g_assert_true(ops->mdev_exists(ops->data, EXISTING));
    g_assert_true(ops->mdev_remove(ops->data, EXISTING, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(rec.calls->len, ==, 2);
    g_autoptr(GPtrArray) removed = vs_mdev_ops_take_notes(ops);
    g_assert_cmpuint(removed->len, ==, 0);
    g_ptr_array_unref(rec.calls);
}

/* Without a fallback the VF operations say they need the host's sysfs files. */
static void
test_local_only(void)
{
    virConnectPtr conn = open_test_host();
    g_autoptr(TestOps) ops = vs_mdev_ops_nodedev(conn, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) get_error = NULL;

    virConnectClose(conn);
    g_assert_false(ops->vf_set_type(ops->data, "0000:c1:01.3", "1099", &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "0000:c1:01.3"));
    g_assert_nonnull(strstr(error->message, "only on a local host (the VF's sysfs files)"));
    g_assert_null(ops->vf_get_type(ops->data, "0000:c1:01.3", &get_error));
    g_assert_error(get_error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED);
    g_assert_null(vs_mdev_ops_take_notes(NULL));
}

/* Domains with an mdev host device, an unmanaged VF and a passed-through card (the golden
 * cases' XML) start on the test driver, created and defined-then-started. */
static void
test_domains_start(void)
{
    const char *cases[] = {"domains/vgpu-mdev-display.yaml", "domains/vgpu-vendor-vf.yaml",
                           "domains/passthrough.yaml"};
    virConnectPtr conn = open_test_host();

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = vs_domcase_xml(cases[i], &error);
        g_assert_no_error(error);
        virDomainPtr dom = virDomainCreateXML(conn, xml, 0);
        g_assert_nonnull(dom);
        g_assert_cmpint(virDomainIsActive(dom), ==, 1);
        char *live = virDomainGetXMLDesc(dom, 0);
        g_assert_nonnull(live);
        g_autofree char *hostdevs = xpath_string(live, "string(count(/domain/devices/hostdev))");
        g_autofree char *want = xpath_string(xml, "string(count(/domain/devices/hostdev))");
        g_assert_cmpstr(hostdevs, ==, want);
        g_assert_cmpstr(hostdevs, !=, "0");
        free(live);
        g_assert_cmpint(virDomainDestroy(dom), ==, 0);
        virDomainFree(dom);

        dom = virDomainDefineXML(conn, xml);
        g_assert_nonnull(dom);
        g_assert_cmpint(virDomainCreate(dom), ==, 0);
        g_assert_cmpint(virDomainIsActive(dom), ==, 1);
        g_assert_cmpint(virDomainDestroy(dom), ==, 0);
        g_assert_cmpint(virDomainUndefine(dom), ==, 0);
        virDomainFree(dom);
    }
    virConnectClose(conn);
}

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

int
main(int argc, char **argv)
{
    g_autofree char *host = vs_golden_path("testdriver/gpu-host.xml");

    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    uri = g_strdup_printf("test://%s", host);
    g_test_add_func("/mdev/nodedev-xml", test_nodedev_xml);
    g_test_add_func("/mdev/exists-by-uuid", test_exists_by_uuid);
    g_test_add_func("/mdev/create-unsupported", test_create_unsupported);
    g_test_add_func("/mdev/create-falls-back", test_create_falls_back);
    g_test_add_func("/mdev/local-only", test_local_only);
    g_test_add_func("/mdev/domains-start", test_domains_start);
    int rc = g_test_run();
    g_free(uri);
    return rc;
}
