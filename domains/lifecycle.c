#include "lifecycle.h"

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "storage.h"
#include "xml.h"

const char *
vs_lifecycle_state(virDomainPtr dom)
{
    int state = VIR_DOMAIN_NOSTATE, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0)
        return "unknown";
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "idle";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "in shutdown";
    case VIR_DOMAIN_SHUTOFF:
        return "shut off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "no state";
    }
}

VsStation *
vs_lifecycle_station(virDomainPtr dom, GError **error)
{
    g_autofree char *xml = NULL;
    virErrorPtr err;

    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS, 0);
    if (!xml) {
        err = virGetLastError();
        if (err && err->code != VIR_ERR_NO_DOMAIN_METADATA)
            return vs_libvirt_error(error, "reading the domain's metadata"), NULL;
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN,
                    "%s was not created by virt-station; it is left alone", virDomainGetName(dom));
        return NULL;
    }
    return vs_station_parse(xml, error);
}

virDomainPtr
vs_lifecycle_lookup(virConnectPtr conn, const char *name, VsStation **ret_station, GError **error)
{
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, name);
    VsStation *station;

    if (!dom) {
        virErrorPtr err = virGetLastError();
        if (err && err->code == VIR_ERR_NO_DOMAIN)
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                        "no workstation called %s", name);
        else
            vs_libvirt_error(error, "looking up the domain");
        return NULL;
    }
    station = vs_lifecycle_station(dom, error);
    if (!station)
        return NULL;
    if (ret_station)
        *ret_station = station;
    else
        vs_station_free(station);
    return g_steal_pointer(&dom);
}

virDomainPtr
vs_lifecycle_define(virConnectPtr conn, const char *xml, GError **error)
{
    virDomainPtr dom = virDomainDefineXML(conn, xml);

    if (!dom)
        vs_libvirt_error(error, "defining the domain");
    return dom;
}

gboolean
vs_lifecycle_start(virDomainPtr dom, GError **error)
{
    if (virDomainIsActive(dom) == 1)
        return TRUE;
    if (virDomainCreate(dom) < 0)
        return vs_libvirt_error(error, "starting the domain");
    return TRUE;
}

gboolean
vs_lifecycle_stop(virDomainPtr dom, gboolean force, guint timeout_s, GError **error)
{
    gint64 deadline;

    if (virDomainIsActive(dom) != 1)
        return TRUE;
    if (!force) {
        /* The guest agent first (a guest without ACPI button handling still stops), then the
         * ACPI power button. */
        if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_GUEST_AGENT |
                                            VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) < 0 &&
            virDomainShutdown(dom) < 0)
            return vs_libvirt_error(error, "asking the guest to shut down");
        deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
        while (g_get_monotonic_time() < deadline) {
            if (virDomainIsActive(dom) != 1)
                return TRUE;
            g_usleep(G_USEC_PER_SEC / 4);
        }
    }
    if (virDomainDestroy(dom) < 0 && virDomainIsActive(dom) == 1)
        return vs_libvirt_error(error, "stopping the domain");
    return TRUE;
}

/* Undefines @dom with its NVRAM, managed save and snapshot metadata; drivers that do not know
 * some of these flags get fewer. */
static gboolean
undefine(virDomainPtr dom)
{
    static const unsigned int attempts[] = {
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
            VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA,
        VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
        0,
    };

    for (guint i = 0; i < G_N_ELEMENTS(attempts); i++) {
        virErrorPtr err;
        if (virDomainUndefineFlags(dom, attempts[i]) == 0)
            return TRUE;
        err = virGetLastError();
        if (!err || (err->code != VIR_ERR_INVALID_ARG && err->code != VIR_ERR_NO_SUPPORT))
            return FALSE;
    }
    return FALSE;
}

