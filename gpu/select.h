/* Choosing the GPU mode of a workstation from the host's inventory. */
#pragma once

#include "inventory.h"

typedef struct {
    VsGpuMode mode;     /* what was asked: auto, none, virgl, vgpu, passthrough */
    char *vgpu_type;    /* vgpu:TYPE: an id ("nvidia-222", "1099") or a name, or NULL */
    char *address;      /* passthrough:ADDR */
    guint64 memory_mib; /* --gpu-memory: the smallest vGPU framebuffer wanted (4096) */
    gboolean no_vgpu;   /* auto only: leave vGPUs out (they cannot be attached yet) */
} VsGpuRequest;

void vs_gpu_request_clear(VsGpuRequest *req);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsGpuRequest, vs_gpu_request_clear)

/* Parses --gpu: auto, none, virgl, vgpu[:TYPE], passthrough:ADDR. */
gboolean vs_gpu_request_parse(const char *text, guint64 memory_mib, VsGpuRequest *ret,
                              GError **error);

/* The first QEMU with virtio-vga-gl. */
#define VS_GPU_VIRGL_QEMU_VERSION 6001000UL

/* Returns the plan for @req on a host with @inv and a hypervisor of @qemu_version (libvirt's
 * encoding, 7002000 for 7.2.0; 0 when unknown, taken as new enough), or NULL with @error set. */
VsGpuPlan *vs_gpu_select(const VsGpuInventory *inv, const VsGpuRequest *req,
                         unsigned long qemu_version, GError **error);
