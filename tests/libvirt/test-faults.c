/* Fault injection (common/vs-fault.h), on this machine's real libvirtd with the fake GPU backend
 * on a copy of the rhel-t4 fixture tree: each step of `up`, `start`, `delete` and `image pull`
 * is made to fail in turn (VIRT_STATION_TEST_FAIL), and each time the command exits 1 with a
 * message naming the step and leaves nothing behind: no domain, no volume it created, no lock
 * held (the test takes every lock at once, without waiting), no partial file in the image cache,
 * no vGPU (the fake tree's available_instances and mediated devices as before, the allocation
 * journal empty). Where a command cannot undo what it did (a delete half done), running it again
 * finishes it, and the test shows that. Also: Ctrl-C inside the base upload, and a pool that `up`
 * created itself removed by the rollback. Expected values come from the fixture (4 instances of
 * nvidia-224, one mdev there before), the files the test wrote and libvirt's own view. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "gpu/journal.h"
#include "provisioner/lock.h"
#include "provisioner/target.h"
#include "gpu/hostops.h"
#include "vs-config.h"

#define T4_TYPE     "bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-224"
#define PREEXISTING "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define URI         "qemu:///system"

typedef struct {
    virConnectPtr conn;
    char *home;
    char *pool_dir;
    char *pool;
    char *image;
    char *tree;    /* the fake sysfs tree */
    char *locks;   /* VIRT_STATION_LOCK_DIR */
    char *journal; /* the allocation journal's folder */
    char *partial; /* the image cache's partial/ */
} Bed;

static const char *const bed_vars[] = {"XDG_DATA_HOME",
                                       "XDG_CACHE_HOME",
                                       "XDG_RUNTIME_DIR",
                                       "VIRT_STATION_LOCK_DIR",
                                       "VIRT_STATION_SYSFS_ROOT",
                                       "VIRT_STATION_FAKE_GPU",
                                       NULL};

/* Writes @size random bytes to @path. */
static void
random_file(const char *path, gsize size)
{
    g_autofree guint32 *data = g_new(guint32, size / 4);
    g_autoptr(GRand) rand = g_rand_new();

    for (gsize i = 0; i < size / 4; i++)
        data[i] = g_rand_int(rand);
    g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)size, NULL));
}

static void
bed_open(Bed *b, const char *kind)
{
    g_autofree char *fixture = g_build_filename(VS_SOURCE_DIR, "tests/data/sysfs/rhel-t4", NULL);
    g_autofree char *pool_xml = NULL;
    g_autofree char *raw = NULL;
    g_autoptr(GError) error = NULL;
    virStoragePoolPtr p;

    g_assert_true(vs_bed_daemons(&error));
    b->conn = virConnectOpen(URI);
    g_assert_nonnull(b->conn);
    b->home = vs_bed_tmpdir("vs-fault");
    b->pool_dir = vs_bed_tmpdir("vs-faultpool");
    b->pool = g_strdup_printf("vs-test-fault%s-%d", kind, (int)getpid());
    pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", b->pool,
        b->pool_dir);
    p = virStoragePoolCreateXML(b->conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);
    /* 4 MiB of data, so that the base upload sends it in several chunks. */
    raw = g_build_filename(b->home, "image.raw", NULL);
    b->image = g_build_filename(b->home, "image.qcow2", NULL);
    random_file(raw, 4 << 20);
    g_auto(VsBedRun) img = vs_bed_run((const char *[]){"qemu-img", "convert", "-q", "-f", "raw",
                                                       "-O", "qcow2", raw, b->image, NULL});
    g_assert_cmpint(img.status, ==, 0);
    b->tree = vs_gpu_fake_tree_copy(fixture, &error);
    g_assert_no_error(error);
    b->locks = g_build_filename(b->home, "locks", NULL);
    b->journal = g_build_filename(b->locks, "gpu-journal", NULL);
    b->partial = g_build_filename(b->home, "virt-station", "images", "partial", NULL);
    g_setenv("XDG_DATA_HOME", b->home, TRUE);
    g_setenv("XDG_CACHE_HOME", b->home, TRUE);
    g_setenv("XDG_RUNTIME_DIR", b->home, TRUE);
    g_setenv("VIRT_STATION_LOCK_DIR", b->locks, TRUE);
    g_setenv("VIRT_STATION_SYSFS_ROOT", b->tree, TRUE);
    g_setenv("VIRT_STATION_FAKE_GPU", "1", TRUE);
}

