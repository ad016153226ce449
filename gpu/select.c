/* GPU selection.
 *
 * Theory of operation: `auto` never takes a whole GPU away from the host. It picks a vGPU when
 * any device offers a type with instances available: the smallest framebuffer of at least the
 * requested memory, at equal size preferring series Q (virtual workstation), then C (compute),
 * B, A; the largest available when none is that big; the instance from the first parent in
 * address order that has one. Otherwise virgl on the first render node driven by a Mesa driver,
 * when QEMU is 6.1 or newer. Otherwise none. Explicit modes are checked the same way and fail
 * with what is available. Every plan carries sentences saying what was chosen and why each
 * other device or mode was not. */
#include "gpu/select.h"

#include <string.h>

/* Mesa's kernel drivers; a virtio GPU shows the PCI driver virtio-pci in sysfs. */
static const char *const mesa_drivers[] = {"i915",    "xe",         "amdgpu",     "radeon",
                                           "nouveau", "virtio_gpu", "virtio-pci", NULL};

void
vs_gpu_request_clear(VsGpuRequest *req)
{
    g_clear_pointer(&req->vgpu_type, g_free);
    g_clear_pointer(&req->address, g_free);
}

gboolean
vs_gpu_request_parse(const char *text, guint64 memory_mib, VsGpuRequest *ret, GError **error)
{
    VsGpuRequest req = {.memory_mib = memory_mib ? memory_mib : 4096};
    const char *arg = text ? strchr(text, ':') : NULL;
    g_autofree char *mode =
        text ? g_strndup(text, arg ? (gsize)(arg - text) : strlen(text)) : g_strdup("auto");
    int m = vs_gpu_mode_from_string(mode);

    if (m < 0 || (arg && m != VS_GPU_MODE_VGPU && m != VS_GPU_MODE_PASSTHROUGH) ||
        (m == VS_GPU_MODE_PASSTHROUGH && !arg) || (arg && !arg[1]))
        return vs_gpu_fail(
            error, VS_GPU_ERROR_INVALID,
            "--gpu: '%s' is not one of auto, none, virgl, vgpu[:TYPE], passthrough:ADDR", text);
    req.mode = m;
    if (m == VS_GPU_MODE_VGPU && arg)
        req.vgpu_type = g_strdup(arg + 1);
    if (m == VS_GPU_MODE_PASSTHROUGH) {
        guint d, b, s, f;
        if (!vs_pci_address_parse(arg + 1, &d, &b, &s, &f))
            return vs_gpu_fail(error, VS_GPU_ERROR_INVALID,
                               "--gpu passthrough: '%s' is not a PCI address like 0000:01:00.0",
                               arg + 1);
        req.address = g_strdup_printf("%04x:%02x:%02x.%x", d, b, s, f);
    }
    *ret = req;
    return TRUE;
}

static void reason(VsGpuPlan *plan, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
reason(VsGpuPlan *plan, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_ptr_array_add(plan->reasons, g_strdup_vprintf(format, ap));
    va_end(ap);
}

/* Returns Q=0, C=1, B=2, A=3 from a profile name ("GRID T4-2Q"), 4 when unknown. */
static int
series_rank(const char *name)
{
    static const char order[] = "QCBA";
    size_t len = name ? strlen(name) : 0;
    const char *at = len ? strchr(order, name[len - 1]) : NULL;

    return at && name[len - 1] ? (int)(at - order) : 4;
}

/* Returns TRUE when @a is a better vGPU type than @b for @want MiB. */
static gboolean
better_type(const VsVgpuType *a, const VsVgpuType *b, guint64 want)
{
    gboolean a_fits = a->framebuffer_mib >= want, b_fits = b->framebuffer_mib >= want;

    if (a_fits != b_fits)
        return a_fits;
    if (a->framebuffer_mib != b->framebuffer_mib)
        return a_fits ? a->framebuffer_mib < b->framebuffer_mib
                      : a->framebuffer_mib > b->framebuffer_mib;
    return series_rank(a->name) < series_rank(b->name);
}

static const char *
describe(const VsGpuDevice *d)
{
    return d->name ? d->name : "unknown device";
}

static VsGpuPlan *
plan_vgpu(const VsVgpuType *t, const char *why)
{
    VsGpuPlan *plan = vs_gpu_plan_new(VS_GPU_MODE_VGPU);

    plan->device = g_strdup(t->parent);
    plan->vgpu_type = g_strdup(t->id);
    plan->vgpu_kind = t->kind;
    reason(plan, "vGPU %s (%s, %" G_GUINT64_FORMAT " MiB) on %s: %s", t->name, t->id,
           t->framebuffer_mib, t->parent, why);
    return plan;
}

/* Returns the best available vGPU type for @want MiB (first parent in address order), or NULL;
 * with @any, the best type whether or not an instance is free. */
static const VsVgpuType *
best_vgpu(const VsGpuInventory *inv, guint64 want, gboolean any)
{
    const VsVgpuType *best = NULL;

    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        for (guint k = 0; k < d->vgpu_types->len; k++) {
            const VsVgpuType *t = d->vgpu_types->pdata[k];
            if ((any || t->available > 0) && (!best || better_type(t, best, want)))
                best = t;
        }
    }
    return best;
}

