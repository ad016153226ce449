/* Concurrency on this machine's real libvirtd: virt-station processes started at the same time.
 * - 8 `up`s with distinct names from one image all succeed and share one base volume (one
 *   import: every overlay is backed by it, and it holds the image's bytes and its mark);
 * - 2 `up`s with one name: exactly one wins, the other exits 3 and leaves the winner's domain
 *   and volumes as they were;
 * - `image prune` and `delete` racing `up`, several rounds: no volume is ever left backed by a
 *   missing base, and a workstation that `up` made has its base, marked complete;
 * - an `up` held just before its start (test hook) holds neither the base lock nor the port
 *   lock: a second `up` of the same image completes meanwhile.
 * Guests use `--no-wait --memory 512` (nothing waits for them to boot) and are destroyed as soon
 * as the processes are done, since TCG on two cores is slow. The image is a 32 MiB raw file of
 * pseudo-random bytes written here (large enough that an import takes a moment). */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <utime.h>

#include "tests/bed/bed.h"
#include "domains/inspect.h"
#include "domains/storage.h"

static VsBedWorld bed;
static char *image;
static char *image_sum;

typedef struct {
    int status;
    char *out, *err;
} Done;

static void
done_clear(Done *d)
{
    g_free(d->out);
    g_free(d->err);
}

/* Starts virt-station on qemu:///system with the arguments @args (the virt type added). */
static GSubprocess *
spawn(const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;

    g_ptr_array_add(argv, (char *)"virt-station");
    g_ptr_array_add(argv, (char *)"-c");
    g_ptr_array_add(argv, (char *)"qemu:///system");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) full = vs_bed_argv_with_virt_type((const char *const *)argv->pdata);
    GSubprocess *proc =
        g_subprocess_newv((const char *const *)full,
                          G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    g_assert_no_error(error);
    return proc;
}

static GSubprocess *
spawn_up(const char *name)
{
    return spawn((const char *const[]){"up", name, "--image", image, "--pool", bed.pool,
                                       "--network", "user", "--memory", "512", "--no-wait", NULL});
}

/* Waits for @proc and returns its exit status and output. */
static Done
finish(GSubprocess *proc)
{
    g_autoptr(GError) error = NULL;
    Done d = {0};

    g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &d.out, &d.err, &error));
    g_assert_no_error(error);
    d.status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    g_object_unref(proc);
    return d;
}

/* Stops the domain @name at once, when it runs. */
static void
destroy(const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    if (dom && virDomainIsActive(dom) == 1)
        virDomainDestroy(dom);
    if (dom)
        virDomainFree(dom);
}

static void
delete_ws(const char *name)
{
    destroy(name);
    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", name, NULL);
    if (del.status != 0)
        g_error("delete %s: exit %d: %s", name, del.status, del.err);
}

/* Returns the backing file the volume @vol names, or NULL. */
static char *
backing_of(virStorageVolPtr vol)
{
    g_autofree char *xml = virStorageVolGetXMLDesc(vol, 0);
    const char *at = xml ? strstr(xml, "<backingStore>") : NULL;
    const char *p = at ? strstr(at, "<path>") : NULL;
    const char *end = p ? strstr(p, "</path>") : NULL;

    return end ? g_strndup(p + strlen("<path>"), end - p - strlen("<path>")) : NULL;
}

/* The bases in the test pool (volumes made from image.raw, "image-HASH"; marks left out), as a
 * GPtrArray of names. */
static GPtrArray *
bases(void)
{
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_auto(GStrv) names = g_strsplit(vols, " ", -1);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; names[i]; i++)
        if (g_str_has_prefix(names[i], "image-") && !g_str_has_suffix(names[i], ".complete"))
            g_ptr_array_add(out, g_strdup(names[i]));
    return out;
}

/* Asserts that no volume of any pool is backed by a file that is no volume any more, and that
 * every base that is a backing file carries its mark. */
