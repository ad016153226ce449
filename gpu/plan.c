#include "gpu/plan.h"

#include <string.h>

#include "common/vs-enum.h"

#include <stdio.h>

VS_ENUM_IMPL(gpu_mode, VsGpuMode, VS_GPU_MODE_LAST, "none", "virgl", "vgpu", "passthrough", "auto")
VS_ENUM_IMPL(vgpu_kind, VsVgpuKind, VS_VGPU_KIND_LAST, "mdev", "vendor-vfio")

VsGpuPlan *
vs_gpu_plan_new(VsGpuMode mode)
{
    VsGpuPlan *plan = g_new0(VsGpuPlan, 1);

    plan->mode = mode;
    plan->functions = g_ptr_array_new_with_free_func(g_free);
    plan->reasons = g_ptr_array_new_with_free_func(g_free);
    return plan;
}

void
vs_gpu_plan_free(VsGpuPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->device);
    g_free(plan->vgpu_type);
    g_free(plan->render_node);
    g_free(plan->mdev_uuid);
    g_ptr_array_unref(plan->functions);
    g_ptr_array_unref(plan->reasons);
    g_free(plan);
}

VsGpuPlan *
vs_gpu_plan_copy(const VsGpuPlan *plan)
{
    VsGpuPlan *copy = vs_gpu_plan_new(plan->mode);

    copy->device = g_strdup(plan->device);
    copy->vgpu_type = g_strdup(plan->vgpu_type);
    copy->vgpu_kind = plan->vgpu_kind;
    copy->render_node = g_strdup(plan->render_node);
    copy->egl_headless = plan->egl_headless;
    copy->mdev_uuid = g_strdup(plan->mdev_uuid);
    copy->mmio64_bytes = plan->mmio64_bytes;
    for (guint i = 0; i < plan->functions->len; i++)
        g_ptr_array_add(copy->functions, g_strdup(plan->functions->pdata[i]));
    for (guint i = 0; i < plan->reasons->len; i++)
        g_ptr_array_add(copy->reasons, g_strdup(plan->reasons->pdata[i]));
    return copy;
}

gboolean
vs_pci_address_parse(const char *str, guint *ret_domain, guint *ret_bus, guint *ret_slot,
                     guint *ret_function)
{
    guint domain = 0, bus, slot, function;
    const char *colon = str ? strchr(str, ':') : NULL;
    const char *rest = str;
    gsize digits = colon ? (gsize)(colon - str) : 0;
    int end = 0;

    if (!str)
        return FALSE;
    /* "dddd:bb:dd.f", with a domain of 4 to 8 hex digits (Intel VMD puts devices in domains
     * 10000 and up), or "bb:dd.f" in domain 0. */
    if (colon && strchr(colon + 1, ':')) {
        guint64 d;
        g_autofree char *text = g_strndup(str, digits);
        if (digits < 4 || digits > 8 || strspn(text, "0123456789abcdefABCDEF") != digits ||
            !g_ascii_string_to_unsigned(text, 16, 0, G_MAXUINT32, &d, NULL))
            return FALSE;
        domain = (guint)d;
        rest = colon + 1;
    }
    if (sscanf(rest, "%2x:%2x.%1x%n", &bus, &slot, &function, &end) != 3 || rest[end] != '\0' ||
        end != 7 || !g_ascii_isxdigit(rest[0]) || !g_ascii_isxdigit(rest[3]))
        return FALSE;
    if (slot > 0x1f || function > 7)
        return FALSE;
    *ret_domain = domain;
    *ret_bus = bus;
    *ret_slot = slot;
    *ret_function = function;
    return TRUE;
}

char *
vs_pci_slot_of(const char *address)
{
    const char *dot = address ? strrchr(address, '.') : NULL;

    return dot ? g_strndup(address, (gsize)(dot - address)) : g_strdup(address);
}
