/* Every change virt-station makes to a host's GPUs goes through one small table of operations:
 * create or remove a mediated device, set or read the vGPU type of NVIDIA's vendor-specific
 * virtual function, read which driver a PCI function is bound to. Backends: sysfs (a local root
 * connection writes the kernel's files itself), libvirt's node-device API (domains/mdev.c: the
 * way for persistent mdevs and remote hosts) and a fake that applies the kernel's rules to a
 * copy of a fixture tree (tests). None of them chooses anything: gpu/attach.c does, under the
 * GPU lock. */
#pragma once

#include <glib.h>

#include "gpu/inventory.h"

typedef struct {
    const char *name; /* "sysfs", "node-device", "fake": for messages */
    /* Creates the mediated device @uuid of @type on the PCI function @parent; @persistent asks
     * that it survive host reboots (only the node-device backend can: the others ignore it). */
    gboolean (*mdev_create)(void *data, const char *parent, const char *type, const char *uuid,
                            gboolean persistent, GError **error);
    /* Removes the mediated device @uuid: stopped and, where it was defined, undefined. A device
     * that does not exist is removed already: TRUE. */
    gboolean (*mdev_remove)(void *data, const char *uuid, GError **error);
    /* Returns whether the mediated device @uuid exists (is active) now. */
    gboolean (*mdev_exists)(void *data, const char *uuid);
    /* Writes the vGPU type id @type ("1097"; "0" releases) to the VF @vf's
     * nvidia/current_vgpu_type. Errors: VS_GPU_ERROR_BUSY when the kernel says it is busy. */
    gboolean (*vf_set_type)(void *data, const char *vf, const char *type, GError **error);
    /* Returns the VF @vf's current vGPU type id ("0": none), or NULL with @error set. */
    char *(*vf_get_type)(void *data, const char *vf, GError **error);
    /* Returns the driver the PCI function @address is bound to ("vfio-pci"), or NULL for none. */
    char *(*pci_driver)(void *data, const char *address);
    /* Returns the inventory as it is now (read again after every change). */
    VsGpuInventory *(*inventory)(void *data, GError **error);
    void (*free)(void *data);
    void *data;
} VsGpuOps;

/* Frees @ops and its data (NULL is allowed). */
void vs_gpu_ops_free(VsGpuOps *ops);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGpuOps, vs_gpu_ops_free)

/* Returns the sysfs backend for the tree at @root (NULL: /sys): writes `create`, `remove`,
 * `current_vgpu_type` as root does by hand. */
VsGpuOps *vs_gpu_ops_sysfs(const char *root);

/* Returns the fake backend: the sysfs backend's files, on a writable copy of a fixture tree at
 * @root, with the kernel's reactions applied by this process — `available_instances` drops,
 * the other types of an NVIDIA parent drop to 0 once one type is in use, the siblings of a VF
 * that took a type keep only that type in `creatable_vgpu_types` (and lose it once the PF has
 * as many as the type's `max_instance`), a VF refuses a new type with EBUSY for
 * $VIRT_STATION_FAKE_GPU_BUSY writes after it was released (default 1), and the fault file
 * `@root/.fake-fail` (one operation name per line: "mdev_create", "vf_set_type", ...) makes
 * that operation fail once. The state lives in the tree, so several processes share it. */
VsGpuOps *vs_gpu_ops_fake(const char *root);

/* Returns the path of a new temporary directory holding a copy of the sysfs tree @fixture
 * (directories, files and symlinks as they are: the fixtures' links are relative, so they
 * resolve inside the copy), for the fake backend to change; or NULL with @error set. */
char *vs_gpu_fake_tree_copy(const char *fixture, GError **error);
/* Removes the tree @dir made by vs_gpu_fake_tree_copy() (symlinks are removed, not followed). */
void vs_gpu_fake_tree_remove(const char *dir);

/* Returns the backend tests ask for through the environment ($VIRT_STATION_FAKE_GPU=1 with
 * $VIRT_STATION_SYSFS_ROOT: the fake on that tree), else NULL. */
VsGpuOps *vs_gpu_ops_from_env(void);
