/* The node-device backend of the GPU operations table (gpu/hostops.h): mediated devices made
 * and removed through libvirt's node-device API, which works on remote hosts and can make
 * mdevs that survive a host reboot (libvirt runs mdevctl for it). */
#pragma once

#include <libvirt/libvirt.h>

#include "gpu/hostops.h"

/* The first libvirt releases with what this backend uses: mdevs created from node-device XML
 * (virNodeDeviceCreateXML runs `mdevctl start`), and persistent mdevs that start at boot
 * (virNodeDeviceDefineXML, virNodeDeviceCreate: 7.3.0; virNodeDeviceSetAutostart,
 * virNodeDeviceIsActive, virNodeDeviceIsPersistent: 7.8.0; libvirt's NEWS.rst). */
#define VS_MDEV_TRANSIENT_LIBVIRT  6005000UL
#define VS_MDEV_PERSISTENT_LIBVIRT 7008000UL

/* Returns the backend on @conn (a reference is taken). @fallback (borrowed; it must outlive the
 * backend) is the sysfs backend, which the caller passes only for a local root connection:
 * when libvirt cannot create or remove mediated devices (no mdevctl, too old a libvirt, a
 * driver without mdev support), the operation is done through it instead and a note says so
 * (vs_mdev_ops_take_notes); without it such an operation fails with VS_GPU_ERROR_UNSUPPORTED,
 * whose message says what to install. The VF operations need the VF's sysfs files: they go to
 * @fallback, else fail with VS_GPU_ERROR_UNSUPPORTED; pci_driver and inventory read libvirt's
 * node devices when there is no @fallback. */
VsGpuOps *vs_mdev_ops_nodedev(virConnectPtr conn, const VsGpuOps *fallback);

/* Returns the sentences collected since the last call (what was done another way than asked,
 * for the caller to print), and starts a new list; NULL when @ops is no node-device backend. */
GPtrArray *vs_mdev_ops_take_notes(VsGpuOps *ops);

/* Returns the node-device XML that creates the mediated device @uuid of @type on the PCI
 * function @parent_address ("dddd:bb:dd.f"), or NULL with @error set (VS_GPU_ERROR_INVALID)
 * for a malformed address or UUID, or an empty type. */
char *vs_mdev_nodedev_xml(const char *parent_address, const char *type, const char *uuid,
                          GError **error);

/* Returns the driver the node-device XML @xml says its device is bound to, or NULL for none (or
 * a document that does not parse). */
char *vs_mdev_nodedev_driver(const char *xml);