/* Removes the domains @names (NULL-terminated), the pool with its volumes, the trees. */
static void
bed_close(Bed *b, const char *const *names)
{
    vs_bed_pool_remove(b->conn, b->pool, names);
    virConnectClose(b->conn);
    vs_gpu_fake_tree_remove(b->tree);
    vs_bed_rmtree(b->home);
    vs_bed_rmtree(b->pool_dir);
    g_free(b->home);
    g_free(b->pool_dir);
    g_free(b->pool);
    g_free(b->image);
    g_free(b->tree);
    g_free(b->locks);
    g_free(b->journal);
    g_free(b->partial);
    for (const char *const *v = bed_vars; *v; v++)
        g_unsetenv(*v);
}

/* Returns the fake tree's available_instances of the T4's nvidia-224 type. */
static gint64
available(const Bed *b)
{
    g_autofree char *path = g_build_filename(b->tree, T4_TYPE, "available_instances", NULL);
    g_autofree char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return g_ascii_strtoll(text, NULL, 10);
}

static int
by_string(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Returns the names in @dir (none: ""), sorted, joined by spaces; "" when it does not exist. */
static char *
dir_names(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, by_string);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **)names->pdata);
}

/* Returns the mediated devices in the fake tree, sorted, joined by spaces. */
static char *
mdevs(const Bed *b)
{
    g_autofree char *dir = g_build_filename(b->tree, "bus/mdev/devices", NULL);
    return dir_names(dir);
}

/* Returns the number of journal entries, over every host's folder (there is one host here). */
static guint
journal_entries(const Bed *b)
{
    g_autoptr(GDir) d = g_dir_open(b->journal, 0, NULL);
    const char *host;
    guint n = 0;

    while (d && (host = g_dir_read_name(d))) {
        g_autofree char *dir = g_build_filename(b->journal, host, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) entries = vs_gpu_journal_read(dir, &error);
        g_assert_no_error(error);
        n += entries->len;
    }
    return n;
}

/* Asserts that no lock is held: the name lock of @name, the port and GPU locks taken at once
 * through the lock module, and every lock file in the folder (the base locks too) by flock. */
