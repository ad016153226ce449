/* The apply of `up`.
 *
 * Theory of operation: the plan (up-plan.c) decided everything it could without the host. Here
 * the locks are taken in the order of lock.h — the name, the base volume, the port — and under
 * them what other processes compete for is read again: a domain of that name appeared, a vol:
 * base disappeared, the candidate port was taken (then another is chosen). Only then are the
 * host key, the seed and the domain XML made, and the steps run in the plan's order: pool, base
 * image (under the base lock: a base marked complete is used, one without the mark is stale and
 * is verified or replaced, a new one is read back before it is marked; domains/storage.h),
 * overlay, seed volume, define, start. Each step records what it created; a failure or
 * Ctrl-C between steps (or during the base upload) removes exactly that, newest first, and says
 * so: never a volume another domain's disks use, nor a base another volume is built on (the rule
 * `delete` follows), and nothing at all while the domain could not be undefined. A pool the pool
 * step created (the default one, when it was missing) is removed last, once it is empty. Each lock
 * goes as soon as what it guards is held by something other processes see: the base lock once the
 * overlay is built on the base (unless this run imported the base: its rollback may remove it),
 * the port lock once the defined domain names its port; the name lock stays to the end, so that
 * `start` waits rather than races the start step. Once the domain runs nothing is removed any more:
 * waiting is the caller's business. The transient form (`run`) defines nothing: the define step
 * only makes the XML and the start step creates the domain with VIR_DOMAIN_START_AUTODESTROY; the
 * name lock then goes to the caller, not away. */
#include "provisioner/up-apply.h"

#include <string.h>

#include "common/vs-fault.h"
#include "provisioner/base/file-read.h"
#include "provisioner/cloudinit.h"
#include "provisioner/defaults.h"
#include "provisioner/gpu-site.h"
#include "provisioner/identity.h"
#include "provisioner/interrupt.h"
#include "provisioner/keys.h"
#include "domains/lifecycle.h"
#include "provisioner/lock.h"
#include "provisioner/seed.h"
#include "provisioner/target.h"
#include "domains/storage.h"
#include "domains/xml.h"

typedef struct {
    const VsUpApply *ctx;
    VsUpPlan *plan;
    GBytes *seed;
    gboolean secret; /* the seed holds secrets: the volume is owner-only */
    char *xml;
    VsLock *name_lock, *base_lock, *port_lock;
    VsGpuSite *gpu; /* the GPU lock and what attaching needs, for a vgpu or passthrough plan */
    gboolean gpu_claimed, gpu_taken;
    /* What was created, for the rollback. */
    virStoragePoolPtr pool;
    gboolean pool_created;
    virStorageVolPtr base;
    gboolean base_created;
    virStorageVolPtr overlay;
    virStorageVolPtr seed_volume;
    virDomainPtr dom;
} Apply;

static void
apply_clear(Apply *a)
{
    g_clear_pointer(&a->seed, g_bytes_unref);
    g_clear_pointer(&a->xml, g_free);
    g_clear_pointer(&a->dom, virDomainFree);
    g_clear_pointer(&a->seed_volume, virStorageVolFree);
    g_clear_pointer(&a->overlay, virStorageVolFree);
    g_clear_pointer(&a->base, virStorageVolFree);
    g_clear_pointer(&a->pool, virStoragePoolFree);
    g_clear_pointer(&a->gpu, vs_gpu_site_close);
    g_clear_pointer(&a->port_lock, vs_lock_release);
    g_clear_pointer(&a->base_lock, vs_lock_release);
    g_clear_pointer(&a->name_lock, vs_lock_release);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Apply, apply_clear)

/* Deletes the volume @vol that this run created, unless a domain in @users uses it as a disk
 * (one defined meanwhile from a copy of our XML, say) or, with @backing (the base: its marker
 * goes too), a volume in any pool is built on it; appends what was removed to @what and
 * reports what was kept. */
