/* Attaching host GPUs: claim, take, give back, reconcile.
 *
 * Theory of operation. The caller holds the GPU lock around claim+take and around give-back,
 * so within one host these steps never interleave. The journal (gpu/journal.h) is the rule
 * that makes a crash harmless: it always names everything that may exist on the host because
 * of us.
 *   - claim chooses from an inventory read under the lock, writes the entry (created=FALSE)
 *     and changes nothing on the host;
 *   - take rewrites the entry created=TRUE *before* it calls the operation (a process killed
 *     in the middle of the write to the kernel leaves an entry that says "may exist"), then
 *     checks the result; on failure it undoes what it did and removes the entry — unless the
 *     undo failed too, in which case the entry stays for reconcile;
 *   - give-back changes the host first and removes the entry last; a failure leaves the entry;
 *   - reconcile gives back entries whose domain does not exist and whose writing process is
 *     dead (a live one is an `up` still under way: left alone).
 * What is held by someone else comes from two places: @host->held (other workstations'
 * metadata) and live journal entries of other domains (their domain exists or their writer
 * still runs). Both are excluded from choices, named in refusals, and never given back. A stale
 * entry (domain gone, writer dead) holds nothing by itself: what it took is either still on
 * the host, where the kernel's counts, mdev_exists and the VF's current type show it, or gone;
 * reconcile gives it back, and a new claim of the same id replaces it.
 *
 * Decisions: the holder in @host->held counts as ourselves when it equals our domain's name
 * or UUID (callers may pass every workstation's metadata, ours included). A claim drops our
 * own domain's earlier entries that never changed the host (created=FALSE: a killed `up`),
 * since the new claim replaces them. Busy VFs are tried @host->retries times in all. Giving
 * back skips the host change for an entry that says created=FALSE. A VF whose current type is
 * neither ours nor 0 was taken by someone else since: left alone and said so. */
#include "gpu/attach.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MDEV_WAIT_MS 10000
#define RETRY_MS     1000
#define RETRIES      10
#define STEP_MS      20

static void say(const VsGpuHost *host, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Passes a sentence to @host->say, when there is one. */
static void
say(const VsGpuHost *host, const char *format, ...)
{
    va_list ap;

    if (!host->say)
        return;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    host->say(host->data, msg);
}

/* Sleeps @ms milliseconds in small steps. */
static void
sleep_ms(guint ms)
{
    while (ms > 0) {
        guint step = MIN(ms, STEP_MS);
        g_usleep((gulong)step * 1000);
        ms -= step;
    }
}

/* Returns TRUE when @holder (a name or UUID) is the domain @host works for. */
static gboolean
is_self(const VsGpuHost *host, const char *holder)
{
    return holder &&
           (g_strcmp0(holder, host->domain_name) == 0 || g_strcmp0(holder, host->domain_uuid) == 0);
}

/* Returns the name of the other workstation that @host->held says holds @key, or NULL. */
static const char *
held_by_other(const VsGpuHost *host, const char *key)
{
    gpointer value = NULL;

    if (!host->held || !key || !g_hash_table_lookup_extended(host->held, key, NULL, &value))
        return NULL;
    if (is_self(host, value))
        return NULL;
    return value ? value : "another workstation";
}

/* Returns TRUE when @c belongs to another domain than @host's. */
static gboolean
is_other_entry(const VsGpuHost *host, const VsGpuClaim *c)
{
    return g_strcmp0(c->domain_uuid, host->domain_uuid) != 0;
}

/* Returns TRUE when process @pid may be alive (a pid of another user's process counts). */
static gboolean
pid_alive(gint64 pid)
{
    if (pid <= 0 || pid > G_MAXINT)
        return FALSE;
    return !(kill((pid_t)pid, 0) == -1 && errno == ESRCH);
}

/* Returns TRUE when @c is stale: its domain does not exist and its writer is dead. Without a
 * domain_exists callback nothing is stale. */
static gboolean
entry_stale(const VsGpuHost *host, const VsGpuClaim *c)
{
    return host->domain_exists && !host->domain_exists(host->data, c->uri, c->domain_uuid) &&
           !pid_alive(c->pid);
}

/* Returns the journal less other domains' stale entries (what they name is on the host or
 * not, and the host says which; reconcile gives them back), or NULL with @error set. */
static GPtrArray *
read_live(const VsGpuHost *host, GError **error)
{
    GPtrArray *journal = vs_gpu_journal_read(host->journal_dir, error);

    for (guint i = 0; journal && i < journal->len;) {
        if (is_other_entry(host, journal->pdata[i]) && entry_stale(host, journal->pdata[i]))
            g_ptr_array_remove_index(journal, i);
        else
            i++;
    }
    return journal;
}

/* Returns TRUE when @c names @key (its id, mdev, device or one of its functions). */
static gboolean
entry_names(const VsGpuClaim *c, const char *key)
{
    if (g_strcmp0(c->id, key) == 0 || g_strcmp0(c->mdev_uuid, key) == 0 ||
        g_strcmp0(c->device, key) == 0)
        return TRUE;
    for (guint i = 0; i < c->functions->len; i++)
        if (g_strcmp0(c->functions->pdata[i], key) == 0)
            return TRUE;
    return FALSE;
}

/* Returns the entry of another domain in @journal that names @key, or NULL. */
static const VsGpuClaim *
journal_other(const VsGpuHost *host, GPtrArray *journal, const char *key)
{
    for (guint i = 0; journal && i < journal->len; i++) {
        const VsGpuClaim *c = journal->pdata[i];
        if (is_other_entry(host, c) && entry_names(c, key))
            return c;
    }
    return NULL;
}

/* Returns the name of whoever else holds @key (metadata first, then the journal), or NULL. */
static const char *
holder_other(const VsGpuHost *host, GPtrArray *journal, const char *key)
{
    const char *name = held_by_other(host, key);
    const VsGpuClaim *c;

    if (name)
        return name;
    c = journal_other(host, journal, key);
    if (!c)
        return NULL;
    return c->domain_name ? c->domain_name : c->domain_uuid ? c->domain_uuid : "an unknown domain";
}

/* Returns the name of whoever holds @key, ourselves included, or "unknown". */
static const char *
holder_any(const VsGpuHost *host, GPtrArray *journal, const char *key)
{
    const char *name = holder_other(host, journal, key);

    if (name)
        return name;
    if (host->held && g_hash_table_contains(host->held, key))
        return host->domain_name ? host->domain_name : host->domain_uuid;
    for (guint i = 0; journal && i < journal->len; i++) {
        const VsGpuClaim *c = journal->pdata[i];
        if (entry_names(c, key))
            return c->domain_name ? c->domain_name : c->domain_uuid;
    }
    return "unknown";
}

/* Returns the device at @address in @inv, or NULL. */
static const VsGpuDevice *
find_device(const VsGpuInventory *inv, const char *address)
{
    for (guint i = 0; address && i < inv->devices->len; i++)
        if (strcmp(((VsGpuDevice *)inv->devices->pdata[i])->address, address) == 0)
            return inv->devices->pdata[i];
    return NULL;
}

/* Returns @d's vGPU type @id of @kind, or NULL. */
static const VsVgpuType *
type_on(const VsGpuDevice *d, const char *id, VsVgpuKind kind)
{
    for (guint k = 0; k < d->vgpu_types->len; k++) {
        const VsVgpuType *t = d->vgpu_types->pdata[k];
        if (t->kind == kind && g_strcmp0(t->id, id) == 0)
            return t;
    }
    return NULL;
}

/* Returns the first type @id of @kind anywhere on the host, or NULL. */
static const VsVgpuType *
type_anywhere(const VsGpuInventory *inv, const char *id, VsVgpuKind kind)
{
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsVgpuType *t = type_on(inv->devices->pdata[i], id, kind);
        if (t)
            return t;
    }
    return NULL;
}

