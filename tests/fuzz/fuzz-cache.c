/* Fuzz target: the records the image cache keeps (provisioner/images/cache.c): the input is
 * written as an image's NAME.info (beside an empty NAME.img) and as a checksum list's record
 * lists/KEY.info, in a private cache folder, then read back through vs_cache_list,
 * vs_cache_find and vs_cache_list_trust. */
#include <glib/gstdio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provisioner/images/cache.h"

#define FUZZ_NAME     "fuzz-0123456789ab"
#define FUZZ_LIST_URL "https://mirror.example/SHA256SUMS"

static char *top, *record, *list_record;

/* Removes the private cache folder at exit. */
static void
cleanup(void)
{
    g_autofree char *dir = vs_cache_dir();
    g_autofree char *img = g_strconcat(dir, "/" FUZZ_NAME ".img", NULL);
    g_autofree char *lists = g_build_filename(dir, "lists", NULL);
    g_autofree char *vs = g_path_get_dirname(dir);

    g_unlink(record);
    g_unlink(img);
    g_unlink(list_record);
    g_rmdir(lists);
    g_rmdir(dir);
    g_rmdir(vs);
    g_rmdir(top);
}

/* Points the cache at a new private folder (before GLib first reads XDG_CACHE_HOME). */
static void
setup(void)
{
    g_autofree char *dir = NULL, *img = NULL, *lists = NULL, *list_path = NULL;

    top = g_dir_make_tmp("vs-fuzz-cache-XXXXXX", NULL);
    g_assert_nonnull(top);
    g_setenv("XDG_CACHE_HOME", top, TRUE);
    dir = vs_cache_dir();
    g_assert_true(g_str_has_prefix(dir, top));
    lists = g_build_filename(dir, "lists", NULL);
    g_assert_cmpint(g_mkdir_with_parents(lists, 0700), ==, 0);
    img = g_strconcat(dir, "/" FUZZ_NAME ".img", NULL);
    g_assert_true(g_file_set_contents(img, "", 0, NULL));
    record = g_strconcat(dir, "/" FUZZ_NAME ".info", NULL);
    list_path = vs_cache_list_path(FUZZ_LIST_URL);
    list_record = g_strconcat(list_path, ".info", NULL);
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = NULL;
    VsListTrust trust;

    if (!top)
        setup();
    /* Without GLib's fsync: thousands of inputs a second. */
    g_assert_true(g_file_set_contents_full(record, (const char *)data, (gssize)size,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    g_assert_true(g_file_set_contents_full(list_record, (const char *)data, (gssize)size,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
    all = vs_cache_list(&error);
    g_assert_no_error(error);
    g_assert_cmpuint(all->len, <=, 1);
    if (all->len == 1) {
        const VsCacheEntry *e = all->pdata[0];
        g_autoptr(VsCacheEntry) found = NULL;
        /* An entry is only one whose record names a sum and the image's size. */
        g_assert_cmpstr(e->name, ==, FUZZ_NAME);
        g_assert_nonnull(e->sha256);
        g_assert_cmpuint(e->size, ==, 0);
        if (e->source) {
            found = vs_cache_find(e->source);
            g_assert_nonnull(found);
            g_assert_cmpstr(found->source, ==, e->source);
        }
    }
    trust = vs_cache_list_trust(FUZZ_LIST_URL);
    g_assert_true(trust == VS_LIST_UNCHECKED || trust == VS_LIST_UNSIGNED ||
                  trust == VS_LIST_VERIFIED);
    return 0;
}
