/* `bake` and what it relies on, on the real libvirtd with a temporary pool, booting nothing that
 * runs an OS (a blank disk keeps QEMU in its firmware):
 *   usage:   bad flags and names are exit 2 with nothing created;
 *   exists:  NAME already in the pool, or being baked by another process (its volume lock held),
 *            is exit 3 with nothing created;
 *   failed:  a bake whose guest never becomes ready (exit 4), and one stopped with SIGINT while
 *            it waits, leave no domain and no volume;
 *   prune:   `image prune` keeps a volume marked baked, and removes the same volume unmarked;
 *   list:    `image list` shows the pool's baked volumes (text and JSON), and no other;
 *   disk:    `up --image vol:` with a --disk smaller than the volume is exit 2, nothing created;
 *            a --disk as large is accepted. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/lock.h"
#include "tests/bed/bed.h"

#define URI     "qemu:///system"
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

static VsBedWorld bed;

/* Creates the volume @name of @bytes (sparse raw) in the test pool. */
static void
make_volume(const char *name, guint64 bytes)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    g_autofree char *xml = g_markup_printf_escaped(
        "<volume><name>%s</name><capacity>%" G_GUINT64_FORMAT "</capacity><allocation>0"
        "</allocation><target><format type='raw'/></target></volume>",
        name, bytes);
    virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);

    if (!vol)
        g_error("creating %s: %s", name, virGetLastErrorMessage());
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

/* Deletes the volume @name of the test pool. */
static void
delete_volume(const char *name)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    virStorageVolPtr vol = virStorageVolLookupByName(pool, name);

    g_assert_nonnull(vol);
    g_assert_cmpint(virStorageVolDelete(vol, 0), ==, 0);
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
}

/* Returns the names of all domains whose name starts with "bake-@name-", space-joined. */
static char *
bake_domains(const char *name)
{
    g_autofree char *prefix = g_strdup_printf("bake-%s-", name);
    g_autoptr(GString) found = g_string_new(NULL);
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(bed.conn, &doms, 0);

    g_assert_cmpint(n, >=, 0);
    for (int i = 0; i < n; i++) {
        if (g_str_has_prefix(virDomainGetName(doms[i]), prefix))
            g_string_append_printf(found, "%s%s", found->len ? " " : "", virDomainGetName(doms[i]));
        virDomainFree(doms[i]);
    }
    g_free(doms);
    return g_string_free(g_steal_pointer(&found), FALSE);
}

static void
test_usage(void)
{
    g_autofree char *before = vs_bed_pool_volumes(bed.conn, bed.pool);
    const char *const cases[][8] = {
        {"bake", NULL},
        {"bake", "Bad_Name", "--image", "x.qcow2", NULL},
        {"bake", "-starts-with-dash", "--image", "x.qcow2", NULL},
        {"bake", "ok-name", NULL},
        {"bake", "ok-name", "--image", "x.qcow2", "--timeout", "0", NULL},
        {"bake", "ok-name", "--image", "x.qcow2", "--no-such-flag", NULL},
        {"bake", "ok-name", "extra", "--image", "x.qcow2", NULL},
        {"bake", "ok-name", "--image", "x.qcow2", "--memory", "lots", NULL},
    };
    const char *const expect[] = {
        "the NAME of the volume to make is needed",
        "invalid name 'Bad_Name'",
        "",
        "--image is needed",
        "--timeout must be positive",
        "no-such-flag",
        "unexpected argument 'extra'",
        "--memory",
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) args = g_ptr_array_new();
        for (guint k = 0; cases[i][k]; k++)
            g_ptr_array_add(args, (char *)cases[i][k]);
        g_ptr_array_add(args, (char *)"--pool");
        g_ptr_array_add(args, bed.pool);
        g_ptr_array_add(args, NULL);
        g_auto(VsBedRun) r = vs_bed_run_vs(URI, (const char *const *)args->pdata);
        if (r.status != 2 || !strstr(r.err, expect[i]))
            g_error("case %u: exit %d, wanted 2 and '%s':\n%s", i, r.status, expect[i], r.err);
    }
    g_autofree char *after = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(after, ==, before);
}

