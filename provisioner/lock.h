/* Host-wide locks: one module for every lock virt-station takes, in one order.
 *
 * Each lock is an flock(2) on a file under /run/virt-station/ (root) or
 * $XDG_RUNTIME_DIR/virt-station/ (others), held until released or until the process dies, so a
 * killed client never leaves one behind. Keys carry the connection's own spelling of its URI.
 * What they cover is what one user's virt-station processes on this machine do: root and other
 * users keep their locks in different folders and do not see each other's; nor do two client
 * machines of one remote host. libvirt's own refusals (a name that exists, a volume that exists)
 * still stand between them, and `delete` keeps any volume another domain or volume uses.
 *
 * The order is fixed: volume → name → base → port → GPU. A process that holds a lock may take only
 * locks of a later kind (or more of the same kind, with keys in ascending order); taking an earlier
 * kind is a programming error and aborts, so no two commands can deadlock. */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"

typedef enum {
    VS_LOCK_VOLUME, /* a volume a command makes under the user's name for it (bake's NAME): held
                     * from the check that the name is free to the volume's completion */
    VS_LOCK_NAME,   /* a workstation's name on a connection: create, delete, adopt, snapshot,
                     * start of a shut-off one */
    VS_LOCK_BASE,   /* a base image volume in a pool: import, use as backing, prune */
    VS_LOCK_PORT,   /* the choice of forwarded 127.0.0.1 ports, until a domain names or binds
                     * the one chosen (vs_target_free_port) */
    VS_LOCK_GPU,    /* choosing and allocating vGPU instances, VFs and functions */
    VS_LOCK_LAST,
} VsLockKind;

const char *vs_lock_kind_to_string(VsLockKind kind);
int vs_lock_kind_from_string(const char *str);

#define VS_LOCK_ERROR (vs_lock_error_quark())
GQuark vs_lock_error_quark(void);

typedef enum {
    VS_LOCK_ERROR_FAILED,    /* the lock file could not be made or locked */
    VS_LOCK_ERROR_BUSY,      /* another process holds it (only when not waiting) */
    VS_LOCK_ERROR_CANCELLED, /* the wait was interrupted (vs_lock_take_reporting) */
} VsLockError;

typedef struct VsLock VsLock;

/* Returns the lock of @kind for @key (NULL for the kinds with one lock per host: port, GPU),
 * waiting for it when @wait, else failing with VS_LOCK_ERROR_BUSY when another process has it.
 * Aborts when the order above would be broken. */
VsLock *vs_lock_take(VsLockKind kind, const char *key, gboolean wait, GError **error);

/* Returns the lock of @kind for @key as vs_lock_take() does, waiting for it; while another
 * process holds it, says "waiting for another virt-station command on @what" through @progress
 * (may be NULL) and tries again ten times a second rather than wait in flock(2), which Ctrl-C
 * does not end: stops (VS_LOCK_ERROR_CANCELLED) once @progress says so, also when the lock came
 * free with it. */
VsLock *vs_lock_take_reporting(VsLockKind kind, const char *key, const VsProgress *progress,
                               const char *what, GError **error);

/* Returns the locks of @kind for every key in @keys (sorted here, so that they are taken in
 * ascending order), as a GPtrArray that releases them when freed; NULL with @error set, holding
 * none, when one cannot be taken. */
GPtrArray *vs_lock_take_all(VsLockKind kind, GPtrArray *keys, GError **error);

/* Releases @lock (NULL is allowed). */
void vs_lock_release(VsLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsLock, vs_lock_release)

/* Returns the key of the name lock of workstation @name on the connection @uri. */
char *vs_lock_key_name(const char *uri, const char *name);

/* Returns the key of the base lock of the volume @pool/@volume on the connection @uri. */
char *vs_lock_key_base(const char *uri, const char *pool, const char *volume);

/* Returns the folder the lock files are in ($VIRT_STATION_LOCK_DIR replaces it, for tests). */
char *vs_lock_dir(void);
