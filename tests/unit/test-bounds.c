/* Bounded inputs (issue 14, item 4): a file the user names is read only when it is a regular
 * file and no larger than its cap, without blocking on a FIFO; gzipped user-data stops inflating
 * at its cap. Each case checks the message and, where memory is the point, that the peak memory
 * of the process grew by less than the input would have taken (getrusage's ru_maxrss: the
 * gzip case runs first, while the peak is still low). */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provisioner/base/file-read.h"
#include "provisioner/base/spec-error.h"
#include "provisioner/cloudinit.h"
#include "tests/bed/bed.h"

/* Returns the peak resident memory of this process, in KiB. */
static glong
peak_kib(void)
{
    struct rusage ru;
    g_assert_cmpint(getrusage(RUSAGE_SELF, &ru), ==, 0);
    return ru.ru_maxrss;
}

/* Returns gzip data inflating to "#cloud-config\n" and @mib MiB of newlines. */
static GBytes *
gzip_bomb(guint mib)
{
    g_autoptr(GZlibCompressor) z = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_autofree char *chunk = g_malloc(1 << 20);
    char buf[65536];

    memset(chunk, '\n', 1 << 20);
    memcpy(chunk, "#cloud-config\n", 14);
    for (guint i = 0; i <= mib; i++) {
        const char *in = chunk;
        gsize left = i < mib ? 1 << 20 : 0;
        GConverterFlags flags = i < mib ? G_CONVERTER_NO_FLAGS : G_CONVERTER_INPUT_AT_END;
        GConverterResult r;
        do {
            gsize read = 0, written = 0;
            r = g_converter_convert(G_CONVERTER(z), in, left, buf, sizeof buf, flags, &read,
                                    &written, NULL);
            g_assert_cmpint(r, !=, G_CONVERTER_ERROR);
            g_byte_array_append(out, (const guint8 *)buf, written);
            in += read;
            left -= read;
        } while (left > 0 || (flags == G_CONVERTER_INPUT_AT_END && r != G_CONVERTER_FINISHED));
        memset(chunk, '\n', 14);
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* 256 MiB of gzipped user-data: refused at 16 MiB, and the peak memory shows it. */
static void
test_gzip_bomb(void)
{
    g_autoptr(GBytes) bomb = gzip_bomb(256);
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;

    /* A bomb indeed: 256 MiB in well under 1 MiB. */
    g_assert_cmpuint(g_bytes_get_size(bomb), <, 1 << 20);
    spec.hostname = g_strdup("bomb");
    spec.user = g_strdup("tester");
    spec.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    spec.user_data = g_bytes_ref(bomb);
    spec.user_data_name = g_strdup("bomb.gz");
    glong before = peak_kib();
    g_assert_false(vs_cloudinit_compose(&spec, &files, NULL, &error));
    glong grown = peak_kib() - before;
    g_assert_error(error, VS_CLOUDINIT_ERROR, VS_CLOUDINIT_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "bomb.gz: gzipped user-data inflates to more than 16 MiB; cloud-init "
                    "user-data is normally kilobytes (most clouds cap it at 16 KiB)");
    /* The cap (16 MiB) and the array's doubling: far from the 256 MiB inflating it would take. */
    if (grown > 48 * 1024)
        g_error("composing grew the peak memory by %ld KiB", grown);
}

/* A gzipped cloud-config under the cap is still accepted. */
static void
test_gzip_small(void)
{
    g_autoptr(GBytes) small = gzip_bomb(1);
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;

    spec.hostname = g_strdup("small");
    spec.user = g_strdup("tester");
    spec.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    spec.user_data = g_bytes_ref(small);
    spec.user_data_name = g_strdup("small.gz");
    g_assert_true(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_no_error(error);
    gsize len;
    const char *text = g_bytes_get_data(files.user_data, &len);
    g_assert_true(g_str_has_prefix(text, "#cloud-config\n"));
    /* Inflated and merged: our user joins the (empty) cloud-config. */
    g_assert_nonnull(g_strstr_len(text, len, "- name: \"tester\""));
}

typedef struct {
    char *dir;
    char *fifo;
    char *big;
} Files;

static void
files_setup(Files *f, gconstpointer data)
{
    f->dir = g_dir_make_tmp("vs-bounds-XXXXXX", NULL);
    f->fifo = g_build_filename(f->dir, "fifo", NULL);
    f->big = g_build_filename(f->dir, "big.yaml", NULL);
    g_assert_cmpint(mkfifo(f->fifo, 0600), ==, 0);
}

static void
files_teardown(Files *f, gconstpointer data)
{
    g_unlink(f->fifo);
    g_unlink(f->big);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f->fifo);
    g_free(f->big);
}

/* Reads @path with the YAML cap and checks the VS_SPEC_ERROR it gives. */
static void
expect_refused(const char *path, const char *message)
{
    g_autoptr(GError) error = NULL;
    char *data = NULL;
    gint64 started = g_get_monotonic_time();

    g_assert_false(vs_file_read_bounded(path, VS_FILE_CAP_YAML, "spec file", &data, NULL, &error));
    g_assert_null(data);
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, message);
    /* Refused at once: no read of /dev/zero to the cap, no wait for a FIFO's writer. */
    g_assert_cmpint(g_get_monotonic_time() - started, <, G_USEC_PER_SEC);
}

static void
test_file_types(Files *f, gconstpointer data)
{
    g_autofree char *fifo_msg = g_strdup_printf(
        "spec file %s: not a regular file (a device, FIFO or folder is not read)", f->fifo);
    g_autofree char *dir_msg = g_strdup_printf(
        "spec file %s: not a regular file (a device, FIFO or folder is not read)", f->dir);

    expect_refused("/dev/zero",
                   "spec file /dev/zero: not a regular file (a device, FIFO or folder is not "
                   "read)");
    expect_refused(f->fifo, fifo_msg);
    expect_refused(f->dir, dir_msg);
}

static void
test_file_sizes(Files *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *data_read = NULL;
    gsize len = 0;

    /* Exactly the cap is read whole, NUL-terminated. */
    g_autofree char *full = g_malloc(VS_FILE_CAP_YAML);
    memset(full, 'a', VS_FILE_CAP_YAML);
    g_assert_true(g_file_set_contents(f->big, full, VS_FILE_CAP_YAML, NULL));
    g_assert_true(
        vs_file_read_bounded(f->big, VS_FILE_CAP_YAML, "spec file", &data_read, &len, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(len, ==, VS_FILE_CAP_YAML);
    g_assert_cmpint(data_read[len], ==, '\0');
    g_assert_cmpint(memcmp(data_read, full, len), ==, 0);

    /* One byte more is refused, naming the size and the cap; a sparse 8 GiB file the same,
     * before any of it is read. */
    FILE *out = fopen(f->big, "a");
    fputc('a', out);
    fclose(out);
    g_autofree char *msg = g_strdup_printf(
        "spec file %s: 1048577 bytes, larger than the 1 MiB such a file may have", f->big);
    expect_refused(f->big, msg);
    g_assert_cmpint(truncate(f->big, (off_t)8 << 30), ==, 0);
    g_autofree char *sparse_msg = g_strdup_printf(
        "spec file %s: 8589934592 bytes, larger than the 1 MiB such a file may have", f->big);
    expect_refused(f->big, sparse_msg);

    /* A missing file keeps GLib's file error, so "optional file" callers still see NOENT. */
    g_autofree char *missing = g_build_filename(f->dir, "missing.yaml", NULL);
    g_clear_error(&error);
    g_assert_false(vs_file_read_bounded(missing, 10, "spec file", &data_read, NULL, &error));
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* The command line: `up -f` with /dev/zero and a FIFO, and config.yaml as a FIFO, each a clear
 * error with exit status 2, at once. */
static void
test_cli(Files *f, gconstpointer data)
{
    g_autofree char *config_dir = g_build_filename(f->dir, "virt-station", NULL);
    g_autofree char *config = g_build_filename(config_dir, "config.yaml", NULL);
    g_autofree char *fifo_msg = g_strdup_printf(
        "spec file %s: not a regular file (a device, FIFO or folder is not read)", f->fifo);
    g_autofree char *config_msg = g_strdup_printf(
        "config %s: not a regular file (a device, FIFO or folder is not read)", config);
    const char *const bad[] = {"/dev/zero", f->fifo, NULL};
    const char *const msgs[] = {
        "spec file /dev/zero: not a regular file (a device, FIFO or folder is not read)", fifo_msg};

    g_setenv("XDG_CONFIG_HOME", f->dir, TRUE);
    for (guint i = 0; bad[i]; i++) {
        gint64 started = g_get_monotonic_time();
        g_auto(VsBedRun) run =
            vs_bed_run_vsv("test:///default", "up", "demo", "-f", bad[i], "--dry-run", NULL);
        g_assert_cmpint(run.status, ==, 2);
        if (!strstr(run.err, msgs[i]))
            g_error("expected '%s' in: %s", msgs[i], run.err);
        g_assert_cmpint(g_get_monotonic_time() - started, <, 10 * G_USEC_PER_SEC);
    }
    g_assert_cmpint(g_mkdir_with_parents(config_dir, 0700), ==, 0);
    g_assert_cmpint(mkfifo(config, 0600), ==, 0);
    g_auto(VsBedRun) run =
        vs_bed_run_vsv("test:///default", "up", "demo", "--image", "vol:x", "--dry-run", NULL);
    g_assert_cmpint(run.status, ==, 2);
    if (!strstr(run.err, config_msg))
        g_error("expected '%s' in: %s", config_msg, run.err);
    g_unlink(config);
    g_rmdir(config_dir);
    g_unsetenv("XDG_CONFIG_HOME");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* First, while the process's peak memory is still low. */
    g_test_add_func("/bounds/gzip-bomb", test_gzip_bomb);
    g_test_add_func("/bounds/gzip-small", test_gzip_small);
    g_test_add("/bounds/file-types", Files, NULL, files_setup, test_file_types, files_teardown);
    g_test_add("/bounds/file-sizes", Files, NULL, files_setup, test_file_sizes, files_teardown);
    g_test_add("/bounds/cli", Files, NULL, files_setup, test_cli, files_teardown);
    return g_test_run();
}