static void
test_exists(void)
{
    g_autofree char *name = g_strdup_printf("vs-test-there-%d", (int)getpid());
    g_autofree char *blank = g_strdup_printf("vs-test-blank-%d", (int)getpid());
    g_autofree char *image = g_strdup_printf("vol:%s/%s", bed.pool, blank);
    make_volume(name, 1 << 20);
    make_volume(blank, 64 << 20);
    g_autofree char *before = vs_bed_pool_volumes(bed.conn, bed.pool);

    g_auto(VsBedRun) r =
        vs("bake", name, "--image", image, "--pool", bed.pool, "--network", "user", NULL);
    g_assert_cmpint(r.status, ==, 3);
    g_autofree char *says =
        g_strdup_printf("the volume %s exists in storage pool %s", name, bed.pool);
    g_assert_nonnull(strstr(r.err, says));
    g_autofree char *after = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(after, ==, before);
    g_autofree char *doms = bake_domains(name);
    g_assert_cmpstr(doms, ==, "");

    /* Another process baking NAME (its volume lock held, as a bake holds it): exit 3 too. */
    g_autofree char *other = g_strdup_printf("vs-test-busy-%d", (int)getpid());
    g_autofree char *key = vs_lock_key_base(URI, bed.pool, other);
    g_autoptr(GError) error = NULL;
    VsLock *lock = vs_lock_take(VS_LOCK_VOLUME, key, FALSE, &error);
    g_assert_no_error(error);
    g_auto(VsBedRun) busy =
        vs("bake", other, "--image", image, "--pool", bed.pool, "--network", "user", NULL);
    vs_lock_release(lock);
    g_assert_cmpint(busy.status, ==, 3);
    g_assert_nonnull(strstr(busy.err, "another virt-station is baking"));
    g_autofree char *after_busy = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(after_busy, ==, before);
    g_autofree char *busy_doms = bake_domains(other);
    g_assert_cmpstr(busy_doms, ==, "");

    delete_volume(name);
    delete_volume(blank);
}

/* A guest that never gets ready: the bake times out (exit 4) and removes its workstation, the
 * overlay and the seed; NAME never appears. */
static void
test_failed_leaves_nothing(void)
{
    g_autofree char *name = g_strdup_printf("vs-test-fail-%d", (int)getpid());
    g_autofree char *blank = g_strdup_printf("vs-test-blank-%d", (int)getpid());
    g_autofree char *image = g_strdup_printf("vol:%s/%s", bed.pool, blank);
    make_volume(blank, 64 << 20);

    g_auto(VsBedRun) r = vs("bake", name, "--image", image, "--pool", bed.pool, "--network", "user",
                            "--memory", "256", "--timeout", "15", NULL);
    g_test_message("bake of a blank disk: exit %d\n%s", r.status, r.err);
    g_assert_cmpint(r.status, ==, 4);
    g_assert_nonnull(strstr(r.err, "removed the temporary workstation bake-"));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(vols, ==, blank);
    g_autofree char *doms = bake_domains(name);
    g_assert_cmpstr(doms, ==, "");
    delete_volume(blank);
}

/* SIGINT once the bake's workstation exists (it waits for a guest that never answers): exit 1,
 * and nothing is left. */
