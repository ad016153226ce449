/* GPU attach on one libvirt connection (libvirt module): what gpu/attach.c needs, gathered
 * under the GPU lock — the operations backend for the connection, the allocation journal, what
 * other domains use — for `up`, `start`, `stop --release-gpu` and `delete`.
 *
 * Backends: $VIRT_STATION_FAKE_GPU (tests) is the fake on $VIRT_STATION_SYSFS_ROOT; otherwise
 * libvirt's node-device API for mdevs (persistent, autostarted: they survive host reboots), with
 * the sysfs files as the fallback on a local root connection (where libvirt cannot create mdevs,
 * e.g. without mdevctl) and for NVIDIA's vendor-specific VFs (local only).
 *
 * The journal lives in the lock folder (lock.h: /run/virt-station/gpu-journal/HOST for root,
 * HOST a hash of the connection's URI), so it
 * covers what the locks cover: this client's processes. For a remote host, two client machines
 * do not see each other's entries; libvirt's own refusals (an mdev UUID that exists, a device in
 * use by another domain) still stand between them. */
#pragma once

#include "provisioner/base/progress.h"
#include "provisioner/lock.h"
#include "domains/metadata.h"
#include "domains/vs-libvirt.h"
#include "gpu/attach.h"

typedef struct {
    VsGpuHost host; /* handed to gpu/attach.c; points into the members below */
    virConnectPtr conn;
    gboolean remote;
    gboolean fake; /* the tests' fake backend */
    char *uri;
    char *domain_uuid;
    char *domain_name;
    char *journal_dir;
    VsGpuOps *ops;
    VsGpuOps *fallback; /* the sysfs backend under the node-device one, or NULL */
    GHashTable *held;   /* device → name of the other domain using it */
    VsLock *lock;
    const VsProgress *progress;
} VsGpuSite;

/* Takes the GPU lock (waiting for it) and returns the site for the domain @domain_uuid
 * (@domain_name) on @conn: backend, journal folder, what the other domains use; then gives back
 * journal entries whose domain is gone (what a killed `up` left), saying so through @progress.
 * NULL with @error set. */
VsGpuSite *vs_gpu_site_open(virConnectPtr conn, const char *uri, const char *domain_uuid,
                            const char *domain_name, const VsProgress *progress, GError **error);

/* Releases the GPU lock and frees @site (NULL is allowed). */
void vs_gpu_site_close(VsGpuSite *site);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsGpuSite, vs_gpu_site_close)

/* Returns the host's GPU inventory as it is now: sysfs (or the fake) for a local host, the node
 * devices for a remote one. */
VsGpuInventory *vs_gpu_site_inventory(VsGpuSite *site, GError **error);

/* Returns the folder of the allocation journal of the host @host_uri (the connection's own
 * spelling, vs_target_host_uri): one folder per host under the lock folder. */
char *vs_gpu_site_journal_dir(const char *host_uri);

/* Returns the GPU plan the metadata @station records (what the domain was given), or NULL when
 * it holds no host device (none, virgl, or a mode this version does not know). */
VsGpuPlan *vs_gpu_site_plan_of(const VsMetadata *station);

/* Returns whether the journal holds an entry for the domain @site is for, naming what @plan
 * holds, and the device exists on the host (an mdev that is there, a VF set to the type). */
gboolean vs_gpu_site_holds(VsGpuSite *site, const VsGpuPlan *plan);

/* Makes sure the domain @site is for holds what @plan (from its metadata) names before it
 * starts: nothing to do when it does (vs_gpu_site_holds); else claims again — the same mdev
 * UUID, the same VF where it is free — and takes it. Sets @ret_taken when this call took
 * something (to give back when the start fails). FALSE with @error set when it cannot, also
 * when the VF the domain's definition names is no longer free (the message says which holds
 * it). */
gboolean vs_gpu_site_ensure(VsGpuSite *site, VsGpuPlan *plan, gboolean *ret_taken, GError **error);

/* Gives back what the workstation @dom_uuid (@name) on @conn holds according to @station, if
 * anything (its domain is off or gone), under the GPU lock; says what through @progress. */
gboolean vs_gpu_site_release(virConnectPtr conn, const char *uri, const char *dom_uuid,
                             const char *name, const VsMetadata *station,
                             const VsProgress *progress, GError **error);

/* Reports through the site's progress what the backend did another way than asked (libvirt
 * could not create the mdev: the sysfs files were written instead). */
void vs_gpu_site_say_notes(VsGpuSite *site);

/* Gives back, under the GPU lock, what dead domains left in the journal (as vs_gpu_site_open
 * does), for the commands that attach nothing themselves; cheap when the journal is empty.
 * Failures are warnings through @progress: they never stop the command. */
void vs_gpu_site_tidy(virConnectPtr conn, const char *uri, const VsProgress *progress);