static void
remove_volume(const Apply *a, virStorageVolPtr vol, GHashTable *users, GHashTable *backing,
              GString *what)
{
    const char *user = users ? vs_lifecycle_volume_user(users, vol) : NULL;
    g_autoptr(GError) error = NULL;

    if (!users)
        vs_progress_warn(a->ctx->progress,
                         "kept volume %s: the domains using volumes could not "
                         "be listed",
                         virStorageVolGetName(vol));
    else if (user)
        vs_progress_warn(a->ctx->progress, "kept volume %s: %s uses it as a disk",
                         virStorageVolGetName(vol), user);
    else if (backing && vs_storage_volume_is_backing(backing, vol)) {
        g_autofree char *why = vs_storage_backing_reason(backing, vol);
        vs_progress_warn(a->ctx->progress, "kept volume %s: %s", virStorageVolGetName(vol), why);
    } else if (backing ? vs_storage_base_delete(vol, &error) : virStorageVolDelete(vol, 0) == 0)
        g_string_append_printf(what, " volume %s,", virStorageVolGetName(vol));
    else
        vs_progress_warn(a->ctx->progress, "could not delete volume %s: %s",
                         virStorageVolGetName(vol),
                         error ? error->message : virGetLastErrorMessage());
}

/* Removes the domain this run defined; FALSE when it could not be or must not be (its volumes
 * then stay): a defined domain that runs was started by another client (`virsh start`) and is
 * in use. */
static gboolean
remove_domain(const Apply *a, GString *what)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!a->ctx->transient && virDomainIsActive(a->dom) == 1) {
        vs_progress_warn(a->ctx->progress,
                         "%s was started by another client meanwhile: it and its volumes are "
                         "kept; `virt-station delete %s` removes them",
                         virDomainGetName(a->dom), virDomainGetName(a->dom));
        return FALSE;
    }
    /* The domain goes: so does what was remembered for its UUID. */
    if (virDomainGetUUIDString(a->dom, uuid) == 0)
        vs_identity_forget(a->ctx->uri, uuid);
    if (virDomainIsActive(a->dom) == 1)
        virDomainDestroy(a->dom);
    /* A transient domain (`run`) is gone once destroyed: there is nothing to undefine. */
    if (virDomainIsPersistent(a->dom) == 1 && !vs_lifecycle_undefine(a->dom)) {
        vs_progress_warn(a->ctx->progress,
                         "could not undefine %s (%s): it and its volumes are "
                         "kept; `virt-station delete %s` removes them",
                         virDomainGetName(a->dom), virGetLastErrorMessage(),
                         virDomainGetName(a->dom));
        return FALSE;
    }
    g_string_append_printf(what, " domain %s,", virDomainGetName(a->dom));
    return TRUE;
}

/* Gives back the GPU this run claimed (and took): the domain is gone by now. */
static void
give_back_gpu(Apply *a, GString *what)
{
    const VsGpuPlan *gpu = a->plan->config->gpu;
    g_autoptr(GError) error = NULL;
    const char *id = gpu->mode == VS_GPU_MODE_VGPU && gpu->vgpu_kind == VS_VGPU_KIND_MDEV
                         ? gpu->mdev_uuid
                         : gpu->device;

    /* Also when the take failed: an entry it kept (its undo failed too) names what the host
     * may still hold, and give-back only removes an entry that changed nothing. */
    if (vs_gpu_give_back(gpu, &a->gpu->host, &error))
        g_string_append_printf(what, " %s %s,", a->gpu_taken ? "GPU" : "GPU claim on", id);
    else
        vs_progress_warn(a->ctx->progress, "could not give back %s: %s", id, error->message);
}

/* Removes the pool this run created (`up` creates only the default pool, when it is missing),
 * once it is empty: a volume in it now is another process's (or one kept above), and stays with
 * its pool. The pool's directory stays too: libvirt's build made it only where it was missing,
 * and it may hold files that are not volumes. */