static void
test_interrupted_leaves_nothing(void)
{
    g_autofree char *name = g_strdup_printf("vs-test-intr-%d", (int)getpid());
    g_autofree char *blank = g_strdup_printf("vs-test-blank-%d", (int)getpid());
    g_autofree char *image = g_strdup_printf("vol:%s/%s", bed.pool, blank);
    g_autoptr(GError) error = NULL;
    make_volume(blank, 64 << 20);

    g_autoptr(GSubprocess) p =
        g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_PIPE, &error, "virt-station", "-c", URI, "bake",
                         name, "--image", image, "--pool", bed.pool, "--network", "user",
                         "--memory", "256", "--timeout", "300", NULL);
    g_assert_no_error(error);
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    for (;;) {
        g_autofree char *doms = bake_domains(name);
        virDomainPtr dom = *doms ? virDomainLookupByName(bed.conn, doms) : NULL;
        gboolean running = dom && virDomainIsActive(dom) == 1;
        if (dom)
            virDomainFree(dom);
        if (running)
            break;
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(200 * 1000);
    }
    g_subprocess_send_signal(p, SIGINT);
    g_autofree char *err = NULL;
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, &error));
    g_test_message("bake interrupted: exit %d\n%s", g_subprocess_get_exit_status(p), err);
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 1);
    g_assert_nonnull(strstr(err, "removed the temporary workstation bake-"));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(vols, ==, blank);
    g_autofree char *doms = bake_domains(name);
    g_assert_cmpstr(doms, ==, "");
    delete_volume(blank);
}

/* Returns how many storage pools of the host are inactive. */
static int
inactive_pools(void)
{
    virStoragePoolPtr *pools = NULL;
    int n =
        virConnectListAllStoragePools(bed.conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE);

    for (int i = 0; i < n; i++)
        virStoragePoolFree(pools[i]);
    g_free(pools);
    return n;
}

/* `image prune` never removes a baked volume, even one named as a cached image is; the same
 * volume without its marker is removed (so the marker is what keeps it). */
static void
test_prune_keeps_baked(void)
{
    g_autofree char *file = g_build_filename(bed.dir, "tiny.raw", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_autofree char *sum =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)zeros, 1 << 20);
    g_autofree char *cached = g_strdup_printf("tiny-%.12s", sum);
    g_autofree char *marker = g_strdup_printf("%s.baked", cached);

    g_assert_true(g_file_set_contents(file, zeros, 1 << 20, NULL));
    for (int round = 0; round < 2; round++) {
        g_auto(VsBedRun) pull = vs("image", "pull", file, NULL);
        g_assert_cmpint(pull.status, ==, 0);
        g_autofree char *pulled = g_strdup_printf("%s: %s\n", file, cached);
        g_assert_cmpstr(pull.out, ==, pulled);
        make_volume(cached, 1 << 20);
        if (round == 0)
            make_volume(marker, 0);
        g_auto(VsBedRun) prune = vs("image", "prune", "--pool", bed.pool, NULL);
        g_assert_cmpint(prune.status, ==, 0);
        g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
        if (round == 0) {
            g_autofree char *both = g_strdup_printf("%s %s", cached, marker);
            g_autofree char *kept =
                g_strdup_printf("kept %s: volume %s/%s is a baked image", cached, bed.pool, cached);
            g_assert_cmpstr(vols, ==, both);
            g_assert_nonnull(strstr(prune.err, kept));
            delete_volume(marker);
            delete_volume(cached);
        } else if (inactive_pools() == 0) {
            g_autofree char *removed =
                g_strdup_printf("removed %s (1 MiB) and volume %s/%s", cached, bed.pool, cached);
            g_assert_cmpstr(vols, ==, "");
            g_assert_nonnull(strstr(prune.out, removed));
        } else {
            /* Another run's pool is inactive: prune then keeps every base (README, "The shared
             * base volume"), but not for being baked. */
            g_test_message("an inactive pool: the unmarked volume is kept for that reason");
            g_assert_null(strstr(prune.err, "is a baked image"));
            delete_volume(cached);
        }
    }
}