gboolean
vs_lifecycle_delete(virDomainPtr dom, const VsStation *station, gboolean keep_disk, GError **error)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    gboolean ok = TRUE;

    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
        return vs_libvirt_error(error, "stopping the domain");
    if (virDomainIsPersistent(dom) == 1 && !undefine(dom))
        return vs_libvirt_error(error, "undefining the domain");
    /* Only the volumes the metadata names, never the base image. */
    for (guint i = 0; i < station->volumes->len; i++) {
        const VsOwnedVolume *v = station->volumes->pdata[i];
        g_autoptr(GError) vol_error = NULL;
        if (keep_disk && g_strcmp0(v->role, "disk") == 0)
            continue;
        if (!vs_storage_delete_volume(conn, v->pool, v->name, &vol_error)) {
            if (ok)
                g_propagate_error(error, g_steal_pointer(&vol_error));
            ok = FALSE;
        }
    }
    return ok;
}

/* Replaces every "127.0.0.1:OLD-:22" style forward and <portForward> range, and the metadata
 * port, in the domain document @doc. */
static void
rewrite_port(xmlDoc *doc, guint port)
{
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    g_autofree char *p = g_strdup_printf("%u", port);
    g_autofree char *fwd = g_strdup_printf("hostfwd=tcp:127.0.0.1:%u-:22", port);
    g_autoptr(GRegex) re = g_regex_new("hostfwd=tcp:127\\.0\\.0\\.1:[0-9]+-:22", 0, 0, NULL);

    xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
    xmlXPathRegisterNs(ctxt, BAD_CAST "qemu", BAD_CAST VS_QEMU_NS);
    {
        g_autoptr(xmlXPathObject) o = xmlXPathEvalExpression(
            BAD_CAST "/domain/devices/interface[@type='user']/portForward/range[@to='22']", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++)
            xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "start", BAD_CAST p);
    }
    {
        g_autoptr(xmlXPathObject) o =
            xmlXPathEvalExpression(BAD_CAST "/domain/qemu:commandline/qemu:arg", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
            xmlChar *value = xmlGetProp(o->nodesetval->nodeTab[i], BAD_CAST "value");
            if (value && g_regex_match(re, (const char *)value, 0, NULL)) {
                g_autofree char *nv =
                    g_regex_replace_literal(re, (const char *)value, -1, 0, fwd, 0, NULL);
                xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "value", BAD_CAST nv);
            }
            xmlFree(value);
        }
    }
    {
        g_autoptr(xmlXPathObject) o =
            xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vs:station/vs:ssh", ctxt);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++)
            xmlSetProp(o->nodesetval->nodeTab[i], BAD_CAST "port", BAD_CAST p);
    }
}

char *
vs_lifecycle_xml_with_port(const char *xml, guint port, GError **error)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                          XML_PARSE_NONET | XML_PARSE_NOERROR);
    xmlChar *out = NULL;
    int len = 0;
    char *ret;

    if (!doc) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "the domain XML does not parse");
        return NULL;
    }
    rewrite_port(doc, port);
    xmlDocDumpMemory(doc, &out, &len);
    ret = g_strndup((const char *)out, (gsize)len);
    xmlFree(out);
    return ret;
}

virDomainPtr
vs_lifecycle_set_port(virDomainPtr dom, guint port, GError **error)
{
    g_autofree char *xml =
        virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
    g_autofree char *changed = NULL;
    virDomainPtr ret;

    if (!xml)
        return vs_libvirt_error(error, "reading the domain XML"), NULL;
    changed = vs_lifecycle_xml_with_port(xml, port, error);
    if (!changed)
        return NULL;
    ret = virDomainDefineXML(virDomainGetConnect(dom), changed);
    if (!ret)
        vs_libvirt_error(error, "updating the forwarded port");
    return ret;
}

GHashTable *
vs_lifecycle_used_ports(virConnectPtr conn)
{
    GHashTable *ports = g_hash_table_new(g_direct_hash, g_direct_equal);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(conn, &doms, 0);

    for (int i = 0; i < n; i++) {
        g_autoptr(VsStation) s = vs_lifecycle_station(doms[i], NULL);
        if (s && s->ssh_port)
            g_hash_table_add(ports, GUINT_TO_POINTER(s->ssh_port));
        virDomainFree(doms[i]);
    }
    free(doms);
    return ports;
}
