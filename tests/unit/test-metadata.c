/* The ownership metadata's writer (add_metadata in domains/xml.c) and reader (vs_metadata_parse
 * in domains/metadata.c) agree: a domain config with every metadata field set is rendered with
 * vs_domain_xml, its <vs:station> element parsed back, and every field compared with what went
 * in. Then every attribute and every text the writer put in the element is changed in turn, and
 * every element in it removed in turn, and the parsed station must change with it: an attribute
 * or element the reader ignores fails the test. */
#include <libxml/xpathInternals.h>
#include <string.h>

#include "domains/config.h"
#include "domains/metadata.h"
#include "domains/vs-xml.h"
#include "domains/xml.h"

#define CHANGED "x-changed"

static void
add_strings(GPtrArray *array, const char *const *strings)
{
    for (guint i = 0; strings[i]; i++)
        g_ptr_array_add(array, g_strdup(strings[i]));
}

/* Every metadata field set, with a vGPU on NVIDIA's vendor-specific VF and user networking
 * (the SSH host and port are written only then, the vGPU type and kind only for a vGPU). */
static VsDomainConfig *
config_vgpu_user(void)
{
    VsDomainConfig *c = vs_domain_config_new();
    static const char *const functions[] = {"0000:41:00.4", "0000:41:00.5", NULL};
    static const char *const reasons[] = {"vGPU L4-4Q on 0000:41:00.4", "virgl: not asked", NULL};
    static const char *const keys[] = {"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA host@rt",
                                       "ecdsa-sha2-nistp256 AAAAE2VjZHNh host@rt", NULL};

    c->name = g_strdup("roundtrip");
    c->uuid = g_strdup("6f1c2a5e-0d3b-4c1e-9a7f-2b8d4e6f8a01");
    c->pool = g_strdup("work-pool");
    c->disk_volume = g_strdup("roundtrip.qcow2");
    c->seed_volume = g_strdup("roundtrip-seed.iso");
    c->net_mode = VS_NET_USER;
    c->passt = TRUE;
    c->net_source = g_strdup("unused-source");
    c->mac = g_strdup("52:54:00:12:34:56");
    c->ssh_port = 40022;
    c->image_alias = g_strdup("debian-12");
    c->base_pool = g_strdup("base-pool");
    c->base_volume = g_strdup("debian-12-0123456789ab");
    c->ssh_user = g_strdup("alice");
    add_strings(c->host_keys, keys);
    c->gpu->mode = VS_GPU_MODE_VGPU;
    c->gpu->vgpu_kind = VS_VGPU_KIND_VENDOR_VFIO;
    c->gpu->device = g_strdup("0000:41:00.4");
    c->gpu->vgpu_type = g_strdup("1099");
    c->gpu->render_node = g_strdup("/dev/dri/renderD128");
    c->gpu->mdev_uuid = g_strdup("b1d2c3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e");
    add_strings(c->gpu->functions, functions);
    add_strings(c->gpu->reasons, reasons);
    return c;
}

/* The same on a bridge with passthrough and seed-from: the vGPU type and kind (still set) are
 * not written for passthrough, nor the SSH host and port for a bridge, nor a seed volume. */
static VsDomainConfig *
config_passthrough_bridge(void)
{
    VsDomainConfig *c = config_vgpu_user();

    g_clear_pointer(&c->seed_volume, g_free);
    c->seed_from = g_strdup("http://192.0.2.1/seed/");
    c->net_mode = VS_NET_BRIDGE;
    g_free(c->net_source);
    c->net_source = g_strdup("br0");
    c->gpu->mode = VS_GPU_MODE_PASSTHROUGH;
    return c;
}

/* Returns the <vs:station> element of the domain XML @xml, serialised on its own as
 * virDomainGetMetadata gives it. */
static char *
station_element(const char *xml)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
    g_autoptr(xmlXPathObject) obj =
        xmlXPathEvalExpression(BAD_CAST "/domain/metadata/vs:station", ctxt);
    g_assert_nonnull(obj->nodesetval);
    g_assert_cmpint(obj->nodesetval->nodeNr, ==, 1);
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, obj->nodesetval->nodeTab[0], 0, 0);
    char *out = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return out;
}

static void
assert_strings(GPtrArray *got, GPtrArray *want)
{
    g_assert_cmpuint(got->len, ==, want->len);
    for (guint i = 0; i < want->len; i++)
        g_assert_cmpstr(got->pdata[i], ==, want->pdata[i]);
}