/* Returns the instances of mdev type @t still free: the kernel's count less the claims of
 * other domains that have not created theirs yet. */
static gint64
mdev_free(const VsGpuHost *host, GPtrArray *journal, const VsVgpuType *t)
{
    gint64 n = t->available;

    for (guint i = 0; i < journal->len; i++) {
        const VsGpuClaim *c = journal->pdata[i];
        if (c->kind == VS_GPU_CLAIM_MDEV && !c->created && is_other_entry(host, c) &&
            g_strcmp0(c->parent, t->parent) == 0 && g_strcmp0(c->vgpu_type, t->id) == 0)
            n--;
    }
    return MAX(n, 0);
}

/* Returns TRUE when the VF @d is free for us: nobody else holds it. */
static gboolean
vf_unheld(const VsGpuHost *host, GPtrArray *journal, const VsGpuDevice *d)
{
    return holder_other(host, journal, d->address) == NULL;
}

/* Returns "NAME (ID) on PARENT ×k, ..." for what is free on the host, or "none". */
static char *
free_instead(const VsGpuInventory *inv, const VsGpuHost *host, GPtrArray *journal)
{
    g_autoptr(GString) s = g_string_new(NULL);
    /* "ID on PF" -> count, in the order first seen, for vendor-specific VFs */
    g_autoptr(GHashTable) vf_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) vf_order = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        for (guint k = 0; k < d->vgpu_types->len; k++) {
            const VsVgpuType *t = d->vgpu_types->pdata[k];
            if (t->kind == VS_VGPU_KIND_MDEV) {
                gint64 n = mdev_free(host, journal, t);
                if (n > 0)
                    g_string_append_printf(s, "%s%s (%s) on %s \u00d7%" G_GINT64_FORMAT,
                                           s->len ? ", " : "", t->name, t->id, t->parent, n);
            } else if (t->available > 0 && d->physfn && vf_unheld(host, journal, d)) {
                g_autofree char *key = g_strdup_printf("%s (%s) on %s", t->name, t->id, d->physfn);
                guint n = GPOINTER_TO_UINT(g_hash_table_lookup(vf_counts, key));
                if (n == 0)
                    g_ptr_array_add(vf_order, g_strdup(key));
                g_hash_table_insert(vf_counts, g_steal_pointer(&key), GUINT_TO_POINTER(n + 1));
            }
        }
    }
    for (guint i = 0; i < vf_order->len; i++)
        g_string_append_printf(
            s, "%s%s \u00d7%u", s->len ? ", " : "", (char *)vf_order->pdata[i],
            GPOINTER_TO_UINT(g_hash_table_lookup(vf_counts, vf_order->pdata[i])));
    if (s->len == 0)
        g_string_append(s, "none");
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Returns FALSE with the capacity refusal: what is asked, on which parent, how many are free,
 * who holds the others (@holders: "NAME (ID), ..."), what is free instead. */
