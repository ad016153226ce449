/* What GPUs a host has: PCI display devices (and their sibling functions), render nodes,
 * mdev types and NVIDIA's vendor-specific vGPU types. Read from a sysfs tree under a root that
 * tests replace; nothing here talks to libvirt. */
#pragma once

#include <glib.h>

#include "gpu/plan.h"

#define VS_GPU_ERROR (vs_gpu_error_quark())
GQuark vs_gpu_error_quark(void);

typedef enum {
    VS_GPU_ERROR_FAILED,      /* the inventory could not be read: the message names the file */
    VS_GPU_ERROR_REFUSED,     /* a request that this host cannot satisfy */
    VS_GPU_ERROR_INVALID,     /* a malformed request (--gpu value) */
    VS_GPU_ERROR_UNKNOWN,     /* no such vGPU type or PCI address on this host (exit 3) */
    VS_GPU_ERROR_BUSY,        /* a function or VF the kernel says is busy for now: try again */
    VS_GPU_ERROR_UNSUPPORTED, /* a backend that cannot do this (no mdevctl, too old a libvirt) */
} VsGpuError;

typedef struct {
    char *id;                /* "nvidia-222", or "1099" for vendor-specific types */
    char *name;              /* "GRID T4-2Q" */
    gint64 available;        /* instances that can still be created */
    guint64 framebuffer_mib; /* 0 when unknown */
    char *parent;            /* the PCI address offering it */
    VsVgpuKind kind;
} VsVgpuType;

typedef struct {
    char *address; /* dddd:bb:dd.f */
    guint vendor_id, device_id;
    guint class_code; /* base class and subclass: 0x0302 */
    guint subsys_vendor_id, subsys_device_id;
    char *vendor; /* from pci.ids, or NULL */
    char *name;
    char *driver;          /* bound driver, or NULL */
    int iommu_group;       /* -1 when none */
    int numa_node;         /* -1 when unknown */
    guint64 bar64_bytes;   /* the sizes of its 64-bit prefetchable memory BARs, added up */
    char *physfn;          /* a VF's physical function, else NULL */
    guint sriov_totalvfs;  /* a PF's SR-IOV capacity (sriov_totalvfs), 0 when none */
    char *render_node;     /* /dev/dri/renderD128, or NULL */
    GPtrArray *vgpu_types; /* VsVgpuType */
} VsGpuDevice;

/* A mediated device that exists already. */
typedef struct {
    char *uuid;
    char *type_id; /* "nvidia-225" */
    char *parent;  /* the PCI address it was made on */
} VsMdev;

typedef struct {
    GPtrArray *devices;       /* VsGpuDevice, in address order: display devices and siblings */
    GPtrArray *mdevs;         /* VsMdev: the mediated devices that exist, by UUID */
    GPtrArray *warnings;      /* sentences: what could not be read and was skipped */
    GHashTable *iommu_groups; /* group number -> GPtrArray of member addresses (all classes) */
    GHashTable *classes;      /* address -> class code, for every PCI device */
} VsGpuInventory;

/* Returns FALSE with @error set to VS_GPU_ERROR @code and the formatted message. */
gboolean vs_gpu_fail(GError **error, int code, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* Returns a new, empty inventory. */
VsGpuInventory *vs_gpu_inventory_new(void);
void vs_gpu_inventory_free(VsGpuInventory *inv);
void vs_gpu_device_free(VsGpuDevice *dev);
void vs_vgpu_type_free(VsVgpuType *type);

/* Records @dev's IOMMU group membership and class (every PCI device, display or not). */
void vs_gpu_inventory_note(VsGpuInventory *inv, const VsGpuDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGpuInventory, vs_gpu_inventory_free)

/* Returns the sysfs root to use: @given, else $VIRT_STATION_SYSFS_ROOT, else /sys. */
const char *vs_gpu_sysfs_root(const char *given);

/* Returns the inventory of the sysfs tree at @root, or NULL with @error set. */
VsGpuInventory *vs_gpu_inventory_read(const char *root, GError **error);

/* Returns the GPU inventory of a host from its libvirt node devices (@data: the caller's
 * connection; vs_caps_gpu_inventory in the libvirt module), or NULL with @error set. */
typedef VsGpuInventory *(*VsNodedevInventoryFunc)(void *data, GError **error);

/* Returns the host's GPU inventory, the one place that decides where it comes from: its node
 * devices (@nodedevs called with @data) when @from_libvirt — a remote host, or asked for —
 * else sysfs under @sysfs_root (NULL: $VIRT_STATION_SYSFS_ROOT, else /sys). */
VsGpuInventory *vs_gpu_host_inventory(gboolean from_libvirt, const char *sysfs_root,
                                      VsNodedevInventoryFunc nodedevs, void *data, GError **error);

/* Returns the framebuffer size in MiB that an NVIDIA type's description ("framebuffer=2048M")
 * or profile name ("L4-4Q": the number before the series letter is GiB) gives, or 0. */
guint64 vs_gpu_framebuffer_mib(const char *description, const char *name);

/* Returns the bar64_bytes of the function @address in @inv, or 0 when @inv lists no such
 * function. */
guint64 vs_gpu_inventory_bar64_bytes(const VsGpuInventory *inv, const char *address);

/* Returns the sizes of the 64-bit prefetchable memory BARs (0 to 5) that the text of a sysfs
 * `resource` file gives, added up; lines that are not three numbers count as nothing. */
guint64 vs_gpu_bar64_bytes_parse(const char *text);

/* Returns TRUE for a device of base class 0x03 (display). */
gboolean vs_gpu_device_is_display(const VsGpuDevice *dev);