static void
remove_pool(const Apply *a, GString *what)
{
    const char *name = virStoragePoolGetName(a->pool);
    int n;

    virStoragePoolRefresh(a->pool, 0);
    n = virStoragePoolNumOfVolumes(a->pool);
    if (n != 0) {
        vs_progress_warn(a->ctx->progress, "kept storage pool %s: %s", name,
                         n > 0 ? "it holds volumes" : "its volumes could not be counted");
        return;
    }
    if (virStoragePoolIsActive(a->pool) == 1 && virStoragePoolDestroy(a->pool) < 0)
        vs_progress_warn(a->ctx->progress, "could not stop storage pool %s: %s", name,
                         virGetLastErrorMessage());
    else if (virStoragePoolUndefine(a->pool) < 0)
        vs_progress_warn(a->ctx->progress, "could not remove storage pool %s: %s", name,
                         virGetLastErrorMessage());
    else
        g_string_append_printf(what, " storage pool %s,", name);
}

/* Removes what @a records, newest first, and reports it. The base lock is still held when this
 * run imported the base (see the overlay step): no other `up` can have built on it, but other
 * tools may have. */
static void
rollback(Apply *a)
{
    g_autoptr(GString) what = g_string_new(NULL);
    g_autoptr(GHashTable) users = NULL;
    g_autoptr(GHashTable) backing = NULL;
    g_autoptr(GError) error = NULL;

    if (a->dom && !remove_domain(a, what))
        return;
    if (a->gpu_claimed)
        give_back_gpu(a, what);
    if (a->seed_volume || a->overlay || (a->base && a->base_created))
        users = vs_lifecycle_disk_users(a->ctx->conn, a->dom, &error);
    if (a->seed_volume)
        remove_volume(a, a->seed_volume, users, NULL, what);
    if (a->overlay)
        remove_volume(a, a->overlay, users, NULL, what);
    if (a->base && a->base_created) {
        /* Read now that our own overlay is gone. */
        backing = vs_storage_backing_paths(a->ctx->conn, NULL);
        remove_volume(a, a->base, backing ? users : NULL, backing, what);
    }
    if (a->pool_created)
        remove_pool(a, what);
    if (what->len > 0) {
        g_string_truncate(what, what->len - 1);
        vs_progress_warn(a->ctx->progress, "removed what was created:%s", what->str);
    } else if (!a->seed_volume && !a->overlay && !(a->base && a->base_created) && !a->gpu_claimed &&
               !a->pool_created) {
        vs_progress_warn(a->ctx->progress, "nothing had been created yet");
    }
}

static gboolean
read_optional(const char *path, const char *what, GBytes **ret, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;

    if (!path)
        return TRUE;
    /* Bounded, regular files only (a FIFO or /dev/zero is refused, not read for ever). */
    if (!vs_file_read_bounded(path, VS_FILE_CAP_USER_DATA, what, &data, &len, error))
        return FALSE;
    *ret = g_bytes_new_take(g_steal_pointer(&data), len);
    return TRUE;
}

/* Adds the SSH public keys the guest gets to @keys: the --ssh-key files, else the user's usual
 * key and virt-station's own, so that `ssh`/`exec` always work. */
static gboolean
login_keys(const VsSpec *spec, GPtrArray *keys, GError **error)
{
    g_autofree char *key = NULL, *own = NULL, *own_pub = NULL;

    if (spec->ssh_keys->len > 0) {
        for (guint i = 0; i < spec->ssh_keys->len; i++)
            if (!vs_cloudinit_read_ssh_keys(spec->ssh_keys->pdata[i], keys, error))
                return FALSE;
        return TRUE;
    }
    key = vs_defaults_ssh_key();
    own = vs_keys_own_key(TRUE, error);
    if (!own)
        return FALSE;
    own_pub = g_strconcat(own, ".pub", NULL);
    return (!key || vs_cloudinit_read_ssh_keys(key, keys, error)) &&
           vs_cloudinit_read_ssh_keys(own_pub, keys, error);
}

