/* The life of a `run` around its command (run.h): its name, the sweep of what killed runs
 * left, keeping a failed run, waiting for the children it starts, and its exit status. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "domains/lifecycle.h"
#include "domains/metadata.h"
#include "domains/storage.h"
#include "domains/xml.h"
#include "provisioner/cli.h"
#include "provisioner/interrupt.h"
#include "provisioner/lock.h"
#include "provisioner/run.h"
#include "provisioner/target.h"

int
vs_run_exit_status(const VsRunOutcome *o)
{
    if (!o->cmd_ran)
        return VS_RUN_EXIT_NOT_RUN;
    if (o->cmd_timed_out)
        return VS_RUN_EXIT_TIMEOUT;
    if (o->interrupted)
        return VS_RUN_EXIT_INTERRUPTED;
    if (o->cmd_status < 0)
        return VS_RUN_EXIT_SSH; /* ssh itself was killed: the connection is lost */
    if (o->cmd_status == 0 && o->copy_out_failed)
        return VS_RUN_EXIT_NOT_RUN;
    return o->cmd_status;
}

char *
vs_run_random_name(void)
{
    return g_strdup_printf(VS_RUN_PREFIX "%08x", g_random_int());
}

char *
vs_run_volume_owner(const char *volume)
{
    static const char *const suffixes[] = {".qcow2", "-seed.iso"};

    if (!g_str_has_prefix(volume, VS_RUN_PREFIX))
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        if (g_str_has_suffix(volume, suffixes[i])) {
            g_autofree char *name = g_strndup(volume, strlen(volume) - strlen(suffixes[i]));
            /* Exactly what vs_run_random_name makes: the sweep deletes such volumes anywhere on
             * the host, so a volume someone named run-backup.qcow2 must not look like one. */
            if (strlen(name) == strlen(VS_RUN_PREFIX) + 8 &&
                strspn(name + strlen(VS_RUN_PREFIX), "0123456789abcdef") == 8)
                return g_steal_pointer(&name);
        }
    }
    return NULL;
}

/* Returns TRUE when a volume that could be read is built on @vol (@backing from
 * vs_storage_backing_paths). Unlike vs_storage_volume_is_backing, a pool that cannot be read (an
 * inactive one, anywhere on the host) does not count: a run's overlay and seed are throwaway by
 * contract, and one such pool would otherwise keep every run's volumes for ever. */
static gboolean
built_on(GHashTable *backing, virStorageVolPtr vol)
{
    g_autofree char *path = virStorageVolGetPath(vol);

    return path && g_hash_table_contains(backing, path);
}

/* Returns TRUE when @own (vs_lifecycle_disk_sources) holds @vol, by path or as POOL/NAME. */
static gboolean
own_has(GHashTable *own, virStoragePoolPtr pool, virStorageVolPtr vol)
{
    g_autofree char *path = virStorageVolGetPath(vol);
    g_autofree char *key =
        g_strdup_printf("%s/%s", virStoragePoolGetName(pool), virStorageVolGetName(vol));

    return (path && g_hash_table_contains(own, path)) || g_hash_table_contains(own, key);
}