static void
assert_no_dangling(void)
{
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    virStorageVolPtr *vols = NULL;
    int n;

    virStoragePoolRefresh(pool, 0);
    n = virStoragePoolListAllVolumes(pool, &vols, 0);
    g_assert_cmpint(n, >=, 0);
    for (int i = 0; i < n; i++) {
        g_autofree char *path = backing_of(vols[i]);
        if (path) {
            virStorageVolPtr base = virStorageVolLookupByPath(bed.conn, path);
            if (!base)
                g_error("volume %s is backed by %s, which is gone", virStorageVolGetName(vols[i]),
                        path);
            g_autofree char *mark = g_strdup_printf("%s.complete", virStorageVolGetName(base));
            virStorageVolPtr marker = virStorageVolLookupByName(pool, mark);
            if (!marker)
                g_error("the base %s of %s has no mark", virStorageVolGetName(base),
                        virStorageVolGetName(vols[i]));
            virStorageVolFree(marker);
            virStorageVolFree(base);
        }
        virStorageVolFree(vols[i]);
    }
    free(vols);
    virStoragePoolFree(pool);
}

/* 8 `up`s at once, distinct names, one image: all succeed, one base, every overlay on it. */
static void
test_eight_share_one_base(void)
{
    GSubprocess *procs[8];
    char *names[8];
    gint64 t0 = g_get_monotonic_time();

    for (guint i = 0; i < 8; i++) {
        names[i] = g_strdup_printf("vs-int-conc%u-%d", i, (int)getpid());
        procs[i] = spawn_up(names[i]);
    }
    for (guint i = 0; i < 8; i++) {
        Done d = finish(procs[i]);
        destroy(names[i]);
        if (d.status != 0)
            g_error("up %s: exit %d:\n%s", names[i], d.status, d.err);
        done_clear(&d);
    }
    g_test_message("8 ups at once: %.1f s", (g_get_monotonic_time() - t0) / 1e6);

    g_autoptr(GPtrArray) found = bases();
    g_assert_cmpuint(found->len, ==, 1);
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    virStorageVolPtr base = virStorageVolLookupByName(pool, found->pdata[0]);
    g_autofree char *base_path = virStorageVolGetPath(base);
    g_autofree char *mark = g_strdup_printf("%s.complete", (char *)found->pdata[0]);
    virStorageVolPtr marker = virStorageVolLookupByName(pool, mark);
    g_assert_nonnull(marker);
    g_autofree char *back = g_build_filename(bed.dir, "base.back", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(vs_storage_download(base, back, &error));
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(back, &data, &len, NULL));
    g_autofree char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
    g_assert_cmpstr(sum, ==, image_sum);
    for (guint i = 0; i < 8; i++) {
        g_autofree char *overlay_name = g_strdup_printf("%s.qcow2", names[i]);
        virStorageVolPtr overlay = virStorageVolLookupByName(pool, overlay_name);
        g_assert_nonnull(overlay);
        g_autofree char *backing = backing_of(overlay);
        g_assert_cmpstr(backing, ==, base_path);
        virStorageVolFree(overlay);
    }
    for (guint i = 0; i < 8; i++) {
        delete_ws(names[i]);
        g_free(names[i]);
    }
    virStorageVolFree(marker);
    virStorageVolFree(base);
    virStoragePoolFree(pool);
}

/* Returns the UUID of the domain @name. */
static char *
uuid_of(const char *name)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainGetUUIDString(dom, uuid), ==, 0);
    virDomainFree(dom);
    return g_strdup(uuid);
}

/* 2 `up`s with one name, twice: one wins, the other exits 3 and the winner keeps its domain
 * and volumes. */
static void
test_same_name_twice(void)
{
    for (guint round = 0; round < 2; round++) {
        g_autofree char *name = g_strdup_printf("vs-int-same%u-%d", round, (int)getpid());
        GSubprocess *a = spawn_up(name), *b = spawn_up(name);
        Done da = finish(a), db = finish(b);
        Done *win = da.status == 0 ? &da : &db, *lose = da.status == 0 ? &db : &da;

        destroy(name);
        if (win->status != 0 || lose->status != 3)
            g_error("expected one success and one exit 3, got %d and %d:\n%s\n%s", da.status,
                    db.status, da.err, db.err);
        g_autofree char *exists = g_strdup_printf("%s exists", name);
        if (!strstr(lose->err, exists))
            g_error("the loser does not say the name exists:\n%s", lose->err);
        g_autofree char *uuid = uuid_of(name);
        g_assert_cmpuint(strlen(uuid), ==, 36);
        g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
        g_autofree char *disk = g_strdup_printf("%s.qcow2", name);
        g_autofree char *seed = g_strdup_printf("%s-seed.iso", name);
        g_assert_nonnull(strstr(vols, disk));
        g_assert_nonnull(strstr(vols, seed));
        g_autoptr(GPtrArray) found = bases();
        g_assert_cmpuint(found->len, ==, 1);
        assert_no_dangling();
        /* The winner's domain uses its disk: it is whole and can be deleted normally. */
        delete_ws(name);
        g_autofree char *left = vs_bed_pool_volumes(bed.conn, bed.pool);
        g_assert_null(strstr(left, disk));
        done_clear(&da);
        done_clear(&db);
    }
}

