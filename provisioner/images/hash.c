#include "provisioner/images/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provisioner/base/file-read.h"
#include "provisioner/images/image-error.h"

#define CHUNK (1 << 20)

/* Sets @error for a hash or copy of @path that Ctrl-C stopped. Returns FALSE. */
static gboolean
interrupted(const char *path, GError **error)
{
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "reading %s: interrupted", path);
    return FALSE;
}

/* Reads @fd (the file @path) to its end into @type's sum and SHA-256, as vs_hash_file. */
static gboolean
hash_fd(int fd, const char *path, GChecksumType type, const VsProgress *progress, char **ret_sum,
        char **ret_sha256, GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(type);
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(CHUNK);
    ssize_t n;

    while ((n = read(fd, buf, CHUNK)) > 0) {
        if (vs_progress_cancelled(progress))
            return interrupted(path, error);
        g_checksum_update(sum, buf, n);
        if (type != G_CHECKSUM_SHA256)
            g_checksum_update(sha, buf, n);
    }
    if (n < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    if (ret_sum)
        *ret_sum = g_strdup(g_checksum_get_string(sum));
    *ret_sha256 = g_strdup(g_checksum_get_string(type == G_CHECKSUM_SHA256 ? sum : sha));
    return TRUE;
}

/* Returns @path opened for reading, with its status in @st, or -1 with @error set. */
static int
open_file(const char *path, struct stat *st, GError **error)
{
    /* O_NONBLOCK: a FIFO opens at once (and is refused as no regular file by the callers). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0 || fstat(fd, st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return -1;
    }
    return fd;
}

gboolean
vs_hash_file(const char *path, GChecksumType type, const VsProgress *progress, char **ret_sum,
             char **ret_sha256, GError **error)
{
    struct stat st;
    int fd = open_file(path, &st, error);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    ok = hash_fd(fd, path, type, progress, ret_sum, ret_sha256, error);
    close(fd);
    return ok;
}

/* Where the SHA-256 of the file with status @st is remembered. The change time is part of the
 * key: a same-size edit whose modification time was put back (touch -d, cp -p) still moves it,
 * and no user can set it back. */
static char *
remembered_path(const struct stat *st)
{
    g_autofree char *name = g_strdup_printf(
        "%llx-%llx-%lld-%lld.%09ld-%lld.%09ld", (unsigned long long)st->st_dev,
        (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
        (long)st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec);
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "sha256", name, NULL);
}

/* Remembers @sha256 for the file with status @st (an optimisation: a failure changes nothing). */
static void
remember(const struct stat *st, const char *sha256)
{
    g_autofree char *entry = remembered_path(st);
    g_autofree char *dir = g_path_get_dirname(entry);

    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_file_set_contents(entry, sha256, -1, NULL);
}

char *
vs_hash_file_cached(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *entry = NULL, *cached = NULL, *sha256 = NULL;
    int fd = open_file(path, &st, error);
    gboolean ok;

    if (fd < 0)
        return NULL;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
        return NULL;
    }
    entry = remembered_path(&st);
    if (vs_file_read_bounded(entry, 64, "remembered hash", &cached, NULL, NULL) &&
        g_regex_match_simple("^[0-9a-f]{64}$", cached, G_REGEX_DOLLAR_ENDONLY, 0)) {
        close(fd);
        return g_steal_pointer(&cached);
    }
    ok = hash_fd(fd, path, G_CHECKSUM_SHA256, NULL, NULL, &sha256, error);
    close(fd);
    if (!ok)
        return NULL;
    remember(&st, sha256);
    return g_steal_pointer(&sha256);
}

gboolean
vs_hash_copy(const char *src, const char *dest, const VsProgress *progress, char **ret_sha256,
             GError **error)
{
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(CHUNK);
    struct stat st;
    int in = open_file(src, &st, error), out;
    ssize_t n = 0;
    gboolean ok = TRUE;

    if (in < 0)
        return FALSE;
    if (!S_ISREG(st.st_mode)) {
        close(in);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", src);
        return FALSE;
    }
    out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int saved = errno;
        close(in);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", dest,
                    g_strerror(saved));
        return FALSE;
    }
    while (ok && (n = read(in, buf, CHUNK)) > 0) {
        if (vs_progress_cancelled(progress)) {
            close(in);
            close(out);
            g_unlink(dest);
            return interrupted(src, error);
        }
        g_checksum_update(sha, buf, n);
        for (ssize_t w = 0; ok && w < n;) {
            ssize_t r = write(out, buf + w, n - w);
            ok = r > 0;
            w += MAX(r, 0);
        }
    }
    if (n < 0 || !ok || close(out) != 0) {
        int saved = errno;
        close(in);
        g_unlink(dest);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "copying %s to %s: %s",
                    src, dest, g_strerror(saved));
        return FALSE;
    }
    *ret_sha256 = g_strdup(g_checksum_get_string(sha));
    /* What was copied is what the file holds now, unless it changed meanwhile. */
    struct stat after;
    if (fstat(in, &after) == 0 && after.st_size == st.st_size &&
        after.st_mtim.tv_sec == st.st_mtim.tv_sec && after.st_mtim.tv_nsec == st.st_mtim.tv_nsec &&
        after.st_ctim.tv_sec == st.st_ctim.tv_sec && after.st_ctim.tv_nsec == st.st_ctim.tv_nsec)
        remember(&st, *ret_sha256);
    close(in);
    return TRUE;
}