/* Makes the seed ISO for the plan's configuration: our user and keys, the user's own files,
 * the host key. */
static gboolean
make_seed(Apply *a, VsHostKey *host_key, GError **error)
{
    const VsSpec *spec = a->ctx->spec;
    const VsDomainConfig *config = a->plan->config;
    g_auto(VsCloudInitSpec) ci = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);

    ci.hostname = g_strdup(config->name);
    ci.user = g_strdup(config->ssh_user);
    ci.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    if (!login_keys(spec, ci.ssh_keys, error) ||
        !read_optional(spec->user_data, "--user-data", &ci.user_data, error) ||
        !read_optional(spec->network_config, "--network-config", &ci.network_config, error))
        return FALSE;
    ci.user_data_name = g_strdup(spec->user_data);
    if (!spec->network_config)
        ci.mac = g_strdup(config->mac);
    ci.host_keys = g_ptr_array_new();
    g_ptr_array_add(ci.host_keys, host_key);
    if (!vs_cloudinit_compose(&ci, &files, warnings, error))
        return FALSE;
    for (guint i = 0; i < warnings->len; i++)
        vs_progress_warn(a->ctx->progress, "%s", (char *)warnings->pdata[i]);
    a->secret = files.has_secrets;
    a->seed = vs_seed_build(&files, error);
    return a->seed != NULL;
}

/* Takes the name lock and checks that no domain has the name (a foreign one included). */
static gboolean
confirm_name(Apply *a, GError **error)
{
    const char *name = a->plan->config->name;
    g_autofree char *uri = vs_target_host_uri(a->ctx->conn, a->ctx->uri);
    g_autofree char *key = vs_lock_key_name(uri, name);
    g_autoptr(GError) lookup_error = NULL;
    g_autoptr(virDomain) existing = NULL;

    a->name_lock = vs_lock_take(VS_LOCK_NAME, key, TRUE, error);
    if (!a->name_lock)
        return FALSE;
    existing = vs_lifecycle_lookup(a->ctx->conn, name, NULL, &lookup_error);
    if (existing) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                    "%s exists; use `virt-station start %s`", name, name);
        return FALSE;
    }
    if (g_error_matches(lookup_error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN)) {
        /* Not ours at all, or a copy of a workstation (the message says which). */
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_EXISTS,
                    "a domain called %s exists: %s; choose another name", name,
                    lookup_error->message);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE unless the user's --disk is smaller than the base volume's virtual size (an
 * overlay cannot be smaller than its backing file, and silently growing the disk would hide
 * the mistake); else FALSE with @error set (VS_SPEC_ERROR: exit status 2). Without --disk the
 * overlay takes the larger of the default and the base's size. */
static gboolean
check_disk(const Apply *a, GError **error)
{
    const VsDomainConfig *c = a->plan->config;
    guint64 asked = a->ctx->spec->disk_bytes;
    virStorageVolInfo info;

    if (!asked || !a->base)
        return TRUE;
    if (virStorageVolGetInfo(a->base, &info) < 0)
        return vs_libvirt_error(error, "reading the base volume's size");
    if (asked >= info.capacity)
        return TRUE;
    g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                "--disk %" G_GUINT64_FORMAT
                " MiB is smaller than the image %s/%s (%" G_GUINT64_FORMAT
                " MiB): the disk cannot be smaller than its image; give --disk %" G_GUINT64_FORMAT
                "M or more, or no --disk",
                asked >> 20, c->base_pool, c->base_volume, (guint64)info.capacity >> 20,
                ((guint64)info.capacity + (1 << 20) - 1) >> 20);
    return FALSE;
}

