/* Fetching an image into the cache.
 *
 * Theory of operation: an image is known by the sum its publisher wrote for the file (the
 * "source": "sha256:HEX" or "sha512:HEX" from the alias's checksum list, --image-sha256 for a URL,
 * or the local file's own SHA-256). The cache is looked up by that source before anything is
 * transferred, so a second pull of the same image costs one conditional request for the list.
 *
 *   1. The checksum list (aliases only, at most 16 MiB): asked for with the ETag and
 *      Last-Modified of the copy kept last time; an unchanged or unreachable list means that
 *      copy is used. A new list is verified with gpgme against the catalog's keyring, and only
 *      its signed text is kept, with a record of how far it was trusted (cache.h: verified,
 *      unsigned, or unchecked when the keyring file is missing). An unchecked copy is asked for
 *      whole every time, so that the warning comes each time and the signature is checked once
 *      the keyring is there; --require-signature refuses any list that is not verified.
 *   2. The lock: one download at a time, by flock on the cache's partial/ folder. A second
 *      virt-station waits for it, then looks in the cache again and usually finds the image.
 *   3. The transfer into partial/KEY.part (KEY: the origin's SHA-256), resumed from an earlier
 *      attempt when the server still has the same file (download.c); a whole part that an
 *      earlier run verified (Ctrl-C came later) is used as it is. A local file is copied and
 *      hashed in the same pass: the cache records what was copied.
 *   4. Verification: the part's sum must equal the published one, or the part is deleted. The
 *      sums are computed while the part is written, in a thread of their own (hash.h), so that
 *      a download from a fast mirror takes no longer than the transfer.
 *   5. Unpacking (.xz, .gz, .tar: unpack.c) into partial/KEY.unpacked, hashed as it is written,
 *      bounded in size.
 *   6. The cache entry: the image renamed to "<label>-<12 hex of its SHA-256>.img" (cache.c).
 * A failure at any step leaves nothing in the cache but, for a transfer that broke off or was
 * interrupted, the part to resume. Nothing here prints: steps, warnings and the bytes of a
 * transfer go to the caller's VsProgress, which also says when Ctrl-C asks to stop: asked
 * during transfers, hashing, copying and unpacking alike. */
#include "provisioner/images/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/vs-fault.h"
#include "provisioner/base/file-read.h"
#include "provisioner/images/download.h"
#include "provisioner/images/hash.h"
#include "provisioner/images/unpack.h"
#include "provisioner/images/verify.h"

/* The copy of a checksum list kept from last time, with the tags of the response it came from
 * and how far it was trusted (cache.h: its record beside it). */
typedef struct {
    char *path; /* the copy; its tags beside it as PATH.etag and PATH.modified */
    char *etag_path;
    char *modified_path;
    char *text; /* NULL: no copy yet */
    gsize len;
    VsListTrust trust;
} KeptList;

