/* Mediated devices through libvirt's node-device API.
 *
 * Creating: a persistent mdev is defined (virNodeDeviceDefineXML), started (virNodeDeviceCreate)
 * and marked to start at boot (virNodeDeviceSetAutostart); what was done is undone when a later
 * step fails. A transient one is created in one call (virNodeDeviceCreateXML). libvirt runs
 * mdevctl for all of them, which Debian's libvirt does not pull in: when libvirt says it cannot
 * ("Cannot find 'mdevctl' in path", an unsupported call, the test driver's or a libvirt older
 * than 6.5's "not a fibre channel HBA"), or is too old to be asked, the sysfs fallback does
 * the work, if the caller gave one, and a note says that the device will not survive a reboot.
 *
 * Finding: a mediated device is found by the <uuid> in its node-device XML, never by its name
 * (libvirt named them mdev_UUID, then mdev_UUID_PARENT). */
#include "domains/mdev.h"

#include <libxml/xmlsave.h>
#include <string.h>

#include "domains/vs-libvirt.h"
#include "gpu/nodedev.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virNodeDevice, virNodeDeviceFree)

typedef struct {
    virConnectPtr conn;
    const VsGpuOps *fallback;
    GPtrArray *notes;
} Nodedev;

/* Returns "pci_dddd_bb_ss_f" for @address, or NULL when it is malformed. */
static char *
nodedev_name(const char *address)
{
    guint domain, bus, slot, function;

    if (!vs_pci_address_parse(address, &domain, &bus, &slot, &function))
        return NULL;
    return g_strdup_printf("pci_%04x_%02x_%02x_%x", domain, bus, slot, function);
}

char *
vs_mdev_nodedev_xml(const char *parent_address, const char *type, const char *uuid, GError **error)
{
    g_autofree char *parent = nodedev_name(parent_address);
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root, *cap;
    xmlBuffer *buf;
    xmlSaveCtxt *save;
    char *out;

    if (!parent) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                    "'%s' is no PCI address (dddd:bb:dd.f): no parent for a mediated device",
                    parent_address ? parent_address : "");
        return NULL;
    }
    if (!uuid || !g_uuid_string_is_valid(uuid)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                    "'%s' is no UUID: no name for a mediated device", uuid ? uuid : "");
        return NULL;
    }
    if (!type || !*type || !g_utf8_validate(type, -1, NULL)) {
        g_set_error_literal(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                            "a mediated device needs an mdev type (\"nvidia-222\")");
        return NULL;
    }
    /* libvirt names a new mdev itself (mdev_UUID_PARENT since 7.3); its schema (9.0) still
     * requires a <name>, so the document carries the name libvirt gives it anyway. */
    g_autofree char *name = g_strdup_printf("mdev_%s_%s", uuid, parent + 4);
    g_strdelimit(name, "-", '_');
    doc = xmlNewDoc(BAD_CAST "1.0");
    root = xmlNewNode(NULL, BAD_CAST "device");
    xmlDocSetRootElement(doc, root);
    xmlNewTextChild(root, NULL, BAD_CAST "name", BAD_CAST name);
    xmlNewTextChild(root, NULL, BAD_CAST "parent", BAD_CAST parent);
    cap = xmlNewChild(root, NULL, BAD_CAST "capability", NULL);
    xmlNewProp(cap, BAD_CAST "type", BAD_CAST "mdev");
    xmlNewProp(xmlNewChild(cap, NULL, BAD_CAST "type", NULL), BAD_CAST "id", BAD_CAST type);
    xmlNewTextChild(cap, NULL, BAD_CAST "uuid", BAD_CAST uuid);

    buf = xmlBufferCreate();
    save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    out = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return out;
}

/* Returns why libvirt cannot do mdevs here, from its last error, or NULL when the last error
 * is an ordinary failure (a busy parent, an unknown type). */
static char *
cannot_reason(void)
{
    virErrorPtr err = virGetLastError();

    if (!err)
        return NULL;
    if (err->code == VIR_ERR_NO_SUPPORT || err->code == VIR_ERR_OPERATION_UNSUPPORTED ||
        (err->message &&
         (strstr(err->message, "mdevctl") || strstr(err->message, "not a fibre channel HBA"))))
        return g_strdup(err->message ? err->message : "unsupported");
    return NULL;
}

/* Sets @error (VS_GPU_ERROR_FAILED, the domain every backend of the table uses) from libvirt's
 * last error, prefixed with @what. Returns FALSE. */
static gboolean
libvirt_failed(GError **error, const char *what)
{
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "%s: %s", what, virGetLastErrorMessage());
    return FALSE;
}

