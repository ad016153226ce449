#include "provisioner/base/bounded-read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/base/spec-error.h"

char *
vs_size_text(gsize bytes)
{
    if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
        return g_strdup_printf("%" G_GSIZE_FORMAT " MiB", bytes >> 20);
    if (bytes >= (1 << 10) && bytes % (1 << 10) == 0)
        return g_strdup_printf("%" G_GSIZE_FORMAT " KiB", bytes >> 10);
    return g_strdup_printf("%" G_GSIZE_FORMAT " bytes", bytes);
}

gboolean
vs_size_limit_fail(GError **error, const char *what, const char *data, gsize len, gsize max_bytes)
{
    g_autofree char *limit = vs_size_text(max_bytes);
    gsize line = 1;

    for (const char *p = data; (p = memchr(p, '\n', (gsize)(data + MIN(len, max_bytes) - p))); p++)
        line++;
    g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT,
                "%s line %" G_GSIZE_FORMAT ": the file is larger than %s, the limit for it", what,
                line, limit);
    return FALSE;
}

gboolean
vs_read_bounded_fd(int fd, const char *what, gsize max_bytes, char **ret_data, gsize *ret_len,
                   GError **error)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    guint8 chunk[65536];

    /* One byte past the limit tells a file of exactly @max_bytes from a larger one. */
    while (buf->len <= max_bytes) {
        ssize_t n = read(fd, chunk, MIN(sizeof(chunk), max_bytes + 1 - buf->len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "reading %s: %s", what,
                        g_strerror(saved));
            return FALSE;
        }
        if (n == 0)
            break;
        g_byte_array_append(buf, chunk, (guint)n);
    }
    if (buf->len > max_bytes)
        return vs_size_limit_fail(error, what, (const char *)buf->data, buf->len, max_bytes);
    *ret_len = buf->len;
    g_byte_array_append(buf, (const guint8 *)"", 1);
    *ret_data = (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
    return TRUE;
}

gboolean
vs_read_bounded_file(const char *path, gsize max_bytes, char **ret_data, gsize *ret_len,
                     GError **error)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    gboolean ok;

    if (fd < 0) {
        int saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "opening %s: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    ok = vs_read_bounded_fd(fd, path, max_bytes, ret_data, ret_len, error);
    close(fd);
    return ok;
}