static void
kept_list_clear(KeptList *k)
{
    g_free(k->path);
    g_free(k->etag_path);
    g_free(k->modified_path);
    g_free(k->text);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(KeptList, kept_list_clear)

/* Saves the list @plain of @url, trusted as far as @trust, with the tags of its response for the
 * next time. */
static void
keep_list(const KeptList *k, const char *url, GBytes *plain, VsListTrust trust, const char *etag,
          const char *modified)
{
    g_autofree char *dir = g_path_get_dirname(k->path);
    gsize len;
    const char *data = g_bytes_get_data(plain, &len);

    g_mkdir_with_parents(dir, 0755);
    g_unlink(k->etag_path);
    g_unlink(k->modified_path);
    /* The record first: a list whose record is missing counts as unchecked. */
    if (!vs_cache_list_set_trust(url, trust, NULL) ||
        !g_file_set_contents(k->path, data, len, NULL))
        return;
    if (etag)
        g_file_set_contents(k->etag_path, etag, -1, NULL);
    if (modified)
        g_file_set_contents(k->modified_path, modified, -1, NULL);
}

/* Returns why a list of @entry trusted only as far as @trust is not verified. */
static char *
unverified_why(const VsCatalogImage *entry, VsListTrust trust)
{
    if (trust == VS_LIST_UNSIGNED)
        return g_strdup("the image catalog gives no signature for it");
    return g_strdup_printf("the keyring %s was missing, so its signature was not checked",
                           entry->keyring ? entry->keyring : "(none)");
}

/* Returns the part of the new checksum list @list of @entry to trust: the signed text when the
 * keyring exists, else the list itself (a missing keyring file is a warning), with how far it
 * is trusted in *@ret_trust. */
static GBytes *
trusted_list(const VsProgress *progress, const VsCatalogImage *entry, GBytes *list,
             VsListTrust *ret_trust, GError **error)
{
    g_autoptr(GBytes) plain = NULL, sig = NULL;

    if (entry->signature == VS_SIGNATURE_NONE) {
        *ret_trust = VS_LIST_UNSIGNED;
        return g_bytes_ref(list);
    }
    /* The catalog refuses a signed entry without a keyring (catalog.c). */
    g_assert(entry->keyring);
    if (!g_file_test(entry->keyring, G_FILE_TEST_EXISTS)) {
        vs_progress_warn(progress,
                         "%s: the keyring %s is missing, so the checksum list's signature is not "
                         "checked (the image is still checked against the list, fetched over %s; "
                         "--require-signature refuses this)",
                         entry->alias, entry->keyring,
                         g_str_has_prefix(entry->checksums_url, "https:") ? "HTTPS" : "plain HTTP");
        *ret_trust = VS_LIST_UNCHECKED;
        return g_bytes_ref(list);
    }
    if (entry->signature == VS_SIGNATURE_DETACHED) {
        sig = vs_download_bytes(progress, entry->signature_url, VS_FILE_CAP_LIST, NULL, NULL, NULL,
                                NULL, NULL, error);
        if (!sig) {
            g_prefix_error(error, "fetching the signature of %s's checksum list: ", entry->alias);
            return NULL;
        }
    }
    if (!vs_verify_signature(entry->keyring, list, sig, &plain, error)) {
        g_prefix_error(error, "%s: %s: ", entry->alias, entry->checksums_url);
        return NULL;
    }
    vs_progress_step(progress, "%s: checksum list signed by a key in %s", entry->alias,
                     entry->keyring);
    *ret_trust = VS_LIST_VERIFIED;
    return g_steal_pointer(&plain);
}

/* Returns the checksum list of @entry: a new one verified as far as it can be, or the kept copy
 * when the server says it has not changed, or when it cannot be reached and a copy exists. A
 * list that is not verified is said so each time it is used, and refused when @require. */
static GBytes *
checksum_list(const VsProgress *progress, const VsCatalogImage *entry, gboolean require,
              GError **error)
{
    g_auto(KeptList) k = {.path = vs_cache_list_path(entry->checksums_url)};
    g_autofree char *etag = NULL, *modified = NULL, *new_etag = NULL, *new_modified = NULL;
    g_autoptr(GBytes) list = NULL, plain = NULL;
    g_autoptr(GError) fetch_error = NULL;
    gboolean unchanged = FALSE;
    VsListTrust trust;

    k.etag_path = g_strconcat(k.path, ".etag", NULL);
    k.modified_path = g_strconcat(k.path, ".modified", NULL);
    k.text = vs_cache_list_read(entry->checksums_url, &k.len);
    k.trust = entry->signature == VS_SIGNATURE_NONE ? VS_LIST_UNSIGNED
                                                    : vs_cache_list_trust(entry->checksums_url);
    /* A copy whose signature was not checked is asked for whole: it is checked now if it can. */
    if (k.text && k.trust != VS_LIST_UNCHECKED) {
        etag = vs_download_read_tag(k.etag_path);
        modified = vs_download_read_tag(k.modified_path);
    }
    list = vs_download_bytes(progress, entry->checksums_url, VS_FILE_CAP_LIST, etag, modified,
                             &unchanged, &new_etag, &new_modified, &fetch_error);
    if (!list && !k.text) {
        g_propagate_prefixed_error(error, g_steal_pointer(&fetch_error),
                                   "fetching the checksum list of %s: ", entry->alias);
        return NULL;
    }
    if (!list)
        vs_progress_warn(progress,
                         "%s: the checksum list could not be checked for updates (%s); using "
                         "the copy kept earlier",
                         entry->alias, fetch_error->message);
    if (!list || unchanged) {
        plain = g_bytes_new_take(g_steal_pointer(&k.text), k.len);
        trust = k.trust;
        if (trust == VS_LIST_UNCHECKED && !require) {
            g_autofree char *why = unverified_why(entry, trust);
            vs_progress_warn(progress,
                             "%s: the checksum list kept in the cache is not verified (%s); the "
                             "image is still checked against it",
                             entry->alias, why);
        }
    } else {
        plain = trusted_list(progress, entry, list, &trust, error);
        if (!plain)
            return NULL;
    }
    if (require && trust != VS_LIST_VERIFIED) {
        g_autofree char *why = unverified_why(entry, trust);
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: the checksum list %s is not verified (%s); --require-signature "
                    "refuses it",
                    entry->alias, entry->checksums_url, why);
        return NULL;
    }
    if (list && !unchanged)
        keep_list(&k, entry->checksums_url, plain, trust, new_etag, new_modified);
    return g_steal_pointer(&plain);
}