/* Asserts that @s holds every metadata field of @c, as add_metadata writes it. */
static void
assert_station_is_config(const VsMetadata *s, const VsDomainConfig *c)
{
    gboolean vgpu = c->gpu->mode == VS_GPU_MODE_VGPU;
    gboolean user = c->net_mode == VS_NET_USER;

    g_assert_cmpstr(s->uuid, ==, c->uuid);
    g_assert_cmpstr(s->image_alias, ==, c->image_alias);
    g_assert_cmpstr(s->base_pool, ==, c->base_pool);
    g_assert_cmpstr(s->base_volume, ==, c->base_volume);
    g_assert_cmpint(s->gpu_mode, ==, c->gpu->mode);
    g_assert_cmpstr(s->gpu_device, ==, c->gpu->device);
    g_assert_cmpstr(s->gpu_vgpu_type, ==, vgpu ? c->gpu->vgpu_type : NULL);
    g_assert_cmpint(s->gpu_vgpu_kind, ==, vgpu ? c->gpu->vgpu_kind : VS_VGPU_KIND_MDEV);
    g_assert_cmpstr(s->gpu_render_node, ==, c->gpu->render_node);
    g_assert_cmpstr(s->gpu_mdev_uuid, ==, c->gpu->mdev_uuid);
    assert_strings(s->gpu_functions, c->gpu->functions);
    assert_strings(s->gpu_reasons, c->gpu->reasons);
    g_assert_cmpuint(s->volumes->len, ==, c->seed_volume ? 2 : 1);
    for (guint i = 0; i < s->volumes->len; i++) {
        const VsOwnedVolume *v = s->volumes->pdata[i];
        g_assert_cmpstr(v->role, ==, i == 0 ? "disk" : "seed");
        g_assert_cmpstr(v->pool, ==, c->pool);
        g_assert_cmpstr(v->name, ==, i == 0 ? c->disk_volume : c->seed_volume);
    }
    g_assert_cmpstr(s->net_mode, ==, vs_net_mode_to_string(c->net_mode));
    g_assert_cmpstr(s->net_source, ==, c->net_source);
    g_assert_cmpstr(s->mac, ==, c->mac);
    g_assert_cmpstr(s->ssh_user, ==, c->ssh_user);
    g_assert_cmpstr(s->ssh_host, ==, user ? "127.0.0.1" : NULL);
    g_assert_cmpuint(s->ssh_port, ==, user ? c->ssh_port : 0);
    assert_strings(s->host_keys, c->host_keys);
}

static gboolean
strings_equal(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++)
        if (g_strcmp0(a->pdata[i], b->pdata[i]) != 0)
            return FALSE;
    return TRUE;
}

/* Returns TRUE when @a and @b hold the same in every field of VsMetadata. */
static gboolean
stations_equal(const VsMetadata *a, const VsMetadata *b)
{
    if (a->volumes->len != b->volumes->len)
        return FALSE;
    for (guint i = 0; i < a->volumes->len; i++) {
        const VsOwnedVolume *va = a->volumes->pdata[i], *vb = b->volumes->pdata[i];
        if (g_strcmp0(va->role, vb->role) || g_strcmp0(va->pool, vb->pool) ||
            g_strcmp0(va->name, vb->name))
            return FALSE;
    }
    return !g_strcmp0(a->uuid, b->uuid) && !g_strcmp0(a->image_alias, b->image_alias) &&
           !g_strcmp0(a->base_pool, b->base_pool) && !g_strcmp0(a->base_volume, b->base_volume) &&
           a->gpu_mode == b->gpu_mode && !g_strcmp0(a->gpu_device, b->gpu_device) &&
           !g_strcmp0(a->gpu_vgpu_type, b->gpu_vgpu_type) && a->gpu_vgpu_kind == b->gpu_vgpu_kind &&
           !g_strcmp0(a->gpu_render_node, b->gpu_render_node) &&
           !g_strcmp0(a->gpu_mdev_uuid, b->gpu_mdev_uuid) &&
           strings_equal(a->gpu_functions, b->gpu_functions) &&
           strings_equal(a->gpu_reasons, b->gpu_reasons) && !g_strcmp0(a->net_mode, b->net_mode) &&
           !g_strcmp0(a->net_source, b->net_source) && !g_strcmp0(a->mac, b->mac) &&
           !g_strcmp0(a->ssh_user, b->ssh_user) && !g_strcmp0(a->ssh_host, b->ssh_host) &&
           a->ssh_port == b->ssh_port && strings_equal(a->host_keys, b->host_keys);
}

