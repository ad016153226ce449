/* The NoCloud seed ISO, written by libarchive's ISO9660 writer into memory.
 *
 * cloud-init's NoCloud datasource looks for a filesystem labelled "cidata" (any case) with the
 * files user-data and meta-data at its root, network-config and vendor-data optionally. Rock
 * Ridge gives the guest the real lower-case names and modes; Joliet the same names to Windows
 * guests and cloudbase-init. The volume identifier keeps its lower case, as cloud-localds does. */
#include "provisioner/seed.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct archive_entry VsArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsArchiveEntry, archive_entry_free)

typedef struct archive VsArchive;
static void
archive_free_writer(VsArchive *a)
{
    archive_write_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsArchive, archive_free_writer)

void
vs_seed_files_clear(VsSeedFiles *files)
{
    g_clear_pointer(&files->user_data, g_bytes_unref);
    g_clear_pointer(&files->meta_data, g_bytes_unref);
    g_clear_pointer(&files->network_config, g_bytes_unref);
    g_clear_pointer(&files->vendor_data, g_bytes_unref);
}

static la_ssize_t
append_to_array(struct archive *a, void *opaque, const void *buf, size_t len)
{
    g_byte_array_append(opaque, buf, len);
    return (la_ssize_t)len;
}

static gboolean
archive_failed(struct archive *a, GError **error, const char *what)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "writing the seed ISO: %s: %s", what,
                archive_error_string(a) ? archive_error_string(a) : "unknown error");
    return FALSE;
}

static gboolean
add_file(struct archive *a, const char *name, GBytes *data, mode_t mode, time_t now, GError **error)
{
    g_autoptr(VsArchiveEntry) entry = archive_entry_new();
    gsize len;
    const void *buf = g_bytes_get_data(data, &len);

    archive_entry_set_pathname(entry, name);
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, mode);
    archive_entry_set_size(entry, (la_int64_t)len);
    archive_entry_set_mtime(entry, now, 0);
    if (archive_write_header(a, entry) != ARCHIVE_OK)
        return archive_failed(a, error, name);
    if (len > 0 && archive_write_data(a, buf, len) != (la_ssize_t)len)
        return archive_failed(a, error, name);
    return TRUE;
}

GBytes *
vs_seed_build(const VsSeedFiles *files, GError **error)
{
    g_autoptr(VsArchive) a = archive_write_new();
    g_autoptr(GByteArray) iso = g_byte_array_sized_new(400 * 1024);
    /* user-data and vendor-data may carry a password hash or SSH host private keys. */
    mode_t secret_mode = files->has_secrets ? 0600 : 0644;
    time_t now = time(NULL);

    g_return_val_if_fail(files->user_data && files->meta_data, NULL);

    if (archive_write_set_format_iso9660(a) != ARCHIVE_OK ||
        /* No 300 KiB of trailing padding: it works around read-ahead of physical CD drives. */
        archive_write_set_options(a, "iso9660:volume-id=cidata,iso9660:rockridge=strict,"
                                     "iso9660:joliet,iso9660:!pad") != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK)
        return archive_failed(a, error, "setting up the ISO9660 writer"), NULL;
    if (archive_write_open2(a, iso, NULL, append_to_array, NULL, NULL) != ARCHIVE_OK)
        return archive_failed(a, error, "opening"), NULL;

    if (!add_file(a, "user-data", files->user_data, secret_mode, now, error) ||
        !add_file(a, "meta-data", files->meta_data, 0644, now, error) ||
        (files->network_config &&
         !add_file(a, "network-config", files->network_config, 0644, now, error)) ||
        (files->vendor_data &&
         !add_file(a, "vendor-data", files->vendor_data, secret_mode, now, error)))
        return NULL;
    if (archive_write_close(a) != ARCHIVE_OK)
        return archive_failed(a, error, "finishing"), NULL;
    return g_byte_array_free_to_bytes(g_steal_pointer(&iso));
}

gboolean
vs_seed_write(const VsSeedFiles *files, const char *path, mode_t mode, GError **error)
{
    g_autoptr(GBytes) iso = vs_seed_build(files, error);
    g_autofree char *dir = NULL, *tmp = NULL;
    gsize len, done = 0;
    const char *data;
    int fd, saved;
    mode_t mask;

    g_return_val_if_fail((mode & ~(mode_t)0777) == 0, FALSE);
    if (!iso)
        return FALSE;
    /* Reading the umask means setting it; this process has no other thread writing files now. */
    mask = umask(077);
    umask(mask);
    data = g_bytes_get_data(iso, &len);
    /* A temporary file beside the target, created owner-only (g_mkstemp_full), given the final
     * mode and renamed over the target: no partial file, and no moment at which the seed is
     * readable by others unless asked. No fsync: a seed is made again in milliseconds, and
     * forcing it to disk would double the time `seed` takes. */
    dir = g_path_get_dirname(path);
    tmp = g_build_filename(dir, ".vs-seed-XXXXXX", NULL);
    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        saved = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "creating %s: %s", path,
                    g_strerror(saved));
        return FALSE;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        done += (gsize)n;
    }
    saved = errno;
    if (done == len && fchmod(fd, mode & ~mask) == 0 && close(fd) == 0) {
        fd = -1;
        if (rename(tmp, path) == 0)
            return TRUE;
    }
    saved = errno ? errno : saved;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "writing %s: %s", path,
                g_strerror(saved));
    return FALSE;
}
