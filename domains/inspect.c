#include "domains/inspect.h"

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>
#include <string.h>

#include "domains/errors.h"
#include "domains/vs-xml.h"
#include "domains/xml.h"

void
vs_disk_source_free(VsDiskSource *d)
{
    if (!d)
        return;
    g_free(d->target);
    g_free(d->device);
    g_free(d->pool);
    g_free(d->volume);
    g_free(d->path);
    g_free(d);
}

/* Returns the domain document @xml, or NULL. */
static xmlDoc *
parse(const char *xml)
{
    xmlDoc *doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                      : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (root && strcmp((const char *)root->name, "domain") == 0)
        return doc;
    if (doc)
        xmlFreeDoc(doc);
    return NULL;
}

/* Returns the attribute @name of the first element @path below @node, or NULL. */
static char *
sub_prop(xmlXPathContext *ctxt, xmlNode *node, const char *path, const char *name)
{
    g_autoptr(xmlXPathObject) o = NULL;
    xmlChar *v;
    char *ret;

    ctxt->node = node;
    o = xmlXPathEvalExpression(BAD_CAST path, ctxt);
    if (!o || !o->nodesetval || o->nodesetval->nodeNr == 0)
        return NULL;
    v = xmlGetProp(o->nodesetval->nodeTab[0], BAD_CAST name);
    ret = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return ret;
}

/* Returns the number of nodes @path finds below @node. */
static int
count(xmlXPathContext *ctxt, xmlNode *node, const char *path)
{
    g_autoptr(xmlXPathObject) o = NULL;

    ctxt->node = node;
    o = xmlXPathEvalExpression(BAD_CAST path, ctxt);
    return o && o->nodesetval ? o->nodesetval->nodeNr : 0;
}

GPtrArray *
vs_inspect_disks(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = parse(xml);
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) disks = NULL;
    GPtrArray *out;

    if (!doc) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "the domain XML does not parse");
        return NULL;
    }
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vs_disk_source_free);
    ctxt = xmlXPathNewContext(doc);
    disks = xmlXPathEvalExpression(BAD_CAST "/domain/devices/disk", ctxt);
    for (int i = 0; disks && disks->nodesetval && i < disks->nodesetval->nodeNr; i++) {
        xmlNode *disk = disks->nodesetval->nodeTab[i];
        g_autofree char *type = sub_prop(ctxt, disk, ".", "type");
        VsDiskSource *d = g_new0(VsDiskSource, 1);

        d->device = sub_prop(ctxt, disk, ".", "device");
        if (!d->device)
            d->device = g_strdup("disk");
        d->target = sub_prop(ctxt, disk, "target", "dev");
        d->readonly = strcmp(d->device, "cdrom") == 0 || count(ctxt, disk, "readonly") > 0;
        if (g_strcmp0(type, "volume") == 0) {
            d->pool = sub_prop(ctxt, disk, "source", "pool");
            d->volume = sub_prop(ctxt, disk, "source", "volume");
        } else if (g_strcmp0(type, "file") == 0) {
            d->path = sub_prop(ctxt, disk, "source", "file");
        } else if (g_strcmp0(type, "block") == 0) {
            d->path = sub_prop(ctxt, disk, "source", "dev");
        }
        if ((d->pool && d->volume) || d->path)
            g_ptr_array_add(out, d);
        else
            vs_disk_source_free(d); /* an empty cdrom, a network disk: no volume of a pool */
    }
    return out;
}

/* Returns the first group of @pattern in the first <qemu:commandline> argument it matches in
 * @doc, or NULL. */