/* Changes the image file's times, so that `image pull` hashes and copies it into the cache
 * again (a remembered hash is keyed by them). */
static void
touch_image(void)
{
    g_assert_cmpint(utime(image, NULL), ==, 0);
}

/* `image prune` and `delete` racing `up`: in every round a workstation exists, and its
 * deletion, a prune and a new `up` start at once. */
static void
test_prune_delete_race_up(void)
{
    g_autofree char *prev = g_strdup_printf("vs-int-race0-%d", (int)getpid());
    guint made = 0;

    g_auto(VsBedRun) first =
        vs_bed_run_vsv("qemu:///system", "up", prev, "--image", image, "--pool", bed.pool,
                       "--network", "user", "--memory", "512", "--no-wait", NULL);
    destroy(prev);
    if (first.status != 0)
        g_error("up %s: exit %d: %s", prev, first.status, first.err);
    for (guint round = 1; round <= 4; round++) {
        g_autofree char *next = g_strdup_printf("vs-int-race%u-%d", round, (int)getpid());
        /* The image cached, so that prune has a base to consider. */
        touch_image();
        g_auto(VsBedRun) pull = vs_bed_run_vsv("qemu:///system", "image", "pull", image, NULL);
        g_assert_cmpint(pull.status, ==, 0);

        /* The order they start in turns each round; in the later rounds `up` comes a little
         * after the others, so that the base can be gone (and imported again) when it looks. */
        GSubprocess *up = NULL, *del = NULL, *prune = NULL;
        for (guint k = 0; k < 3; k++) {
            guint which = (k + round) % 3;
            if (which == 0) {
                if (round > 2)
                    g_usleep(300 * 1000);
                up = spawn_up(next);
            } else if (which == 1) {
                del = spawn((const char *const[]){"delete", prev, NULL});
            } else {
                prune = spawn((const char *const[]){"image", "prune", "--pool", bed.pool, NULL});
            }
        }
        Done dp = finish(prune), dd = finish(del), du = finish(up);
        destroy(next);
        if (dd.status != 0)
            g_error("delete %s: exit %d: %s", prev, dd.status, dd.err);
        if (dp.status != 0)
            g_error("prune: exit %d: %s", dp.status, dp.err);
        assert_no_dangling();
        if (du.status == 0) {
            /* Its disk is on a base that exists and is marked (assert_no_dangling). */
            g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
            g_autofree char *disk = g_strdup_printf("%s.qcow2", next);
            g_assert_nonnull(strstr(vols, disk));
            made++;
            g_free(prev);
            prev = g_strdup(next);
        } else {
            /* Only a failure that removed what it made. */
            g_assert_null(virDomainLookupByName(bed.conn, next));
            g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
            g_assert_null(strstr(vols, next));
            g_test_message("round %u: up exited %d: %s", round, du.status, du.err);
            g_free(prev);
            prev = NULL;
            break;
        }
        g_test_message("round %u: up exit %d; prune said: %s%s", round, du.status, dp.out, dp.err);
        done_clear(&dp);
        done_clear(&dd);
        done_clear(&du);
    }
    g_assert_cmpuint(made, >=, 1);
    if (prev)
        delete_ws(prev);

    /* Last, with the base unused (its workstation deleted first): prune and up at once. Either
     * prune removes the base and up imports it again, or up holds it and prune keeps it. */
    for (guint round = 0; round < 2; round++) {
        g_autofree char *last = g_strdup_printf("vs-int-racelast%u-%d", round, (int)getpid());
        touch_image();
        g_auto(VsBedRun) pull = vs_bed_run_vsv("qemu:///system", "image", "pull", image, NULL);
        g_assert_cmpint(pull.status, ==, 0);
        GSubprocess *prune =
            spawn((const char *const[]){"image", "prune", "--pool", bed.pool, NULL});
        GSubprocess *up = spawn_up(last);
        Done dp = finish(prune), du = finish(up);
        destroy(last);
        if (dp.status != 0)
            g_error("prune: exit %d: %s", dp.status, dp.err);
        g_test_message("unused base: up exit %d (%s); prune said: %s%s", du.status, du.err, dp.out,
                       dp.err);
        assert_no_dangling();
        if (du.status != 0) {
            g_assert_null(virDomainLookupByName(bed.conn, last));
            g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
            g_assert_null(strstr(vols, last));
        } else {
            delete_ws(last);
        }
        done_clear(&dp);
        done_clear(&du);
    }
}