static void
assert_locks_free(const Bed *b, const char *name)
{
    g_autofree char *uri = vs_target_host_uri(b->conn, URI);
    g_autofree char *key = vs_lock_key_name(uri, name);
    const VsLockKind kinds[] = {VS_LOCK_NAME, VS_LOCK_PORT, VS_LOCK_GPU};
    g_autoptr(GDir) d = NULL;
    const char *file;
    guint files = 0;

    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autoptr(GError) error = NULL;
        VsLock *lock = vs_lock_take(kinds[i], kinds[i] == VS_LOCK_NAME ? key : NULL, FALSE, &error);
        if (!lock)
            g_error("the %s lock is held: %s", vs_lock_kind_to_string(kinds[i]), error->message);
        vs_lock_release(lock);
    }
    d = g_dir_open(b->locks, 0, NULL);
    g_assert_nonnull(d);
    while ((file = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(b->locks, file, NULL);
        int fd;
        if (!g_str_has_suffix(file, ".lock"))
            continue;
        fd = open(path, O_RDWR | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
            g_error("%s is held", path);
        close(fd);
        files++;
    }
    /* The command took its locks in this folder (the name lock at least). */
    g_assert_cmpuint(files, >=, 1);
}

/* Asserts that the host holds no vGPU of this test: as many instances free as the fixture has,
 * only the mdev that was there before, and no journal entry. */
static void
assert_gpu_free(const Bed *b)
{
    g_autofree char *left = mdevs(b);

    g_assert_cmpint(available(b), ==, 4);
    g_assert_cmpstr(left, ==, PREEXISTING);
    g_assert_cmpuint(journal_entries(b), ==, 0);
}

/* Asserts that nothing of the workstation @name is left: no domain, no volume in the test's
 * pool, no partial file in the image cache, no lock, no GPU. */
static void
assert_nothing_left(const Bed *b, const char *name)
{
    g_autofree char *vols = vs_bed_pool_volumes(b->conn, b->pool);
    g_autofree char *partial = dir_names(b->partial);

    g_assert_null(virDomainLookupByName(b->conn, name));
    g_assert_cmpstr(vols, ==, "");
    g_assert_cmpstr(partial, ==, "");
    assert_locks_free(b, name);
    assert_gpu_free(b);
}

/* Runs @args (NULL-terminated, after "virt-station -c URI") with VIRT_STATION_TEST_FAIL=@point
 * (none when NULL). */
static VsBedRun
run_failing(const char *point, const char *const *args)
{
    const char *argv[24] = {"virt-station", "-c", URI};
    guint n = 3;

    for (guint i = 0; args[i]; i++) {
        g_assert_cmpuint(n, <, G_N_ELEMENTS(argv) - 1);
        argv[n++] = args[i];
    }
    if (point)
        g_setenv("VIRT_STATION_TEST_FAIL", point, TRUE);
    g_auto(GStrv) full = vs_bed_argv_with_virt_type(argv);
    VsBedRun r = vs_bed_run((const char *const *)full);
    g_unsetenv("VIRT_STATION_TEST_FAIL");
    return r;
}

/* `up @name` from the test's image into @pool with a vGPU, not waiting. */
static VsBedRun
up_failing(const Bed *b, const char *name, const char *pool, const char *gpu, const char *point)
{
    return run_failing(point, (const char *[]){"up", name, "--image", b->image, "--pool", pool,
                                               "--network", "user", "--memory", "256", "--no-wait",
                                               "--gpu", gpu, NULL});
}

/* Asserts that @r failed with exit 1 and a message naming @point. */
static void
assert_failed_at(const VsBedRun *r, const char *point)
{
    g_autofree char *said = g_strdup_printf("injected failure at %s", point);

    g_test_message("%s", r->err);

    if (r->status != 1 || !strstr(r->err, said))
        g_error("expected exit 1 and \"injected failure at %s\"; exit %d:\n%s", point, r->status,
                r->err);
}

/* Starts `up --gpu vgpu:nvidia-224` paused before @step (VIRT_STATION_TEST_PAUSE) and sends it
 * @sig there; returns what it said on stderr. */
static char *
up_signalled_at(const Bed *b, const char *name, const char *step, int sig)
{
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GDataInputStream) err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) output = g_string_new(NULL);
    g_autofree char *expected = g_strdup_printf("paused before %s", step);
    const char *args[] = {"virt-station",
                          "-c",
                          URI,
                          "up",
                          name,
                          "--image",
                          b->image,
                          "--pool",
                          b->pool,
                          "--network",
                          "user",
                          "--no-wait",
                          "--memory",
                          "256",
                          "--gpu",
                          "vgpu:nvidia-224",
                          NULL};
    g_auto(GStrv) argv = vs_bed_argv_with_virt_type(args);
    gboolean paused = FALSE;
    char *line;

    g_subprocess_launcher_setenv(launcher, "VIRT_STATION_TEST_PAUSE", step, TRUE);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &error);
    g_assert_no_error(error);
    err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(proc));
    while (!paused && (line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        paused = strcmp(line, expected) == 0;
        g_free(line);
    }
    if (!paused)
        g_error("up never paused at %s:\n%s", step, output->str);
    g_subprocess_send_signal(proc, sig);
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(proc, NULL, NULL));
    if (sig == SIGKILL) {
        g_assert_true(g_subprocess_get_if_signaled(proc));
    } else {
        g_assert_true(g_subprocess_get_if_exited(proc));
        g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
    }
    return g_string_free(g_steal_pointer(&output), FALSE);
}

