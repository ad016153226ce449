/* The GPU inventory of a host that libvirt reaches over the network, from its node devices.
 * Parsed with libxml2: only the libvirt module calls it (vs_caps_gpu_inventory), the program
 * never links it (see provisioner/main.c). */
#pragma once

#include "gpu/inventory.h"

/* Returns the inventory described by @xmls (one libvirt node-device XML document each: PCI and
 * DRM devices; others are ignored), or NULL with @error set when a document does not parse.
 * libvirt does not show NVIDIA's vendor-specific vGPU files, mdev type descriptions or
 * subsystem ids: framebuffers come from the type names. */
VsGpuInventory *vs_gpu_inventory_from_nodedevs(GPtrArray *xmls, GError **error);
