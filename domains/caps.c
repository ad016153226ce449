#include "domains/caps.h"

#include <libxml/parser.h>
#include <string.h>

#include "gpu/nodedev.h"

int
vs_caps_domcaps_passt(const char *xml)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) listed = NULL, passt = NULL;

    if (!xml)
        return -1;
    doc = xmlReadMemory(xml, (int)strlen(xml), "domcaps.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return -1;
    ctxt = xmlXPathNewContext(doc);
    listed = xmlXPathEvalExpression(
        BAD_CAST "/domainCapabilities/devices/interface/enum[@name='backendType']", ctxt);
    if (!listed || xmlXPathNodeSetIsEmpty(listed->nodesetval))
        return -1;
    passt = xmlXPathEvalExpression(BAD_CAST "/domainCapabilities/devices/interface/"
                                            "enum[@name='backendType']/value[text()='passt']",
                                   ctxt);
    return passt && !xmlXPathNodeSetIsEmpty(passt->nodesetval) ? 1 : 0;
}

static VsArch
host_arch(virConnectPtr conn)
{
    g_autofree char *caps = virConnectGetCapabilities(conn);
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) obj = NULL;

    if (!caps)
        return VS_ARCH_X86_64;
    doc = xmlReadMemory(caps, (int)strlen(caps), "caps.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return VS_ARCH_X86_64;
    ctxt = xmlXPathNewContext(doc);
    obj = xmlXPathEvalExpression(BAD_CAST "string(/capabilities/host/cpu/arch)", ctxt);
    if (obj && obj->stringval && vs_arch_from_string((const char *)obj->stringval) >= 0)
        return vs_arch_from_string((const char *)obj->stringval);
    return VS_ARCH_X86_64;
}

gboolean
vs_caps_probe(virConnectPtr conn, VsCaps *ret, GError **error)
{
    VsCaps caps = {0};
    g_autofree char *uri = virConnectGetURI(conn);
    const char *arch;
    g_autofree char *kvm = NULL, *qemu = NULL;
    int passt;

    if (!uri || virConnectGetLibVersion(conn, &caps.libvirt_version) < 0)
        return vs_libvirt_error(error, "asking libvirt for its version");
    if (virConnectGetVersion(conn, &caps.qemu_version) < 0)
        caps.qemu_version = 0;
    caps.session = g_str_has_suffix(uri, "/session");
    /* A URI with a host part ("qemu+ssh://host/system") reaches another machine. */
    const char *after = strstr(uri, "://");
    caps.remote = after && after[3] != '/' && after[3] != '\0';
    caps.arch = host_arch(conn);
    arch = vs_arch_to_string(caps.arch);
    kvm = virConnectGetDomainCapabilities(conn, NULL, arch, NULL, "kvm", 0);
    caps.kvm = kvm != NULL;
    if (!kvm)
        qemu = virConnectGetDomainCapabilities(conn, NULL, arch, NULL, "qemu", 0);
    passt = vs_caps_domcaps_passt(kvm ? kvm : qemu);
    caps.passt = passt >= 0 ? passt == 1 : caps.libvirt_version >= VS_CAPS_PASST_VERSION;
    *ret = caps;
    return TRUE;
}

GPtrArray *
vs_caps_nodedev_xmls(virConnectPtr conn, GError **error)
{
    virNodeDevicePtr *devs = NULL;
    GPtrArray *xmls;
    int n = virConnectListAllNodeDevices(conn, &devs,
                                         VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV |
                                             VIR_CONNECT_LIST_NODE_DEVICES_CAP_DRM);

    if (n < 0)
        return vs_libvirt_error(error, "listing the host's node devices"), NULL;
    xmls = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++) {
        char *xml = virNodeDeviceGetXMLDesc(devs[i], 0);
        if (xml) {
            g_ptr_array_add(xmls, g_strdup(xml));
            free(xml);
        }
        virNodeDeviceFree(devs[i]);
    }
    free(devs);
    return xmls;
}

VsGpuInventory *
vs_caps_gpu_inventory(void *conn, GError **error)
{
    g_autoptr(GPtrArray) xmls = vs_caps_nodedev_xmls(conn, error);

    return xmls ? vs_gpu_inventory_from_nodedevs(xmls, error) : NULL;
}