static gboolean
refuse_capacity(GError **error, const char *type_id, const char *type_name, const char *parent,
                gint64 free, const GString *holders, const VsGpuInventory *inv,
                const VsGpuHost *host, GPtrArray *journal)
{
    g_autofree char *instead = free_instead(inv, host, journal);
    g_autofree char *what = type_name && g_strcmp0(type_name, type_id) != 0
                                ? g_strdup_printf("%s (%s)", type_id, type_name)
                                : g_strdup(type_id);

    return vs_gpu_fail(error, VS_GPU_ERROR_REFUSED,
                       "no free instance of vGPU type %s on %s: %" G_GINT64_FORMAT
                       " free; held by %s; free instead: %s",
                       what, parent ? parent : "this host", free,
                       holders->len ? holders->str : "none known", instead);
}

/* Drops our own domain's entries that never changed the host (a claim without its take):
 * the claim being made replaces them. */
static gboolean
drop_own_unused(const VsGpuHost *host, GPtrArray *journal, GError **error)
{
    for (guint i = 0; i < journal->len;) {
        const VsGpuClaim *c = journal->pdata[i];
        if (!is_other_entry(host, c) && !c->created) {
            if (!vs_gpu_journal_remove(host->journal_dir, c->id, error))
                return FALSE;
            g_ptr_array_remove_index(journal, i);
        } else {
            i++;
        }
    }
    return TRUE;
}

/* Returns TRUE when @uuid can be ours: no one else holds it and it does not exist. */
static gboolean
uuid_free(const VsGpuHost *host, GPtrArray *journal, const char *uuid)
{
    return !holder_other(host, journal, uuid) && !host->ops->mdev_exists(host->ops->data, uuid);
}

/* Returns the entry for @host's domain, with what @host records about the connection. */
static VsGpuClaim *
claim_for(const VsGpuHost *host, VsGpuClaimKind kind, const char *id)
{
    VsGpuClaim *c = vs_gpu_claim_new(kind, id);

    c->uri = g_strdup(host->uri);
    c->domain_uuid = g_strdup(host->domain_uuid);
    c->domain_name = g_strdup(host->domain_name);
    return c;
}

/* Claims a free instance of the plan's mdev type and a UUID; returns FALSE with @error set. */
static gboolean
claim_mdev(VsGpuPlan *plan, const VsGpuInventory *inv, const VsGpuHost *host, GPtrArray *journal,
           const char *prefer, GError **error)
{
    const VsVgpuType *known = NULL, *chosen = NULL;
    const VsGpuDevice *first = find_device(inv, plan->device);
    g_autofree char *uuid = NULL;
    g_autoptr(VsGpuClaim) claim = NULL;

    /* The plan's device first, then the others in address order. */
    for (guint i = 0; i <= inv->devices->len && !chosen; i++) {
        const VsGpuDevice *d = i == 0 ? first : inv->devices->pdata[i - 1];
        const VsVgpuType *t;
        if (!d || (i > 0 && d == first))
            continue;
        t = type_on(d, plan->vgpu_type, VS_VGPU_KIND_MDEV);
        if (!t)
            continue;
        if (!known)
            known = t;
        if (mdev_free(host, journal, t) > 0)
            chosen = t;
    }
    if (!known)
        return vs_gpu_fail(
            error, VS_GPU_ERROR_UNKNOWN,
            "vGPU type %s: no device on this host offers it (`virt-station gpu probe` "
            "lists the types there are)",
            plan->vgpu_type);
    if (!chosen) {
        g_autoptr(GString) holders = g_string_new(NULL);
        for (guint i = 0; i < inv->mdevs->len; i++) {
            const VsMdev *m = inv->mdevs->pdata[i];
            if (g_strcmp0(m->parent, known->parent) == 0)
                g_string_append_printf(holders, "%s%s (%s)", holders->len ? ", " : "",
                                       holder_any(host, journal, m->uuid), m->uuid);
        }
        for (guint i = 0; i < journal->len; i++) {
            const VsGpuClaim *c = journal->pdata[i];
            if (c->kind == VS_GPU_CLAIM_MDEV && !c->created && is_other_entry(host, c) &&
                g_strcmp0(c->parent, known->parent) == 0)
                g_string_append_printf(holders, "%s%s (%s)", holders->len ? ", " : "",
                                       c->domain_name ? c->domain_name : c->domain_uuid, c->id);
        }
        return refuse_capacity(error, known->id, known->name, known->parent,
                               mdev_free(host, journal, known), holders, inv, host, journal);
    }
    if (prefer && g_uuid_string_is_valid(prefer)) {
        g_autofree char *lower = g_ascii_strdown(prefer, -1);
        if (uuid_free(host, journal, lower))
            uuid = g_steal_pointer(&lower);
    }
    for (int tries = 0; !uuid && tries < 16; tries++) {
        g_autofree char *u = g_uuid_string_random();
        if (uuid_free(host, journal, u))
            uuid = g_steal_pointer(&u);
    }
    if (!uuid)
        return vs_gpu_fail(error, VS_GPU_ERROR_FAILED, "no unused mediated device UUID found");
    claim = claim_for(host, VS_GPU_CLAIM_MDEV, uuid);
    claim->parent = g_strdup(chosen->parent);
    claim->vgpu_type = g_strdup(chosen->id);
    claim->mdev_uuid = g_strdup(uuid);
    if (!vs_gpu_journal_write(host->journal_dir, claim, error))
        return FALSE;
    g_free(plan->device);
    plan->device = g_strdup(chosen->parent);
    g_free(plan->mdev_uuid);
    plan->mdev_uuid = g_steal_pointer(&uuid);
    say(host, "claimed vGPU %s (%s) on %s: mediated device %s", chosen->name, chosen->id,
        chosen->parent, plan->mdev_uuid);
    return TRUE;
}

