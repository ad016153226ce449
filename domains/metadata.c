#include "domains/metadata.h"

#include <libxml/parser.h>
#include <string.h>

#include "domains/errors.h"
#include "domains/vs-xml.h"
#include "domains/xml.h"

VsOwnedVolume *
vs_owned_volume_new(const char *role, const char *pool, const char *name)
{
    VsOwnedVolume *v = g_new0(VsOwnedVolume, 1);

    v->role = g_strdup(role);
    v->pool = g_strdup(pool);
    v->name = g_strdup(name);
    return v;
}

void
vs_owned_volume_free(VsOwnedVolume *v)
{
    g_free(v->role);
    g_free(v->pool);
    g_free(v->name);
    g_free(v);
}

void
vs_metadata_free(VsMetadata *s)
{
    if (!s)
        return;
    g_free(s->uuid);
    g_free(s->image_alias);
    g_free(s->base_pool);
    g_free(s->base_volume);
    g_free(s->gpu_device);
    g_free(s->gpu_vgpu_type);
    g_free(s->gpu_render_node);
    g_free(s->gpu_mdev_uuid);
    g_ptr_array_unref(s->gpu_functions);
    g_ptr_array_unref(s->gpu_reasons);
    g_ptr_array_unref(s->volumes);
    g_free(s->net_mode);
    g_free(s->net_source);
    g_free(s->mac);
    g_free(s->ssh_user);
    g_free(s->ssh_host);
    g_ptr_array_unref(s->host_keys);
    g_free(s->kept);
    g_free(s);
}

static char *
prop(xmlNode *node, const char *name)
{
    xmlChar *v = node ? xmlGetProp(node, BAD_CAST name) : NULL;
    char *ret = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return ret;
}

/* virDomainGetMetadata() hands our element back without its namespace (it was asked for by
 * the namespace's URI); a document from elsewhere carries it. Both are accepted. */
static gboolean
is(xmlNode *node, const char *name)
{
    return node->type == XML_ELEMENT_NODE &&
           (!node->ns ||
            (node->ns->href && strcmp((const char *)node->ns->href, VS_STATION_NS) == 0)) &&
           strcmp((const char *)node->name, name) == 0;
}

/* Sets *@field to @value: a later element of the same kind wins, the earlier value is freed. */
static void
replace(char **field, char *value)
{
    g_free(*field);
    *field = value;
}

/* Returns the text of @node, or NULL when it has none. */
static char *
content(xmlNode *node)
{
    xmlChar *text = xmlNodeGetContent(node);
    char *ret = text ? g_strdup((const char *)text) : NULL;
    xmlFree(text);
    return ret;
}

/* Reads <vs:gpu> (@n) into @s: the plan's attributes, its functions and its reasons. */
static void
parse_gpu(VsMetadata *s, xmlNode *n)
{
    g_autofree char *mode = prop(n, "mode");
    g_autofree char *kind = prop(n, "vgpu-kind");
    int value;

    value = vs_gpu_mode_from_string(mode);
    s->gpu_mode = value >= 0 ? (VsGpuMode)value : VS_GPU_MODE_LAST;
    value = kind ? vs_vgpu_kind_from_string(kind) : VS_VGPU_KIND_MDEV;
    s->gpu_vgpu_kind = value >= 0 ? (VsVgpuKind)value : VS_VGPU_KIND_LAST;
    replace(&s->gpu_device, prop(n, "device"));
    replace(&s->gpu_vgpu_type, prop(n, "vgpu-type"));
    replace(&s->gpu_render_node, prop(n, "render-node"));
    replace(&s->gpu_mdev_uuid, prop(n, "mdev-uuid"));
    g_ptr_array_set_size(s->gpu_functions, 0);
    g_ptr_array_set_size(s->gpu_reasons, 0);
    for (xmlNode *c = n->children; c; c = c->next) {
        if (is(c, "function")) {
            char *address = prop(c, "address");
            if (address)
                g_ptr_array_add(s->gpu_functions, address);
        } else if (is(c, "reason")) {
            g_ptr_array_add(s->gpu_reasons, content(c));
        }
    }
}

