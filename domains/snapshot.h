/* Snapshots of a workstation: libvirt's internal snapshots (in the qcow2 disk; with the memory
 * when the domain runs, the disk alone when it is shut off), and what may not be snapshotted. */
#pragma once

#include "domains/vs-libvirt.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomainSnapshot, virDomainSnapshotFree)

/* The first libvirt that creates (10.9.0), reverts and deletes (10.10.0) internal snapshots of a
 * domain with UEFI firmware in pflash, given an NVRAM image in qcow2 format; see the README's
 * "Snapshots" section for the sources. Older ones refuse such a snapshot of a running domain,
 * and of a shut-off one they either refuse it (9.2.0 to 10.8) or leave the NVRAM out of it. */
#define VS_SNAPSHOT_PFLASH_LIBVIRT 10010000UL

/* The longest name a snapshot may have, as a workstation's. */
#define VS_SNAPSHOT_NAME_MAX 63

typedef struct {
    char *name;
    gint64 created;  /* Unix seconds */
    char *state;     /* the domain's state it holds: "running", "shut off", ... as virsh says */
    gboolean memory; /* it holds the memory (reverting to it resumes the domain) */
    gboolean current;
} VsSnapshotInfo;

void vs_snapshot_info_free(VsSnapshotInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsSnapshotInfo, vs_snapshot_info_free)

/* Returns TRUE when @name may name a snapshot: as a workstation's name, 1 to 63 lower-case
 * letters, digits and '-', not starting or ending with '-'. */
gboolean vs_snapshot_name_valid(const char *name);

/* Returns the name `snapshot create` gives when none is given: "snap-YYYYMMDD-HHMMSS" (UTC)
 * of @when. */
char *vs_snapshot_default_name(GDateTime *when);

/* Returns "MAJOR.MINOR.MICRO" for libvirt's version number @version (1000000 * major + ...). */
char *vs_snapshot_version_string(unsigned long version);

/* Pure: returns TRUE when the domain @name with the XML @xml (its live definition when
 * @active, else its persistent one) may be snapshotted, and reverted to a snapshot holding
 * memory when @memory, by a host whose libvirt is @libvirt_version; otherwise FALSE with
 * @error set (VS_DOMAINS_ERROR_REFUSED) saying why and what to do: a running domain with a
 * host device (vGPU, passed-through function) cannot save its memory; UEFI firmware in pflash
 * needs libvirt VS_SNAPSHOT_PFLASH_LIBVIRT and an NVRAM in qcow2 format. */
gboolean vs_snapshot_check_xml(const char *name, const char *xml, gboolean active, gboolean memory,
                               unsigned long libvirt_version, GError **error);

/* Returns the snapshots of @dom, oldest first (VsSnapshotInfo), or NULL with @error set. */
GPtrArray *vs_snapshot_list(virDomainPtr dom, GError **error);

/* Creates the internal snapshot @snap of @dom: disk and memory when it runs, the disk alone when
 * it is shut off; refused first (nothing changed) as vs_snapshot_check_xml says for
 * @libvirt_version (0: the connection's own), and when @snap exists (EXISTS). Sets
 * @ret_memory (may be NULL) to whether it holds the memory. */
gboolean vs_snapshot_create(virDomainPtr dom, const char *snap, unsigned long libvirt_version,
                            gboolean *ret_memory, GError **error);

/* Reverts @dom to its snapshot @snap (NOT_FOUND when it has none so called): a snapshot of the
 * running domain resumes it running, one of the shut-off domain leaves it shut off. Refused
 * first as vs_snapshot_create is, for the domain as it is and the snapshot's state. */
gboolean vs_snapshot_revert(virDomainPtr dom, const char *snap, unsigned long libvirt_version,
                            GError **error);

/* Deletes the snapshot @snap of @dom (NOT_FOUND when it has none so called); its children, if
 * any, are kept. */
gboolean vs_snapshot_delete(virDomainPtr dom, const char *snap, GError **error);

/* Deletes every snapshot of @dom; with @metadata_only libvirt forgets them without touching the
 * disks (for disks about to be deleted anyway). Returns FALSE with @error set; the snapshots
 * deleted before the failure stay deleted. */
gboolean vs_snapshot_delete_all(virDomainPtr dom, gboolean metadata_only, GError **error);