/* Returns TRUE when the VF @d offers @type, nobody else holds it and its type is 0 now. */
static gboolean
vf_usable(const VsGpuHost *host, GPtrArray *journal, const VsGpuDevice *d, const char *type)
{
    const VsVgpuType *t = type_on(d, type, VS_VGPU_KIND_VENDOR_VFIO);
    g_autofree char *current = NULL;

    if (!d->physfn || !t || t->available <= 0 || !vf_unheld(host, journal, d))
        return FALSE;
    current = host->ops->vf_get_type(host->ops->data, d->address, NULL);
    return g_strcmp0(current, "0") == 0;
}

/* Returns FALSE with the advice for a PF that has SR-IOV but no VFs, or TRUE when none has. */
static gboolean
check_sriov_enabled(const VsGpuInventory *inv, const char *type, GError **error)
{
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *pf = inv->devices->pdata[i];
        gboolean has_vf = FALSE;
        if (pf->physfn || pf->sriov_totalvfs == 0)
            continue;
        for (guint k = 0; k < inv->devices->len && !has_vf; k++)
            has_vf = g_strcmp0(((VsGpuDevice *)inv->devices->pdata[k])->physfn, pf->address) == 0;
        if (!has_vf)
            return vs_gpu_fail(
                error, VS_GPU_ERROR_REFUSED,
                "vGPU type %s needs a virtual function, but %s has SR-IOV (up to %u VFs) "
                "with none enabled: run `sriov-manage -e %s` as root (NVIDIA's script; it "
                "can exit 0 without creating VFs: check with `ls "
                "/sys/bus/pci/devices/%s/virtfn*`), then try again",
                type, pf->address, pf->sriov_totalvfs, pf->address, pf->address);
    }
    return TRUE;
}

/* Claims a free vendor-specific VF for the plan's type; returns FALSE with @error set. */
static gboolean
claim_vf(VsGpuPlan *plan, const VsGpuInventory *inv, const VsGpuHost *host, GPtrArray *journal,
         const char *prefer, GError **error)
{
    const VsGpuDevice *chosen = NULL;
    const VsGpuDevice *order[2] = {find_device(inv, prefer), find_device(inv, plan->device)};
    const VsVgpuType *known = type_anywhere(inv, plan->vgpu_type, VS_VGPU_KIND_VENDOR_VFIO);
    const char *pf = NULL;
    g_autoptr(VsGpuClaim) claim = NULL;

    /* @prefer, then the plan's VF, then every VF in address order. */
    for (guint i = 0; i < 2 && !chosen; i++)
        if (order[i] && vf_usable(host, journal, order[i], plan->vgpu_type))
            chosen = order[i];
    for (guint i = 0; i < inv->devices->len && !chosen; i++)
        if (vf_usable(host, journal, inv->devices->pdata[i], plan->vgpu_type))
            chosen = inv->devices->pdata[i];
    if (!chosen) {
        g_autoptr(GString) holders = g_string_new(NULL);
        gboolean busy = FALSE;
        if (!check_sriov_enabled(inv, plan->vgpu_type, error))
            return FALSE;
        pf = order[1] && order[1]->physfn ? order[1]->physfn : NULL;
        for (guint i = 0; i < inv->devices->len; i++) {
            const VsGpuDevice *d = inv->devices->pdata[i];
            g_autofree char *current = NULL;
            if (!d->physfn || (pf && strcmp(d->physfn, pf) != 0))
                continue;
            current = host->ops->vf_get_type(host->ops->data, d->address, NULL);
            if (!current)
                continue; /* not NVIDIA's vendor-specific VF */
            if (!pf)
                pf = d->physfn;
            if (strcmp(current, "0") != 0 || !vf_unheld(host, journal, d)) {
                busy = TRUE;
                g_string_append_printf(holders, "%s%s (%s)", holders->len ? ", " : "",
                                       holder_any(host, journal, d->address), d->address);
            }
        }
        if (!known && !busy)
            return vs_gpu_fail(
                error, VS_GPU_ERROR_UNKNOWN,
                "vGPU type %s: no virtual function on this host offers it (`virt-station "
                "gpu probe` lists the types there are)",
                plan->vgpu_type);
        return refuse_capacity(error, plan->vgpu_type, known ? known->name : NULL, pf, 0, holders,
                               inv, host, journal);
    }
    claim = claim_for(host, VS_GPU_CLAIM_VF, chosen->address);
    claim->parent = g_strdup(chosen->physfn);
    claim->device = g_strdup(chosen->address);
    claim->vgpu_type = g_strdup(plan->vgpu_type);
    if (!vs_gpu_journal_write(host->journal_dir, claim, error))
        return FALSE;
    g_free(plan->device);
    plan->device = g_strdup(chosen->address);
    say(host, "claimed vGPU %s on virtual function %s of %s", plan->vgpu_type, chosen->address,
        chosen->physfn);
    return TRUE;
}

