/* The seed ISO, read back with libarchive's ISO9660 reader (Rock Ridge names and modes) and
 * checked at the byte level for the volume label. blkid and isoinfo check it again in the
 * conformance suite. */
#include <archive.h>
#include <archive_entry.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "provisioner/seed.h"

typedef struct {
    char *name;
    mode_t mode;
    GBytes *data;
} Entry;

static void
entry_free(Entry *e)
{
    g_free(e->name);
    g_bytes_unref(e->data);
    g_free(e);
}

static GPtrArray *
read_iso(GBytes *iso)
{
    struct archive *a = archive_read_new();
    struct archive_entry *ae;
    GPtrArray *entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    gsize len;
    const void *buf = g_bytes_get_data(iso, &len);

    archive_read_support_format_iso9660(a);
    g_assert_cmpint(archive_read_open_memory(a, buf, len), ==, ARCHIVE_OK);
    while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
        if (archive_entry_filetype(ae) != AE_IFREG)
            continue;
        Entry *e = g_new0(Entry, 1);
        gsize size = (gsize)archive_entry_size(ae);
        char *data = g_malloc(size + 1);
        e->name = g_strdup(archive_entry_pathname(ae));
        e->mode = archive_entry_perm(ae);
        g_assert_cmpint(archive_read_data(a, data, size), ==, (la_ssize_t)size);
        e->data = g_bytes_new_take(data, size);
        g_ptr_array_add(entries, e);
    }
    archive_read_free(a);
    return entries;
}

static GBytes *
text(const char *s)
{
    return g_bytes_new(s, strlen(s));
}

static Entry *
find(GPtrArray *entries, const char *name)
{
    for (guint i = 0; i < entries->len; i++) {
        Entry *e = entries->pdata[i];
        if (strcmp(e->name, name) == 0)
            return e;
    }
    return NULL;
}

static void
test_files_and_label(void)
{
    g_auto(VsSeedFiles) files = {
        .user_data = text("#cloud-config\n{}\n"),
        .meta_data = text("instance-id: iid-1\n"),
        .network_config = text("version: 2\n"),
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) iso = vs_seed_build(&files, &error);
    g_autoptr(GPtrArray) entries = NULL;
    const guchar *raw;
    gsize len;

    g_assert_no_error(error);
    raw = g_bytes_get_data(iso, &len);
    /* ISO9660: the primary volume descriptor at sector 16 ("CD001"), volume id at offset 40,
     * upper-cased there as the standard wants; the Joliet descriptor that follows carries
     * "cidata" in UCS-2, which is what blkid reports. */
    g_assert_cmpuint(len % 2048, ==, 0);
    g_assert_cmpmem(raw + 16 * 2048 + 1, 5, "CD001", 5);
    g_assert_cmpmem(raw + 16 * 2048 + 40, 6, "CIDATA", 6);
    gboolean joliet = FALSE;
    for (guint s = 17; s < 20; s++) {
        const guchar *vd = raw + s * 2048;
        if (vd[0] == 2 && memcmp(vd + 1, "CD001", 5) == 0) {
            static const guchar ucs2[] = {0, 'c', 0, 'i', 0, 'd', 0, 'a', 0, 't', 0, 'a'};
            g_assert_cmpmem(vd + 40, sizeof(ucs2), ucs2, sizeof(ucs2));
            joliet = TRUE;
        }
    }
    g_assert_true(joliet);

    entries = read_iso(iso);
    g_assert_cmpuint(entries->len, ==, 3);
    g_assert_nonnull(find(entries, "user-data"));
    g_assert_true(g_bytes_equal(find(entries, "user-data")->data, files.user_data));
    g_assert_true(g_bytes_equal(find(entries, "meta-data")->data, files.meta_data));
    g_assert_true(g_bytes_equal(find(entries, "network-config")->data, files.network_config));
    g_assert_null(find(entries, "vendor-data"));
    g_assert_cmpuint(find(entries, "user-data")->mode, ==, 0644);
}

static void
test_secrets_are_owner_only(void)
{
    g_auto(VsSeedFiles) files = {
        .user_data = text("#cloud-config\nusers: []\n"),
        .meta_data = text("instance-id: iid-2\n"),
        .vendor_data = text("#cloud-config\n{}\n"),
        .has_secrets = TRUE,
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-seed-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "seed.iso", NULL);
    GStatBuf st;
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(vs_seed_write(&files, path, VS_SEED_FILE_MODE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GBytes) iso = g_bytes_new_take(g_steal_pointer(&data), len);
    g_autoptr(GPtrArray) entries = read_iso(iso);
    g_assert_cmpuint(find(entries, "user-data")->mode, ==, 0600);
    g_assert_cmpuint(find(entries, "vendor-data")->mode, ==, 0600);
    g_assert_cmpuint(find(entries, "meta-data")->mode, ==, 0644);
    /* Nothing else was left in the directory (no temporary copy). */
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(d), ==, "seed.iso");
    g_assert_null(g_dir_read_name(d));
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_write_failure_leaves_nothing(void)
{
    g_auto(VsSeedFiles)
        files = {.user_data = text("#cloud-config\n"), .meta_data = text("instance-id: x\n")};
    g_autoptr(GError) error = NULL;

    g_assert_false(vs_seed_write(&files, "/nonexistent-dir/seed.iso", VS_SEED_FILE_MODE, &error));
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_false(g_file_test("/nonexistent-dir", G_FILE_TEST_EXISTS));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/seed/files-and-label", test_files_and_label);
    g_test_add_func("/seed/secrets-are-owner-only", test_secrets_are_owner_only);
    g_test_add_func("/seed/write-failure-leaves-nothing", test_write_failure_leaves_nothing);
    return g_test_run();
}