/* Reads the child element @n of <vs:station> into @s; elements it does not know are skipped. */
static void
parse_element(VsMetadata *s, xmlNode *n)
{
    if (is(n, "image")) {
        replace(&s->image_alias, prop(n, "alias"));
        replace(&s->base_pool, prop(n, "pool"));
        replace(&s->base_volume, prop(n, "volume"));
    } else if (is(n, "gpu")) {
        parse_gpu(s, n);
    } else if (is(n, "volume")) {
        VsOwnedVolume *v = g_new0(VsOwnedVolume, 1);
        v->role = prop(n, "role");
        v->pool = prop(n, "pool");
        v->name = prop(n, "name");
        if (v->pool && v->name)
            g_ptr_array_add(s->volumes, v);
        else
            vs_owned_volume_free(v);
    } else if (is(n, "network")) {
        replace(&s->net_mode, prop(n, "mode"));
        replace(&s->net_source, prop(n, "source"));
        replace(&s->mac, prop(n, "mac"));
    } else if (is(n, "ssh")) {
        g_autofree char *port = prop(n, "port");
        replace(&s->ssh_user, prop(n, "user"));
        replace(&s->ssh_host, prop(n, "host"));
        s->ssh_port = port ? (guint)g_ascii_strtoull(port, NULL, 10) : 0;
    } else if (is(n, "host-key")) {
        g_ptr_array_add(s->host_keys, g_strstrip(content(n)));
    } else if (is(n, "kept")) {
        char *reason = prop(n, "reason");
        replace(&s->kept, reason ? reason : g_strdup(""));
    }
}

/* Returns a station with nothing recorded yet. */
/* Returns the document of the <vs:station> element @xml (as virDomainGetMetadata gives it) and
 * its root in @ret_root, or NULL with @error set (VS_DOMAINS_ERROR_FOREIGN) when it is none. */
static xmlDoc *
read_station(const char *xml, xmlNode **ret_root, GError **error)
{
    xmlDoc *doc = xml ? xmlReadMemory(xml, (int)strlen(xml), "metadata.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                      : NULL;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

    if (!root || !is(root, "station")) {
        if (doc)
            xmlFreeDoc(doc);
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN, "no virt-station metadata");
        return NULL;
    }
    *ret_root = root;
    return doc;
}

static VsMetadata *
station_new(void)
{
    VsMetadata *s = g_new0(VsMetadata, 1);

    s->gpu_mode = VS_GPU_MODE_LAST;
    s->volumes = g_ptr_array_new_with_free_func((GDestroyNotify)vs_owned_volume_free);
    s->host_keys = g_ptr_array_new_with_free_func(g_free);
    s->gpu_functions = g_ptr_array_new_with_free_func(g_free);
    s->gpu_reasons = g_ptr_array_new_with_free_func(g_free);
    return s;
}

VsMetadata *
vs_metadata_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(VsMetadata) s = station_new();
    xmlNode *root;
    g_autofree char *version = NULL;

    doc = read_station(xml, &root, error);
    if (!doc)
        return NULL;
    version = prop(root, "version");
    if (g_strcmp0(version, "1") != 0) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED,
                    "virt-station metadata version %s is not known to this version",
                    version ? version : "(none)");
        return NULL;
    }
    s->uuid = prop(root, "uuid");
    if (s->uuid) {
        /* Compared with what libvirt says, which is lower case. */
        g_autofree char *lower = g_ascii_strdown(s->uuid, -1);
        replace(&s->uuid, g_steal_pointer(&lower));
    }
    for (xmlNode *n = root->children; n; n = n->next)
        parse_element(s, n);
    return g_steal_pointer(&s);
}

const char *
vs_metadata_gpu_mode(const VsMetadata *station)
{
    return station->gpu_mode < VS_GPU_MODE_LAST ? vs_gpu_mode_to_string(station->gpu_mode) : NULL;
}

