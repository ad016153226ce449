/* The GPU inventory of a host that libvirt reaches over the network, from its node devices. */
#pragma once

#include "gpu/inventory.h"

/* Returns the inventory described by @xmls (one libvirt node-device XML document each: PCI and
 * DRM devices; others are ignored), or NULL with @error set when a document does not parse.
 * libvirt does not show NVIDIA's vendor-specific vGPU files, mdev type descriptions or
 * subsystem ids: framebuffers come from the type names. */
VsGpuInventory *vs_gpu_inventory_from_nodedevs(GPtrArray *xmls, GError **error);

/* Returns the node-device XML documents of a host (the caller's libvirt connection in @data). */
typedef GPtrArray *(*VsNodedevXmlFunc)(void *data, GError **error);

/* Returns the host's GPU inventory, the one place that decides where it comes from: its node
 * devices (@nodedevs called with @data) when @from_libvirt — a remote host, or asked for —
 * else sysfs under @sysfs_root (NULL: $VIRT_STATION_SYSFS_ROOT, else /sys). */
VsGpuInventory *vs_gpu_host_inventory(gboolean from_libvirt, const char *sysfs_root,
                                      VsNodedevXmlFunc nodedevs, void *data, GError **error);