/* One fetch: where the image comes from and where its files go on the way. */
typedef struct {
    VsImage *image;
    const VsProgress *progress;
    const char *origin; /* the URL, or the local file */
    char *file;         /* the origin's file name */
    char *key;          /* the origin's SHA-256: names its files in partial/ */
    char *source;       /* the published sum, "TYPE:HEX" */
    char *hex;          /* its HEX */
    GChecksumType type; /* its TYPE */
    char *partial_dir;  /* the cache's partial/, locked while this fetch transfers */
    char *part;         /* the downloaded (or copied, or local packed) file */
    char *unpacked;     /* the unpacked image, when the file is packed */
    char *sha256;       /* of the image to keep */
} Fetch;

static void
fetch_clear(Fetch *f)
{
    g_free(f->file);
    g_free(f->key);
    g_free(f->source);
    g_free(f->hex);
    g_free(f->partial_dir);
    g_free(f->part);
    g_free(f->unpacked);
    g_free(f->sha256);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Fetch, fetch_clear)

/* Sets @f's source: the sum the image's publisher (or the user) gave for the file. */
static gboolean
expected_sum(Fetch *f, GError **error)
{
    VsImage *image = f->image;
    g_autoptr(GBytes) list = NULL;
    gsize len;

    if (image->kind != VS_IMAGE_ALIAS) {
        /* URL: --image-sha256; FILE: a packed file's own sum, or the plain file's. */
        f->source =
            image->expect ? g_strdup(image->expect) : g_strconcat("sha256:", image->sha256, NULL);
        f->hex = g_strdup(f->source + strlen("sha256:"));
        return TRUE;
    }
    list = checksum_list(f->progress, image->entry, image->require_signature, error);
    if (!list)
        return FALSE;
    const char *text = g_bytes_get_data(list, &len);
    if (!vs_checksums_find(text, len, image->entry->format, f->file, &f->type, &f->hex, error)) {
        g_prefix_error(error, "%s: %s: ", image->ref, image->entry->checksums_url);
        return FALSE;
    }
    f->source = g_strconcat(vs_checksums_type_name(f->type), ":", f->hex, NULL);
    return TRUE;
}

/* Takes the lock on the partial/ folder, waiting for another virt-station's download: the
 * locked descriptor goes to *@ret_lock (-1 where the folder cannot be opened: then unlocked).
 * Returns FALSE with @error set when the folder cannot be made. */
