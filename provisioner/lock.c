#include "provisioner/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/vs-enum.h"

VS_ENUM_IMPL(lock_kind, VsLockKind, VS_LOCK_LAST, "volume", "name", "base", "port", "gpu")

G_DEFINE_QUARK(vs - lock - error - quark, vs_lock_error)

struct VsLock {
    VsLockKind kind;
    char *key;
    int fd;
};

/* The locks this process holds, to keep the order. */
static GMutex held_mutex;
static GPtrArray *held;

char *
vs_lock_dir(void)
{
    const char *env = g_getenv("VIRT_STATION_LOCK_DIR");

    if (env && *env)
        return g_strdup(env);
    if (geteuid() == 0)
        return g_strdup("/run/virt-station");
    return g_build_filename(g_get_user_runtime_dir(), "virt-station", NULL);
}

char *
vs_lock_key_name(const char *uri, const char *name)
{
    return g_strdup_printf("%s %s", uri, name);
}

char *
vs_lock_key_base(const char *uri, const char *pool, const char *volume)
{
    return g_strdup_printf("%s %s/%s", uri, pool, volume);
}

/* Aborts unless @kind/@key may be taken after the locks held now. */
static void
check_order(VsLockKind kind, const char *key)
{
    for (guint i = 0; held && i < held->len; i++) {
        const VsLock *h = held->pdata[i];
        if (h->kind > kind || (h->kind == kind && g_strcmp0(h->key, key) >= 0))
            g_error("lock order broken: %s lock '%s' taken while holding %s lock '%s' (the order "
                    "is volume, name, base, port, gpu; keys of one kind ascending)",
                    vs_lock_kind_to_string(kind), key ? key : "", vs_lock_kind_to_string(h->kind),
                    h->key ? h->key : "");
    }
}

VsLock *
vs_lock_take(VsLockKind kind, const char *key, gboolean wait, GError **error)
{
    g_autofree char *dir = vs_lock_dir();
    g_autofree char *hash = key ? g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1) : NULL;
    g_autofree char *file =
        hash ? g_strdup_printf("%s-%.24s.lock", vs_lock_kind_to_string(kind), hash)
             : g_strdup_printf("%s.lock", vs_lock_kind_to_string(kind));
    g_autofree char *path = g_build_filename(dir, file, NULL);
    VsLock *lock;
    int fd;

    g_mutex_lock(&held_mutex);
    check_order(kind, key);
    g_mutex_unlock(&held_mutex);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_FAILED, "creating %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        g_set_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_FAILED, "opening %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
        int saved = errno;
        if (saved == EINTR)
            continue;
        close(fd);
        if (saved == EWOULDBLOCK)
            g_set_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_BUSY,
                        "another virt-station holds the %s lock%s%s", vs_lock_kind_to_string(kind),
                        key ? " of " : "", key ? key : "");
        else
            g_set_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_FAILED, "locking %s: %s", path,
                        g_strerror(saved));
        return NULL;
    }
    lock = g_new0(VsLock, 1);
    lock->kind = kind;
    lock->key = g_strdup(key);
    lock->fd = fd;
    g_mutex_lock(&held_mutex);
    if (!held)
        held = g_ptr_array_new();
    g_ptr_array_add(held, lock);
    g_mutex_unlock(&held_mutex);
    return lock;
}

static int
compare_keys(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Takes the lock once without waiting: TRUE when that settled it (@ret_lock set, or @error),
 * FALSE when another process holds it. */
static gboolean
try_once(VsLockKind kind, const char *key, VsLock **ret_lock, GError **error)
{
    g_autoptr(GError) busy = NULL;

    *ret_lock = vs_lock_take(kind, key, FALSE, &busy);
    if (!*ret_lock && g_error_matches(busy, VS_LOCK_ERROR, VS_LOCK_ERROR_BUSY))
        return FALSE;
    if (!*ret_lock)
        g_propagate_error(error, g_steal_pointer(&busy));
    return TRUE;
}

VsLock *
vs_lock_take_reporting(VsLockKind kind, const char *key, const VsProgress *progress,
                       const char *what, GError **error)
{
    VsLock *lock;

    if (try_once(kind, key, &lock, error))
        return lock;
    vs_progress_step(progress, "waiting for another virt-station command on %s", what);
    while (!vs_progress_cancelled(progress)) {
        g_usleep(G_USEC_PER_SEC / 10);
        if (!try_once(kind, key, &lock, error))
            continue;
        if (!lock || !vs_progress_cancelled(progress))
            return lock;
        vs_lock_release(lock);
        break;
    }
    g_set_error(error, VS_LOCK_ERROR, VS_LOCK_ERROR_CANCELLED,
                "interrupted while waiting for another virt-station command on %s", what);
    return NULL;
}

GPtrArray *
vs_lock_take_all(VsLockKind kind, GPtrArray *keys, GError **error)
{
    g_autoptr(GPtrArray) locks = g_ptr_array_new_with_free_func((GDestroyNotify)vs_lock_release);

    g_ptr_array_sort(keys, compare_keys);
    for (guint i = 0; i < keys->len; i++) {
        VsLock *lock = vs_lock_take(kind, keys->pdata[i], TRUE, error);
        if (!lock)
            return NULL;
        g_ptr_array_add(locks, lock);
    }
    return g_steal_pointer(&locks);
}

void
vs_lock_release(VsLock *lock)
{
    if (!lock)
        return;
    g_mutex_lock(&held_mutex);
    g_ptr_array_remove(held, lock);
    g_mutex_unlock(&held_mutex);
    close(lock->fd);
    g_free(lock->key);
    g_free(lock);
}