/* Returns FALSE with @error set to VS_GPU_ERROR_UNSUPPORTED for @reason. */
static gboolean
unsupported(GError **error, const char *what, const char *reason)
{
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED,
                "libvirt cannot %s mediated devices on this host (%s): install mdevctl there "
                "(`apt install mdevctl` or `dnf install mdevctl`; libvirt %lu.%lu or newer for "
                "mdevs that survive a reboot) and restart libvirtd or virtnodedevd, or run "
                "virt-station on that host as root",
                what, reason, VS_MDEV_PERSISTENT_LIBVIRT / 1000000,
                VS_MDEV_PERSISTENT_LIBVIRT / 1000 % 1000);
    return FALSE;
}

/* Returns libvirt's version on @conn, 0 when it cannot say. */
static unsigned long
lib_version(virConnectPtr conn)
{
    unsigned long version = 0;

    if (virConnectGetLibVersion(conn, &version) < 0)
        return 0;
    return version;
}

/* Returns a sentence for why this libvirt is too old to @persistent-ly create mdevs, or NULL. */
static char *
too_old(virConnectPtr conn, gboolean persistent)
{
    unsigned long version = lib_version(conn);
    unsigned long need = persistent ? VS_MDEV_PERSISTENT_LIBVIRT : VS_MDEV_TRANSIENT_LIBVIRT;

    if (version == 0 || version >= need)
        return NULL;
    return g_strdup_printf("libvirt %lu.%lu.%lu is older than %lu.%lu.0", version / 1000000,
                           version / 1000 % 1000, version % 1000, need / 1000000,
                           need / 1000 % 1000);
}

/* Creates the mdev through libvirt. Returns TRUE on success; FALSE with @ret_reason set when
 * libvirt cannot, or with @error set for another failure. */
static gboolean
libvirt_create(Nodedev *n, const char *xml, gboolean persistent, char **ret_reason, GError **error)
{
    g_autoptr(virNodeDevice) dev = NULL;
    char *reason = too_old(n->conn, persistent);

    if (reason) {
        *ret_reason = reason;
        return FALSE;
    }
    if (!persistent) {
        dev = virNodeDeviceCreateXML(n->conn, xml, 0);
        if (dev)
            return TRUE;
        if ((*ret_reason = cannot_reason()))
            return FALSE;
        return libvirt_failed(error, "creating the mediated device");
    }
    dev = virNodeDeviceDefineXML(n->conn, xml, 0);
    if (!dev) {
        if ((*ret_reason = cannot_reason()))
            return FALSE;
        return libvirt_failed(error, "defining the mediated device");
    }
    if (virNodeDeviceCreate(dev, 0) < 0) {
        *ret_reason = cannot_reason();
        if (!*ret_reason)
            libvirt_failed(error, "starting the mediated device");
        virNodeDeviceUndefine(dev, 0);
        return FALSE;
    }
    if (virNodeDeviceSetAutostart(dev, 1) < 0) {
        *ret_reason = cannot_reason();
        if (!*ret_reason)
            libvirt_failed(error, "marking the mediated device to start at boot");
        virNodeDeviceDestroy(dev);
        virNodeDeviceUndefine(dev, 0);
        return FALSE;
    }
    return TRUE;
}

/* Adds the note that @what was done through sysfs because of @reason. */
static void
note_fallback(Nodedev *n, const char *what, const char *reason)
{
    if (g_str_equal(what, "create"))
        g_ptr_array_add(n->notes,
                        g_strdup_printf("libvirt cannot create mediated devices here (%s): wrote "
                                        "the sysfs create file directly; the device will not "
                                        "survive a host reboot, `start` recreates it",
                                        reason));
    else
        g_ptr_array_add(n->notes,
                        g_strdup_printf("libvirt cannot remove mediated devices here (%s): wrote "
                                        "the sysfs remove file directly",
                                        reason));
}

static virNodeDevicePtr find_mdev(Nodedev *n, const char *uuid, gboolean *ret_failed);
static int is_active(virNodeDevicePtr dev);

/* Returns TRUE when the mdev @uuid is defined already (a persistent mdev whose device the
 * driver removed when its domain stopped) and now started again; defining it a second time
 * would fail. */
static gboolean
start_defined(Nodedev *n, const char *uuid)
{
    gboolean list_failed = FALSE;
    g_autoptr(virNodeDevice) dev = find_mdev(n, uuid, &list_failed);

    if (!dev || virNodeDeviceIsPersistent(dev) != 1)
        return FALSE;
    return is_active(dev) == 1 || virNodeDeviceCreate(dev, 0) == 0;
}

