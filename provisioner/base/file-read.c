#include "provisioner/base/file-read.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provisioner/base/spec-error.h"

/* Sets @error from errno @saved for @path. Returns FALSE. */
static gboolean
errno_failed(GError **error, int saved, const char *what, const char *path)
{
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s %s: %s", what, path,
                g_strerror(saved));
    return FALSE;
}

/* Returns a cap as text: "16 MiB" for whole MiB, else "N bytes". */
static char *
size_text(gsize bytes)
{
    if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
        return g_strdup_printf("%" G_GSIZE_FORMAT " MiB", bytes >> 20);
    return g_strdup_printf("%" G_GSIZE_FORMAT " bytes", bytes);
}

/* Reads @fd to its end into @buf, refusing more than @cap bytes. */
static gboolean
read_all(int fd, GByteArray *buf, gsize cap, const char *what, const char *path, GError **error)
{
    guint8 chunk[65536];

    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_failed(error, errno, "reading", path);
        if (n == 0)
            return TRUE;
        if (buf->len + (gsize)n > cap) {
            g_autofree char *limit = size_text(cap);
            return vs_spec_fail(error, "%s %s: larger than the %s such a file may have", what, path,
                                limit);
        }
        g_byte_array_append(buf, chunk, n);
    }
}

gboolean
vs_file_read_bounded(const char *path, gsize cap, const char *what, char **ret_data, gsize *ret_len,
                     GError **error)
{
    g_autoptr(GByteArray) buf = NULL;
    struct stat st;
    gboolean ok;
    int fd;

    /* O_NONBLOCK: opening a FIFO with no writer (or a tty) returns at once; it is refused below. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return errno_failed(error, errno, what, path);
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        return errno_failed(error, saved, what, path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return vs_spec_fail(
            error, "%s %s: not a regular file (a device, FIFO or folder is not read)", what, path);
    }
    if ((guint64)st.st_size > cap) {
        g_autofree char *limit = size_text(cap);
        close(fd);
        return vs_spec_fail(
            error, "%s %s: %" G_GUINT64_FORMAT " bytes, larger than the %s such a file may have",
            what, path, (guint64)st.st_size, limit);
    }
    /* A regular file no longer blocks; the size is checked again while reading (it may grow). */
    buf = g_byte_array_sized_new(st.st_size + 1);
    ok = read_all(fd, buf, cap, what, path, error);
    close(fd);
    if (!ok)
        return FALSE;
    if (ret_len)
        *ret_len = buf->len;
    g_byte_array_append(buf, (const guint8 *)"", 1);
    *ret_data = (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
    return TRUE;
}

GBytes *
vs_file_read_bytes(const char *path, gsize cap, const char *what, GError **error)
{
    char *data;
    gsize len;

    if (!vs_file_read_bounded(path, cap, what, &data, &len, error))
        return NULL;
    return g_bytes_new_take(data, len);
}

gboolean
vs_file_check_regular(const char *path, const char *what, GError **error)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    int saved;

    if (fd < 0)
        return errno_failed(error, errno, what, path);
    if (fstat(fd, &st) != 0) {
        saved = errno;
        close(fd);
        return errno_failed(error, saved, what, path);
    }
    close(fd);
    if (!S_ISREG(st.st_mode))
        return vs_spec_fail(
            error, "%s %s: not a regular file (a device, FIFO or folder is not read)", what, path);
    return TRUE;
}