/* Takes the base lock; a vol: base must exist, and be no larger than an explicit --disk. */
static gboolean
confirm_base(Apply *a, GError **error)
{
    const VsDomainConfig *c = a->plan->config;
    g_autofree char *uri = vs_target_host_uri(a->ctx->conn, a->ctx->uri);
    g_autofree char *key = vs_lock_key_base(uri, c->base_pool, c->base_volume);

    a->base_lock = vs_lock_take(VS_LOCK_BASE, key, TRUE, error);
    if (!a->base_lock)
        return FALSE;
    if (a->plan->image->kind == VS_IMAGE_VOLUME)
        a->base = vs_storage_volume(a->ctx->conn, c->base_pool, c->base_volume, error);
    return a->plan->image->kind != VS_IMAGE_VOLUME || (a->base && check_disk(a, error));
}

/* Takes the port lock and keeps the plan's candidate port when it is still free and no other
 * workstation's, else chooses another. */
static gboolean
confirm_port(Apply *a, GError **error)
{
    VsDomainConfig *c = a->plan->config;
    guint16 port;

    /* User networking: the port in the plan is a candidate, confirmed under the lock. */
    if (c->net_mode != VS_NET_USER)
        return TRUE;
    a->port_lock = vs_lock_take(VS_LOCK_PORT, NULL, TRUE, error);
    if (!a->port_lock)
        return FALSE;
    port = vs_target_free_port(a->ctx->conn, a->ctx->remote, c->ssh_port, NULL, error);
    if (!port)
        return FALSE;
    c->ssh_port = port;
    return TRUE;
}

/* The GPU step: takes the GPU lock (held to the end, the domain running and holding its
 * device: the last lock, so no step before waits for it), reads the inventory again and claims
 * what the plan named as a candidate, or another instance or VF of the type (gpu/attach.h) —
 * the journal then names it — and takes it on the host. */
static gboolean
take_gpu(Apply *a, GError **error)
{
    VsDomainConfig *c = a->plan->config;
    g_autoptr(VsGpuInventory) inv = NULL;
    g_autofree char *prefer = NULL;

    a->gpu = vs_gpu_site_open(a->ctx->conn, a->ctx->uri, c->uuid, c->name, a->ctx->progress, error);
    if (!a->gpu)
        return FALSE;
    inv = vs_gpu_site_inventory(a->gpu, error);
    if (!inv)
        return FALSE;
    prefer = g_strdup(c->gpu->vgpu_kind == VS_VGPU_KIND_MDEV ? c->gpu->mdev_uuid : c->gpu->device);
    if (!vs_gpu_claim(c->gpu, inv, &a->gpu->host, prefer, error))
        return FALSE;
    a->gpu_claimed = TRUE;
    vs_progress_step(a->ctx->progress, "taking %s %s", vs_gpu_mode_to_string(c->gpu->mode),
                     c->gpu->vgpu_kind == VS_VGPU_KIND_MDEV && c->gpu->mdev_uuid ? c->gpu->mdev_uuid
                                                                                 : c->gpu->device);
    a->gpu_taken = vs_gpu_take(c->gpu, &a->gpu->host, error);
    vs_gpu_site_say_notes(a->gpu);
    return a->gpu_taken;
}

/* Makes what the steps upload and define: the host key, the seed, the domain XML. */
static gboolean
make_documents(Apply *a, GError **error)
{
    VsDomainConfig *c = a->plan->config;
    g_autoptr(VsHostKey) host_key = vs_keys_host_key(c->name, error);

    if (!host_key)
        return FALSE;
    if (!c->seed_from) /* --seed-from: no seed of ours carries it, so none is recorded */
        g_ptr_array_add(c->host_keys, g_strdup(host_key->public_key));
    if (c->seed_volume && !make_seed(a, host_key, error))
        return FALSE;
    /* The XML is made by the define step; checked now, so that a plan it cannot express fails
     * before anything is created. */
    a->xml = vs_domain_xml(c, error);
    return a->xml != NULL;
}

/* The base upload's test hook (common/vs-fault.h): the error injected there, once it fired. */
static GError *upload_fault;
static guint upload_chunks;

/* Asked by the upload before each chunk: Ctrl-C, or (test builds) the hook at "base-upload", which
 * fires before the second chunk, when some bytes have been sent. */
