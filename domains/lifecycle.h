/* Workstations as libvirt domains: ownership, define and start, stop, delete, list. */
#pragma once

#include "metadata.h"
#include "vs-libvirt.h"

/* Returns the state of @dom as virsh spells it ("running", "shut off", ...). */
const char *vs_lifecycle_state(virDomainPtr dom);

/* Returns @dom's virt-station metadata, or NULL with @error set (VS_DOMAINS_ERROR_FOREIGN when
 * the domain has none: virt-station does not touch it). */
VsStation *vs_lifecycle_station(virDomainPtr dom, GError **error);

/* Returns the domain @name with its metadata in @ret_station. Errors: NOT_FOUND, FOREIGN (the
 * domain exists but is not virt-station's; @ret_station is left alone). */
virDomainPtr vs_lifecycle_lookup(virConnectPtr conn, const char *name, VsStation **ret_station,
                                 GError **error);

/* Defines the domain @xml. Returns it, or NULL with @error set. */
virDomainPtr vs_lifecycle_define(virConnectPtr conn, const char *xml, GError **error);

/* Starts @dom. */
gboolean vs_lifecycle_start(virDomainPtr dom, GError **error);

/* Shuts @dom down (guest agent, else ACPI) and waits up to @timeout_s seconds, then powers it
 * off; with @force it is powered off at once. */
gboolean vs_lifecycle_stop(virDomainPtr dom, gboolean force, guint timeout_s, GError **error);

/* Destroys @dom if it runs, undefines it with its NVRAM, and deletes the volumes @station names
 * (but the disk with @keep_disk). Returns FALSE with @error set; what could be removed is. */
gboolean vs_lifecycle_delete(virDomainPtr dom, const VsStation *station, gboolean keep_disk,
                             GError **error);

/* Changes the forwarded SSH port of the (inactive) user-networking domain @dom to @port, in the
 * QEMU arguments or <portForward> and in the metadata. Returns the domain redefined. */
virDomainPtr vs_lifecycle_set_port(virDomainPtr dom, guint port, GError **error);

/* Returns the domain XML @xml with its forwarded SSH port changed to @port (QEMU arguments,
 * <portForward>, metadata), or NULL with @error set. */
char *vs_lifecycle_xml_with_port(const char *xml, guint port, GError **error);

/* Returns the TCP ports on 127.0.0.1 that virt-station domains of @conn have been given. */
GHashTable *vs_lifecycle_used_ports(virConnectPtr conn);