char *
vs_metadata_known_hosts(const VsMetadata *station, const char *alias)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < station->host_keys->len; i++) {
        const char *key = station->host_keys->pdata[i];
        g_auto(GStrv) fields = g_strsplit(key, " ", 3);
        /* Only "TYPE BASE64" of each line: the comment is not part of the key. */
        if (g_strv_length(fields) >= 2 && !strchr(fields[0], '\n') && !strchr(fields[1], '\n'))
            g_string_append_printf(out, "%s %s %s\n", alias, fields[0], fields[1]);
    }
    return g_string_free(out, FALSE);
}

char *
vs_metadata_clone_reason(const VsMetadata *station, const char *uuid, const char *original_name)
{
    if (!station->uuid || (uuid && g_ascii_strcasecmp(station->uuid, uuid) == 0))
        return NULL;
    if (original_name)
        return g_strdup_printf("cloned from %s", original_name);
    return g_strdup_printf("copied from another workstation (UUID %s)", station->uuid);
}

/* Returns @node of @doc serialised as XML text. */
static char *
node_text(xmlDoc *doc, xmlNode *node)
{
    xmlBuffer *buf = xmlBufferCreate();
    char *out;

    xmlNodeDump(buf, doc, node, 0, 0);
    out = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return out;
}

/* Returns the first child element of @parent called @name, or NULL. */
static xmlNode *
first_child(xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent->children; n; n = n->next)
        if (is(n, name))
            return n;
    return NULL;
}

char *
vs_metadata_rewrite(const char *xml, const char *uuid, GPtrArray *volumes, const char *mac,
                    guint port, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root, *n, *next, *anchor = NULL, *net, *ssh;

    doc = read_station(xml, &root, error);
    if (!doc)
        return NULL;
    xmlSetProp(root, BAD_CAST "uuid", BAD_CAST uuid);
    /* The new volumes go where the old ones were (after the GPU element otherwise). */
    for (n = root->children; n; n = next) {
        next = n->next;
        if (!is(n, "volume"))
            continue;
        if (!anchor) {
            anchor = xmlNewDocNode(doc, root->ns, BAD_CAST "volume", NULL);
            xmlAddPrevSibling(n, anchor);
        }
        xmlUnlinkNode(n);
        xmlFreeNode(n);
    }
    if (!anchor) {
        xmlNode *gpu = first_child(root, "gpu");
        anchor = xmlNewDocNode(doc, root->ns, BAD_CAST "volume", NULL);
        if (gpu)
            xmlAddNextSibling(gpu, anchor);
        else
            xmlAddChild(root, anchor);
    }
    for (guint i = 0; i < volumes->len; i++) {
        const VsOwnedVolume *v = volumes->pdata[i];
        xmlNode *node = xmlNewDocNode(doc, root->ns, BAD_CAST "volume", NULL);
        xmlNewProp(node, BAD_CAST "role", BAD_CAST v->role);
        xmlNewProp(node, BAD_CAST "pool", BAD_CAST v->pool);
        xmlNewProp(node, BAD_CAST "name", BAD_CAST v->name);
        xmlAddPrevSibling(anchor, node);
    }
    xmlUnlinkNode(anchor);
    xmlFreeNode(anchor);
    net = first_child(root, "network");
    if (mac && net)
        xmlSetProp(net, BAD_CAST "mac", BAD_CAST mac);
    ssh = first_child(root, "ssh");
    if (port && ssh) {
        g_autofree char *p = g_strdup_printf("%u", port);
        xmlSetProp(ssh, BAD_CAST "port", BAD_CAST p);
    }
    return node_text(doc, root);
}

char *
vs_metadata_mark_kept(const char *xml, const char *reason, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *root, *kept;

    doc = read_station(xml, &root, error);
    if (!doc)
        return NULL;
    kept = first_child(root, "kept");
    if (!kept)
        kept = xmlNewChild(root, root->ns, BAD_CAST "kept", NULL);
    xmlSetProp(kept, BAD_CAST "reason", BAD_CAST reason);
    return node_text(doc, root);
}
