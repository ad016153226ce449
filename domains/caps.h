/* What the connected libvirt host can do, for the facts a domain is built from. */
#pragma once

#include "domains/config.h"
#include "gpu/inventory.h"
#include "domains/vs-libvirt.h"

/* The first libvirt release that accepts passt with <portForward>: 9.0.0 rejects
 * <backend type='passt'/> ("Invalid value for attribute 'type' in element 'backend'"), and
 * libvirt's domain XML documentation gives user-mode passt as available since 9.2.0. Newer
 * libvirt also lists the backend types in the domain capabilities, which wins when present. */
#define VS_CAPS_PASST_VERSION 9002000UL

/* Returns TRUE and fills @ret_caps from @conn; FALSE with @error set. */
gboolean vs_caps_probe(virConnectPtr conn, VsCaps *ret_caps, GError **error);

/* Returns whether @domcaps_xml lists passt among the interface backend types: 1 yes, 0 no,
 * -1 when the document does not say (older libvirt). */
int vs_caps_domcaps_passt(const char *domcaps_xml);

/* Returns the XML descriptions of @conn's PCI and DRM node devices, or NULL with @error set. */
GPtrArray *vs_caps_nodedev_xmls(virConnectPtr conn, GError **error);

/* Returns the GPU inventory of the host of @conn (a virConnectPtr) from its node devices, or NULL
 * with @error set: the VsNodedevInventoryFunc for vs_gpu_host_inventory(). */
VsGpuInventory *vs_caps_gpu_inventory(void *conn, GError **error);
