#include "plan.h"

static const char *const mode_names[VS_GPU_MODE_LAST] = {
    [VS_GPU_MODE_NONE] = "none", [VS_GPU_MODE_VIRGL] = "virgl",
    [VS_GPU_MODE_VGPU] = "vgpu", [VS_GPU_MODE_PASSTHROUGH] = "passthrough",
    [VS_GPU_MODE_AUTO] = "auto",
};

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