gboolean
vs_run_remove(virDomainPtr dom, const VsMetadata *station, GPtrArray *notes, GError **error)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    g_autofree char *name = g_strdup(virDomainGetName(dom));
    /* Read before the domain goes. */
    g_autoptr(GHashTable) own = vs_lifecycle_disk_sources(dom);
    g_autoptr(GError) read_error = NULL;
    g_autoptr(GHashTable) users = vs_lifecycle_disk_users(conn, dom, &read_error);
    g_autoptr(GHashTable) backing = users ? vs_storage_backing_paths(conn, &read_error) : NULL;
    gboolean ok = TRUE;

    /* The domain goes first whatever was read: a failure to read is said only after. */
    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
        return vs_libvirt_error(error, "destroying the domain");
    if (!backing) {
        /* the sweep takes the volumes once the run's lock is free */
        g_propagate_error(error, g_steal_pointer(&read_error));
        return FALSE;
    }
    for (guint i = 0; i < station->volumes->len; i++) {
        const VsOwnedVolume *v = station->volumes->pdata[i];
        g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn, v->pool);
        g_autoptr(virStorageVol) vol = pool ? virStorageVolLookupByName(pool, v->name) : NULL;
        const char *user;
        if (!vol)
            g_ptr_array_add(
                notes, g_strdup_printf("volume %s/%s does not exist (any more)", v->pool, v->name));
        else if (!own_has(own, pool, vol))
            g_ptr_array_add(notes, g_strdup_printf("kept volume %s/%s: it is not a disk of %s",
                                                   v->pool, v->name, name));
        else if ((user = vs_lifecycle_volume_user(users, vol)))
            g_ptr_array_add(notes, g_strdup_printf("kept volume %s/%s: %s uses it as a disk",
                                                   v->pool, v->name, user));
        else if (built_on(backing, vol))
            g_ptr_array_add(notes, g_strdup_printf("kept volume %s/%s: a volume is built on it",
                                                   v->pool, v->name));
        else if (virStorageVolDelete(vol, 0) < 0) {
            g_autoptr(GError) vol_error = NULL;
            vs_libvirt_error(&vol_error, "deleting a volume");
            g_prefix_error(&vol_error, "%s/%s: ", v->pool, v->name);
            if (ok)
                g_propagate_error(error, g_steal_pointer(&vol_error));
            ok = FALSE;
        }
    }
    /* Made persistent by a keep that failed half-way. */
    if (ok && virDomainIsPersistent(dom) == 1 && !vs_lifecycle_undefine(dom))
        return vs_libvirt_error(error, "undefining the domain");
    return ok;
}

typedef struct {
    virConnectPtr conn;
    const VsProgress *progress;
    char *host_uri;
    GHashTable *users;   /* what domains' disks use, read once when first needed */
    GHashTable *backing; /* what volumes are built on */
    gboolean read;
    guint removed;
} Sweep;

/* Returns TRUE when no domain's disk uses @vol and no volume is built on it. */
static gboolean
sweep_unused(Sweep *s, virStorageVolPtr vol)
{
    if (!s->read) {
        s->read = TRUE;
        s->users = vs_lifecycle_disk_users(s->conn, NULL, NULL);
        s->backing = vs_storage_backing_paths(s->conn, NULL);
    }
    return s->users && s->backing && !vs_lifecycle_volume_user(s->users, vol) &&
           !built_on(s->backing, vol);
}

/* Deletes @vol of @pool when the run it belongs to is gone. */
static void
sweep_volume(Sweep *s, virStoragePoolPtr pool, virStorageVolPtr vol)
{
    const char *volume = virStorageVolGetName(vol);
    g_autofree char *owner = vs_run_volume_owner(volume);
    g_autofree char *key = NULL;
    g_autoptr(VsLock) lock = NULL;
    g_autoptr(virDomain) dom = NULL;

    if (!owner)
        return;
    key = vs_lock_key_name(s->host_uri, owner);
    /* Held: the run lives (it may not have created its domain yet, or be removing it). */
    lock = vs_lock_take(VS_LOCK_NAME, key, FALSE, NULL);
    if (!lock)
        return;
    dom = virDomainLookupByName(s->conn, owner);
    if (dom)
        return; /* a run that is kept, or a domain someone made with that name */
    virResetLastError();
    if (!sweep_unused(s, vol)) {
        vs_progress_warn(s->progress, "kept volume %s/%s of the ended run %s: it is in use",
                         virStoragePoolGetName(pool), volume, owner);
        return;
    }
    if (virStorageVolDelete(vol, 0) < 0) {
        vs_progress_warn(s->progress, "could not delete volume %s/%s of the ended run %s: %s",
                         virStoragePoolGetName(pool), volume, owner, virGetLastErrorMessage());
        return;
    }
    s->removed++;
    vs_progress_step(s->progress, "removed volume %s/%s, left by the run %s (its process is gone)",
                     virStoragePoolGetName(pool), volume, owner);
}

