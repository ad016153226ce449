/* The shared base volume: marked complete only after its import is verified, a stale one
 * (no mark, nobody importing it) replaced, a marked one reused as it is, and a base kept while a
 * volume in any pool is built on it.
 *
 * Expected contents come from files this test writes itself (their SHA-256 computed here) and
 * from reading the volumes back through libvirt; the backing rule also runs on libvirt's test
 * driver, where an inactive pool can be made without disturbing anyone else's runs. */
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "domains/storage.h"
#include "domains/vs-libvirt.h"

static VsBedWorld bed;

static char *
sha256_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static gboolean
never(void)
{
    return FALSE;
}

/* Writes @size bytes of seeded pseudo-random data to @name in the test's folder. */
static char *
write_random(const char *name, gsize size, guint32 seed)
{
    char *path = g_build_filename(bed.dir, name, NULL);
    g_autofree guint32 *data = g_malloc(size);
    GRand *r = g_rand_new_with_seed(seed);

    for (gsize i = 0; i < size / 4; i++)
        data[i] = g_rand_int(r);
    g_rand_free(r);
    g_assert_true(g_file_set_contents(path, (const char *)data, size, NULL));
    return path;
}

/* Returns a new raw volume @name of @pool holding the bytes of the file @path. */
static virStorageVolPtr
volume_from(virStoragePoolPtr pool, const char *name, const char *path)
{
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_autoptr(GBytes) bytes = g_bytes_new_take(g_steal_pointer(&data), len);
    g_autoptr(GError) error = NULL;
    virStorageVolPtr vol = vs_storage_upload_bytes(pool, name, bytes, FALSE, &error);
    g_assert_no_error(error);
    return vol;
}

/* Returns the SHA-256 of what @vol holds, read back through libvirt. */
static char *
volume_sum(virStorageVolPtr vol)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *back = g_build_filename(bed.dir, "back", NULL);
    g_assert_true(vs_storage_download(vol, back, &error));
    g_assert_no_error(error);
    char *sum = sha256_file(back);
    g_unlink(back);
    return sum;
}

static virStorageVolPtr
lookup(const char *name)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    virStoragePoolRefresh(pool, 0);
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
    virStoragePoolFree(pool);
    return vol;
}

/* A base without its mark, whose lock is free, holding other bytes than the image (an import
 * killed halfway): deleted and imported again; afterwards it holds the image and its mark. */
