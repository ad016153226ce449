/* Workstations as libvirt domains: ownership, define and start, stop, delete, list. */
#pragma once

#include "domains/metadata.h"
#include "domains/vs-libvirt.h"

/* Returns the state of @dom as virsh spells it ("running", "shut off", ...). */
const char *vs_lifecycle_state(virDomainPtr dom);

/* Returns the virDomainState @state as virsh spells it. */
const char *vs_lifecycle_state_name(int state);

/* Returns @dom's virt-station metadata, or NULL with @error set (VS_DOMAINS_ERROR_FOREIGN when
 * the domain has none: virt-station does not touch it; and when the metadata was written for
 * another domain, i.e. @dom is a copy such as virt-clone makes: the message gives the reason
 * and names `virt-station adopt`). */
VsMetadata *vs_lifecycle_owned(virDomainPtr dom, GError **error);

/* Returns the virt-station metadata @dom carries, whichever domain it was written for (see
 * vs_lifecycle_clone_reason), or NULL with @error set as vs_lifecycle_owned does. */
VsMetadata *vs_lifecycle_metadata(virDomainPtr dom, GError **error);

/* Returns NULL when @station (read from @dom) was written for @dom; otherwise why @dom is not
 * its workstation: "cloned from NAME" when the domain with the recorded UUID exists on the same
 * connection, else "copied from another workstation (UUID ...)". */
char *vs_lifecycle_clone_reason(virDomainPtr dom, const VsMetadata *station);

/* Returns the set of what @dom's disks use (its persistent and, when running, its live
 * definition): each source's path ("/var/lib/libvirt/images/a.qcow2", volumes resolved through
 * their pool) and each volume source as "POOL/NAME". */
GHashTable *vs_lifecycle_disk_sources(virDomainPtr dom);

/* Returns what the disks of every domain of @conn but @except (may be NULL) use, as in
 * vs_lifecycle_disk_sources, mapped to the name of a domain using it; NULL with @error set when
 * the domains cannot be listed (then nothing may be deleted). */
GHashTable *vs_lifecycle_disk_users(virConnectPtr conn, virDomainPtr except, GError **error);

/* Returns the name of a domain other than @except (see vs_lifecycle_disk_users) whose disks
 * use the volume @vol (by its path or pool and name), or NULL. Borrowed from @users. */
const char *vs_lifecycle_volume_user(GHashTable *users, virStorageVolPtr vol);

/* Returns the domain @name with its metadata in @ret_station. Errors: NOT_FOUND, FOREIGN (the
 * domain exists but is not virt-station's; @ret_station is left alone). */
virDomainPtr vs_lifecycle_lookup(virConnectPtr conn, const char *name, VsMetadata **ret_station,
                                 GError **error);

/* Defines the domain @xml. Returns it, or NULL with @error set. */
virDomainPtr vs_lifecycle_define(virConnectPtr conn, const char *xml, GError **error);

/* Starts @dom. */
gboolean vs_lifecycle_start(virDomainPtr dom, GError **error);

/* Shuts @dom down (guest agent, else ACPI) and waits up to @timeout_s seconds, then powers it
 * off; with @force it is powered off at once. */
gboolean vs_lifecycle_stop(virDomainPtr dom, gboolean force, guint timeout_s, GError **error);

/* Undefines @dom with its NVRAM, managed save and snapshot metadata (fewer where the driver does
 * not know those flags). Returns FALSE with libvirt's error left for vs_libvirt_error(). */
gboolean vs_lifecycle_undefine(virDomainPtr dom);

/* Destroys @dom if it runs, deletes its snapshots (their metadata only unless @keep_disk), the
 * volumes @station names (but the disk with @keep_disk) that are also @dom's disks and no other
 * domain's disks, then undefines it with its NVRAM. Each named volume that is not deleted for
 * that reason (or no longer exists) adds a sentence to @kept ("kept volume default/a.qcow2: b
 * uses it as a disk"). Returns FALSE with @error set; the volumes that could be removed are, and
 * the domain stays while one could not be, so that a second call finishes the work. */
gboolean vs_lifecycle_delete(virDomainPtr dom, const VsMetadata *station, gboolean keep_disk,
                             GPtrArray *kept, GError **error);

/* Takes over @dom, a domain carrying virt-station metadata written for another (a clone): the
 * metadata is rewritten (persistent definition, and the live one when it runs) to record @dom's
 * UUID, the volumes its disks really use (volumes by pool and name; files and block devices
 * looked up by path; a source in no pool adds a sentence to @notes and stays unowned), its own
 * MAC and, for user networking, its forwarded port: moved to @port first when @port is not 0
 * and differs. Returns the domain (redefined when the port moved), or NULL with @error set. */
virDomainPtr vs_lifecycle_adopt(virDomainPtr dom, guint port, GPtrArray *notes, GError **error);

/* Changes the forwarded SSH port of the (inactive) user-networking domain @dom to @port, in the
 * QEMU arguments or <portForward> and in the metadata. Returns the domain redefined. */
virDomainPtr vs_lifecycle_set_port(virDomainPtr dom, guint port, GError **error);

/* Returns the domain XML @xml with its forwarded SSH port changed to @port (QEMU arguments,
 * <portForward>, metadata), or NULL with @error set. */
char *vs_lifecycle_xml_with_port(const char *xml, guint port, GError **error);

/* Returns the TCP ports on 127.0.0.1 that domains of @conn carrying virt-station metadata
 * (copies included) have been given, but @except's (may be NULL). */
GHashTable *vs_lifecycle_used_ports(virConnectPtr conn, virDomainPtr except, GError **error);

/* Returns the host devices every domain of @conn but the one with UUID @except_uuid (may be
 * NULL) uses — ours or not, in their persistent and live definitions (vs_inspect_hostdevs) —
 * mapped to the domain's name; with @holds, only of the domains it says TRUE for (called with
 * @data); NULL with @error set when the domains cannot be listed (then
 * nothing may be given back). */
GHashTable *vs_lifecycle_gpu_users(virConnectPtr conn, const char *except_uuid,
                                   gboolean (*holds)(void *data, virDomainPtr dom), void *data,
                                   GError **error);

/* Returns the 127.0.0.1 port forwarded to @dom's SSH port in its persistent definition, or 0. */
guint vs_lifecycle_forwarded_port(virDomainPtr dom);