/* What the writer put in the element: an attribute, the text of an element, or an element. */
typedef struct {
    xmlNode *element;
    xmlAttr *attr; /* the attribute, or NULL */
    xmlNode *text; /* without @attr: the element's text node, or NULL for the element itself */
} VsWritten;

/* Appends everything written under @node (itself too, but for the root) to @out, in document
 * order. */
static void
collect_written(xmlNode *node, GArray *out)
{
    if (node->parent && node->parent->type == XML_ELEMENT_NODE) {
        VsWritten w = {node, NULL, NULL};
        g_array_append_val(out, w);
    }
    for (xmlAttr *a = node->properties; a; a = a->next) {
        VsWritten w = {node, a, NULL};
        g_array_append_val(out, w);
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            collect_written(c, out);
        } else if (c->type == XML_TEXT_NODE && !xmlIsBlankNode(c)) {
            VsWritten w = {node, NULL, c};
            g_array_append_val(out, w);
        }
    }
}

/* Returns how many things collect_written() finds in the station element @xml. With @index below
 * that, the @index-th of them is changed (an element: removed), the station element then is
 * returned in @ret_changed and what was changed in @ret_what; else @ret_changed is NULL. */
static guint
change_written(const char *xml, guint index, char **ret_changed, char **ret_what)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "s.xml", NULL, XML_PARSE_NONET);
    g_autoptr(GArray) written = g_array_new(FALSE, FALSE, sizeof(VsWritten));

    g_assert_nonnull(doc);
    collect_written(xmlDocGetRootElement(doc), written);
    *ret_changed = NULL;
    if (index >= written->len)
        return written->len;
    VsWritten *w = &g_array_index(written, VsWritten, index);
    if (w->attr) {
        *ret_what = g_strdup_printf("attribute %s of <%s>", w->attr->name, w->element->name);
        xmlSetProp(w->element, w->attr->name, BAD_CAST CHANGED);
    } else if (w->text) {
        *ret_what = g_strdup_printf("the text of <%s>", w->element->name);
        xmlNodeSetContent(w->text, BAD_CAST CHANGED);
    } else {
        *ret_what = g_strdup_printf("the element <%s>", w->element->name);
        xmlUnlinkNode(w->element);
        xmlFreeNode(w->element);
    }
    xmlBuffer *buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 0);
    *ret_changed = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return written->len;
}

/* Everything the writer put in @station_xml is read: changing or removing it changes the parsed
 * station (or makes the metadata unreadable, as the version does). */
static void
assert_every_value_read(const char *station_xml, const VsMetadata *original)
{
    guint n = 0;

    for (guint i = 0;; i++) {
        g_autofree char *changed = NULL;
        g_autofree char *what = NULL;
        g_autoptr(GError) error = NULL;
        n = change_written(station_xml, i, &changed, &what);
        if (!changed)
            break;
        g_autoptr(VsMetadata) s = vs_metadata_parse(changed, &error);
        if (s && stations_equal(s, original))
            g_error("vs_metadata_parse ignores %s, which add_metadata writes", what);
    }
    g_assert_cmpuint(n, >, 15); /* the walk saw the values: there are more than that */
}

typedef struct {
    const char *path;
    VsDomainConfig *(*make)(void);
} VsRoundTripCase;

static const VsRoundTripCase round_trip_cases[] = {
    {"/metadata/round-trip/vgpu-user", config_vgpu_user},
    {"/metadata/round-trip/passthrough-bridge", config_passthrough_bridge},
};

static void
test_round_trip(gconstpointer data)
{
    const VsRoundTripCase *rt = data;
    g_autoptr(VsDomainConfig) c = rt->make();
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_domain_xml(c, &error);
    g_assert_no_error(error);
    g_autofree char *station_xml = station_element(xml);
    g_autoptr(VsMetadata) s = vs_metadata_parse(station_xml, &error);

    g_assert_no_error(error);
    assert_station_is_config(s, c);
    assert_every_value_read(station_xml, s);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(round_trip_cases); i++)
        g_test_add_data_func(round_trip_cases[i].path, &round_trip_cases[i], test_round_trip);
    return g_test_run();
}
