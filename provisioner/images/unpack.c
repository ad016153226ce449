#include "provisioner/images/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "provisioner/images/image-error.h"

#define CHUNK ((guint64)1 << 20)

/* One image being unpacked. */
typedef struct {
    struct archive *a;
    struct archive_entry *entry;
    GChecksum *sha;
    guint64 pos; /* bytes of the image hashed so far */
    int fd;
} Unpack;

static gboolean
all_zero(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i])
            return FALSE;
    return TRUE;
}

/* Writes @len bytes at @offset of @fd, leaving holes for all-zero blocks of 64 KiB. */
static gboolean
write_sparse(int fd, const char *buf, size_t len, guint64 offset)
{
    const size_t block = 64 * 1024;

    for (size_t done = 0; done < len;) {
        size_t n = MIN(block, len - done);
        if (!all_zero(buf + done, n)) {
            for (size_t w = 0; w < n;) {
                ssize_t r = pwrite(fd, buf + done + w, n - w, offset + done + w);
                if (r < 0)
                    return FALSE;
                w += r;
            }
        }
        done += n;
    }
    return TRUE;
}

/* Hashes zeros up to @end: the holes of a sparse image. */
static void
hash_zeros(Unpack *u, guint64 end)
{
    static const guchar zeros[64 * 1024];

    while (u->pos < end) {
        size_t n = MIN(sizeof zeros, end - u->pos);
        g_checksum_update(u->sha, zeros, n);
        u->pos += n;
    }
}

static gboolean
archive_failed(Unpack *u, const char *src, GError **error)
{
    const char *why = archive_error_string(u->a);
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "unpacking %s: %s", src,
                why ? why : "not a supported archive");
    return FALSE;
}

static gboolean
write_failed(const char *dest, GError **error)
{
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "writing %s: %s", dest,
                g_strerror(errno));
    return FALSE;
}

/* Opens @src and moves to the image: the only entry, or a tar archive's first regular file. */
static gboolean
open_image(Unpack *u, const char *src, gboolean tar, GError **error)
{
    archive_read_support_filter_xz(u->a);
    archive_read_support_filter_gzip(u->a);
    if (tar)
        archive_read_support_format_tar(u->a);
    else
        archive_read_support_format_raw(u->a);
    if (archive_read_open_filename(u->a, src, CHUNK) != ARCHIVE_OK)
        return archive_failed(u, src, error);
    for (;;) {
        int r = archive_read_next_header(u->a, &u->entry);
        if (r == ARCHIVE_EOF) {
            g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                        "%s: the archive holds no disk image", src);
            return FALSE;
        }
        if (r != ARCHIVE_OK)
            return archive_failed(u, src, error);
        if (!tar || archive_entry_filetype(u->entry) == AE_IFREG)
            return TRUE;
    }
}

/* Copies the image's data blocks into @u->fd and its hash. */
static gboolean
copy_blocks(Unpack *u, const char *src, const char *dest, GError **error)
{
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        int r = archive_read_data_block(u->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF)
            return TRUE;
        if (r != ARCHIVE_OK)
            return archive_failed(u, src, error);
        /* Holes of a sparse tar member are zeros in the image. */
        hash_zeros(u, offset);
        g_checksum_update(u->sha, buf, size);
        if (!write_sparse(u->fd, buf, size, offset))
            return write_failed(dest, error);
        u->pos = offset + size;
    }
}

/* Unpacks into @dest; the caller cleans up. */
static gboolean
unpack(Unpack *u, const char *src, gboolean tar, const char *dest, GError **error)
{
    if (!open_image(u, src, tar, error))
        return FALSE;
    u->fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (u->fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dest,
                    g_strerror(errno));
        return FALSE;
    }
    if (!copy_blocks(u, src, dest, error))
        return FALSE;
    if (tar && archive_entry_size(u->entry) > (la_int64_t)u->pos)
        hash_zeros(u, archive_entry_size(u->entry));
    if (ftruncate(u->fd, u->pos) != 0 || close(u->fd) != 0) {
        u->fd = -1;
        return write_failed(dest, error);
    }
    u->fd = -1;
    return TRUE;
}

char *
vs_unpack_image(const char *src, gboolean tar, const char *dest, GError **error)
{
    Unpack u = {.a = archive_read_new(), .sha = g_checksum_new(G_CHECKSUM_SHA256), .fd = -1};
    char *result = NULL;

    if (unpack(&u, src, tar, dest, error))
        result = g_strdup(g_checksum_get_string(u.sha));
    if (u.fd >= 0)
        close(u.fd);
    if (!result)
        g_unlink(dest);
    g_checksum_free(u.sha);
    archive_read_free(u.a);
    return result;
}