/* Claims the plan's functions when nobody else holds them; returns FALSE with @error set. */
static gboolean
claim_passthrough(VsGpuPlan *plan, const VsGpuInventory *inv, const VsGpuHost *host,
                  GPtrArray *journal, GError **error)
{
    g_autoptr(GString) held = g_string_new(NULL);
    g_autoptr(VsGpuClaim) claim = NULL;

    if (!plan->device)
        return vs_gpu_fail(error, VS_GPU_ERROR_INVALID, "passthrough: the plan names no device");
    if (plan->functions->len == 0)
        g_ptr_array_add(plan->functions, g_strdup(plan->device));
    for (guint i = 0; i < plan->functions->len; i++) {
        const char *f = plan->functions->pdata[i];
        const char *who = holder_other(host, journal, f);
        if (!g_hash_table_contains(inv->classes, f))
            return vs_gpu_fail(error, VS_GPU_ERROR_UNKNOWN,
                               "passthrough of %s: the function %s is not on this host",
                               plan->device, f);
        if (who)
            g_string_append_printf(held, "%s%s is held by %s", held->len ? "; " : "", f, who);
    }
    for (guint i = 0; i < inv->mdevs->len; i++) {
        const VsMdev *m = inv->mdevs->pdata[i];
        for (guint k = 0; k < plan->functions->len; k++)
            if (g_strcmp0(m->parent, plan->functions->pdata[k]) == 0)
                g_string_append_printf(held, "%smediated device %s on %s is held by %s",
                                       held->len ? "; " : "", m->uuid, m->parent,
                                       holder_any(host, journal, m->uuid));
    }
    if (held->len > 0)
        return vs_gpu_fail(
            error, VS_GPU_ERROR_REFUSED,
            "passthrough of %s refused: %s; stop that workstation (or remove what it "
            "holds) first",
            plan->device, held->str);
    claim = claim_for(host, VS_GPU_CLAIM_PASSTHROUGH, plan->device);
    claim->device = g_strdup(plan->device);
    for (guint i = 0; i < plan->functions->len; i++)
        g_ptr_array_add(claim->functions, g_strdup(plan->functions->pdata[i]));
    if (!vs_gpu_journal_write(host->journal_dir, claim, error))
        return FALSE;
    say(host, "claimed %s for passthrough (%u function%s)", plan->device, plan->functions->len,
        plan->functions->len == 1 ? "" : "s");
    return TRUE;
}

gboolean
vs_gpu_claim(VsGpuPlan *plan, const VsGpuInventory *inv, const VsGpuHost *host, const char *prefer,
             GError **error)
{
    g_autoptr(GPtrArray) journal = read_live(host, error);

    if (!journal)
        return FALSE;
    if (!drop_own_unused(host, journal, error))
        return FALSE;
    if (plan->mode == VS_GPU_MODE_PASSTHROUGH)
        return claim_passthrough(plan, inv, host, journal, error);
    if (plan->mode != VS_GPU_MODE_VGPU || !plan->vgpu_type)
        return vs_gpu_fail(
            error, VS_GPU_ERROR_INVALID,
            "only a vGPU or passthrough plan with its type or device can be claimed");
    if (plan->vgpu_kind == VS_VGPU_KIND_VENDOR_VFIO)
        return claim_vf(plan, inv, host, journal, prefer, error);
    return claim_mdev(plan, inv, host, journal, prefer, error);
}

/* Returns the journal id of what @plan holds (mdev UUID, VF or device address), or NULL. */
static const char *
plan_id(const VsGpuPlan *plan)
{
    if (plan->mode == VS_GPU_MODE_VGPU && plan->vgpu_kind == VS_VGPU_KIND_MDEV)
        return plan->mdev_uuid;
    if (plan->mode == VS_GPU_MODE_VGPU || plan->mode == VS_GPU_MODE_PASSTHROUGH)
        return plan->device;
    return NULL;
}