static gboolean
is_mesa(const VsGpuDevice *d)
{
    return d->driver && g_strv_contains(mesa_drivers, d->driver);
}

/* Adds a sentence per device that was not chosen, saying why. */
static void
explain_others(VsGpuPlan *plan, const VsGpuInventory *inv)
{
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        gboolean offers = FALSE;
        if (!vs_gpu_device_is_display(d) || g_strcmp0(d->address, plan->device) == 0)
            continue;
        for (guint k = 0; k < d->vgpu_types->len; k++)
            offers |= ((VsVgpuType *)d->vgpu_types->pdata[k])->available > 0;
        if (offers)
            reason(plan, "%s (%s): offers vGPU types, but another was chosen", d->address,
                   describe(d));
        else if (d->vgpu_types->len > 0)
            reason(plan, "%s (%s): no vGPU instance available", d->address, describe(d));
        else if (d->render_node && !is_mesa(d))
            reason(plan,
                   "%s (%s): its render node is driven by %s, not a Mesa driver; `--gpu virgl` "
                   "uses it through egl-headless",
                   d->address, describe(d), d->driver ? d->driver : "no driver");
        else if (d->render_node)
            reason(plan, "%s (%s): virgl on %s is possible, but not chosen", d->address,
                   describe(d), d->render_node);
        else
            reason(plan, "%s (%s): no vGPU types and no render node%s", d->address, describe(d),
                   plan->mode == VS_GPU_MODE_PASSTHROUGH
                       ? ""
                       : "; auto never passes a whole GPU through");
    }
}

static GString *
list_available(const VsGpuInventory *inv)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        for (guint k = 0; k < d->vgpu_types->len; k++) {
            const VsVgpuType *t = d->vgpu_types->pdata[k];
            if (t->available > 0)
                g_string_append_printf(s, "%s%s (%s) on %s", s->len ? ", " : "", t->name, t->id,
                                       t->parent);
        }
    }
    if (s->len == 0)
        g_string_append(s, "none");
    return s;
}

static VsGpuPlan *
select_vgpu(const VsGpuInventory *inv, const VsGpuRequest *req, GError **error)
{
    const VsVgpuType *found = NULL, *full = NULL;
    g_autoptr(GString) available = NULL;

    if (!req->vgpu_type) {
        found = best_vgpu(inv, req->memory_mib, FALSE);
        if (found)
            return plan_vgpu(found, found->framebuffer_mib >= req->memory_mib
                                        ? "the smallest available type of at least the memory asked"
                                        : "no available type is as large as asked: the largest");
    } else {
        for (guint i = 0; i < inv->devices->len && !found; i++) {
            const VsGpuDevice *d = inv->devices->pdata[i];
            for (guint k = 0; k < d->vgpu_types->len && !found; k++) {
                const VsVgpuType *t = d->vgpu_types->pdata[k];
                gboolean match = g_strcmp0(t->id, req->vgpu_type) == 0 ||
                                 g_strcmp0(t->name, req->vgpu_type) == 0;
                if (match && t->available > 0)
                    found = t;
                else if (match && !full)
                    full = t;
            }
        }
        if (found)
            return plan_vgpu(found, "as asked");
    }
    /* Types exist but every instance is taken: the plan names one anyway, and the claim under
     * the GPU lock refuses with who holds them and what is free instead (or takes one that was
     * given back meanwhile). */
    if (!full && !req->vgpu_type)
        full = best_vgpu(inv, req->memory_mib, TRUE);
    if (full)
        return plan_vgpu(full, "no instance is free now: the GPU lock decides when the "
                               "workstation is made");
    available = list_available(inv);
    if (req->vgpu_type)
        vs_gpu_fail(error, VS_GPU_ERROR_UNKNOWN, "vGPU type %s: no device offers it; available: %s",
                    req->vgpu_type, available->str);
    else
        vs_gpu_fail(error, VS_GPU_ERROR_REFUSED, "no vGPU instance is available on this host");
    return NULL;
}