guint
vs_run_sweep(virConnectPtr conn, const char *uri, const VsProgress *progress)
{
    Sweep s = {conn, progress, vs_target_host_uri(conn, uri), NULL, NULL, FALSE, 0};
    virStoragePoolPtr *pools = NULL;
    int n = virConnectListAllStoragePools(conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);

    for (int i = 0; i < n; i++) {
        virStorageVolPtr *vols = NULL;
        int m = virStoragePoolListAllVolumes(pools[i], &vols, 0);
        for (int j = 0; j < m; j++) {
            sweep_volume(&s, pools[i], vols[j]);
            virStorageVolFree(vols[j]);
        }
        g_free(vols);
        virStoragePoolFree(pools[i]);
    }
    g_free(pools);
    virResetLastError();
    g_clear_pointer(&s.users, g_hash_table_unref);
    g_clear_pointer(&s.backing, g_hash_table_unref);
    g_free(s.host_uri);
    return s.removed;
}

virDomainPtr
vs_run_keep(virDomainPtr dom, const char *reason, GError **error)
{
    virConnectPtr conn = virDomainGetConnect(dom);
    g_autofree char *xml =
        virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE);
    g_autofree char *meta = NULL, *marked = NULL;
    g_autoptr(virDomain) kept = NULL;
    unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;

    if (!xml)
        return vs_libvirt_error(error, "reading the domain's XML"), NULL;
    kept = virDomainDefineXML(conn, xml);
    if (!kept)
        return vs_libvirt_error(error, "defining the domain"), NULL;
    meta = virDomainGetMetadata(kept, VIR_DOMAIN_METADATA_ELEMENT, VS_STATION_NS,
                                VIR_DOMAIN_AFFECT_CONFIG);
    if (!meta)
        return vs_libvirt_error(error, "reading the domain's metadata"), NULL;
    marked = vs_metadata_mark_kept(meta, reason, error);
    if (!marked)
        return NULL;
    if (virDomainIsActive(kept) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (virDomainSetMetadata(kept, VIR_DOMAIN_METADATA_ELEMENT, marked, VS_STATION_PREFIX,
                             VS_STATION_NS, flags) < 0)
        return vs_libvirt_error(error, "marking the domain kept in its metadata"), NULL;
    return g_steal_pointer(&kept);
}

int
vs_run_wait_child(GPid pid, gint64 deadline_us, gboolean *ret_timed_out, gboolean *ret_interrupted)
{
    gint64 killed_at = 0;
    gboolean hard = FALSE;
    int status = 0;

    *ret_timed_out = FALSE;
    *ret_interrupted = FALSE;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        gint64 now = g_get_monotonic_time();
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (!killed_at && deadline_us && now >= deadline_us) {
            *ret_timed_out = TRUE;
            kill(pid, SIGTERM);
            killed_at = now;
        } else if (!killed_at && vs_interrupted()) {
            *ret_interrupted = TRUE;
            kill(pid, SIGTERM);
            killed_at = now;
        } else if (killed_at && !hard && now - killed_at > 2 * G_USEC_PER_SEC) {
            kill(pid, SIGKILL);
            hard = TRUE;
        }
        g_usleep(G_USEC_PER_SEC / 50);
    }
    g_spawn_close_pid(pid);
    /* Ctrl-C on a terminal reaches the child too, which may end before we look. */
    if (!*ret_timed_out && vs_interrupted())
        *ret_interrupted = TRUE;
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

gboolean
vs_run_split_copy(const char *flag, const char *spec, char **ret_src, char **ret_dst,
                  GError **error)
{
    const char *colon = strchr(spec, ':');

    if (!colon || colon == spec || !colon[1]) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "%s: '%s' is not SRC:DST (both sides are needed, split at the first ':')", flag,
                    spec);
        return FALSE;
    }
    if ((gsize)(colon - spec) > VS_RUN_PATH_MAX || strlen(colon + 1) > VS_RUN_PATH_MAX) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: a path longer than %d bytes",
                    flag, VS_RUN_PATH_MAX);
        return FALSE;
    }
    *ret_src = g_strndup(spec, (gsize)(colon - spec));
    *ret_dst = g_strdup(colon + 1);
    return TRUE;
}
