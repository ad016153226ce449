/* GPU attach on one libvirt connection: see gpu-site.h. */
#include "provisioner/gpu-site.h"

#include <string.h>
#include <unistd.h>

#include "provisioner/sshcmd.h"
#include "provisioner/target.h"
#include "domains/caps.h"
#include "domains/lifecycle.h"
#include "domains/mdev.h"
#include "domains/uri.h"

char *
vs_gpu_site_journal_dir(const char *host_uri)
{
    g_autofree char *locks = vs_lock_dir();
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, host_uri, -1);
    g_autofree char *folder = g_strndup(sum, 16);

    /* One folder per host: a PCI address names different devices on two hosts. */
    return g_build_filename(locks, "gpu-journal", folder, NULL);
}

/* Returns whether the domain @uuid exists on @uri (entries of other connections: TRUE, they are
 * left alone). */
static gboolean
domain_exists(void *data, const char *uri, const char *uuid)
{
    VsGpuSite *site = data;
    g_autoptr(virDomain) dom = NULL;

    if (g_strcmp0(uri, site->uri) != 0)
        return TRUE;
    dom = virDomainLookupByUUIDString(site->conn, uuid);
    if (dom)
        return TRUE;
    /* Only "no such domain" means it is gone; any other failure keeps the entry. */
    return virGetLastErrorCode() != VIR_ERR_NO_DOMAIN;
}

static void
say(void *data, const char *sentence)
{
    VsGpuSite *site = data;

    vs_progress_step(site->progress, "%s", sentence);
}

/* Returns whether @dom holds the host devices its definition names: a running domain does, and
 * so does any domain that is not a workstation (whatever it is, it is not ours to judge); a
 * shut-off workstation only while the journal names it (`stop --release-gpu` gave them back). */
static gboolean
holds_devices(void *data, virDomainPtr dom)
{
    VsGpuSite *site = data;
    g_autoptr(GPtrArray) entries = NULL;
    g_autoptr(VsMetadata) station = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN] = "";

    if (virDomainIsActive(dom) == 1)
        return TRUE;
    station = vs_lifecycle_owned(dom, NULL);
    if (!station)
        return TRUE;
    virDomainGetUUIDString(dom, uuid);
    entries = vs_gpu_journal_read(site->journal_dir, NULL);
    for (guint i = 0; entries && i < entries->len; i++)
        if (g_strcmp0(((VsGpuClaim *)entries->pdata[i])->domain_uuid, uuid) == 0)
            return TRUE;
    return !entries; /* a journal that cannot be read proves nothing: it holds them */
}

/* Returns the backend for @site's connection (see gpu-site.h). */
static gboolean
choose_ops(VsGpuSite *site, GError **error)
{
    site->ops = vs_gpu_ops_from_env();
    if (site->ops) {
        /* The fake has no driver that removes an mdev by itself: no need to wait for one. */
        site->fake = TRUE;
        return TRUE;
    }
    /* The sysfs files are this machine's: only for a local connection, and only root may
     * write them. */
    if (!site->remote && geteuid() == 0)
        site->fallback = vs_gpu_ops_sysfs(NULL);
    site->ops = vs_mdev_ops_nodedev(site->conn, site->fallback);
    if (!site->ops) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "the GPU operations of %s could not be set up", site->uri);
        return FALSE;
    }
    return TRUE;
}

VsGpuSite *
vs_gpu_site_open(virConnectPtr conn, const char *uri, const char *domain_uuid,
                 const char *domain_name, const VsProgress *progress, GError **error)
{
    g_autoptr(VsGpuSite) site = g_new0(VsGpuSite, 1);
    g_autoptr(GPtrArray) stale = NULL;
    g_autoptr(GError) reconcile_error = NULL;

    site->conn = conn;
    site->progress = progress;
    site->uri = vs_target_host_uri(conn, uri);
    site->remote = vs_ssh_jump_from_uri(uri) != NULL || !vs_uri_is_local_qemu(site->uri);
    site->domain_uuid = g_strdup(domain_uuid);
    site->domain_name = g_strdup(domain_name);
    site->journal_dir = vs_gpu_site_journal_dir(site->uri);
    site->lock = vs_lock_take(VS_LOCK_GPU, NULL, TRUE, error);
    if (!site->lock || !choose_ops(site, error))
        return NULL;
    /* Read under the lock: no `up` can be between its claim and its definition now. */
    site->held = vs_lifecycle_gpu_users(conn, domain_uuid, holds_devices, site, error);
    if (!site->held)
        return NULL;
    site->host = (VsGpuHost){
        .ops = site->ops,
        .journal_dir = site->journal_dir,
        .uri = site->uri,
        .domain_uuid = site->domain_uuid,
        .domain_name = site->domain_name,
        .persistent = TRUE,
        .mdev_wait_ms = site->fake ? 100 : 0,
        .retry_ms = site->fake ? 50 : 0,
        .held = site->held,
        .domain_exists = domain_exists,
        .say = say,
        .data = site,
    };
    /* What cannot be given back now stays in the journal for the next command: it must not
     * stop this one. */
    stale = vs_gpu_reconcile(&site->host, FALSE, &reconcile_error);
    if (!stale)
        vs_progress_warn(progress, "%s", reconcile_error->message);
    return g_steal_pointer(&site);
}