static gboolean
nodedev_mdev_create(void *data, const char *parent, const char *type, const char *uuid,
                    gboolean persistent, GError **error)
{
    Nodedev *n = data;
    g_autofree char *xml = vs_mdev_nodedev_xml(parent, type, uuid, error);
    g_autofree char *reason = NULL;

    if (!xml)
        return FALSE;
    if (persistent && start_defined(n, uuid))
        return TRUE;
    if (libvirt_create(n, xml, persistent, &reason, error))
        return TRUE;
    if (!reason) {
        g_prefix_error(error, "mdev %s (type %s) on %s: ", uuid, type, parent);
        return FALSE;
    }
    if (!n->fallback)
        return unsupported(error, "create", reason);
    if (!n->fallback->mdev_create(n->fallback->data, parent, type, uuid, persistent, error))
        return FALSE;
    note_fallback(n, "create", reason);
    return TRUE;
}

/* Returns the node device whose mdev capability has @uuid, or NULL (none, or the list could not
 * be read: then @ret_failed is set). */
static virNodeDevicePtr
find_mdev(Nodedev *n, const char *uuid, gboolean *ret_failed)
{
    virNodeDevicePtr *devs = NULL;
    virNodeDevicePtr found = NULL;
    int count =
        virConnectListAllNodeDevices(n->conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV);

    *ret_failed = count < 0;
    for (int i = 0; i < count; i++) {
        g_autofree char *xml = NULL;
        char *desc = found ? NULL : virNodeDeviceGetXMLDesc(devs[i], 0);

        if (desc) {
            xml = g_strdup(desc);
            free(desc);
            g_autoptr(xmlDoc) doc =
                xmlReadMemory(xml, (int)strlen(xml), "nodedev.xml", NULL,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
            g_autoptr(xmlXPathContext) ctxt = doc ? xmlXPathNewContext(doc) : NULL;
            g_autoptr(xmlXPathObject) obj =
                ctxt ? xmlXPathEvalExpression(
                           BAD_CAST "normalize-space(/device/capability[@type='mdev']/uuid)", ctxt)
                     : NULL;
            if (obj && obj->type == XPATH_STRING && obj->stringval &&
                g_ascii_strcasecmp((const char *)obj->stringval, uuid) == 0) {
                found = devs[i];
                continue;
            }
        }
        virNodeDeviceFree(devs[i]);
    }
    free(devs);
    return found;
}

/* Returns 1 when @dev is active (libvirt older than 7.8 cannot say: listed means active), 0
 * when not. */
static int
is_active(virNodeDevicePtr dev)
{
    int active = virNodeDeviceIsActive(dev);
    return active < 0 ? 1 : active;
}

static gboolean
nodedev_mdev_remove(void *data, const char *uuid, GError **error)
{
    Nodedev *n = data;
    gboolean list_failed = FALSE;
    g_autoptr(virNodeDevice) dev = find_mdev(n, uuid, &list_failed);
    g_autofree char *reason = NULL;

    if (!dev && !list_failed)
        return TRUE;
    if (dev && (!is_active(dev) || virNodeDeviceDestroy(dev) == 0) &&
        (virNodeDeviceIsPersistent(dev) != 1 || virNodeDeviceUndefine(dev, 0) == 0))
        return TRUE;
    reason = cannot_reason();
    if (!reason) {
        libvirt_failed(error, list_failed ? "listing mediated devices" : "removing");
        g_prefix_error(error, "mdev %s: ", uuid);
        return FALSE;
    }
    if (!n->fallback)
        return unsupported(error, "remove", reason);
    if (!n->fallback->mdev_remove(n->fallback->data, uuid, error))
        return FALSE;
    note_fallback(n, "remove", reason);
    return TRUE;
}

static gboolean
nodedev_mdev_exists(void *data, const char *uuid)
{
    Nodedev *n = data;
    gboolean list_failed = FALSE;
    g_autoptr(virNodeDevice) dev = find_mdev(n, uuid, &list_failed);

    if (list_failed && n->fallback)
        return n->fallback->mdev_exists(n->fallback->data, uuid);
    /* A list that could not be read proves nothing gone: say it exists (the safe side). */
    return list_failed || (dev && is_active(dev) == 1);
}

static gboolean
vf_unsupported(GError **error, const char *vf)
{
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED,
                "the vGPU type of the virtual function %s can be set and read only on a local "
                "host (the VF's sysfs files): run virt-station on that host as root",
                vf);
    return FALSE;
}

static gboolean
nodedev_vf_set_type(void *data, const char *vf, const char *type, GError **error)
{
    Nodedev *n = data;

    if (n->fallback)
        return n->fallback->vf_set_type(n->fallback->data, vf, type, error);
    return vf_unsupported(error, vf);
}

