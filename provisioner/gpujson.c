#include "provisioner/gpujson.h"

static void
hex4(VsJson *j, const char *key, guint value)
{
    g_autofree char *s = g_strdup_printf("%04x", value);
    vs_json_string(j, key, s);
}

void
vs_gpujson_plan(VsJson *j, const char *key, const VsGpuPlan *plan)
{
    vs_json_begin_object(j, key);
    vs_json_string(j, "mode", vs_gpu_mode_to_string(plan->mode));
    vs_json_string(j, "device", plan->device);
    vs_json_string(j, "vgpu_type", plan->vgpu_type);
    vs_json_string(j, "render_node", plan->render_node);
    vs_json_begin_array(j, "reasons");
    for (guint i = 0; i < plan->reasons->len; i++)
        vs_json_string(j, NULL, plan->reasons->pdata[i]);
    vs_json_end_array(j);
    vs_json_end_object(j);
}

void
vs_gpu_allocation_free(VsGpuAllocation *a)
{
    if (!a)
        return;
    g_free(a->kind);
    g_free(a->id);
    g_free(a->device);
    g_free(a->vgpu_type);
    g_free(a->workstation);
    g_free(a->state);
    g_free(a);
}

char *
vs_gpujson_probe(const VsGpuInventory *inv, const VsGpuPlan *plan, const GPtrArray *allocations)
{
    VsJson j;

    vs_json_init(&j);
    vs_json_begin_object(&j, NULL);
    vs_json_int(&j, "version", 1);
    vs_json_begin_array(&j, "devices");
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        vs_json_begin_object(&j, NULL);
        vs_json_string(&j, "address", d->address);
        hex4(&j, "vendor_id", d->vendor_id);
        hex4(&j, "device_id", d->device_id);
        hex4(&j, "class", d->class_code);
        vs_json_string(&j, "vendor", d->vendor);
        vs_json_string(&j, "name", d->name);
        vs_json_string(&j, "driver", d->driver);
        if (d->iommu_group >= 0)
            vs_json_int(&j, "iommu_group", d->iommu_group);
        else
            vs_json_null(&j, "iommu_group");
        vs_json_string(&j, "physfn", d->physfn);
        vs_json_string(&j, "render_node", d->render_node);
        vs_json_begin_array(&j, "vgpu_types");
        for (guint k = 0; k < d->vgpu_types->len; k++) {
            const VsVgpuType *t = d->vgpu_types->pdata[k];
            vs_json_begin_object(&j, NULL);
            vs_json_string(&j, "id", t->id);
            vs_json_string(&j, "name", t->name);
            vs_json_int(&j, "available", t->available);
            if (t->framebuffer_mib)
                vs_json_int(&j, "framebuffer_mib", (gint64)t->framebuffer_mib);
            else
                vs_json_null(&j, "framebuffer_mib");
            vs_json_string(&j, "parent", t->parent);
            vs_json_string(&j, "kind", vs_vgpu_kind_to_string(t->kind));
            vs_json_end_object(&j);
        }
        vs_json_end_array(&j);
        vs_json_end_object(&j);
    }
    vs_json_end_array(&j);
    vs_gpujson_plan(&j, "plan", plan);
    vs_json_begin_array(&j, "allocations");
    for (guint i = 0; allocations && i < allocations->len; i++) {
        const VsGpuAllocation *a = allocations->pdata[i];
        vs_json_begin_object(&j, NULL);
        vs_json_string(&j, "kind", a->kind);
        vs_json_string(&j, "id", a->id);
        vs_json_string(&j, "device", a->device);
        vs_json_string(&j, "vgpu_type", a->vgpu_type);
        vs_json_string(&j, "workstation", a->workstation);
        vs_json_string(&j, "state", a->state);
        vs_json_end_object(&j);
    }
    vs_json_end_array(&j);
    vs_json_end_object(&j);
    return vs_json_finish(&j);
}