static char *
qemu_arg_match(xmlXPathContext *ctxt, xmlDoc *doc, const char *pattern)
{
    /* $ is the end of the value, not also a place before a final newline. */
    g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_DOLLAR_ENDONLY, 0, NULL);
    g_autoptr(xmlXPathObject) args = NULL;

    ctxt->node = xmlDocGetRootElement(doc);
    args = xmlXPathEvalExpression(BAD_CAST "/domain/qemu:commandline/qemu:arg", ctxt);
    for (int i = 0; args && args->nodesetval && i < args->nodesetval->nodeNr; i++) {
        xmlChar *value = xmlGetProp(args->nodesetval->nodeTab[i], BAD_CAST "value");
        g_autoptr(GMatchInfo) m = NULL;
        char *found = NULL;
        if (value && g_regex_match(re, (const char *)value, 0, &m))
            found = g_match_info_fetch(m, 1);
        xmlFree(value);
        if (found)
            return found;
    }
    return NULL;
}

char *
vs_inspect_mac(const char *xml)
{
    g_autoptr(xmlDoc) doc = parse(xml);
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *mac = NULL;

    if (!doc)
        return NULL;
    ctxt = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctxt, BAD_CAST "qemu", BAD_CAST VS_QEMU_NS);
    mac = sub_prop(ctxt, xmlDocGetRootElement(doc), "/domain/devices/interface/mac", "address");
    if (!mac)
        mac = qemu_arg_match(ctxt, doc, "^virtio-net-pci,.*\\bmac=([0-9A-Fa-f:]{17})(,|$)");
    return mac ? g_ascii_strdown(mac, -1) : NULL;
}

guint
vs_inspect_port(const char *xml)
{
    g_autoptr(xmlDoc) doc = parse(xml);
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autofree char *start = NULL;
    guint64 port;

    if (!doc)
        return 0;
    ctxt = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctxt, BAD_CAST "qemu", BAD_CAST VS_QEMU_NS);
    start =
        sub_prop(ctxt, xmlDocGetRootElement(doc),
                 "/domain/devices/interface[@type='user']/portForward/range[@to='22']", "start");
    if (!start)
        start = qemu_arg_match(ctxt, doc, "hostfwd=tcp:127\\.0\\.0\\.1:([0-9]{1,5})-:22(,|$)");
    port = start ? g_ascii_strtoull(start, NULL, 10) : 0;
    return port < 65536 ? (guint)port : 0;
}

/* Returns the attribute @name of @node as an unsigned number (0x.. or decimal), or -1. */
static gint64
hex_prop(xmlNode *node, const char *name)
{
    g_autofree char *v = (char *)xmlGetProp(node, BAD_CAST name);
    guint64 n;

    if (!v || !g_ascii_string_to_unsigned(g_str_has_prefix(v, "0x") ? v + 2 : v,
                                          g_str_has_prefix(v, "0x") ? 16 : 10, 0, 0xffff, &n, NULL))
        return -1;
    return (gint64)n;
}

GPtrArray *
vs_inspect_hostdevs(const char *xml)
{
    g_autoptr(xmlDoc) doc = parse(xml);
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) o = NULL;
    GPtrArray *ret = g_ptr_array_new_with_free_func(g_free);

    if (!doc)
        return ret;
    ctxt = xmlXPathNewContext(doc);
    o = xmlXPathEvalExpression(BAD_CAST "/domain/devices/hostdev[@mode='subsystem']/source/address",
                               ctxt);
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        xmlNode *addr = o->nodesetval->nodeTab[i];
        g_autofree char *type = (char *)xmlGetProp(addr->parent->parent, BAD_CAST "type");
        g_autofree char *uuid = (char *)xmlGetProp(addr, BAD_CAST "uuid");
        gint64 d = hex_prop(addr, "domain"), b = hex_prop(addr, "bus"), s = hex_prop(addr, "slot"),
               f = hex_prop(addr, "function");

        if (g_strcmp0(type, "mdev") == 0 && uuid)
            g_ptr_array_add(ret, g_ascii_strdown(uuid, -1));
        else if (g_strcmp0(type, "pci") == 0 && b >= 0 && s >= 0 && f >= 0)
            g_ptr_array_add(ret, g_strdup_printf("%04x:%02x:%02x.%x", d < 0 ? 0 : (guint)d,
                                                 (guint)b, (guint)s, (guint)f));
    }
    return ret;
}