/* Writes @type to the VF, tried @host->retries times in all while the kernel says busy. */
static gboolean
set_type_retried(const VsGpuHost *host, const char *vf, const char *type, GError **error)
{
    guint tries = host->retries ? host->retries : RETRIES;
    guint wait = host->retry_ms ? host->retry_ms : RETRY_MS;

    for (guint i = 1;; i++) {
        g_autoptr(GError) local = NULL;
        if (host->ops->vf_set_type(host->ops->data, vf, type, &local))
            return TRUE;
        if (!g_error_matches(local, VS_GPU_ERROR, VS_GPU_ERROR_BUSY) || i >= tries) {
            if (i > 1)
                g_prefix_error(&local, "still busy after %u tries: ", i);
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        sleep_ms(wait);
    }
}

/* Sets the VF back to type 0 and checks it reads 0. */
static gboolean
release_vf(const VsGpuHost *host, const char *vf, GError **error)
{
    g_autofree char *current = NULL;

    if (!set_type_retried(host, vf, "0", error))
        return FALSE;
    current = host->ops->vf_get_type(host->ops->data, vf, error);
    if (!current)
        return FALSE;
    if (strcmp(current, "0") != 0)
        return vs_gpu_fail(error, VS_GPU_ERROR_FAILED, "its type reads %s after writing 0",
                           current);
    return TRUE;
}

/* Returns FALSE with @error: what failed, and whether the undo left the host clean (then the
 * entry is removed) or not (then it stays for reconcile, and the message says what to run). */
static gboolean
take_failed(const VsGpuHost *host, const VsGpuClaim *claim, gboolean undone, GError *undo_error,
            const char *by_hand, GError **error, GError *cause)
{
    g_autoptr(GError) local = cause;
    g_autoptr(GError) undo = undo_error;
    g_autoptr(GError) rm = NULL;

    if (undone && !vs_gpu_journal_remove(host->journal_dir, claim->id, &rm))
        g_prefix_error(&local, "(and its journal entry stays: %s) ", rm->message);
    if (!undone)
        g_prefix_error(&local,
                       "(undoing failed too: %s; %s; the journal entry %s/%s stays, so "
                       "the next reconcile tries again) ",
                       undo ? undo->message : "unknown", by_hand, host->journal_dir, claim->id);
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

/* Creates the claimed mdev and checks it exists; returns FALSE (undone) with @error set. */
static gboolean
take_mdev(const VsGpuHost *host, VsGpuClaim *claim, GError **error)
{
    const VsGpuOps *ops = host->ops;
    g_autoptr(GError) cause = NULL;
    g_autoptr(GError) undo = NULL;
    g_autofree char *by_hand =
        g_strdup_printf("remove it by hand: `echo 1 > /sys/bus/mdev/devices/%s/remove`", claim->id);

    if (!ops->mdev_create(ops->data, claim->parent, claim->vgpu_type, claim->id, host->persistent,
                          &cause))
        g_prefix_error(&cause, "creating mediated device %s (%s) on %s: ", claim->id,
                       claim->vgpu_type, claim->parent);
    else if (!ops->mdev_exists(ops->data, claim->id))
        g_set_error(&cause, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "mediated device %s (%s) on %s does not exist after it was created", claim->id,
                    claim->vgpu_type, claim->parent);
    if (!cause) {
        say(host, "created mediated device %s (%s) on %s", claim->id, claim->vgpu_type,
            claim->parent);
        return TRUE;
    }
    if (ops->mdev_exists(ops->data, claim->id) && !ops->mdev_remove(ops->data, claim->id, &undo))
        return take_failed(host, claim, FALSE, g_steal_pointer(&undo), by_hand, error,
                           g_steal_pointer(&cause));
    return take_failed(host, claim, TRUE, NULL, NULL, error, g_steal_pointer(&cause));
}

/* Sets the claimed VF's type, reads it back and the GPUs again; returns FALSE (undone) with
 * @error set. */
static gboolean
take_vf(const VsGpuHost *host, VsGpuClaim *claim, GError **error)
{
    const VsGpuOps *ops = host->ops;
    g_autoptr(GError) cause = NULL;
    g_autoptr(GError) undo = NULL;
    g_autofree char *current = NULL;
    g_autofree char *by_hand = g_strdup_printf(
        "release it by hand: `echo 0 > /sys/bus/pci/devices/%s/nvidia/current_vgpu_type`",
        claim->id);

    if (!set_type_retried(host, claim->id, claim->vgpu_type, &cause)) {
        g_prefix_error(&cause, "setting vGPU type %s on virtual function %s: ", claim->vgpu_type,
                       claim->id);
    } else if (!(current = ops->vf_get_type(ops->data, claim->id, &cause))) {
        g_prefix_error(&cause, "reading back the vGPU type of virtual function %s: ", claim->id);
    } else if (strcmp(current, claim->vgpu_type) != 0) {
        g_set_error(&cause, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "virtual function %s reads vGPU type %s after %s was written", claim->id,
                    current, claim->vgpu_type);
    } else {
        g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, &cause);
        if (inv) {
            say(host, "set vGPU type %s on virtual function %s", claim->vgpu_type, claim->id);
            return TRUE;
        }
        g_prefix_error(&cause, "reading the GPUs again after setting vGPU type %s on %s: ",
                       claim->vgpu_type, claim->id);
    }
    g_clear_pointer(&current, g_free);
    current = ops->vf_get_type(ops->data, claim->id, &undo);
    if (g_strcmp0(current, "0") == 0 || (current && release_vf(host, claim->id, &undo)))
        return take_failed(host, claim, TRUE, NULL, NULL, error, g_steal_pointer(&cause));
    return take_failed(host, claim, FALSE, g_steal_pointer(&undo), by_hand, error,
                       g_steal_pointer(&cause));
}

/* Checks the claimed functions still exist; returns FALSE (entry removed) with @error set. */
static gboolean
take_passthrough(const VsGpuHost *host, VsGpuClaim *claim, GError **error)
{
    g_autoptr(GError) cause = NULL;
    g_autoptr(VsGpuInventory) inv = host->ops->inventory(host->ops->data, &cause);

    if (!inv) {
        g_prefix_error(&cause, "passthrough of %s: ", claim->device);
    } else {
        for (guint i = 0; i < claim->functions->len && !cause; i++)
            if (!g_hash_table_contains(inv->classes, claim->functions->pdata[i]))
                g_set_error(&cause, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN,
                            "passthrough of %s: the function %s is gone from this host",
                            claim->device, (char *)claim->functions->pdata[i]);
    }
    if (!cause)
        return TRUE;
    return take_failed(host, claim, TRUE, NULL, NULL, error, g_steal_pointer(&cause));
}

gboolean
vs_gpu_take(const VsGpuPlan *plan, const VsGpuHost *host, GError **error)
{
    const char *id = plan_id(plan);
    g_autoptr(GError) local = NULL;
    g_autoptr(VsGpuClaim) claim = NULL;

    if (!id)
        return vs_gpu_fail(error, VS_GPU_ERROR_INVALID, "nothing to take: the plan holds no GPU");
    claim = vs_gpu_journal_get(host->journal_dir, id, &local);
    if (!claim) {
        if (local)
            g_propagate_error(error, g_steal_pointer(&local));
        else
            vs_gpu_fail(error, VS_GPU_ERROR_FAILED,
                        "taking %s: it was not claimed (no entry in %s)", id, host->journal_dir);
        return FALSE;
    }
    if (is_other_entry(host, claim))
        return vs_gpu_fail(error, VS_GPU_ERROR_REFUSED, "taking %s: %s claimed it", id,
                           claim->domain_name ? claim->domain_name : "another domain");
    /* The journal names anything that may exist: "created" before the host changes (for
     * passthrough: taken, libvirt detaches the functions at start). */
    claim->created = TRUE;
    claim->pid = getpid();
    if (!vs_gpu_journal_write(host->journal_dir, claim, error)) {
        vs_gpu_journal_remove(host->journal_dir, id, NULL);
        return FALSE;
    }
    switch (claim->kind) {
    case VS_GPU_CLAIM_MDEV:
        return take_mdev(host, claim, error);
    case VS_GPU_CLAIM_VF:
        return take_vf(host, claim, error);
    case VS_GPU_CLAIM_PASSTHROUGH:
    case VS_GPU_CLAIM_LAST:
        break;
    }
    return take_passthrough(host, claim, error);
}

/* Waits up to @host->mdev_wait_ms for the driver to remove @uuid itself; returns TRUE when it
 * is gone. */
static gboolean
wait_mdev_gone(const VsGpuHost *host, const char *uuid)
{
    guint wait = host->mdev_wait_ms ? host->mdev_wait_ms : MDEV_WAIT_MS;

    for (guint waited = 0;; waited += STEP_MS) {
        if (!host->ops->mdev_exists(host->ops->data, uuid))
            return TRUE;
        if (waited >= wait)
            return FALSE;
        sleep_ms(STEP_MS);
    }
}

/* Gives back on the host what @plan holds (the journal aside). */
static gboolean
give_back_host(const VsGpuPlan *plan, const VsGpuHost *host, const char *id, GError **error)
{
    const VsGpuOps *ops = host->ops;
    g_autoptr(GError) local = NULL;
    g_autofree char *current = NULL;

    if (plan->mode == VS_GPU_MODE_PASSTHROUGH)
        return TRUE; /* libvirt gives managed functions back to their host drivers */
    if (plan->vgpu_kind == VS_VGPU_KIND_MDEV) {
        /* Removed by the driver or not, mdev_remove runs: a persistent mdev's definition
         * (node-device backend) outlives the device and would come back at the next boot. */
        if (wait_mdev_gone(host, id))
            say(host, "mediated device %s stopped (by the driver)", id);
        if (!ops->mdev_remove(ops->data, id, &local) || ops->mdev_exists(ops->data, id)) {
            vs_gpu_fail(error, VS_GPU_ERROR_FAILED,
                        "giving back mediated device %s on %s: %s; remove it by hand: `echo 1 > "
                        "/sys/bus/mdev/devices/%s/remove`, or the next reconcile tries again",
                        id, plan->device ? plan->device : "its parent",
                        local ? local->message : "it still exists after removal", id);
            return FALSE;
        }
        say(host, "removed mediated device %s", id);
        return TRUE;
    }
    current = ops->vf_get_type(ops->data, id, &local);
    if (current && strcmp(current, "0") == 0) {
        say(host, "virtual function %s has no vGPU type already", id);
        return TRUE;
    }
    if (current && plan->vgpu_type && strcmp(current, plan->vgpu_type) != 0) {
        say(host, "virtual function %s now has vGPU type %s, not %s: someone else's; left alone",
            id, current, plan->vgpu_type);
        return TRUE;
    }
    if (!current || !release_vf(host, id, &local)) {
        vs_gpu_fail(
            error, VS_GPU_ERROR_FAILED,
            "giving back virtual function %s: %s; release it by hand: `echo 0 > "
            "/sys/bus/pci/devices/%s/nvidia/current_vgpu_type`, or the next reconcile tries "
            "again",
            id, local ? local->message : "unknown error", id);
        return FALSE;
    }
    say(host, "released virtual function %s (vGPU type %s)", id,
        plan->vgpu_type ? plan->vgpu_type : "?");
    return TRUE;
}

gboolean
vs_gpu_give_back(const VsGpuPlan *plan, const VsGpuHost *host, GError **error)
{
    const char *id = plan_id(plan);
    g_autoptr(GPtrArray) journal = NULL;
    g_autoptr(VsGpuClaim) claim = NULL;
    g_autoptr(GError) local = NULL;
    const char *other;

    if (!id)
        return TRUE; /* nothing held */
    claim = vs_gpu_journal_get(host->journal_dir, id, &local);
    if (local) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    journal = read_live(host, error);
    if (!journal)
        return FALSE;
    other = holder_other(host, journal, id);
    for (guint i = 0; !other && plan->mode == VS_GPU_MODE_PASSTHROUGH && i < plan->functions->len;
         i++)
        other = holder_other(host, journal, plan->functions->pdata[i]);
    if (other) {
        say(host, "%s is held by %s now: not given back", id, other);
        /* An entry of another domain is that domain's to give back; ours is void. */
        if (claim && !is_other_entry(host, claim))
            return vs_gpu_journal_remove(host->journal_dir, id, error);
        return TRUE;
    }
    if (!claim || claim->created) {
        if (!give_back_host(plan, host, id, error))
            return FALSE;
    }
    return vs_gpu_journal_remove(host->journal_dir, id, error);
}

GPtrArray *
vs_gpu_reconcile(const VsGpuHost *host, gboolean report_only, GError **error)
{
    g_autoptr(GPtrArray) journal = vs_gpu_journal_read(host->journal_dir, error);
    g_autoptr(GPtrArray) stale = NULL;
    g_autoptr(GString) failed = g_string_new(NULL);

    if (!journal)
        return NULL;
    stale = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_claim_free);
    for (guint i = 0; i < journal->len; i++) {
        VsGpuClaim *c = journal->pdata[i];
        g_autoptr(GError) local = NULL;
        g_autoptr(VsGpuPlan) plan = NULL;
        VsGpuHost owner = *host;

        if (!host->domain_exists || host->domain_exists(host->data, c->uri, c->domain_uuid) ||
            pid_alive(c->pid))
            continue;
        journal->pdata[i] = NULL; /* moves to @stale */
        g_ptr_array_add(stale, c);
        if (report_only)
            continue;
        owner.domain_uuid = c->domain_uuid;
        owner.domain_name = c->domain_name;
        plan = vs_gpu_claim_to_plan(c);
        say(host, "giving back %s (%s) of %s, which no longer exists", c->id,
            vs_gpu_claim_kind_to_string(c->kind), c->domain_name ? c->domain_name : "a domain");
        if (!vs_gpu_give_back(plan, &owner, &local))
            g_string_append_printf(failed, "%s%s", failed->len ? "; " : "", local->message);
    }
    if (failed->len > 0) {
        vs_gpu_fail(error, VS_GPU_ERROR_FAILED,
                    "giving back what stale GPU journal entries hold: %s", failed->str);
        return NULL;
    }
    return g_steal_pointer(&stale);
}

