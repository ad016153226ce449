#include "provisioner/images/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1 << 20)

/* Reads @fd (the file @path) to its end into @type's sum and SHA-256, as vs_hash_file. */
static gboolean
hash_fd(int fd, const char *path, GChecksumType type, char **ret_sum, char **ret_sha256,
        GError **error)
{
    g_autoptr(GChecksum) sum = g_checksum_new(type);
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(CHUNK);
    ssize_t n;

    while ((n = read(fd, buf, CHUNK)) > 0) {
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);

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
vs_hash_file(const char *path, GChecksumType type, char **ret_sum, char **ret_sha256,
             GError **error)
{
    struct stat st;
    int fd = open_file(path, &st, error);
    gboolean ok;

    if (fd < 0)
        return FALSE;
    ok = hash_fd(fd, path, type, ret_sum, ret_sha256, error);
    close(fd);
    return ok;
}

/* Where the SHA-256 of the file with status @st is remembered. */
static char *
remembered_path(const struct stat *st)
{
    g_autofree char *name = g_strdup_printf(
        "%llx-%llx-%lld-%lld.%09ld", (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
        (long long)st->st_size, (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "sha256", name, NULL);
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
    if (g_file_get_contents(entry, &cached, NULL, NULL) &&
        g_regex_match_simple("^[0-9a-f]{64}$", cached, 0, 0)) {
        close(fd);
        return g_steal_pointer(&cached);
    }
    ok = hash_fd(fd, path, G_CHECKSUM_SHA256, NULL, &sha256, error);
    close(fd);
    if (!ok)
        return NULL;
    /* Remembering is an optimisation: failing to write it changes nothing. */
    g_autofree char *dir = g_path_get_dirname(entry);
    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_file_set_contents(entry, sha256, -1, NULL);
    return g_steal_pointer(&sha256);
}