static gboolean
lock_partial(Fetch *f, int *ret_lock, GError **error)
{
    int lock;

    if (g_mkdir_with_parents(f->partial_dir, 0755) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", f->partial_dir,
                    g_strerror(errno));
        return FALSE;
    }
    lock = open(f->partial_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) != 0) {
        vs_progress_step(f->progress, "waiting for another virt-station's download to finish");
        flock(lock, LOCK_EX);
    }
    *ret_lock = lock;
    return TRUE;
}

/* Downloads the image into @f->part and checks it against the published sum. */
static gboolean
download_verified(Fetch *f, GError **error)
{
    VsImage *image = f->image;
    g_autofree char *etag_path = g_strconcat(f->part, ".etag", NULL);
    g_autofree char *got = NULL;
    g_autoptr(VsHashStream) hash = NULL;
    g_autoptr(GError) stream_error = NULL;
    gboolean gone;
    GStatBuf st;

    /* Hashed while it downloads: the sums are ready with the last byte. */
    hash = vs_hash_stream_new(f->type, f->progress);
    /* A whole part left by an earlier run that Ctrl-C stopped while it checked or unpacked the
     * download is used again when it has the published sum. A partial one is resumed below, with
     * the stream holding its sums already: it is read once. */
    if (g_stat(f->part, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        g_autoptr(GError) peek_error = NULL;
        vs_progress_step(f->progress, "checking the %.1f MiB downloaded earlier",
                         st.st_size / (1024.0 * 1024.0));
        vs_hash_stream_restart(hash, f->part, st.st_size);
        if (vs_hash_stream_peek(hash, &got, &f->sha256, &peek_error) &&
            g_ascii_strcasecmp(got, f->hex) == 0) {
            g_unlink(etag_path);
            vs_progress_step(f->progress, "using %s, downloaded and verified earlier", image->url);
            return TRUE;
        }
        if (vs_progress_cancelled(f->progress)) {
            g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                        "%s: interrupted; what was downloaded earlier is kept and checked again "
                        "next time",
                        image->url);
            return FALSE;
        }
        if (peek_error) {
            /* Unreadable: nothing to resume from. */
            vs_progress_warn(f->progress, "%s; downloading it again", peek_error->message);
            g_unlink(f->part);
            g_unlink(etag_path);
            vs_hash_stream_restart(hash, f->part, 0);
        }
        g_clear_pointer(&got, g_free);
        g_clear_pointer(&f->sha256, g_free);
    }
    vs_progress_step(f->progress, "downloading %s", image->url);
    if (!vs_download_file(f->progress, image->url, f->part, image->label, hash, error) ||
        !vs_fault_point("pull-verify", error))
        return FALSE;
    gone = g_stat(f->part, &st) != 0;
    if (gone || (guint64)st.st_size != vs_hash_stream_size(hash) ||
        !vs_hash_stream_finish(hash, &got, &f->sha256, &stream_error)) {
        if (vs_progress_cancelled(f->progress)) {
            g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                        "%s: interrupted; the download is kept and verified next time", image->url);
            return FALSE;
        }
        /* The part is not what the stream saw (changed by something else, or its prefix
         * could not be read back): read it again. */
        vs_progress_step(f->progress, "hashing the download again: %s",
                         stream_error ? stream_error->message
                         : gone       ? "it is gone"
                                      : "its size changed while it was downloaded");
        g_clear_pointer(&got, g_free);
        g_clear_pointer(&f->sha256, g_free);
        if (!vs_hash_file(f->part, f->type, f->progress, &got, &f->sha256, error))
            return FALSE;
    }
    /* Verified or not, the part is no longer one to resume. */
    g_unlink(etag_path);
    if (g_ascii_strcasecmp(got, f->hex) == 0)
        return TRUE;
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                "%s: checksum mismatch: %s says %s %s, the download has %s; the download was "
                "deleted",
                f->origin,
                image->kind == VS_IMAGE_ALIAS ? image->entry->checksums_url : "--image-sha256",
                vs_checksums_type_name(f->type), f->hex, got);
    g_unlink(f->part);
    return FALSE;
}