/* Returns the host port the user-mode network of domain @name forwards to its port 22. */
static guint
forwarded_port(const char *name)
{
    virDomainPtr dom = virDomainLookupByName(bed.conn, name);
    g_autofree char *xml = dom ? virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) : NULL;
    /* Either form libvirt writes (<portForward> with passt, a SLIRP hostfwd before 9.2). */
    guint port = xml ? vs_inspect_port(xml) : 0;

    if (dom)
        virDomainFree(dom);
    g_assert_cmpuint(port, >, 0);
    return port;
}

/* `up` holds the base lock only until its overlay exists (the base was there before it) and the
 * port lock only until its domain is defined: a second `up` of the same image completes while the
 * first is held just before its start, with another port; the first, interrupted there, removes
 * only its own. */
static void
test_locks_released_before_start(void)
{
    g_autofree char *first = g_strdup_printf("vs-int-held-%d", (int)getpid());
    g_autofree char *second = g_strdup_printf("vs-int-free-%d", (int)getpid());
    g_autoptr(GString) output = g_string_new(NULL);
    g_autoptr(GDataInputStream) err = NULL;
    g_autoptr(GSubprocess) held = NULL;
    gboolean paused = FALSE;
    char *line;

    /* The base is imported beforehand, so that the held `up` did not create it. */
    g_auto(VsBedRun) pull = vs_bed_run_vsv("qemu:///system", "image", "pull", image, NULL);
    g_assert_cmpint(pull.status, ==, 0);
    g_autofree char *warm = g_strdup_printf("vs-int-warm-%d", (int)getpid());
    Done dw = finish(spawn_up(warm));
    if (dw.status != 0)
        g_error("up %s: exit %d: %s", warm, dw.status, dw.err);
    done_clear(&dw);
    delete_ws(warm);

    g_setenv("VIRT_STATION_TEST_PAUSE", "start", TRUE);
    held = spawn_up(first);
    g_unsetenv("VIRT_STATION_TEST_PAUSE");
    err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(held));
    while (!paused && (line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        paused = strcmp(line, "paused before start") == 0;
        g_free(line);
    }
    if (!paused)
        g_error("up never paused before start:\n%s", output->str);

    /* The held `up` waits up to 60 s before its start: the second must not wait for it. */
    gint64 t0 = g_get_monotonic_time();
    Done d = finish(spawn_up(second));
    double took = (g_get_monotonic_time() - t0) / 1e6;
    destroy(second);
    if (d.status != 0)
        g_error("up %s while %s was held: exit %d: %s", second, first, d.status, d.err);
    g_test_message("second up took %.1f s while the first was held before its start", took);
    g_assert_cmpfloat(took, <, 45);
    /* The first is still held: defined, not started (it says so when interrupted below). */
    virDomainPtr held_dom = virDomainLookupByName(bed.conn, first);
    g_assert_nonnull(held_dom);
    g_assert_cmpint(virDomainIsActive(held_dom), ==, 0);
    virDomainFree(held_dom);
    g_assert_cmpuint(forwarded_port(first), !=, forwarded_port(second));
    done_clear(&d);

    /* A `start` of the held one waits for that `up` (its name lock) instead of starting the
     * domain under it, and says so; once the `up` has removed it, it fails naming it. Another,
     * interrupted while it waits, stops at once. */
    g_autofree char *waiting =
        g_strdup_printf("waiting for another virt-station command on %s", first);
    GSubprocess *starter = spawn((const char *const[]){"start", first, "--no-wait", NULL});
    g_autoptr(GSubprocess) stopped =
        spawn((const char *const[]){"start", first, "--no-wait", NULL});
    g_autoptr(GDataInputStream) stopped_err =
        g_data_input_stream_new(g_subprocess_get_stderr_pipe(stopped));
    g_autoptr(GString) stopped_out = g_string_new(NULL);
    gboolean said = FALSE;
    /* Interrupted once it says it waits (its Ctrl-C handler is in place by then). */
    while (!said && (line = g_data_input_stream_read_line(stopped_err, NULL, NULL, NULL))) {
        g_string_append_printf(stopped_out, "%s\n", line);
        said = strstr(line, waiting) != NULL;
        g_free(line);
    }
    if (!said)
        g_error("start never said it waits:\n%s", stopped_out->str);
    g_usleep(2 * G_USEC_PER_SEC);
    g_assert_nonnull(g_subprocess_get_identifier(starter));
    held_dom = virDomainLookupByName(bed.conn, first);
    g_assert_nonnull(held_dom);
    g_assert_cmpint(virDomainIsActive(held_dom), ==, 0);
    virDomainFree(held_dom);
    g_subprocess_send_signal(stopped, SIGINT);
    while ((line = g_data_input_stream_read_line(stopped_err, NULL, NULL, NULL))) {
        g_string_append_printf(stopped_out, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(stopped, NULL, NULL));
    g_autofree char *gave_up = g_strdup_printf("interrupted while %s", waiting);
    if (g_subprocess_get_exit_status(stopped) != 1 || !strstr(stopped_out->str, gave_up))
        g_error("start interrupted while it waited: exit %d: %s",
                g_subprocess_get_exit_status(stopped), stopped_out->str);

    g_subprocess_send_signal(held, SIGINT);
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(held, NULL, NULL));
    if (g_subprocess_get_exit_status(held) != 1 || !strstr(output->str, "interrupted before start"))
        g_error("the held up did not stop as asked:\n%s", output->str);
    Done ds = finish(starter);
    g_test_message("start after the up was interrupted: exit %d: %s", ds.status, ds.err);
    g_autofree char *removed = g_strdup_printf("%s no longer exists (removed meanwhile)", first);
    g_assert_cmpint(ds.status, ==, 3);
    g_assert_nonnull(strstr(ds.err, removed));
    g_assert_nonnull(strstr(ds.err, waiting));
    done_clear(&ds);
    /* It removed its own domain and volumes, and neither the base nor the second's. */
    g_assert_null(virDomainLookupByName(bed.conn, first));
    g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_null(strstr(vols, first));
    g_assert_nonnull(strstr(vols, second));
    assert_no_dangling();
    delete_ws(second);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    vs_bed_world_setup(&bed, "vs-conc", "vs-test-conc");
    {
        /* 32 MiB of pseudo-random bytes: a raw image. */
        gsize size = 32 << 20;
        g_autofree guint32 *data = g_malloc(size);
        GRand *r = g_rand_new_with_seed(42);
        for (gsize i = 0; i < size / 4; i++)
            data[i] = g_rand_int(r);
        g_rand_free(r);
        image = g_build_filename(bed.dir, "image.raw", NULL);
        g_assert_true(g_file_set_contents(image, (const char *)data, size, NULL));
        image_sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, size);
    }
    g_test_add_func("/concurrency/eight-share-one-base", test_eight_share_one_base);
    g_test_add_func("/concurrency/same-name-twice", test_same_name_twice);
    g_test_add_func("/concurrency/prune-delete-race-up", test_prune_delete_race_up);
    g_test_add_func("/concurrency/locks-released-before-start", test_locks_released_before_start);
    rc = g_test_run();
    vs_bed_world_teardown(&bed);
    g_free(image);
    g_free(image_sum);
    return rc;
}