static VsGpuPlan *
select_virgl(const VsGpuInventory *inv, unsigned long qemu, gboolean forced, GError **error)
{
    const VsGpuDevice *mesa = NULL, *other = NULL;
    VsGpuPlan *plan;

    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        if (!d->render_node)
            continue;
        if (is_mesa(d) && !mesa)
            mesa = d;
        else if (!is_mesa(d) && !other)
            other = d;
    }
    if (qemu && qemu < VS_GPU_VIRGL_QEMU_VERSION) {
        if (forced)
            vs_gpu_fail(
                error, VS_GPU_ERROR_REFUSED,
                "--gpu virgl needs QEMU 6.1 or newer (virtio-vga-gl); this host has %lu.%lu",
                qemu / 1000000, qemu / 1000 % 1000);
        return NULL;
    }
    if (!mesa && !(forced && other)) {
        if (forced)
            vs_gpu_fail(error, VS_GPU_ERROR_REFUSED, "--gpu virgl: this host has no render node");
        return NULL;
    }
    plan = vs_gpu_plan_new(VS_GPU_MODE_VIRGL);
    if (mesa) {
        plan->device = g_strdup(mesa->address);
        plan->render_node = g_strdup(mesa->render_node);
        reason(plan, "virgl on %s (%s, driver %s): 3D through the host's Mesa driver",
               mesa->render_node, mesa->address, mesa->driver);
    } else {
        plan->device = g_strdup(other->address);
        plan->render_node = g_strdup(other->render_node);
        plan->egl_headless = TRUE;
        reason(plan,
               "virgl on %s (%s) as asked: its driver %s is not Mesa, so rendering goes through "
               "egl-headless (SPICE GL fails to initialise on it)",
               other->render_node, other->address, other->driver ? other->driver : "unknown");
    }
    return plan;
}

static VsGpuPlan *
select_passthrough(const VsGpuInventory *inv, const char *address, GError **error)
{
    const VsGpuDevice *dev = NULL;
    GPtrArray *members;
    g_autoptr(GString) blocking = g_string_new(NULL);
    g_autofree char *slot = NULL;
    VsGpuPlan *plan;

    for (guint i = 0; i < inv->devices->len; i++)
        if (strcmp(((VsGpuDevice *)inv->devices->pdata[i])->address, address) == 0)
            dev = inv->devices->pdata[i];
    if (!dev || !vs_gpu_device_is_display(dev))
        return vs_gpu_fail(error, VS_GPU_ERROR_UNKNOWN,
                           "--gpu passthrough:%s: no GPU at that address", address),
               NULL;
    if (dev->iommu_group < 0)
        return vs_gpu_fail(
                   error, VS_GPU_ERROR_REFUSED,
                   "--gpu passthrough:%s: the device is in no IOMMU group (is the IOMMU on?)",
                   address),
               NULL;
    members = g_hash_table_lookup(inv->iommu_groups, GINT_TO_POINTER(dev->iommu_group));
    plan = vs_gpu_plan_new(VS_GPU_MODE_PASSTHROUGH);
    plan->device = g_strdup(address);
    slot = vs_pci_slot_of(address);
    for (guint i = 0; members && i < members->len; i++) {
        const char *m = members->pdata[i];
        guint cls = GPOINTER_TO_UINT(g_hash_table_lookup(inv->classes, m));
        g_autofree char *m_slot = vs_pci_slot_of(m);
        if (strcmp(m_slot, slot) == 0) {
            g_ptr_array_add(plan->functions, g_strdup(m));
            plan->mmio64_bytes += vs_gpu_inventory_bar64_bytes(inv, m);
        } else if ((cls >> 8) != 0x06) /* bridges may stay */
            g_string_append_printf(blocking, "%s%s (class %04x)", blocking->len ? ", " : "", m,
                                   cls);
    }
    if (blocking->len > 0) {
        vs_gpu_plan_free(plan);
        return vs_gpu_fail(
                   error, VS_GPU_ERROR_REFUSED,
                   "--gpu passthrough:%s: IOMMU group %d also holds %s, which would have to go "
                   "along; passthrough needs a group of this device's functions only",
                   address, dev->iommu_group, blocking->str),
               NULL;
    }
    reason(plan, "the whole device %s (%s) passes through with its %u function%s", address,
           describe(dev), plan->functions->len, plan->functions->len == 1 ? "" : "s");
    return plan;
}