/* Brings the image's file into @f->part: downloaded, or a local file copied (a packed local
 * file is unpacked straight from where it is: it was hashed when --image was read). */
static gboolean
obtain(Fetch *f, GError **error)
{
    VsImage *image = f->image;

    if (image->kind != VS_IMAGE_FILE)
        return download_verified(f, error);
    if (image->expect) {
        g_free(f->part);
        f->part = g_strdup(image->ref);
        return TRUE;
    }
    vs_progress_step(f->progress, "copying %s into the cache", image->ref);
    /* The cache is addressed by content: what is recorded is the hash of the bytes copied, not
     * the one found when --image was read (the file may have changed since). */
    if (!vs_hash_copy(image->ref, f->part, f->progress, &f->sha256, error))
        return FALSE;
    if (g_strcmp0(f->sha256, image->sha256) != 0) {
        vs_progress_warn(f->progress,
                         "%s changed after it was first read (SHA-256 %s, now %s): the copy's "
                         "own SHA-256 is recorded",
                         image->ref, image->sha256, f->sha256);
        g_free(f->source);
        g_free(f->hex);
        f->source = g_strconcat("sha256:", f->sha256, NULL);
        f->hex = g_strdup(f->sha256);
    }
    return TRUE;
}

/* Unpacks a packed file into @f->unpacked, whose SHA-256 is then the image's. */
static gboolean
unpack_part(Fetch *f, GError **error)
{
    vs_progress_step(f->progress, "unpacking %s", f->file);
    f->unpacked = g_strdup_printf("%s/%.16s.unpacked", f->partial_dir, f->key);
    g_free(f->sha256);
    f->sha256 =
        vs_unpack_image(f->part, strstr(f->file, ".tar") != NULL, f->unpacked, f->progress, error);
    if (!f->sha256)
        return FALSE;
    if (f->image->kind != VS_IMAGE_FILE)
        g_unlink(f->part);
    return TRUE;
}

/* Fills @f->image from the cache entry with @f's source. Returns FALSE when there is none. */
static gboolean
from_cache(Fetch *f)
{
    g_autoptr(VsCacheEntry) hit = vs_cache_find(f->source);

    if (hit)
        vs_image_take_entry(f->image, hit);
    return hit != NULL;
}

/* Under the lock: fetches, verifies, unpacks and adds the image to the cache. */
static gboolean
fetch_locked(Fetch *f, GError **error)
{
    VsImage *image = f->image;
    g_autoptr(VsCacheEntry) entry = NULL;

    if (from_cache(f))
        return TRUE;
    if (!obtain(f, error) || (vs_image_is_packed(f->file) && !unpack_part(f, error)))
        return FALSE;
    entry =
        vs_cache_add(f->unpacked ? f->unpacked : f->part, image->label,
                     image->kind == VS_IMAGE_ALIAS ? image->ref : f->file,
                     image->kind == VS_IMAGE_FILE ? NULL : image->url, f->sha256, f->source, error);
    if (!entry)
        return FALSE;
    vs_image_take_entry(image, entry);
    return TRUE;
}

gboolean
vs_image_fetch(VsImage *image, const VsProgress *progress, GError **error)
{
    g_auto(Fetch) f = {.image = image, .progress = progress, .type = G_CHECKSUM_SHA256};
    int lock;
    gboolean ok;

    g_return_val_if_fail(image->kind != VS_IMAGE_VOLUME, FALSE);
    f.origin = image->url ? image->url : image->ref;
    f.file = vs_image_url_basename(f.origin);
    f.partial_dir = vs_cache_partial_dir();
    f.key = g_compute_checksum_for_string(G_CHECKSUM_SHA256, f.origin, -1);
    if (!expected_sum(&f, error))
        return FALSE;
    if (from_cache(&f))
        return TRUE;
    if (!lock_partial(&f, &lock, error))
        return FALSE;
    f.part = g_strdup_printf("%s/%.16s.part", f.partial_dir, f.key);
    ok = fetch_locked(&f, error);
    if (lock >= 0)
        close(lock);
    return ok;
}
