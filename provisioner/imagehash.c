#include "imagehash.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
cache_entry(const struct stat *st)
{
    g_autofree char *name = g_strdup_printf(
        "%llx-%llx-%lld-%lld.%09ld", (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
        (long long)st->st_size, (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
    return g_build_filename(g_get_user_cache_dir(), "virt-station", "sha256", name, NULL);
}

char *
vs_imagehash_file(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *entry = NULL, *cached = NULL;
    g_autoptr(GChecksum) sum = NULL;
    g_autofree guchar *buf = NULL;
    int fd;
    ssize_t n;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
        return NULL;
    }
    entry = cache_entry(&st);
    if (g_file_get_contents(entry, &cached, NULL, NULL) &&
        g_regex_match_simple("^[0-9a-f]{64}$", cached, 0, 0)) {
        close(fd);
        return g_steal_pointer(&cached);
    }
    sum = g_checksum_new(G_CHECKSUM_SHA256);
    buf = g_malloc(1 << 20);
    while ((n = read(fd, buf, 1 << 20)) > 0)
        g_checksum_update(sum, buf, n);
    close(fd);
    if (n < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "reading %s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    /* The cache is an optimisation: failing to write it changes nothing. */
    g_autofree char *dir = g_path_get_dirname(entry);
    if (g_mkdir_with_parents(dir, 0700) == 0)
        g_file_set_contents(entry, g_checksum_get_string(sum), -1, NULL);
    return g_strdup(g_checksum_get_string(sum));
}

char *
vs_imagehash_volume_name(const char *label, const char *sha256)
{
    g_autofree char *base = g_path_get_basename(label);
    GString *name = g_string_new(NULL);

    /* Drop the usual image extensions: debian-12.qcow2 -> debian-12. */
    for (const char *ext = NULL; (ext = strrchr(base, '.'));) {
        if (g_strcmp0(ext, ".qcow2") && g_strcmp0(ext, ".img") && g_strcmp0(ext, ".raw") &&
            g_strcmp0(ext, ".xz") && g_strcmp0(ext, ".gz") && g_strcmp0(ext, ".tar"))
            break;
        *(char *)ext = '\0';
    }
    for (const char *p = base; *p; p++)
        g_string_append_c(name, g_ascii_isalnum(*p) || strchr("-_.", *p) ? *p : '-');
    if (name->len == 0)
        g_string_append(name, "image");
    g_string_append_printf(name, "-%.12s", sha256);
    return g_string_free(name, FALSE);
}