static gboolean
upload_cancelled(void)
{
    if (++upload_chunks == 2) {
        vs_interrupt_test_pause("base-upload");
        if (!vs_fault_point("base-upload", &upload_fault))
            return TRUE;
    }
    return upload_fault != NULL || vs_interrupted();
}

/* Says what the base step found when it was not the usual (a complete base, or a new one). */
static void
say_base_state(const Apply *a, VsBaseState state)
{
    const char *volume = a->plan->config->base_volume;

    if (state == VS_BASE_REPLACED)
        vs_progress_warn(a->ctx->progress,
                         "the base volume %s was not marked complete and differed from the "
                         "image (an import that was stopped): replaced by a new import",
                         volume);
    else if (state == VS_BASE_MARKED)
        vs_progress_warn(a->ctx->progress,
                         "the base volume %s was not marked complete; its content equals the "
                         "image: marked complete and used",
                         volume);
}

/* Creates and starts the transient domain of `run` from the XML the define step made: libvirt
 * destroys it when this connection closes, however the process ends. */
static gboolean
create_transient(Apply *a, GError **error)
{
    g_autoptr(GError) remember_error = NULL;

    a->dom = virDomainCreateXML(a->ctx->conn, a->xml, VIR_DOMAIN_START_AUTODESTROY);
    if (!a->dom)
        return vs_libvirt_error(error, "creating the transient domain");
    if (!vs_target_remember_identities(a->ctx->uri, a->dom, a->ctx->logins, &remember_error))
        vs_progress_warn(a->ctx->progress, "%s", remember_error->message);
    return TRUE;
}

/* Runs @step. */
static gboolean
run_step(Apply *a, const VsUpStep *step, GError **error)
{
    const VsDomainConfig *c = a->plan->config;
    VsBaseState state;

    switch (step->kind) {
    case VS_UP_STEP_POOL: {
        /* Created here when it was missing (only the default pool is): the rollback removes it.
         * No lock covers the pool: two `up`s creating it at once may both think they made it,
         * and the rollback's emptiness check is then all that keeps the other's. */
        virStoragePoolPtr existing = virStoragePoolLookupByName(a->ctx->conn, c->pool);
        if (existing)
            virStoragePoolFree(existing);
        a->pool = vs_storage_pool_ensure(a->ctx->conn, c->pool, error);
        a->pool_created = a->pool && !existing;
        return a->pool != NULL;
    }
    case VS_UP_STEP_BASE:
        if (a->base)
            return TRUE; /* a vol: image, confirmed under the lock */
        vs_progress_step(a->ctx->progress,
                         "base image %s in pool %s (imported from %s unless it is there)",
                         c->base_volume, c->pool, a->plan->image->path);
        upload_chunks = 0;
        a->base =
            vs_storage_import(a->pool, c->base_volume, a->plan->image->path, a->plan->image->sha256,
                              upload_cancelled, &state, &a->base_created, error);
        if (a->base)
            say_base_state(a, state);
        if (!a->base && upload_fault) {
            /* The upload stopped for the hook, not for Ctrl-C: say so. */
            g_clear_error(error);
            g_set_error(error, VS_FAULT_ERROR, 0, "importing %s: %s", a->plan->image->path,
                        upload_fault->message);
        }
        g_clear_error(&upload_fault);
        return a->base != NULL;
    case VS_UP_STEP_OVERLAY:
        if (!check_disk(a, error))
            return FALSE;
        a->overlay =
            vs_storage_overlay(a->pool, c->disk_volume, a->base, a->plan->disk_bytes, error);
        /* The overlay now keeps the base from `image prune` and from any rollback (both look
         * for volumes built on it, under the base lock), so other `up`s of the same image need
         * not wait for this one's start. A base this run imported stays locked to the end: the
         * rollback may remove it, and must hold the lock to do so (it could not take it again
         * later: the port and GPU locks come after it in lock.h's order). */
        if (a->overlay && !a->base_created)
            g_clear_pointer(&a->base_lock, vs_lock_release);
        return a->overlay != NULL;
    case VS_UP_STEP_SEED:
        a->seed_volume =
            vs_storage_upload_bytes(a->pool, c->seed_volume, a->seed, a->secret, error);
        return a->seed_volume != NULL;
    case VS_UP_STEP_GPU:
        return take_gpu(a, error);
    case VS_UP_STEP_DEFINE: {
        g_autoptr(GError) remember_error = NULL;
        /* Made again now: it names the device the GPU step chose. */
        g_free(a->xml);
        a->xml = vs_domain_xml(c, error);
        if (!a->xml)
            return FALSE;
        if (a->ctx->transient)
            return TRUE; /* created by the start step */
        a->dom = vs_lifecycle_define(a->ctx->conn, a->xml, error);
        if (a->dom &&
            !vs_target_remember_identities(a->ctx->uri, a->dom, a->ctx->logins, &remember_error))
            vs_progress_warn(a->ctx->progress, "%s", remember_error->message);
        /* Defined, the domain shows its port to every other `up`'s choice
         * (vs_target_free_port reads the defined domains): the port lock has done its work. */
        if (a->dom)
            g_clear_pointer(&a->port_lock, vs_lock_release);
        return a->dom != NULL;
    }
    case VS_UP_STEP_START:
        /* A transient domain (`run`) exists only from here: its port lock, and the locks kept
         * above, go with the apply (apply_clear). */
        if (a->ctx->transient)
            return create_transient(a, error);
        /* Started by another client meanwhile (`virsh start`; virt-station's own `start` waits
         * for the name lock), before this step or while it ran: it runs, as asked. */
        if (virDomainIsActive(a->dom) != 1) {
            if (vs_lifecycle_start(a->dom, error))
                return TRUE;
            if (virDomainIsActive(a->dom) != 1)
                return FALSE;
            g_clear_error(error);
        }
        vs_progress_warn(a->ctx->progress, "%s was started by another client meanwhile",
                         a->plan->config->name);
        return TRUE;
    case VS_UP_STEP_LAST:
        break;
    }
    g_return_val_if_reached(FALSE);
}

