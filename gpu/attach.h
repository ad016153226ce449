/* Attaching host GPUs: choosing a vGPU instance, VF or device under the GPU lock, taking it on
 * the host through the operations table (gpu/hostops.h), and giving back exactly what was taken.
 *
 * The caller (the apply of `up`, `start`, `delete`, `stop --release-gpu`) holds the GPU lock
 * (provisioner/lock.h) around claim+take and around give-back; nothing here locks, prints or
 * talks to libvirt: what it needs from libvirt comes through VsGpuHost's callbacks. */
#pragma once

#include "gpu/hostops.h"
#include "gpu/journal.h"
#include "gpu/plan.h"

typedef struct {
    const VsGpuOps *ops;
    const char *journal_dir;
    const char *uri; /* the connection's own URI, recorded in the journal */
    /* The domain the claim is for. */
    const char *domain_uuid;
    const char *domain_name;
    gboolean persistent; /* mdevs that survive host reboots (node-device backend) */
    /* What other workstations hold according to their metadata (mdev UUIDs, VF and function
     * addresses, as keys; the value is the holder's name), read by the caller under the lock. */
    GHashTable *held;
    /* Returns whether a domain with @uuid exists on @uri (for entries of another connection the
     * caller may answer TRUE: they are left alone). */
    gboolean (*domain_exists)(void *data, const char *uri, const char *uuid);
    void *data;
    /* Reports progress and what was given back (sentences); may be NULL. */
    void (*say)(void *data, const char *sentence);
    /* Waits (tests make them short): for the driver to remove an mdev itself after the domain
     * stopped (default 10 s), and between retries of a busy VF (10 × 1 s). 0 means default. */
    guint mdev_wait_ms;
    guint retry_ms;
    guint retries;
} VsGpuHost;

/* Chooses what @plan (a vgpu or passthrough plan, as vs_gpu_select() made it from an older
 * reading) will take, from @inv read again under the lock: for an mdev, a free instance of the
 * plan's type (the plan's parent first, else another parent offering it) and a new UUID, or
 * @prefer (an mdev UUID or VF address the domain had before) where that is free; for a VF, a VF
 * whose current type is 0 and whose creatable list holds the type; for passthrough, checks that
 * no function is held by another domain or a live journal entry. Writes the journal entry,
 * changes nothing on the host, and fills @plan (mdev_uuid, device, functions). Errors:
 * VS_GPU_ERROR_REFUSED when nothing is free (the message names type id and name, parent, free
 * count, who holds the others and what is free instead), VS_GPU_ERROR_UNKNOWN for a type or
 * address the host does not have. */
gboolean vs_gpu_claim(VsGpuPlan *plan, const VsGpuInventory *inv, const VsGpuHost *host,
                      const char *prefer, GError **error);

/* Takes on the host what @plan claims: creates the mdev (and checks it exists), or writes the
 * VF's type, reads it back and reads the siblings again; passthrough changes nothing (libvirt
 * detaches managed functions at start). On failure nothing stays taken: what was done is
 * undone, the journal entry removed. */
gboolean vs_gpu_take(const VsGpuPlan *plan, const VsGpuHost *host, GError **error);

/* Gives back what @plan holds (the domain is off): waits for the driver to remove the mdev
 * itself, then removes it; writes the VF's type back to 0 (retried while busy); then removes
 * the journal entry. Nothing is given back that another domain's metadata (@host->held) or
 * another live journal entry claims. On failure the journal entry stays (reconcile retries)
 * and the message names the device and what to run by hand. */
gboolean vs_gpu_give_back(const VsGpuPlan *plan, const VsGpuHost *host, GError **error);

/* Gives back every journal entry whose domain no longer exists and whose writing process is
 * dead (a killed `up`, a transient domain that died), skipping what @host->held names. With
 * @report_only nothing changes. Returns the entries found stale (VsGpuClaim), or NULL with
 * @error set; when one give-back fails the others are still tried, its entry stays, and the
 * error names each failure. */
GPtrArray *vs_gpu_reconcile(const VsGpuHost *host, gboolean report_only, GError **error);

/* Returns the plan a journal entry describes (for giving back what a dead domain held). */
VsGpuPlan *vs_gpu_claim_to_plan(const VsGpuClaim *claim);