/* ---- up: each step fails in turn ---- */

static const char *const up_points[] = {"pool", "base", "base-upload", "overlay",
                                        "seed", "gpu",  "define",      "start"};

/* `up` fails at @data: exit 1 naming the step, what it made removed (and said so), nothing
 * left. */
static void
test_up_fails(gconstpointer data)
{
    const char *point = data;
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-%s-%d", point, (int)getpid());
    g_autofree char *in_up = NULL;

    bed_open(&b, point);
    g_auto(VsBedRun) r = up_failing(&b, name, b.pool, "vgpu:nvidia-224", point);
    assert_failed_at(&r, point);
    in_up = g_strdup_printf("creating %s: ", name);
    g_assert_nonnull(strstr(r.err, in_up));
    if (g_str_equal(point, "base-upload")) {
        /* Stopped inside the upload, by the hook and not by Ctrl-C; the volume went with it. */
        g_assert_nonnull(strstr(r.err, "importing "));
        g_assert_null(strstr(r.err, "interrupted"));
    }
    /* Before the overlay nothing of this run exists (the pool is the test's), after it the
     * rollback names what it removed: the base this run imported, and from the GPU step on the
     * vGPU it claimed. */
    if (g_str_equal(point, "pool") || g_str_equal(point, "base") ||
        g_str_equal(point, "base-upload")) {
        g_assert_nonnull(strstr(r.err, "nothing had been created yet"));
    } else {
        g_assert_nonnull(strstr(r.err, "removed what was created:"));
        g_assert_nonnull(strstr(r.err, " volume "));
    }
    if (g_str_equal(point, "define") || g_str_equal(point, "start")) {
        g_assert_nonnull(strstr(r.err, "taking vgpu "));
        g_assert_nonnull(strstr(r.err, " GPU "));
    }
    if (g_str_equal(point, "start"))
        g_assert_nonnull(strstr(r.err, "removed what was created: domain "));
    assert_nothing_left(&b, name);
    bed_close(&b, (const char *[]){name, NULL});
}

/* Ctrl-C inside the base upload, once some bytes are sent: the volume goes, nothing is left. */
static void
test_up_interrupted_in_upload(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-intup-%d", (int)getpid());

    bed_open(&b, "intup");
    g_autofree char *said = up_signalled_at(&b, name, "base-upload", SIGINT);
    if (!strstr(said, "interrupted") || !strstr(said, "nothing had been created yet"))
        g_error("up did not stop in the upload and say so:\n%s", said);
    assert_nothing_left(&b, name);
    bed_close(&b, (const char *[]){name, NULL});
}

/* A pool that `up` created itself (VIRT_STATION_TEST_POOL makes the test's pool one `up` may
 * create, as it creates "default") is removed by the rollback once its volumes are. */
static void
test_up_removes_its_pool(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-newpool-%d", (int)getpid());
    g_autofree char *pool = g_strdup_printf("vs-test-faultnew-%d", (int)getpid());
    g_autofree char *dir = NULL, *spec = NULL, *said = NULL;
    virStoragePoolPtr p;

    bed_open(&b, "newpool");
    dir = g_build_filename(b.home, "newpool", NULL);
    spec = g_strdup_printf("%s=%s", pool, dir);
    g_assert_null(virStoragePoolLookupByName(b.conn, pool));
    g_setenv("VIRT_STATION_TEST_POOL", spec, TRUE);
    g_auto(VsBedRun) r = up_failing(&b, name, pool, "none", "seed");
    g_unsetenv("VIRT_STATION_TEST_POOL");
    p = virStoragePoolLookupByName(b.conn, pool);
    if (p) {
        /* Left behind: clean up before failing. */
        virStoragePoolRefresh(p, 0);
        virStoragePoolDestroy(p);
        virStoragePoolUndefine(p);
        virStoragePoolFree(p);
        g_error("up left the pool %s it created:\n%s", pool, r.err);
    }
    assert_failed_at(&r, "seed");
    said = g_strdup_printf(" storage pool %s", pool);
    if (!strstr(r.err, "removed what was created:") || !strstr(r.err, said) ||
        !strstr(r.err, " volume "))
        g_error("up did not say that it removed its volumes and pool:\n%s", r.err);
    assert_nothing_left(&b, name);
    bed_close(&b, (const char *[]){name, NULL});
}