/* The name the test hooks VIRT_STATION_TEST_PAUSE and VIRT_STATION_TEST_FAIL know each step by. */
static const char *const step_names[VS_UP_STEP_LAST] = {"pool", "base",   "overlay", "seed",
                                                        "gpu",  "define", "start"};

virDomainPtr
vs_up_apply(VsUpPlan *plan, const VsUpApply *ctx, GError **error)
{
    g_auto(Apply) a = {.ctx = ctx, .plan = plan};

    if (!confirm_name(&a, error) || !confirm_base(&a, error) || !confirm_port(&a, error) ||
        !make_documents(&a, error))
        return NULL;
    if (plan->config->gpu->mode != VS_GPU_MODE_VGPU &&
        plan->config->gpu->mode != VS_GPU_MODE_PASSTHROUGH)
        vs_gpu_site_tidy(ctx->conn, ctx->uri, ctx->progress);
    vs_progress_step(ctx->progress, "creating %s from %s", plan->config->name,
                     plan->config->image_alias);
    for (guint i = 0; i < plan->steps->len; i++) {
        const VsUpStep *step = plan->steps->pdata[i];
        vs_interrupt_test_pause(step_names[step->kind]);
        if (vs_progress_cancelled(ctx->progress)) {
            g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_CANCELLED,
                        "interrupted before %s", step_names[step->kind]);
        } else if (vs_fault_point(step_names[step->kind], error) && run_step(&a, step, error)) {
            continue;
        }
        rollback(&a);
        g_prefix_error(error, "creating %s: ", plan->config->name);
        return NULL;
    }
    if (ctx->ret_name_lock)
        *ctx->ret_name_lock = g_steal_pointer(&a.name_lock);
    return g_steal_pointer(&a.dom);
}
