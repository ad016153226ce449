/* The GPU plan: what a workstation gets in the way of a GPU, and why. Data only: gpu/select
 * fills it from an inventory, domains/ turns it into XML. */
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

typedef enum {
    VS_VGPU_KIND_MDEV,        /* a mediated device created from an mdev type */
    VS_VGPU_KIND_VENDOR_VFIO, /* NVIDIA's vendor-specific VF: type written to the VF itself */
    VS_VGPU_KIND_LAST,
} VsVgpuKind;

typedef struct {
    VsGpuMode mode;
    char *device;    /* PCI address (dddd:bb:dd.f) the domain uses, or NULL */
    char *vgpu_type; /* vGPU type id ("nvidia-222", "1099"), or NULL */
    VsVgpuKind vgpu_kind;
    char *render_node;     /* /dev/dri/renderD128 for virgl, or NULL */
    gboolean egl_headless; /* virgl through egl-headless (SPICE GL does not work on the driver) */
    char *mdev_uuid;       /* the allocated mediated device, or NULL */
    GPtrArray *functions;  /* passthrough: every PCI function address that goes along */
    guint64 mmio64_bytes;  /* passthrough: the sizes of the functions' 64-bit prefetchable BARs */
    GPtrArray *reasons;    /* sentences: what was chosen and why the rest was not */
} VsGpuPlan;

/* Returns a new plan of @mode with no device. */
VsGpuPlan *vs_gpu_plan_new(VsGpuMode mode);
void vs_gpu_plan_free(VsGpuPlan *plan);
/* Returns a deep copy of @plan. */
VsGpuPlan *vs_gpu_plan_copy(const VsGpuPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGpuPlan, vs_gpu_plan_free)

/* Returns the CLI/JSON spelling of @mode ("none", "virgl", ...). */
const char *vs_gpu_mode_to_string(VsGpuMode mode);
/* Returns the mode spelled @str, or -1 when there is none. */
int vs_gpu_mode_from_string(const char *str);
/* Returns "mdev" or "vendor-vfio". */
const char *vs_vgpu_kind_to_string(VsVgpuKind kind);
int vs_vgpu_kind_from_string(const char *str);

/* Parses a PCI address "dddd:bb:dd.f" (a domain of 4 to 8 hex digits) or "bb:dd.f" (domain 0).
 * Returns FALSE when malformed. */
gboolean vs_pci_address_parse(const char *str, guint *ret_domain, guint *ret_bus, guint *ret_slot,
                              guint *ret_function);

/* Returns the slot part of the PCI address @address ("10000:00:02" of "10000:00:02.0"): the
 * functions of one card share it. */
char *vs_pci_slot_of(const char *address);