/* `image list` shows the pool's baked volumes, with their sizes, and no unmarked volume. */
static void
test_list_shows_baked(void)
{
    g_autofree char *baked = g_strdup_printf("vs-test-golden-%d", (int)getpid());
    g_autofree char *plain = g_strdup_printf("vs-test-plain-%d", (int)getpid());
    g_autofree char *marker = g_strdup_printf("%s.baked", baked);
    make_volume(baked, 3ULL << 30);
    make_volume(marker, 0);
    make_volume(plain, 1 << 20);

    g_auto(VsBedRun) list = vs("image", "list", "--pool", bed.pool, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_autofree char *heading = g_strdup_printf(
        "Baked volumes in storage pool %s (use with --image vol:%s/NAME):", bed.pool, bed.pool);
    g_assert_nonnull(strstr(list.out, heading));
    g_autofree char *row = g_strdup_printf("%-36s %6.1f GiB", baked, 3.0);
    g_assert_nonnull(strstr(list.out, row));
    g_assert_null(strstr(list.out, plain));

    g_auto(VsBedRun) json = vs("image", "list", "--pool", bed.pool, "--json", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_autofree char *entry =
        g_strdup_printf("\"baked\":[{\"name\":\"%s\",\"pool\":\"%s\",\"capacity_bytes\":%llu",
                        baked, bed.pool, 3ULL << 30);
    g_autofree char *compact = g_strdup(json.out);
    /* The JSON writer may indent: compare without whitespace. */
    char *w = compact;
    for (const char *c = json.out; *c; c++)
        if (!g_ascii_isspace(*c))
            *w++ = *c;
    *w = '\0';
    if (!strstr(compact, entry))
        g_error("no %s in %s", entry, json.out);
    g_assert_null(strstr(json.out, plain));
    delete_volume(marker);
    delete_volume(baked);
    delete_volume(plain);
}

/* `up --image vol:` refuses a --disk smaller than the volume, before anything is created. */
static void
test_disk_smaller_than_volume(void)
{
    g_autofree char *golden = g_strdup_printf("vs-test-two-gib-%d", (int)getpid());
    g_autofree char *image = g_strdup_printf("vol:%s/%s", bed.pool, golden);
    g_autofree char *name = g_strdup_printf("vs-fail-disk-%d", (int)getpid());
    make_volume(golden, 2ULL << 30);

    g_auto(VsBedRun) small = vs("up", name, "--image", image, "--pool", bed.pool, "--network",
                                "user", "--disk", "1", "--memory", "256", "--no-wait", NULL);
    g_assert_cmpint(small.status, ==, 2);
    g_autofree char *says = g_strdup_printf(
        "--disk 1024 MiB is smaller than the image %s/%s (2048 MiB)", bed.pool, golden);
    g_assert_nonnull(strstr(small.err, says));
    g_assert_nonnull(strstr(small.err, "give --disk 2048M or more"));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_cmpstr(vols, ==, golden);
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    g_assert_null(dom);

    /* As large as the volume: accepted. */
    g_auto(VsBedRun) same = vs("up", name, "--image", image, "--pool", bed.pool, "--network",
                               "user", "--disk", "2G", "--memory", "256", "--no-wait", NULL);
    g_assert_cmpint(same.status, ==, 0);
    g_auto(VsBedRun) del = vs("delete", name, NULL);
    g_assert_cmpint(del.status, ==, 0);
    delete_volume(golden);
}

int
main(int argc, char **argv)
{
    int status;

    g_test_init(&argc, &argv, NULL);
    vs_bed_world_setup(&bed, "vs-bake", "vs-test-bake");
    g_test_add_func("/bake/usage", test_usage);
    g_test_add_func("/bake/exists", test_exists);
    g_test_add_func("/bake/failed-leaves-nothing", test_failed_leaves_nothing);
    g_test_add_func("/bake/interrupted-leaves-nothing", test_interrupted_leaves_nothing);
    g_test_add_func("/bake/prune-keeps-baked", test_prune_keeps_baked);
    g_test_add_func("/bake/list-shows-baked", test_list_shows_baked);
    g_test_add_func("/bake/disk-smaller-than-volume", test_disk_smaller_than_volume);
    status = g_test_run();
    vs_bed_world_teardown(&bed);
    return status;
}
