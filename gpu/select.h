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

/* Where the plan is for: what the host's libvirt connection allows. */
typedef enum {
    VS_GPU_WHERE_LOCAL = 0,        /* qemu:///system on this machine */
    VS_GPU_WHERE_REMOTE = 1 << 0,  /* another machine: vendor-specific VFs cannot be set there */
    VS_GPU_WHERE_SESSION = 1 << 1, /* qemu:///session: no host devices at all */
    VS_GPU_WHERE_OLD_LIBVIRT = 1 << 2, /* libvirt before 9.7.0: cannot start a vendor VF */
} VsGpuWhere;

/* Returns the plan `up --gpu @text` makes and `gpu probe` shows (@text NULL: auto): the selection
 * of vs_gpu_select() for a host reached as @where. A session connection cannot attach host
 * devices, and a remote one cannot set NVIDIA's vendor-specific VFs (their sysfs files are on the
 * other machine): auto leaves those out and says why in a reason; an explicit vgpu or passthrough
 * is refused. @inv NULL means the host's GPUs are unknown (@inv_error says why): auto plans none,
 * other modes but none are refused. The plan names a candidate only: what is taken is chosen
 * under the GPU lock when the workstation is made (gpu/attach.h). Errors: VS_GPU_ERROR. */
VsGpuPlan *vs_gpu_plan_request(const char *text, guint64 memory_mib, const VsGpuInventory *inv,
                               const GError *inv_error, unsigned long qemu_version,
                               VsGpuWhere where, GError **error);
