#include "gpu/nodedev.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <string.h>

static void
xml_doc_free(xmlDoc *doc)
{
    xmlFreeDoc(doc);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xml_doc_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlXPathContext, xmlXPathFreeContext)

/* Returns the string value of @expr, or NULL when empty. */
static char *
xstr(xmlXPathContext *ctxt, const char *expr)
{
    xmlXPathObject *o = xmlXPathEvalExpression(BAD_CAST expr, ctxt);
    char *ret = NULL;

    if (o && o->type == XPATH_STRING && o->stringval && *o->stringval)
        ret = g_strdup((const char *)o->stringval);
    xmlXPathFreeObject(o);
    return ret;
}

static gint64
xint(xmlXPathContext *ctxt, const char *expr, gint64 fallback)
{
    g_autofree char *s = xstr(ctxt, expr);
    char *end = NULL;
    gint64 v;

    if (!s)
        return fallback;
    v = g_ascii_strtoll(s, &end, 0);
    return end && *end == '\0' ? v : fallback;
}

/* Returns "dddd:bb:dd.f" for the node device name pci_dddd_bb_dd_f, or NULL. */
static char *
address_of(const char *name)
{
    guint d, b, s, f;

    if (!name || sscanf(name, "pci_%x_%2x_%2x_%1x", &d, &b, &s, &f) != 4)
        return NULL;
    return g_strdup_printf("%04x:%02x:%02x.%x", d, b, s, f);
}

static int
compare_devices(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VsGpuDevice *const *)a)->address, (*(VsGpuDevice *const *)b)->address);
}

static int
compare_types(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VsVgpuType *const *)a)->id, (*(VsVgpuType *const *)b)->id);
}

#define PHYSFN "string(/device/capability/capability[@type='phys_function']/address/"

/* Returns the address of the physical function of the VF described in @ctxt, or NULL. */
static char *
physfn_address(xmlXPathContext *ctxt)
{
    g_autofree char *pd = xstr(ctxt, PHYSFN "@domain)");

    if (!pd)
        return NULL;
    return g_strdup_printf("%04x:%02x:%02x.%x", (guint)g_ascii_strtoull(pd, NULL, 0),
                           (guint)xint(ctxt, PHYSFN "@bus)", 0),
                           (guint)xint(ctxt, PHYSFN "@slot)", 0),
                           (guint)xint(ctxt, PHYSFN "@function)", 0));
}

/* Adds the mdev types of the PCI device @d (described in @doc, @ctxt) to it, sorted by id; a
 * type without id or count is skipped with a warning in @warnings. */
static void
add_mdev_types(VsGpuDevice *d, xmlDoc *doc, xmlXPathContext *ctxt, GPtrArray *warnings)
{
    xmlXPathObject *types = xmlXPathEvalExpression(
        BAD_CAST "/device/capability/capability[@type='mdev_types']/type", ctxt);

    for (int k = 0; types && types->nodesetval && k < types->nodesetval->nodeNr; k++) {
        g_autoptr(xmlXPathContext) tc = xmlXPathNewContext(doc);
        VsVgpuType *t = g_new0(VsVgpuType, 1);
        tc->node = types->nodesetval->nodeTab[k];
        t->id = xstr(tc, "string(@id)");
        t->name = xstr(tc, "string(name)");
        if (!t->name)
            t->name = g_strdup(t->id);
        t->available = xint(tc, "string(availableInstances)", -1);
        t->framebuffer_mib = vs_gpu_framebuffer_mib(NULL, t->name);
        t->parent = g_strdup(d->address);
        t->kind = VS_VGPU_KIND_MDEV;
        if (!t->id || t->available < 0) {
            g_ptr_array_add(warnings, g_strdup_printf("%s: an mdev type without id or count was "
                                                      "skipped",
                                                      d->address));
            vs_vgpu_type_free(t);
            continue;
        }
        g_ptr_array_add(d->vgpu_types, t);
    }
    xmlXPathFreeObject(types);
    g_ptr_array_sort(d->vgpu_types, compare_types);
}

