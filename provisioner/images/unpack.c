/* Unpacking an image: libarchive reads the packed file block by block; each block is hashed and
 * written where it belongs, all-zero runs left as holes, and the holes between blocks of a
 * sparse tar member hashed as zeros. Three things bound the work, since a 180-byte .tar.xz can
 * declare a 1 TiB member: the image may not be (or declare to be) larger than
 * VS_UNPACK_MAX_BYTES; a tar member's blocks must lie, in order, within its declared size; and
 * the caller's VsProgress is asked between blocks and every 64 MiB of holes whether to stop
 * (Ctrl-C). Whatever the reason to stop, the partial output is removed. */
#include "provisioner/images/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "common/vs-fault.h"
#include "provisioner/base/digest.h"
#include "provisioner/images/image-error.h"

#define CHUNK ((guint64)1 << 20)

/* One image being unpacked. */
typedef struct {
    struct archive *a;
    struct archive_entry *entry;
    const VsProgress *progress; /* asked whether to stop */
    const char *src;
    VsDigest *sha;
    guint64 pos;   /* bytes of the image hashed so far */
    guint64 limit; /* the most bytes it may have: a tar member's declared size, or the cap */
    int fd;
} Unpack;

/* Sets @error for an unpacking that Ctrl-C stopped. Returns FALSE. */
static gboolean
interrupted(Unpack *u, GError **error)
{
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                "unpacking %s: interrupted (the partly unpacked image was removed)", u->src);
    return FALSE;
}

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

/* Hashes zeros up to @end: the holes of a sparse image. Returns FALSE with @error set when
 * asked to stop. */
static gboolean
hash_zeros(Unpack *u, guint64 end, GError **error)
{
    static const guchar zeros[64 * 1024];

    for (guint i = 1; u->pos < end; i++) {
        size_t n = MIN(sizeof zeros, end - u->pos);
        vs_digest_update(u->sha, zeros, n);
        u->pos += n;
        if (i % 1024 == 0 && vs_progress_cancelled(u->progress))
            return interrupted(u, error);
    }
    return TRUE;
}

/* Sets @error for an image that passes its limit. Returns FALSE. */
static gboolean
too_large(Unpack *u, gboolean declared, guint64 size, GError **error)
{
    guint cap_gib = (guint)(VS_UNPACK_MAX_BYTES >> 30);

    if (declared)
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: the disk image in it declares %" G_GUINT64_FORMAT
                    " bytes, more than the %u GiB an image may have; nothing was unpacked",
                    u->src, size, cap_gib);
    else
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: the disk image in it passes %u GiB, more than an image may have; "
                    "unpacking stopped and its part was removed",
                    u->src, cap_gib);
    return FALSE;
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

/* Checks the tar member at hand (a regular file) before anything is written: it declares a size
 * within the cap, which is then @u's limit. */
static gboolean
check_member(Unpack *u, GError **error)
{
    la_int64_t size = archive_entry_size(u->entry);

    if (!archive_entry_size_is_set(u->entry) || size < 0) {
        g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                    "%s: its first file, %s, declares no size: not a disk image to unpack", u->src,
                    archive_entry_pathname(u->entry));
        return FALSE;
    }
    if ((guint64)size > VS_UNPACK_MAX_BYTES)
        return too_large(u, TRUE, size, error);
    u->limit = size;
    return TRUE;
}

/* Returns what the tar entry @entry is, for messages ("a hard link"). */
static const char *
entry_kind(struct archive_entry *entry)
{
    if (archive_entry_hardlink(entry))
        return "a hard link";
    switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
        return "a folder";
    case AE_IFLNK:
        return "a symbolic link";
    default:
        return "a device, FIFO or socket";
    }
}

/* Opens @src and moves to the image: the only entry, or a tar archive's first regular file
 * (folders, links and devices before it are passed over, and named when there is none). */
static gboolean
open_image(Unpack *u, const char *src, gboolean tar, GError **error)
{
    g_autofree char *first_other = NULL;

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
                        "%s: the archive holds no disk image%s", src,
                        first_other ? first_other : "");
            return FALSE;
        }
        if (r != ARCHIVE_OK)
            return archive_failed(u, src, error);
        if (!tar) {
            u->limit = VS_UNPACK_MAX_BYTES;
            return TRUE;
        }
        if (archive_entry_filetype(u->entry) == AE_IFREG && !archive_entry_hardlink(u->entry))
            return check_member(u, error);
        if (!first_other)
            first_other = g_strdup_printf(" (no regular file; its first entry, %s, is %s)",
                                          archive_entry_pathname(u->entry), entry_kind(u->entry));
    }
}

/* Copies the image's data blocks into @u->fd and its hash. */
static gboolean
copy_blocks(Unpack *u, const char *src, const char *dest, gboolean tar, GError **error)
{
    for (;;) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        int r;

        if (vs_progress_cancelled(u->progress))
            return interrupted(u, error);
        r = archive_read_data_block(u->a, &buf, &size, &offset);
        if (r == ARCHIVE_EOF)
            return TRUE;
        if (r != ARCHIVE_OK)
            return archive_failed(u, src, error);
        /* Blocks come in order; an odd archive that goes back or past the end is refused. */
        if (offset < 0 || (guint64)offset < u->pos) {
            g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                        "%s: the disk image's data blocks overlap (at byte %lld): a damaged or "
                        "crafted archive",
                        src, (long long)offset);
            return FALSE;
        }
        if ((guint64)offset + size > u->limit) {
            if (!tar)
                return too_large(u, FALSE, offset + size, error);
            g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED,
                        "%s: the disk image holds data past the %" G_GUINT64_FORMAT
                        " bytes it declares: a damaged or crafted archive",
                        src, u->limit);
            return FALSE;
        }
        /* Holes of a sparse tar member are zeros in the image. */
        if (!hash_zeros(u, offset, error))
            return FALSE;
        vs_digest_update(u->sha, buf, size);
        if (!write_sparse(u->fd, buf, size, offset))
            return write_failed(dest, error);
        u->pos = offset + size;
        /* Test builds: a failure once some bytes are unpacked (common/vs-fault.h). */
        if (!vs_fault_point("pull-unpack", error))
            return FALSE;
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
    if (!copy_blocks(u, src, dest, tar, error))
        return FALSE;
    if (tar && !hash_zeros(u, u->limit, error))
        return FALSE;
    if (ftruncate(u->fd, u->pos) != 0 || close(u->fd) != 0) {
        u->fd = -1;
        return write_failed(dest, error);
    }
    u->fd = -1;
    return TRUE;
}

char *
vs_unpack_image(const char *src, gboolean tar, const char *dest, const VsProgress *progress,
                GError **error)
{
    Unpack u = {.a = archive_read_new(),
                .progress = progress,
                .src = src,
                .sha = vs_digest_new(G_CHECKSUM_SHA256),
                .fd = -1};
    char *result = NULL;

    if (unpack(&u, src, tar, dest, error))
        result = vs_digest_finish(u.sha);
    if (u.fd >= 0)
        close(u.fd);
    if (!result)
        g_unlink(dest);
    vs_digest_free(u.sha);
    archive_read_free(u.a);
    return result;
}
