#include "plan.h"

#include <stdio.h>

static const char *const mode_names[VS_GPU_MODE_LAST] = {
    [VS_GPU_MODE_NONE] = "none", [VS_GPU_MODE_VIRGL] = "virgl",
    [VS_GPU_MODE_VGPU] = "vgpu", [VS_GPU_MODE_PASSTHROUGH] = "passthrough",
    [VS_GPU_MODE_AUTO] = "auto",
};

static const char *const kind_names[VS_VGPU_KIND_LAST] = {
    [VS_VGPU_KIND_MDEV] = "mdev",
    [VS_VGPU_KIND_VENDOR_VFIO] = "vendor-vfio",
};

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

const char *
vs_gpu_mode_to_string(VsGpuMode mode)
{
    g_return_val_if_fail(mode < VS_GPU_MODE_LAST, NULL);
    return mode_names[mode];
}

int
vs_gpu_mode_from_string(const char *str)
{
    for (int i = 0; i < VS_GPU_MODE_LAST; i++) {
        if (g_strcmp0(mode_names[i], str) == 0)
            return i;
    }
    return -1;
}

const char *
vs_vgpu_kind_to_string(VsVgpuKind kind)
{
    g_return_val_if_fail(kind < VS_VGPU_KIND_LAST, NULL);
    return kind_names[kind];
}

int
vs_vgpu_kind_from_string(const char *str)
{
    for (int i = 0; i < VS_VGPU_KIND_LAST; i++) {
        if (g_strcmp0(kind_names[i], str) == 0)
            return i;
    }
    return -1;
}

gboolean
vs_pci_address_parse(const char *str, guint *ret_domain, guint *ret_bus, guint *ret_slot,
                     guint *ret_function)
{
    guint domain = 0, bus, slot, function;
    int end = 0;

    if (!str)
        return FALSE;
    if (sscanf(str, "%4x:%2x:%2x.%1x%n", &domain, &bus, &slot, &function, &end) == 4 &&
        str[end] == '\0' && end == 12)
        ;
    else if (domain = 0, sscanf(str, "%2x:%2x.%1x%n", &bus, &slot, &function, &end) == 3 &&
                             str[end] == '\0' && end == 7)
        ;
    else
        return FALSE;
    if (slot > 0x1f || function > 7)
        return FALSE;
    *ret_domain = domain;
    *ret_bus = bus;
    *ret_slot = slot;
    *ret_function = function;
    return TRUE;
}