/* ---- start and delete: a workstation holding its vGPU ---- */

/* Makes @name defined and shut off, holding an mdev (its `up` killed just before the start),
 * and checks that it does. */
static void
defined_with_gpu(Bed *b, const char *name)
{
    virDomainPtr dom;

    g_free(up_signalled_at(b, name, "start", SIGKILL));
    dom = virDomainLookupByName(b->conn, name);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsActive(dom), ==, 0);
    virDomainFree(dom);
    g_assert_cmpint(available(b), ==, 3);
    g_assert_cmpuint(journal_entries(b), ==, 1);
}

/* Returns the volumes of @b's pool but the base image (the one whose name is no workstation's):
 * the workstation's disk and seed. */
static char *
own_volumes(const Bed *b, const char *name)
{
    g_autofree char *all = vs_bed_pool_volumes(b->conn, b->pool);
    g_auto(GStrv) vols = g_strsplit(all, " ", -1);
    g_autoptr(GPtrArray) own = g_ptr_array_new();

    for (guint i = 0; vols[i]; i++)
        if (g_str_has_prefix(vols[i], name))
            g_ptr_array_add(own, vols[i]);
    g_ptr_array_add(own, NULL);
    return g_strjoinv(" ", (char **)own->pdata);
}

/* `start` fails before the GPU is taken, then after it was taken and before the domain starts:
 * each time the domain stays defined and shut off and no vGPU is held. */
static void
test_start_fails(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-start-%d", (int)getpid());
    virDomainPtr dom;

    bed_open(&b, "start");
    defined_with_gpu(&b, name);
    g_auto(VsBedRun) release =
        run_failing(NULL, (const char *[]){"stop", name, "--release-gpu", NULL});
    g_assert_cmpint(release.status, ==, 0);
    assert_gpu_free(&b);

    g_auto(VsBedRun) before_gpu =
        run_failing("start-gpu", (const char *[]){"start", name, "--no-wait", NULL});
    assert_failed_at(&before_gpu, "start-gpu");
    g_assert_null(strstr(before_gpu.err, "taking vgpu"));
    assert_gpu_free(&b);
    assert_locks_free(&b, name);

    g_auto(VsBedRun) before_start =
        run_failing("start-domain", (const char *[]){"start", name, "--no-wait", NULL});
    assert_failed_at(&before_start, "start-domain");
    /* It had taken the vGPU, and gave it back. */
    g_assert_nonnull(strstr(before_start.err, "taking vgpu "));
    assert_gpu_free(&b);
    assert_locks_free(&b, name);
    dom = virDomainLookupByName(b.conn, name);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsActive(dom), ==, 0);
    virDomainFree(dom);
    bed_close(&b, (const char *[]){name, NULL});
}

/* `delete` fails between its two volumes: the domain stays (its metadata names the volume
 * left), and a second delete finishes: everything gone, the vGPU back. */
static void
test_delete_fails_between_volumes(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-delvol-%d", (int)getpid());
    g_autofree char *before = NULL, *after = NULL, *end = NULL;
    virDomainPtr dom;

    bed_open(&b, "delvol");
    defined_with_gpu(&b, name);
    before = own_volumes(&b, name);
    g_auto(GStrv) two = g_strsplit(before, " ", -1);
    g_assert_cmpuint(g_strv_length(two), ==, 2); /* the disk and the seed */

    g_auto(VsBedRun) r = run_failing("delete-volume", (const char *[]){"delete", name, NULL});
    assert_failed_at(&r, "delete-volume");
    after = own_volumes(&b, name);
    g_assert_true(g_str_equal(after, two[0]) || g_str_equal(after, two[1]));
    g_autofree char *hint = g_strdup_printf("`virt-station delete %s` again finishes", name);
    g_assert_nonnull(strstr(r.err, hint));
    dom = virDomainLookupByName(b.conn, name);
    g_assert_nonnull(dom);
    virDomainFree(dom);
    g_assert_cmpuint(journal_entries(&b), ==, 1);
    assert_locks_free(&b, name);

    g_auto(VsBedRun) again = run_failing(NULL, (const char *[]){"delete", name, NULL});
    if (again.status != 0 || !strstr(again.err, "does not exist (any more)"))
        g_error("the second delete did not finish: exit %d:\n%s", again.status, again.err);
    g_assert_null(virDomainLookupByName(b.conn, name));
    end = own_volumes(&b, name);
    g_assert_cmpstr(end, ==, "");
    assert_gpu_free(&b);
    assert_locks_free(&b, name);
    bed_close(&b, (const char *[]){name, NULL});
}

