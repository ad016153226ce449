/* Choosing the GPU mode of a workstation from the host's inventory. */
#pragma once

#include "gpu/inventory.h"

typedef struct {
    VsGpuMode mode;     /* what was asked: auto, none, virgl, vgpu, passthrough */
    char *vgpu_type;    /* vgpu:TYPE: an id ("nvidia-222", "1099") or a name, or NULL */
    char *address;      /* passthrough:ADDR */
    guint64 memory_mib; /* --gpu-memory: the smallest vGPU framebuffer wanted (4096) */
    gboolean no_vgpu;   /* auto only: leave vGPUs out (see vs_gpu_plan_request) */
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

/* Whether this version can attach vGPUs and passed-through GPUs to a workstation (creating the
 * mdev, setting the vendor-specific VF's type, binding functions). Not yet. */
#define VS_GPU_CAN_ATTACH FALSE

/* Returns the plan `up --gpu @text` makes and `gpu probe` shows (@text NULL: auto): the selection
 * of vs_gpu_select() under the policy of this version. Modes it cannot attach
 * (VS_GPU_CAN_ATTACH) are left out: auto falls back to what remains and says why in its second
 * reason; an explicit vgpu or passthrough is refused with the plan it would have made. @inv NULL
 * means the host's GPUs are unknown (@inv_error says why): auto plans none, other modes but none
 * are refused. Errors: VS_GPU_ERROR. */
VsGpuPlan *vs_gpu_plan_request(const char *text, guint64 memory_mib, const VsGpuInventory *inv,
                               const GError *inv_error, unsigned long qemu_version, GError **error);
