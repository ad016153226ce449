#include "tests/bed/golden.h"

#include <string.h>

#include "vs-config.h"

static GHashTable *used;

char *
vs_golden_path(const char *relpath)
{
    return g_build_filename(VS_SOURCE_DIR, "tests", "data", relpath, NULL);
}

void
vs_golden_use(const char *relpath)
{
    if (!used)
        used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(used, g_strdup(relpath));
}

GBytes *
vs_golden_read(const char *relpath)
{
    g_autofree char *path = vs_golden_path(relpath);
    g_autoptr(GError) error = NULL;
    char *data = NULL;
    gsize len = 0;

    vs_golden_use(relpath);
    if (!g_file_get_contents(path, &data, &len, &error))
        g_error("reading test data: %s", error->message);
    return g_bytes_new_take(data, len);
}

void
vs_golden_check(const char *relpath, const char *actual, gsize len)
{
    g_autofree char *path = vs_golden_path(relpath);
    g_autofree char *expected = NULL;
    gsize expected_len = 0;

    vs_golden_use(relpath);
    if (g_strcmp0(g_getenv("VS_REGENERATE"), "1") == 0) {
        g_autoptr(GError) error = NULL;
        if (!g_file_set_contents(path, actual, (gssize)len, &error))
            g_error("regenerating %s: %s", relpath, error->message);
        return;
    }
    if (!g_file_get_contents(path, &expected, &expected_len, NULL))
        g_error("golden file %s is missing; run with VS_REGENERATE=1 and read the diff", relpath);
    if (expected_len != len || memcmp(expected, actual, len) != 0)
        g_error("%s differs from what the code produced:\n--- expected\n%s\n--- actual\n%.*s\n"
                "(VS_REGENERATE=1 rewrites it; read the diff before committing)",
                relpath, expected, (int)len, actual);
}

static void
collect_unused(const char *reldir, GString *unused)
{
    g_autofree char *dir = vs_golden_path(reldir);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d))) {
        g_autofree char *rel = g_build_filename(reldir, name, NULL);
        g_autofree char *full = vs_golden_path(rel);
        if (g_file_test(full, G_FILE_TEST_IS_DIR))
            collect_unused(rel, unused);
        else if (!used || !g_hash_table_contains(used, rel))
            g_string_append_printf(unused, " %s", rel);
    }
}

void
vs_golden_assert_all_used(const char *reldir)
{
    g_autoptr(GString) unused = g_string_new(NULL);

    collect_unused(reldir, unused);
    if (unused->len > 0)
        g_error("test data no test uses (delete it or add a case):%s", unused->str);
}