/* `delete` fails before the undefine, its volumes gone: the domain stays, a second delete
 * finishes. */
static void
test_delete_fails_before_undefine(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-delundef-%d", (int)getpid());
    g_autofree char *after = NULL;
    virDomainPtr dom;

    bed_open(&b, "delundef");
    defined_with_gpu(&b, name);
    g_auto(VsBedRun) r = run_failing("delete-undefine", (const char *[]){"delete", name, NULL});
    assert_failed_at(&r, "delete-undefine");
    dom = virDomainLookupByName(b.conn, name);
    g_assert_nonnull(dom);
    virDomainFree(dom);
    after = own_volumes(&b, name);
    g_assert_cmpstr(after, ==, "");
    g_assert_cmpuint(journal_entries(&b), ==, 1);
    assert_locks_free(&b, name);

    g_auto(VsBedRun) again = run_failing(NULL, (const char *[]){"delete", name, NULL});
    g_assert_cmpint(again.status, ==, 0);
    g_assert_null(virDomainLookupByName(b.conn, name));
    assert_gpu_free(&b);
    assert_locks_free(&b, name);
    bed_close(&b, (const char *[]){name, NULL});
}

/* `delete` fails before giving the vGPU back, the domain and its volumes gone: the journal entry
 * is stale (`gpu probe` says so), and the next command gives it back. */
static void
test_delete_fails_before_gpu(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-fail-fault-delgpu-%d", (int)getpid());
    g_autofree char *next = g_strdup_printf("vs-fail-fault-delnext-%d", (int)getpid());
    g_autofree char *stale = NULL, *after = NULL;

    bed_open(&b, "delgpu");
    defined_with_gpu(&b, name);
    g_auto(VsBedRun) r = run_failing("delete-gpu", (const char *[]){"delete", name, NULL});
    assert_failed_at(&r, "delete-gpu");
    g_assert_null(virDomainLookupByName(b.conn, name));
    after = own_volumes(&b, name);
    g_assert_cmpstr(after, ==, "");
    g_assert_cmpint(available(&b), ==, 3);
    assert_locks_free(&b, name);
    g_auto(VsBedRun) probe = run_failing(NULL, (const char *[]){"gpu", "probe", "--json", NULL});
    stale = g_strdup_printf("\"workstation\":\"%s\",\"state\":\"stale\"", name);
    if (!strstr(probe.out, stale))
        g_error("gpu probe did not report the stale entry:\n%s", probe.out);

    /* The next `up` (here one that then fails at its first step) gives it back first. */
    g_auto(VsBedRun) up = up_failing(&b, next, b.pool, "none", "pool");
    assert_failed_at(&up, "pool");
    assert_gpu_free(&b);
    assert_locks_free(&b, name);
    bed_close(&b, (const char *[]){name, next, NULL});
}

/* ---- image pull ---- */

typedef struct {
    char *home;
    char *srv;
    char *cache;   /* $XDG_CACHE_HOME/virt-station/images */
    char *partial; /* its partial/ */
    char *raw_sum; /* SHA-256 of the image */
    char *xz_sum;  /* SHA-256 of the image packed with xz */
    VsBedHttp http;
} PullBed;

static char *
sha256_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
}