void
vs_gpu_site_close(VsGpuSite *site)
{
    if (!site)
        return;
    vs_lock_release(site->lock);
    if (site->held)
        g_hash_table_unref(site->held);
    vs_gpu_ops_free(site->ops);
    vs_gpu_ops_free(site->fallback);
    g_free(site->journal_dir);
    g_free(site->domain_name);
    g_free(site->domain_uuid);
    g_free(site->uri);
    g_free(site);
}

VsGpuInventory *
vs_gpu_site_inventory(VsGpuSite *site, GError **error)
{
    if (site->remote)
        return vs_gpu_host_inventory(TRUE, NULL, vs_caps_gpu_inventory, site->conn, error);
    return site->ops->inventory(site->ops->data, error);
}

VsGpuPlan *
vs_gpu_site_plan_of(const VsMetadata *station)
{
    g_autoptr(VsGpuPlan) plan = NULL;

    if (station->gpu_mode != VS_GPU_MODE_VGPU && station->gpu_mode != VS_GPU_MODE_PASSTHROUGH)
        return NULL;
    if (station->gpu_mode == VS_GPU_MODE_VGPU && station->gpu_vgpu_kind == VS_VGPU_KIND_LAST)
        return NULL;
    plan = vs_gpu_plan_new(station->gpu_mode);
    plan->device = g_strdup(station->gpu_device);
    plan->vgpu_type = g_strdup(station->gpu_vgpu_type);
    plan->vgpu_kind = station->gpu_vgpu_kind;
    plan->mdev_uuid = g_strdup(station->gpu_mdev_uuid);
    for (guint i = 0; station->gpu_functions && i < station->gpu_functions->len; i++)
        g_ptr_array_add(plan->functions, g_strdup(station->gpu_functions->pdata[i]));
    return g_steal_pointer(&plan);
}

/* Returns the journal id of what @plan holds: its mdev UUID, or its VF's or device's address. */
static const char *
claim_id(const VsGpuPlan *plan)
{
    if (plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV)
        return plan->mdev_uuid;
    return plan->device;
}

gboolean
vs_gpu_site_holds(VsGpuSite *site, const VsGpuPlan *plan)
{
    g_autoptr(GPtrArray) entries = vs_gpu_journal_read(site->journal_dir, NULL);
    const char *id = claim_id(plan);
    gboolean journaled = FALSE;

    for (guint i = 0; entries && i < entries->len; i++) {
        const VsGpuClaim *c = entries->pdata[i];
        journaled |= g_strcmp0(c->id, id) == 0 && g_strcmp0(c->domain_uuid, site->domain_uuid) == 0;
    }
    if (!journaled)
        return FALSE;
    if (plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV)
        return site->ops->mdev_exists(site->ops->data, plan->mdev_uuid);
    if (plan->mode == VS_GPU_MODE_VGPU) {
        g_autofree char *type = site->ops->vf_get_type(site->ops->data, plan->device, NULL);
        return g_strcmp0(type, plan->vgpu_type) == 0;
    }
    return TRUE;
}

/* Returns TRUE when the device @plan names is there already though the journal lost it (a
 * persistent mdev after a host reboot cleared /run, a VF still set to our type) and no other
 * domain uses it: the journal names it again, so that it is given back one day. */
static gboolean
adopt_leftover(VsGpuSite *site, const VsGpuPlan *plan, GError **error)
{
    gboolean mdev = plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV;
    const char *id = claim_id(plan);
    g_autoptr(VsGpuClaim) claim = NULL;
    g_autofree char *type = NULL;

    if (!id || g_hash_table_contains(site->held, id))
        return FALSE;
    if (mdev && !site->ops->mdev_exists(site->ops->data, id))
        return FALSE;
    if (!mdev && plan->mode == VS_GPU_MODE_VGPU) {
        type = site->ops->vf_get_type(site->ops->data, id, NULL);
        if (g_strcmp0(type, plan->vgpu_type) != 0)
            return FALSE;
    } else if (!mdev) {
        return FALSE; /* passthrough: nothing on the host to find */
    }
    claim = vs_gpu_claim_new(mdev ? VS_GPU_CLAIM_MDEV : VS_GPU_CLAIM_VF, id);
    claim->uri = g_strdup(site->uri);
    claim->domain_uuid = g_strdup(site->domain_uuid);
    claim->domain_name = g_strdup(site->domain_name);
    claim->parent = mdev ? g_strdup(plan->device) : NULL;
    claim->device = mdev ? NULL : g_strdup(plan->device);
    claim->vgpu_type = g_strdup(plan->vgpu_type);
    claim->mdev_uuid = mdev ? g_strdup(id) : NULL;
    claim->created = TRUE;
    claim->pid = getpid();
    return vs_gpu_journal_write(site->journal_dir, claim, error);
}