VsGpuPlan *
vs_gpu_select(const VsGpuInventory *inv, const VsGpuRequest *req, unsigned long qemu,
              GError **error)
{
    VsGpuPlan *plan = NULL;

    switch (req->mode) {
    case VS_GPU_MODE_NONE:
        plan = vs_gpu_plan_new(VS_GPU_MODE_NONE);
        reason(plan, "no GPU, as asked");
        return plan;
    case VS_GPU_MODE_VGPU:
        plan = select_vgpu(inv, req, error);
        break;
    case VS_GPU_MODE_VIRGL:
        plan = select_virgl(inv, qemu, TRUE, error);
        break;
    case VS_GPU_MODE_PASSTHROUGH:
        plan = select_passthrough(inv, req->address, error);
        break;
    case VS_GPU_MODE_AUTO:
    case VS_GPU_MODE_LAST:
        if (!req->no_vgpu && best_vgpu(inv, req->memory_mib, FALSE)) {
            plan = select_vgpu(inv, req, error);
        } else {
            plan = select_virgl(inv, qemu, FALSE, NULL);
            if (!plan) {
                plan = vs_gpu_plan_new(VS_GPU_MODE_NONE);
                if (qemu && qemu < VS_GPU_VIRGL_QEMU_VERSION)
                    reason(plan, "no vGPU available, and QEMU is older than 6.1 (no virgl)");
                else
                    reason(plan, "no vGPU available and no render node with a Mesa driver");
            }
        }
        break;
    }
    if (plan && inv)
        explain_others(plan, inv);
    return plan;
}

/* Returns why a host reached as @where cannot attach what @plan takes, or NULL when it can. */
static const char *
unattachable(const VsGpuPlan *plan, VsGpuWhere where)
{
    if (plan->mode != VS_GPU_MODE_VGPU && plan->mode != VS_GPU_MODE_PASSTHROUGH)
        return NULL;
    if (where & VS_GPU_WHERE_SESSION)
        return "a qemu:///session connection cannot attach host devices; use qemu:///system";
    if ((where & VS_GPU_WHERE_REMOTE) && plan->mode == VS_GPU_MODE_VGPU &&
        plan->vgpu_kind == VS_VGPU_KIND_VENDOR_VFIO)
        return "NVIDIA's vendor-specific vGPUs are set through the VF's sysfs files, which only "
               "a local connection reaches";
    if ((where & VS_GPU_WHERE_OLD_LIBVIRT) && plan->mode == VS_GPU_MODE_VGPU &&
        plan->vgpu_kind == VS_VGPU_KIND_VENDOR_VFIO)
        return "this host's libvirt is older than 9.7.0, the first release that starts a VF "
               "left on its vendor's driver (managed='no'); upgrade libvirt";
    return NULL;
}

VsGpuPlan *
vs_gpu_plan_request(const char *text, guint64 memory_mib, const VsGpuInventory *inv,
                    const GError *inv_error, unsigned long qemu_version, VsGpuWhere where,
                    GError **error)
{
    g_auto(VsGpuRequest) req = {0};
    g_autoptr(VsGpuPlan) plan = NULL;
    g_autofree char *would = NULL;
    const char *why;

    if (!vs_gpu_request_parse(text ? text : "auto", memory_mib, &req, error))
        return NULL;
    if (req.mode == VS_GPU_MODE_NONE)
        return vs_gpu_select(NULL, &req, qemu_version, error);
    if ((req.mode == VS_GPU_MODE_VGPU || req.mode == VS_GPU_MODE_PASSTHROUGH) &&
        (where & VS_GPU_WHERE_SESSION)) {
        vs_gpu_fail(error, VS_GPU_ERROR_REFUSED,
                    "--gpu %s: a qemu:///session connection cannot attach host devices; connect to "
                    "qemu:///system (as root, or a member of the libvirt group)",
                    text);
        return NULL;
    }
    if (!inv) {
        if (req.mode != VS_GPU_MODE_AUTO) {
            vs_gpu_fail(error, VS_GPU_ERROR_REFUSED, "--gpu %s: %s", text,
                        inv_error ? inv_error->message : "the host's GPUs are unknown");
            return NULL;
        }
        plan = vs_gpu_plan_new(VS_GPU_MODE_NONE);
        reason(plan, "the host's GPUs could not be read: %s",
               inv_error ? inv_error->message : "unknown");
        return g_steal_pointer(&plan);
    }
    plan = vs_gpu_select(inv, &req, qemu_version, error);
    why = plan ? unattachable(plan, where) : NULL;
    if (!why)
        return g_steal_pointer(&plan);
    would = g_strdup(plan->reasons->pdata[0]);
    if (req.mode != VS_GPU_MODE_AUTO) {
        vs_gpu_fail(error, VS_GPU_ERROR_REFUSED, "--gpu %s: %s; the plan would be: %s", text, why,
                    would);
        return NULL;
    }
    req.no_vgpu = TRUE;
    g_clear_pointer(&plan, vs_gpu_plan_free);
    plan = vs_gpu_select(inv, &req, qemu_version, error);
    if (!plan)
        return NULL;
    g_ptr_array_insert(plan->reasons, 1, g_strdup_printf("not chosen, because %s: %s", why, would));
    return g_steal_pointer(&plan);
}