/* Returns the PCI device described by the node device XML in @doc, @ctxt. */
static VsGpuDevice *
pci_device(xmlDoc *doc, xmlXPathContext *ctxt, GPtrArray *warnings)
{
    VsGpuDevice *d = g_new0(VsGpuDevice, 1);

    d->vgpu_types = g_ptr_array_new_with_free_func((GDestroyNotify)vs_vgpu_type_free);
    d->address = g_strdup_printf("%04x:%02x:%02x.%x",
                                 (guint)xint(ctxt, "string(/device/capability/domain)", 0),
                                 (guint)xint(ctxt, "string(/device/capability/bus)", 0),
                                 (guint)xint(ctxt, "string(/device/capability/slot)", 0),
                                 (guint)xint(ctxt, "string(/device/capability/function)", 0));
    d->vendor_id = (guint)xint(ctxt, "string(/device/capability/vendor/@id)", 0);
    d->device_id = (guint)xint(ctxt, "string(/device/capability/product/@id)", 0);
    d->class_code = (guint)(xint(ctxt, "string(/device/capability/class)", 0) >> 8);
    d->vendor = xstr(ctxt, "string(/device/capability/vendor)");
    d->name = xstr(ctxt, "string(/device/capability/product)");
    d->driver = xstr(ctxt, "string(/device/driver/name)");
    d->iommu_group = (int)xint(ctxt, "string(/device/capability/iommuGroup/@number)", -1);
    d->numa_node = (int)xint(ctxt, "string(/device/capability/numa/@node)", -1);
    d->physfn = physfn_address(ctxt);
    add_mdev_types(d, doc, ctxt, warnings);
    return d;
}

/* Records in @renders (PCI address -> render node) the DRM render node described in @ctxt. */
static void
note_render_node(xmlXPathContext *ctxt, GHashTable *renders)
{
    g_autofree char *type = xstr(ctxt, "string(/device/capability/type)");
    g_autofree char *node = xstr(ctxt, "string(/device/devnode[@type='dev'])");
    g_autofree char *parent_name = xstr(ctxt, "string(/device/parent)");
    g_autofree char *parent = address_of(parent_name);

    if (g_strcmp0(type, "render") == 0 && node && parent)
        g_hash_table_replace(renders, g_steal_pointer(&parent), g_steal_pointer(&node));
}

VsGpuInventory *
vs_gpu_inventory_from_nodedevs(GPtrArray *xmls, GError **error)
{
    g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_new();
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_device_free);
    g_autoptr(GHashTable) renders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < xmls->len; i++) {
        const char *xml = xmls->pdata[i];
        g_autoptr(xmlDoc) doc =
            xmlReadMemory(xml, (int)strlen(xml), "nodedev.xml", NULL,
                          XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        g_autoptr(xmlXPathContext) ctxt = NULL;
        g_autofree char *cap = NULL;

        if (!doc) {
            g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                        "libvirt gave node device XML that does not parse (document %u)", i + 1);
            return NULL;
        }
        ctxt = xmlXPathNewContext(doc);
        cap = xstr(ctxt, "string(/device/capability/@type)");
        if (g_strcmp0(cap, "drm") == 0)
            note_render_node(ctxt, renders);
        if (g_strcmp0(cap, "pci") != 0)
            continue;
        VsGpuDevice *d = pci_device(doc, ctxt, inv->warnings);
        g_ptr_array_add(all, d);
        vs_gpu_inventory_note(inv, d);
        if (vs_gpu_device_is_display(d))
            g_hash_table_add(slots, vs_pci_slot_of(d->address));
    }
    /* Every function of a slot that holds a display device, with its render node. */
    for (guint i = 0; i < all->len; i++) {
        VsGpuDevice *d = all->pdata[i];
        g_autofree char *slot = vs_pci_slot_of(d->address);
        const char *render = g_hash_table_lookup(renders, d->address);
        if (!g_hash_table_contains(slots, slot))
            continue;
        d->render_node = g_strdup(render);
        g_ptr_array_add(inv->devices, g_steal_pointer(&all->pdata[i]));
    }
    g_ptr_array_sort(inv->devices, compare_devices);
    return g_steal_pointer(&inv);
}
