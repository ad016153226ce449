/* The GPU plan: what a workstation gets in the way of a GPU, and why. Data only. */
#pragma once

#include <glib.h>

typedef enum {
    VS_GPU_MODE_NONE,
    VS_GPU_MODE_VIRGL,
    VS_GPU_MODE_VGPU,
    VS_GPU_MODE_PASSTHROUGH,
    VS_GPU_MODE_AUTO, /* a request only: a plan never carries it */
    VS_GPU_MODE_LAST,
} VsGpuMode;

/* Returns the CLI/JSON spelling of @mode ("none", "virgl", ...). */
const char *vs_gpu_mode_to_string(VsGpuMode mode);
/* Returns the mode spelled @str, or -1 when there is none. */
int vs_gpu_mode_from_string(const char *str);