static void
pull_open(PullBed *p)
{
    g_autofree char *raw = NULL, *xz = NULL, *log = NULL;

    p->home = vs_bed_tmpdir("vs-faultpull");
    p->srv = g_build_filename(p->home, "srv", NULL);
    p->cache = g_build_filename(p->home, "virt-station", "images", NULL);
    p->partial = g_build_filename(p->cache, "partial", NULL);
    g_assert_cmpint(g_mkdir(p->srv, 0755), ==, 0);
    raw = g_build_filename(p->srv, "disk.raw", NULL);
    xz = g_build_filename(p->srv, "disk.raw.xz", NULL);
    random_file(raw, 2 << 20);
    g_auto(VsBedRun) pack = vs_bed_run((const char *[]){"xz", "-kf", "-T1", raw, NULL});
    g_assert_cmpint(pack.status, ==, 0);
    p->raw_sum = sha256_file(raw);
    p->xz_sum = sha256_file(xz);
    log = g_build_filename(p->home, "requests.log", NULL);
    vs_bed_http_start(&p->http, p->srv, log, NULL, NULL);
    g_setenv("XDG_CACHE_HOME", p->home, TRUE);
    g_setenv("XDG_DATA_HOME", p->home, TRUE);
    g_setenv("XDG_RUNTIME_DIR", p->home, TRUE);
}

static void
pull_close(PullBed *p)
{
    vs_bed_http_stop(&p->http);
    vs_bed_rmtree(p->home);
    g_free(p->home);
    g_free(p->srv);
    g_free(p->cache);
    g_free(p->partial);
    g_free(p->raw_sum);
    g_free(p->xz_sum);
    g_unsetenv("XDG_CACHE_HOME");
    g_unsetenv("XDG_DATA_HOME");
    g_unsetenv("XDG_RUNTIME_DIR");
}

/* Returns the cache's entries: its .img and .info files, sorted, joined by spaces. */
static char *
cache_entries(const PullBed *p)
{
    g_autofree char *all = dir_names(p->cache);
    g_auto(GStrv) names = g_strsplit(all, " ", -1);
    g_autoptr(GPtrArray) kept = g_ptr_array_new();

    for (guint i = 0; names[i]; i++)
        if (g_str_has_suffix(names[i], ".img") || g_str_has_suffix(names[i], ".info"))
            g_ptr_array_add(kept, names[i]);
    g_ptr_array_add(kept, NULL);
    return g_strjoinv(" ", (char **)kept->pdata);
}

/* Pulls @file from the server with its @sum, failing at @point (none when NULL). */
static VsBedRun
pull(const PullBed *p, const char *file, const char *sum, const char *point)
{
    g_autofree char *url = g_strconcat(p->http.base, file, NULL);
    VsBedRun r;

    if (point)
        g_setenv("VIRT_STATION_TEST_FAIL", point, TRUE);
    r = vs_bed_run(
        (const char *[]){"virt-station", "image", "pull", url, "--image-sha256", sum, NULL});
    g_unsetenv("VIRT_STATION_TEST_FAIL");
    return r;
}

/* Asserts that the cache holds exactly one image, @sum's content, with its record. */
static void
assert_cached(const PullBed *p, const char *sum)
{
    g_autofree char *entries = cache_entries(p);
    g_auto(GStrv) names = g_strsplit(entries, " ", -1);
    g_autofree char *img = NULL, *got = NULL;

    g_assert_cmpuint(g_strv_length(names), ==, 2);
    g_assert_true(g_str_has_suffix(names[0], ".img"));
    g_assert_true(g_str_has_suffix(names[1], ".info"));
    img = g_build_filename(p->cache, names[0], NULL);
    got = sha256_file(img);
    g_assert_cmpstr(got, ==, sum);
}

/* The download is complete, not yet verified, when the pull fails: no cache entry; the whole
 * download stays in partial/ (the design: a part is kept to resume), and the next pull verifies
 * and uses it without a second transfer, leaving partial/ empty. */