static void
test_stale_replaced(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *image = write_random("image.raw", 3 << 20, 1);
    g_autofree char *half = write_random("half.raw", 1 << 20, 2);
    g_autofree char *image_sum = sha256_file(image);
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    VsBaseState state = VS_BASE_REUSED;
    gboolean created = FALSE;

    virStorageVolFree(volume_from(pool, "stale", half));
    virStorageVolPtr vol =
        vs_storage_import(pool, "stale", image, image_sum, never, &state, &created, &error);
    g_assert_no_error(error);
    g_assert_cmpint(state, ==, VS_BASE_REPLACED);
    g_assert_true(created);
    g_autofree char *sum = volume_sum(vol);
    g_assert_cmpstr(sum, ==, image_sum);
    virStorageVolPtr marker = lookup("stale.complete");
    g_assert_nonnull(marker);

    /* Now marked: the next import uses it as it is. */
    virStorageVolPtr again =
        vs_storage_import(pool, "stale", image, image_sum, never, &state, &created, &error);
    g_assert_no_error(error);
    g_assert_cmpint(state, ==, VS_BASE_REUSED);
    g_assert_false(created);

    /* Deleting a base takes its mark along. */
    g_assert_true(vs_storage_base_delete(again, &error));
    g_assert_no_error(error);
    g_autofree char *left = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_null(strstr(left, "stale"));
    virStorageVolFree(marker);
    virStorageVolFree(again);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

/* A base with its mark is used without reading or sending anything: here it holds other bytes
 * than the image, and still does afterwards. */
static void
test_marked_reused(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *image = write_random("image2.raw", 2 << 20, 3);
    g_autofree char *other = write_random("other.raw", 1 << 20, 4);
    g_autofree char *image_sum = sha256_file(image);
    g_autofree char *other_sum = sha256_file(other);
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    VsBaseState state = VS_BASE_IMPORTED;
    gboolean created = TRUE;

    virStorageVolFree(volume_from(pool, "marked", other));
    g_autoptr(GBytes) empty = g_bytes_new_static("", 0);
    virStorageVolFree(vs_storage_upload_bytes(pool, "marked.complete", empty, FALSE, &error));
    g_assert_no_error(error);
    virStorageVolPtr vol =
        vs_storage_import(pool, "marked", image, image_sum, never, &state, &created, &error);
    g_assert_no_error(error);
    g_assert_cmpint(state, ==, VS_BASE_REUSED);
    g_assert_false(created);
    g_autofree char *sum = volume_sum(vol);
    g_assert_cmpstr(sum, ==, other_sum);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

/* A base from before marks (no mark, the image's content): read back, marked, not re-sent. A
 * stale one that differs but has a volume built on it is refused and kept. */
static void
test_unmarked_equal_and_built_on(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *image = write_random("image3.raw", 2 << 20, 5);
    g_autofree char *image_sum = sha256_file(image);
    g_autofree char *half = write_random("half3.raw", 1 << 20, 6);
    g_autofree char *half_sum = sha256_file(half);
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    VsBaseState state = VS_BASE_IMPORTED;
    gboolean created = TRUE;

    virStorageVolFree(volume_from(pool, "legacy", image));
    virStorageVolPtr vol =
        vs_storage_import(pool, "legacy", image, NULL, never, &state, &created, &error);
    g_assert_no_error(error);
    g_assert_cmpint(state, ==, VS_BASE_MARKED);
    g_assert_false(created);
    virStorageVolPtr marker = lookup("legacy.complete");
    g_assert_nonnull(marker);

    virStorageVolPtr built = volume_from(pool, "built", half);
    g_autofree char *built_path = virStorageVolGetPath(built);
    g_autofree char *overlay_xml = g_strdup_printf(
        "<volume><name>on-built.qcow2</name><capacity>2097152</capacity><target><format "
        "type='qcow2'/></target><backingStore><path>%s</path><format type='raw'/>"
        "</backingStore></volume>",
        built_path);
    virStorageVolPtr overlay = virStorageVolCreateXML(pool, overlay_xml, 0);
    g_assert_nonnull(overlay);
    virStorageVolPtr refused =
        vs_storage_import(pool, "built", image, image_sum, never, &state, &created, &error);
    g_assert_null(refused);
    g_assert_nonnull(error);
    if (!strstr(error->message, "not marked complete") ||
        !strstr(error->message, "another volume is built on it"))
        g_error("unexpected refusal: %s", error->message);
    g_autofree char *kept_sum = volume_sum(built);
    g_assert_cmpstr(kept_sum, ==, half_sum);

    virStorageVolDelete(overlay, 0);
    virStorageVolFree(overlay);
    virStorageVolFree(built);
    virStorageVolFree(marker);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

/* Returns the one volume of the test pool made from small.qcow2 that is no mark: the base. */
static char *
base_name(const char *ws)
{
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_auto(GStrv) names = g_strsplit(vols, " ", -1);
    char *found = NULL;

    for (guint i = 0; names[i]; i++)
        if (g_str_has_prefix(names[i], "small") && !g_str_has_suffix(names[i], ".complete")) {
            g_assert_null(found);
            found = g_strdup(names[i]);
        }
    g_assert_nonnull(found);
    return found;
}

static VsBedRun
up(const char *name, const char *image)
{
    const char *args[] = {"virt-station", "-c",        "qemu:///system",
                          "up",           name,        "--image",
                          image,          "--pool",    bed.pool,
                          "--network",    "user",      "--memory",
                          "512",          "--no-wait", NULL};
    g_auto(GStrv) argv = vs_bed_argv_with_virt_type(args);
    return vs_bed_run((const char *const *)argv);
}

/* Through the commands: `up` finds its base without a mark and with other bytes, says so, and
 * imports it again; `image prune` keeps a base that a volume in another pool is built on, and
 * removes it with its mark once nothing is. */
static void
test_commands(void)
{
    g_autofree char *name = g_strdup_printf("vs-int-base-%d", (int)getpid());
    g_autofree char *other_pool = g_strdup_printf("vs-test-baseother-%d", (int)getpid());
    g_autofree char *other_dir = vs_bed_tmpdir("vs-baseother");
    g_autofree char *image = g_build_filename(bed.dir, "small.qcow2", NULL);
    g_autofree char *junk = write_random("junk.raw", 1 << 20, 7);
    g_auto(VsBedRun) img =
        vs_bed_run((const char *[]){"qemu-img", "create", "-q", "-f", "qcow2", image, "64M", NULL});
    g_assert_cmpint(img.status, ==, 0);
    g_autofree char *image_sum = sha256_file(image);

    /* prune removes cached images with their bases: this one is cached (first: a file whose
     * hash is remembered is not copied again). */
    g_auto(VsBedRun) pull = vs_bed_run_vsv("qemu:///system", "image", "pull", image, NULL);
    g_assert_cmpint(pull.status, ==, 0);
    g_auto(VsBedRun) first = up(name, image);
    if (first.status != 0)
        g_error("up: exit %d: %s", first.status, first.err);
    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *base = base_name(name);
    g_autofree char *marker_name = g_strdup_printf("%s.complete", base);
    g_autofree char *pulled = g_strdup_printf("%s: %s\n", image, base);
    g_assert_cmpstr(pull.out, ==, pulled);

    /* Make it stale: no mark, other bytes (what a killed import leaves). */
    virStorageVolPtr marker = lookup(marker_name);
    g_assert_nonnull(marker);
    g_assert_cmpint(virStorageVolDelete(marker, 0), ==, 0);
    virStorageVolFree(marker);
    virStorageVolPtr old = lookup(base);
    g_assert_cmpint(virStorageVolDelete(old, 0), ==, 0);
    virStorageVolFree(old);
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    virStorageVolFree(volume_from(pool, base, junk));

    g_auto(VsBedRun) second = up(name, image);
    if (second.status != 0)
        g_error("up: exit %d: %s", second.status, second.err);
    g_autofree char *said = g_strdup_printf(
        "the base volume %s was not marked complete and differed from the image", base);
    if (!strstr(second.err, said))
        g_error("up did not say it replaced the base:\n%s", second.err);
    virStorageVolPtr replaced = lookup(base);
    g_autofree char *replaced_sum = volume_sum(replaced);
    g_assert_cmpstr(replaced_sum, ==, image_sum);
    marker = lookup(marker_name);
    g_assert_nonnull(marker);
    virStorageVolFree(marker);
    g_auto(VsBedRun) del2 = vs_bed_run_vsv("qemu:///system", "delete", name, NULL);
    g_assert_cmpint(del2.status, ==, 0);

    /* A volume in another pool built on the base keeps it. */
    g_autofree char *pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", other_pool,
        other_dir);
    virStoragePoolPtr other = virStoragePoolCreateXML(bed.conn, pool_xml, 0);
    g_assert_nonnull(other);
    g_autofree char *base_path = virStorageVolGetPath(replaced);
    g_autofree char *overlay_xml = g_strdup_printf(
        "<volume><name>elsewhere.qcow2</name><capacity>67108864</capacity><target><format "
        "type='qcow2'/></target><backingStore><path>%s</path><format type='qcow2'/>"
        "</backingStore></volume>",
        base_path);
    virStorageVolPtr overlay = virStorageVolCreateXML(other, overlay_xml, 0);
    g_assert_nonnull(overlay);
    g_auto(VsBedRun) kept =
        vs_bed_run_vsv("qemu:///system", "image", "prune", "--pool", bed.pool, NULL);
    g_assert_cmpint(kept.status, ==, 0);
    g_autofree char *kept_msg = g_strdup_printf(
        "kept %s: volume %s/%s: another volume is built on it", base, bed.pool, base);
    if (!strstr(kept.err, kept_msg))
        g_error("prune did not keep the base:\n%s\n%s", kept.out, kept.err);
    g_autofree char *still = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_nonnull(strstr(still, base));
    g_autofree char *still_sum = volume_sum(replaced);
    g_assert_cmpstr(still_sum, ==, image_sum);

    g_assert_cmpint(virStorageVolDelete(overlay, 0), ==, 0);
    g_auto(VsBedRun) gone =
        vs_bed_run_vsv("qemu:///system", "image", "prune", "--pool", bed.pool, NULL);
    g_assert_cmpint(gone.status, ==, 0);
    g_autofree char *left = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_null(strstr(left, base));

    virStorageVolFree(overlay);
    virStoragePoolDestroy(other);
    virStoragePoolFree(other);
    vs_bed_rmtree(other_dir);
    virStorageVolFree(replaced);
    virStoragePoolFree(pool);
}

/* On the test driver: a volume in another (active) pool built on a base counts, and an
 * inactive pool makes every volume count, naming the pool. */
static void
test_backing_every_pool(void)
{
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = virConnectOpen("test:///default");
    g_assert_nonnull(conn);
    virStoragePoolPtr a = virStoragePoolCreateXML(
        conn, "<pool type='dir'><name>a</name><target><path>/a</path></target></pool>", 0);
    virStoragePoolPtr b = virStoragePoolCreateXML(
        conn, "<pool type='dir'><name>b</name><target><path>/b</path></target></pool>", 0);
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    virStorageVolPtr base = virStorageVolCreateXML(
        a, "<volume><name>base</name><capacity>1048576</capacity></volume>", 0);
    virStorageVolPtr lone = virStorageVolCreateXML(
        a, "<volume><name>lone</name><capacity>1048576</capacity></volume>", 0);
    g_assert_nonnull(base);
    g_assert_nonnull(lone);
    g_autofree char *base_path = virStorageVolGetPath(base);
    g_autofree char *overlay_xml = g_strdup_printf(
        "<volume><name>top</name><capacity>1048576</capacity><backingStore><path>%s</path>"
        "</backingStore></volume>",
        base_path);
    virStorageVolPtr top = virStorageVolCreateXML(b, overlay_xml, 0);
    g_assert_nonnull(top);

    g_autoptr(GHashTable) backing = vs_storage_backing_paths(conn, &error);
    g_assert_no_error(error);
    g_assert_true(vs_storage_volume_is_backing(backing, base));
    g_assert_false(vs_storage_volume_is_backing(backing, lone));
    g_assert_null(vs_storage_backing_unread_pool(backing));

    virStoragePoolPtr c = virStoragePoolDefineXML(
        conn, "<pool type='dir'><name>c</name><target><path>/c</path></target></pool>", 0);
    g_assert_nonnull(c);
    g_autoptr(GHashTable) with_c = vs_storage_backing_paths(conn, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(vs_storage_backing_unread_pool(with_c), ==, "c");
    g_assert_true(vs_storage_volume_is_backing(with_c, lone));
    g_autofree char *why = vs_storage_backing_reason(with_c, lone);
    g_assert_nonnull(strstr(why, "the storage pool c is inactive"));

    virStoragePoolUndefine(c);
    virStoragePoolFree(c);
    virStorageVolFree(top);
    virStorageVolFree(lone);
    virStorageVolFree(base);
    virStoragePoolFree(b);
    virStoragePoolFree(a);
    virConnectClose(conn);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    vs_bed_world_setup(&bed, "vs-base", "vs-test-base");
    g_test_add_func("/base/stale-replaced", test_stale_replaced);
    g_test_add_func("/base/marked-reused", test_marked_reused);
    g_test_add_func("/base/unmarked-equal-and-built-on", test_unmarked_equal_and_built_on);
    g_test_add_func("/base/commands", test_commands);
    g_test_add_func("/base/backing-every-pool", test_backing_every_pool);
    rc = g_test_run();
    vs_bed_world_teardown(&bed);
    return rc;
}