VsGpuPlan *
vs_gpu_claim_to_plan(const VsGpuClaim *claim)
{
    VsGpuPlan *plan = vs_gpu_plan_new(
        claim->kind == VS_GPU_CLAIM_PASSTHROUGH ? VS_GPU_MODE_PASSTHROUGH : VS_GPU_MODE_VGPU);

    plan->vgpu_type = g_strdup(claim->vgpu_type);
    switch (claim->kind) {
    case VS_GPU_CLAIM_MDEV:
        plan->vgpu_kind = VS_VGPU_KIND_MDEV;
        plan->device = g_strdup(claim->parent);
        plan->mdev_uuid = g_strdup(claim->mdev_uuid ? claim->mdev_uuid : claim->id);
        break;
    case VS_GPU_CLAIM_VF:
        plan->vgpu_kind = VS_VGPU_KIND_VENDOR_VFIO;
        plan->device = g_strdup(claim->device ? claim->device : claim->id);
        break;
    case VS_GPU_CLAIM_PASSTHROUGH:
    case VS_GPU_CLAIM_LAST:
        plan->device = g_strdup(claim->device ? claim->device : claim->id);
        for (guint i = 0; i < claim->functions->len; i++)
            g_ptr_array_add(plan->functions, g_strdup(claim->functions->pdata[i]));
        break;
    }
    return plan;
}