static void
test_pull_fails_before_verify(void)
{
    PullBed p = {0};

    pull_open(&p);
    g_auto(VsBedRun) r = pull(&p, "disk.raw", p.raw_sum, "pull-verify");
    assert_failed_at(&r, "pull-verify");
    g_autofree char *entries = cache_entries(&p);
    g_assert_cmpstr(entries, ==, "");
    g_autofree char *left = dir_names(p.partial);
    g_assert_null(strstr(left, ".unpacked"));
    g_assert_nonnull(strstr(left, ".part"));

    g_auto(VsBedRun) again = pull(&p, "disk.raw", p.raw_sum, NULL);
    g_assert_cmpint(again.status, ==, 0);
    g_assert_nonnull(strstr(again.err, "downloaded and verified earlier"));
    g_autofree char *reqs = vs_bed_http_requests(&p.http, "disk.raw");
    g_auto(GStrv) lines = g_strsplit(g_strstrip(reqs), "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 1);
    assert_cached(&p, p.raw_sum);
    g_autofree char *partial = dir_names(p.partial);
    g_assert_cmpstr(partial, ==, "");
    pull_close(&p);
}

/* The pull fails in the middle of unpacking: no half-unpacked file and no cache entry; the
 * verified download stays for the next pull, which unpacks it. */
static void
test_pull_fails_in_unpack(void)
{
    PullBed p = {0};

    pull_open(&p);
    g_auto(VsBedRun) r = pull(&p, "disk.raw.xz", p.xz_sum, "pull-unpack");
    assert_failed_at(&r, "pull-unpack");
    g_assert_nonnull(strstr(r.err, "unpacking disk.raw.xz"));
    g_autofree char *entries = cache_entries(&p);
    g_assert_cmpstr(entries, ==, "");
    g_autofree char *left = dir_names(p.partial);
    g_assert_null(strstr(left, ".unpacked"));

    g_auto(VsBedRun) again = pull(&p, "disk.raw.xz", p.xz_sum, NULL);
    g_assert_cmpint(again.status, ==, 0);
    assert_cached(&p, p.raw_sum);
    g_autofree char *partial = dir_names(p.partial);
    g_assert_cmpstr(partial, ==, "");
    pull_close(&p);
}

/* The pull fails between the image's move into the cache and its record: neither is left, nor
 * anything in partial/; the next pull starts over and succeeds. */
static void
test_pull_fails_before_record(void)
{
    PullBed p = {0};

    pull_open(&p);
    g_auto(VsBedRun) r = pull(&p, "disk.raw", p.raw_sum, "pull-cache");
    assert_failed_at(&r, "pull-cache");
    g_autofree char *entries = cache_entries(&p);
    g_assert_cmpstr(entries, ==, "");
    g_autofree char *left = dir_names(p.partial);
    g_assert_cmpstr(left, ==, "");

    g_auto(VsBedRun) again = pull(&p, "disk.raw", p.raw_sum, NULL);
    g_assert_cmpint(again.status, ==, 0);
    assert_cached(&p, p.raw_sum);
    pull_close(&p);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(up_points); i++) {
        g_autofree char *path = g_strdup_printf("/faults/up/%s", up_points[i]);
        g_test_add_data_func(path, up_points[i], test_up_fails);
    }
    g_test_add_func("/faults/up/interrupted-in-upload", test_up_interrupted_in_upload);
    g_test_add_func("/faults/up/removes-its-pool", test_up_removes_its_pool);
    g_test_add_func("/faults/start", test_start_fails);
    g_test_add_func("/faults/delete/between-volumes", test_delete_fails_between_volumes);
    g_test_add_func("/faults/delete/before-undefine", test_delete_fails_before_undefine);
    g_test_add_func("/faults/delete/before-gpu", test_delete_fails_before_gpu);
    g_test_add_func("/faults/pull/before-verify", test_pull_fails_before_verify);
    g_test_add_func("/faults/pull/in-unpack", test_pull_fails_in_unpack);
    g_test_add_func("/faults/pull/before-record", test_pull_fails_before_record);
    return g_test_run();
}
