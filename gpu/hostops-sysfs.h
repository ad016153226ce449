/* Internal to gpu/hostops-*.c: the sysfs backend's pieces that the fake backend reuses (the
 * fake reads the same files and checks names the same way; only its writes differ). */
#pragma once

#include <glib.h>

#include "gpu/hostops.h"

/* The data of both the sysfs and the fake backend. */
typedef struct {
    char *root; /* the sysfs tree: /sys, or a copy of a fixture */
} VsGpuSysfs;

/* Sizes of the files read: a vGPU type id, and NVIDIA's creatable_vgpu_types list. */
#define VS_GPU_SYSFS_SHORT_MAX 256
#define VS_GPU_SYSFS_LIST_MAX  (64 * 1024)

/* Returns the contents of @path (at most @max bytes, else an error), or NULL with @error set;
 * @ret_errno (may be NULL) gets the errno of a failed open or read, else 0. */
char *vs_gpu_sysfs_read(const char *path, gsize max, int *ret_errno, GError **error);
/* Writes @text to the existing file @path in one write(2), as one does to a sysfs attribute.
 * Returns 0, or the errno of the failed open, write or close. */
int vs_gpu_sysfs_write(const char *path, const char *text);

/* Returns the canonical "dddd:bb:dd.f" spelling of the PCI address @address, or NULL with
 * VS_GPU_ERROR_INVALID set: the only form that is put into a path. */
char *vs_gpu_sysfs_check_address(const char *address, GError **error);
/* Returns TRUE when @uuid is a UUID, else FALSE with VS_GPU_ERROR_INVALID set. */
gboolean vs_gpu_sysfs_check_uuid(const char *uuid, GError **error);
/* Returns TRUE when @type is an mdev type id ([A-Za-z0-9_.-]+, not "." or ".."), else FALSE
 * with VS_GPU_ERROR_INVALID set. */
gboolean vs_gpu_sysfs_check_type(const char *type, GError **error);
/* Returns TRUE when @id is a vendor-specific vGPU type id (decimal digits), else FALSE with
 * VS_GPU_ERROR_INVALID set. */
gboolean vs_gpu_sysfs_check_vgpu_id(const char *id, GError **error);

/* Returns the path of @address's PCI device directory ("ROOT/bus/pci/devices/ADDR"). */
char *vs_gpu_sysfs_device_path(const VsGpuSysfs *s, const char *address);
/* Returns the path of @vf's nvidia/current_vgpu_type (@vf canonical), or NULL with
 * VS_GPU_ERROR_UNSUPPORTED set when the VF has none. */
char *vs_gpu_sysfs_current_type_path(const VsGpuSysfs *s, const char *vf, GError **error);

/* The operations both backends share (VsGpuOps members; @data is a VsGpuSysfs). */
gboolean vs_gpu_sysfs_mdev_exists(void *data, const char *uuid);
char *vs_gpu_sysfs_vf_get_type(void *data, const char *vf, GError **error);
char *vs_gpu_sysfs_pci_driver(void *data, const char *address);
VsGpuInventory *vs_gpu_sysfs_inventory(void *data, GError **error);
void vs_gpu_sysfs_free(void *data);