gboolean
vs_gpu_site_ensure(VsGpuSite *site, VsGpuPlan *plan, gboolean *ret_taken, GError **error)
{
    g_autoptr(VsGpuInventory) inv = NULL;
    g_autofree char *before = g_strdup(plan->device);
    g_autofree char *prefer = g_strdup(claim_id(plan));

    *ret_taken = FALSE;
    if (vs_gpu_site_holds(site, plan))
        return TRUE;
    if (adopt_leftover(site, plan, error))
        return TRUE;
    if (error && *error)
        return FALSE;
    inv = vs_gpu_site_inventory(site, error);
    if (!inv || !vs_gpu_claim(plan, inv, &site->host, prefer, error))
        return FALSE;
    if (plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV &&
        g_strcmp0(prefer, plan->mdev_uuid) != 0) {
        /* The definition names the UUID: a copy of a workstation whose original holds it. */
        vs_gpu_journal_remove(site->journal_dir, plan->mdev_uuid, NULL);
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "the mediated device %s this workstation's definition names is in use by "
                    "%s; `virt-station adopt` a copy before starting it",
                    prefer,
                    g_hash_table_lookup(site->held, prefer)
                        ? (char *)g_hash_table_lookup(site->held, prefer)
                        : "another domain");
        return FALSE;
    }
    if (plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_VENDOR_VFIO &&
        g_strcmp0(before, plan->device) != 0) {
        /* The definition names the VF: another one would need a new definition. */
        const char *holder = g_hash_table_lookup(site->held, before);
        g_autofree char *who =
            holder ? g_strdup_printf("used by %s", holder) : g_strdup("no longer free");
        vs_gpu_journal_remove(site->journal_dir, plan->device, NULL);
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "the VF %s this workstation was given is %s; VF %s is free: `virt-station "
                    "delete` and `up` again to use it",
                    before, who, plan->device);
        return FALSE;
    }
    vs_progress_step(
        site->progress, "taking %s %s on %s", vs_gpu_mode_to_string(plan->mode), claim_id(plan),
        plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV ? plan->device
                                                                               : "the host");
    if (!vs_gpu_take(plan, &site->host, error))
        return FALSE;
    vs_gpu_site_say_notes(site);
    *ret_taken = TRUE;
    return TRUE;
}

/* Returns whether the domain @uuid of @conn exists and runs. */
static gboolean
still_running(virConnectPtr conn, const char *uuid)
{
    g_autoptr(virDomain) dom = uuid && *uuid ? virDomainLookupByUUIDString(conn, uuid) : NULL;

    return dom && virDomainIsActive(dom) == 1;
}

gboolean
vs_gpu_site_release(virConnectPtr conn, const char *uri, const char *dom_uuid, const char *name,
                    const VsMetadata *station, const VsProgress *progress, GError **error)
{
    g_autoptr(VsGpuPlan) plan = station ? vs_gpu_site_plan_of(station) : NULL;
    g_autoptr(VsGpuSite) site = NULL;

    if (!plan) {
        vs_gpu_site_tidy(conn, uri, progress);
        return TRUE;
    }
    site = vs_gpu_site_open(conn, uri, dom_uuid, name, progress, error);
    if (site && still_running(conn, dom_uuid)) {
        /* Started again between its stop and the GPU lock: its device is in use. */
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "%s is running again; stop it before giving back its GPU", name);
        return FALSE;
    }
    if (!site || !vs_gpu_give_back(plan, &site->host, error)) {
        g_prefix_error(error, "giving back the GPU of %s: ", name);
        return FALSE;
    }
    vs_progress_step(progress, "gave back %s %s", vs_gpu_mode_to_string(plan->mode),
                     claim_id(plan));
    return TRUE;
}

void
vs_gpu_site_say_notes(VsGpuSite *site)
{
    g_autoptr(GPtrArray) notes = site->fake ? NULL : vs_mdev_ops_take_notes(site->ops);

    for (guint i = 0; notes && i < notes->len; i++)
        vs_progress_warn(site->progress, "%s", (char *)notes->pdata[i]);
}

void
vs_gpu_site_tidy(virConnectPtr conn, const char *uri, const VsProgress *progress)
{
    g_autofree char *host_uri = vs_target_host_uri(conn, uri);
    g_autofree char *dir = vs_gpu_site_journal_dir(host_uri);
    g_autoptr(GPtrArray) entries = vs_gpu_journal_read(dir, NULL);
    g_autoptr(VsGpuSite) site = NULL;
    g_autoptr(GError) error = NULL;

    if (!entries || entries->len == 0)
        return;
    site = vs_gpu_site_open(conn, uri, NULL, NULL, progress, &error);
    if (!site)
        vs_progress_warn(progress, "%s", error->message);
}