static char *
nodedev_vf_get_type(void *data, const char *vf, GError **error)
{
    Nodedev *n = data;

    if (n->fallback)
        return n->fallback->vf_get_type(n->fallback->data, vf, error);
    vf_unsupported(error, vf);
    return NULL;
}

/* Returns @dev's node-device XML as a g_malloc'd string, or NULL. */
static char *
xml_desc(virNodeDevicePtr dev)
{
    char *desc = virNodeDeviceGetXMLDesc(dev, 0);
    char *copy = g_strdup(desc);

    free(desc);
    return copy;
}

char *
vs_mdev_nodedev_driver(const char *xml)
{
    g_autoptr(xmlDoc) doc =
        xmlReadMemory(xml, (int)strlen(xml), "nodedev.xml", NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    g_autoptr(xmlXPathContext) ctxt = doc ? xmlXPathNewContext(doc) : NULL;
    g_autoptr(xmlXPathObject) obj =
        ctxt ? xmlXPathEvalExpression(BAD_CAST "normalize-space(/device/driver/name)", ctxt) : NULL;

    if (!obj || obj->type != XPATH_STRING || !obj->stringval || !*obj->stringval)
        return NULL;
    return g_strdup((const char *)obj->stringval);
}

static char *
nodedev_pci_driver(void *data, const char *address)
{
    Nodedev *n = data;
    g_autofree char *name = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(virNodeDevice) dev = NULL;

    if (n->fallback)
        return n->fallback->pci_driver(n->fallback->data, address);
    if (!(name = nodedev_name(address)) || !(dev = virNodeDeviceLookupByName(n->conn, name)) ||
        !(xml = xml_desc(dev)))
        return NULL;
    return vs_mdev_nodedev_driver(xml);
}

/* Returns the XML of every PCI and DRM node device on the connection in @data. */
static GPtrArray *
nodedev_xmls(void *data, GError **error)
{
    Nodedev *n = data;
    const unsigned int caps[] = {VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV,
                                 VIR_CONNECT_LIST_NODE_DEVICES_CAP_DRM};
    g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);

    for (guint c = 0; c < G_N_ELEMENTS(caps); c++) {
        virNodeDevicePtr *devs = NULL;
        int count = virConnectListAllNodeDevices(n->conn, &devs, caps[c]);
        if (count < 0)
            return libvirt_failed(error, "listing node devices"), NULL;
        for (int i = 0; i < count; i++) {
            char *xml = xml_desc(devs[i]);
            if (xml)
                g_ptr_array_add(xmls, xml);
            virNodeDeviceFree(devs[i]);
        }
        free(devs);
    }
    return g_steal_pointer(&xmls);
}

static VsGpuInventory *
nodedev_inventory(void *data, GError **error)
{
    Nodedev *n = data;
    g_autoptr(GPtrArray) xmls = NULL;

    if (n->fallback)
        return n->fallback->inventory(n->fallback->data, error);
    if (!(xmls = nodedev_xmls(n, error)))
        return NULL;
    return vs_gpu_inventory_from_nodedevs(xmls, error);
}

static void
nodedev_free(void *data)
{
    Nodedev *n = data;

    virConnectClose(n->conn);
    g_ptr_array_unref(n->notes);
    g_free(n);
}

VsGpuOps *
vs_mdev_ops_nodedev(virConnectPtr conn, const VsGpuOps *fallback)
{
    VsGpuOps *ops = g_new0(VsGpuOps, 1);
    Nodedev *n = g_new0(Nodedev, 1);

    virConnectRef(conn);
    n->conn = conn;
    n->fallback = fallback;
    n->notes = g_ptr_array_new_with_free_func(g_free);
    ops->name = "node-device";
    ops->mdev_create = nodedev_mdev_create;
    ops->mdev_remove = nodedev_mdev_remove;
    ops->mdev_exists = nodedev_mdev_exists;
    ops->vf_set_type = nodedev_vf_set_type;
    ops->vf_get_type = nodedev_vf_get_type;
    ops->pci_driver = nodedev_pci_driver;
    ops->inventory = nodedev_inventory;
    ops->free = nodedev_free;
    ops->data = n;
    return ops;
}

GPtrArray *
vs_mdev_ops_take_notes(VsGpuOps *ops)
{
    Nodedev *n;
    GPtrArray *notes;

    if (!ops || ops->free != nodedev_free)
        return NULL;
    n = ops->data;
    notes = n->notes;
    n->notes = g_ptr_array_new_with_free_func(g_free);
    return notes;
}
