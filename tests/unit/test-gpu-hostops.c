/* The GPU operations table's sysfs and fake backends, on copies of the fixture trees of
 * tests/data/sysfs (made by make-fixtures.py; never changed here). Expected counts and lists
 * come from the fixtures' own files (the T4's max_instance values, the H100 VFs' lists), and
 * what the fake makes is read back through gpu/inventory.c and lspci, which do not share its
 * code. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/bed/golden.h"
#include "gpu/hostops.h"

#define T4      "0000:3b:00.0"
#define T4_MDEV "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define VF2     "0000:c1:01.2"
#define VF3     "0000:c1:01.3"
#define U1      "11111111-2222-4333-8444-555555555555"
#define U2      "11111111-2222-4333-8444-666666666666"

/* Returns a temporary copy of the fixture @host. */
static char *
copy_fixture(const char *host)
{
    g_autofree char *rel = g_build_filename("sysfs", host, NULL);
    g_autofree char *src = vs_golden_path(rel);
    g_autoptr(GError) error = NULL;
    char *dir = vs_gpu_fake_tree_copy(src, &error);

    g_assert_no_error(error);
    g_assert_nonnull(dir);
    return dir;
}

/* Returns the stripped contents of @root/@rel, or NULL when it cannot be read. */
static char *
read_rel(const char *root, const char *rel)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

/* Returns the available_instances of @type on @parent in @root. */
static gint64
avail(const char *root, const char *parent, const char *type)
{
    g_autofree char *rel = g_build_filename("bus/pci/devices", parent, "mdev_supported_types", type,
                                            "available_instances", NULL);
    g_autofree char *text = read_rel(root, rel);

    g_assert_nonnull(text);
    return g_ascii_strtoll(text, NULL, 10);
}

/* Returns the vGPU type ids the inventory of @root finds on @address, joined by ','. */
static char *
inventory_types(VsGpuOps *ops, const char *address)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, &error);
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = 0; i < inv->devices->len; i++) {
        VsGpuDevice *d = g_ptr_array_index(inv->devices, i);
        if (strcmp(d->address, address) != 0)
            continue;
        for (guint j = 0; j < d->vgpu_types->len; j++) {
            VsVgpuType *t = g_ptr_array_index(d->vgpu_types, j);
            g_string_append_printf(out, "%s%s", out->len ? "," : "", t->id);
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Returns the mdevs the inventory finds, as "uuid parent type" joined by ';'. */
static char *
inventory_mdevs(VsGpuOps *ops)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuInventory) inv = ops->inventory(ops->data, &error);
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = 0; i < inv->mdevs->len; i++) {
        VsMdev *m = g_ptr_array_index(inv->mdevs, i);
        g_string_append_printf(out, "%s%s %s %s", out->len ? ";" : "", m->uuid, m->parent,
                               m->type_id);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Returns the order of two strings in a GPtrArray. */
static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends every path under @dir with its link target or contents, in name order. */
static void
snapshot_into(GString *out, const char *dir, const char *rel)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_strings);
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path = g_build_filename(dir, n, NULL);
        g_autofree char *sub = g_build_filename(rel, n, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *text = NULL, *sum = NULL;
        gsize len;

        if (target)
            g_string_append_printf(out, "%s -> %s\n", sub, target);
        else if (g_file_test(path, G_FILE_TEST_IS_DIR))
            snapshot_into(out, path, sub);
        else if (!g_file_get_contents(path, &text, &len, NULL))
            g_string_append_printf(out, "%s unreadable\n", sub);
        else if (memchr(text, '\0', len)) /* config space: binary */
            g_string_append_printf(
                out, "%s = sha256:%s\n", sub,
                sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)text, len));
        else
            g_string_append_printf(out, "%s = %s\n", sub, text);
    }
}

/* Returns every path of the tree @dir with its link target or contents. */
static char *
snapshot(const char *dir)
{
    GString *out = g_string_new(NULL);
    snapshot_into(out, dir, "");
    return g_string_free(out, FALSE);
}

static void
test_copy(void)
{
    g_autofree char *src = vs_golden_path("sysfs/rhel-t4");
    g_autofree char *dir = copy_fixture("rhel-t4");
    g_autofree char *link = g_build_filename(dir, "bus/pci/devices", T4, "driver", NULL);
    g_autofree char *target = g_file_read_link(link, NULL);
    g_autofree char *a = snapshot(src), *b = snapshot(dir);
    g_autofree char *lspci = g_find_program_in_path("lspci");

    /* Links stay links with their relative targets; files keep their contents. */
    g_assert_cmpstr(target, ==, "../../../../bus/pci/drivers/nvidia");
    g_assert_cmpstr(a, ==, b);
    g_assert_nonnull(strstr(b, "mdev_supported_types/nvidia-222/available_instances = 16"));
    if (lspci) {
        /* lspci reads the copy as it reads the fixture: the driver links resolve inside it. */
        g_autofree char *opt_a = g_strdup_printf("sysfs.path=%s/bus/pci", src);
        g_autofree char *opt_b = g_strdup_printf("sysfs.path=%s/bus/pci", dir);
        const char *argv_a[] = {lspci, "-A", "linux-sysfs", "-O", opt_a, "-nnk", NULL};
        const char *argv_b[] = {lspci, "-A", "linux-sysfs", "-O", opt_b, "-nnk", NULL};
        g_autofree char *out_a = NULL, *out_b = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true(g_spawn_sync(NULL, (char **)argv_a, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                   NULL, &out_a, NULL, NULL, &error));
        g_assert_true(g_spawn_sync(NULL, (char **)argv_b, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                   NULL, &out_b, NULL, NULL, &error));
        g_assert_no_error(error);
        g_assert_nonnull(strstr(out_b, "3b:00.0 3D controller [0302]"));
        g_assert_nonnull(strstr(out_b, "[10de:1eb8]"));
        g_assert_nonnull(strstr(out_b, "Kernel driver in use: nvidia"));
        g_assert_nonnull(strstr(out_b, "Kernel driver in use: ast"));
        g_assert_cmpstr(out_a, ==, out_b);
    } else {
        g_test_message("lspci not found: the copy is checked by its snapshot only");
    }
    vs_gpu_fake_tree_remove(dir);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(src, G_FILE_TEST_IS_DIR));
}

/* The T4 (nvidia driver): one type in use takes the other types' instances. */
static void
test_fake_t4(void)
{
    g_autofree char *dir = copy_fixture("rhel-t4");
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(dir);
    g_autoptr(GError) error = NULL;
    g_autofree char *mdevs = NULL, *types = NULL, *remove = NULL, *tlink = NULL;

    g_assert_cmpstr(ops->name, ==, "fake");
    /* The fixture: T4-1Q (nvidia-222) 16, T4-2Q 8, T4-8Q 1 (beside the 8Q mdev), T4-16Q 0. */
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 16);
    g_assert_cmpint(avail(dir, T4, "nvidia-223"), ==, 8);
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 1);
    g_assert_false(ops->mdev_exists(ops->data, U1));
    g_assert_true(ops->mdev_exists(ops->data, T4_MDEV));

    g_assert_true(ops->mdev_create(ops->data, T4, "nvidia-222", U1, FALSE, &error));
    g_assert_no_error(error);
    g_assert_true(ops->mdev_exists(ops->data, U1));
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 15);
    g_assert_cmpint(avail(dir, T4, "nvidia-223"), ==, 0);
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 0);
    g_assert_cmpint(avail(dir, T4, "nvidia-229"), ==, 0);
    /* Read back by the inventory exactly as the fixture's own mdev is. */
    mdevs = inventory_mdevs(ops);
    g_assert_cmpstr(mdevs, ==, U1 " " T4 " nvidia-222;" T4_MDEV " " T4 " nvidia-225");
    remove = g_build_filename(dir, "bus/mdev/devices", U1, "remove", NULL);
    g_assert_true(g_file_test(remove, G_FILE_TEST_IS_REGULAR));
    tlink = g_build_filename(dir, "bus/pci/devices", T4, "mdev_supported_types/nvidia-222/devices",
                             U1, NULL);
    g_assert_true(g_file_test(tlink, G_FILE_TEST_IS_DIR)); /* the link resolves to the mdev */

    /* The same UUID again, a type with none left, a type that does not exist. */
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-222", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_clear_error(&error);
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-223", U2, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "no instance of nvidia-223 left on " T4));
    g_clear_error(&error);
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-999", U2, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
    g_assert_nonnull(strstr(error->message, T4));
    g_assert_nonnull(strstr(error->message, "nvidia-999"));
    g_clear_error(&error);
    g_assert_false(ops->mdev_exists(ops->data, U2));

    /* Removing it: its type is back at 16; the others stay at 0 while the 8Q mdev exists. */
    g_assert_true(ops->mdev_remove(ops->data, U1, &error));
    g_assert_no_error(error);
    g_assert_false(ops->mdev_exists(ops->data, U1));
    g_assert_false(g_file_test(tlink, G_FILE_TEST_EXISTS));
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 16);
    g_assert_cmpint(avail(dir, T4, "nvidia-223"), ==, 0);
    g_assert_true(ops->mdev_remove(ops->data, U1, &error)); /* gone already */
    g_assert_no_error(error);

    /* Removing the fixture's 8Q mdev frees the GPU: every type at its max_instance. */
    g_assert_true(ops->mdev_remove(ops->data, T4_MDEV, &error));
    g_assert_no_error(error);
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 16);
    g_assert_cmpint(avail(dir, T4, "nvidia-223"), ==, 8);
    g_assert_cmpint(avail(dir, T4, "nvidia-224"), ==, 4);
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 2);
    g_assert_cmpint(avail(dir, T4, "nvidia-227"), ==, 8);
    g_clear_pointer(&mdevs, g_free);
    mdevs = inventory_mdevs(ops);
    g_assert_cmpstr(mdevs, ==, "");
    types = inventory_types(ops, T4);
    g_assert_cmpstr(types, ==,
                    "nvidia-222,nvidia-223,nvidia-224,nvidia-225,nvidia-226,nvidia-227,"
                    "nvidia-228,nvidia-229");

    /* Two 8Q instances now fit (max_instance=2), a third does not. */
    g_assert_true(ops->mdev_create(ops->data, T4, "nvidia-225", U1, FALSE, &error));
    g_assert_true(ops->mdev_create(ops->data, T4, "nvidia-225", U2, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 0);
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 0);
    g_assert_true(ops->mdev_remove(ops->data, U1, &error));
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 1);
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 0);
    g_assert_true(ops->mdev_remove(ops->data, U2, &error));
    g_assert_no_error(error);
    g_assert_cmpint(avail(dir, T4, "nvidia-225"), ==, 2);
    g_assert_cmpint(avail(dir, T4, "nvidia-222"), ==, 16);
    vs_gpu_fake_tree_remove(dir);
}

/* The A100 with SR-IOV: mdev types on the VFs, one instance each. */
static void
test_fake_a100(void)
{
    g_autofree char *dir = copy_fixture("a100-sriov");
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(dir);
    g_autoptr(GError) error = NULL;
    g_autofree char *mdevs = NULL;

    /* 41:00.4 has no instance left in the fixture. */
    g_assert_false(ops->mdev_create(ops->data, "0000:41:00.4", "nvidia-471", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_clear_error(&error);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-475"), ==, 1);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-471"), ==, 1);
    /* "41:00.5" without the domain is the same function. */
    g_assert_true(ops->mdev_create(ops->data, "41:00.5", "nvidia-475", U1, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-475"), ==, 0);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-471"), ==, 0);
    mdevs = inventory_mdevs(ops);
    g_assert_cmpstr(mdevs, ==, U1 " 0000:41:00.5 nvidia-475");
    g_assert_false(ops->mdev_create(ops->data, "0000:41:00.5", "nvidia-471", U2, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_clear_error(&error);
    g_assert_true(ops->mdev_remove(ops->data, U1, &error));
    g_assert_no_error(error);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-475"), ==, 1);
    g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-471"), ==, 1);
    g_assert_cmpint(avail(dir, "0000:41:00.4", "nvidia-471"), ==, 0);
    vs_gpu_fake_tree_remove(dir);
}

/* Returns the type ids of @vf's creatable_vgpu_types file in @root, joined by ','. */
static char *
creatable(const char *root, const char *vf)
{
    g_autofree char *rel =
        g_build_filename("bus/pci/devices", vf, "nvidia/creatable_vgpu_types", NULL);
    g_autofree char *text = read_rel(root, rel);
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_nonnull(text);
    lines = g_strsplit(text, "\n", -1);
    g_assert_true(g_str_has_prefix(lines[0], "ID ")); /* the header stays */
    for (guint i = 1; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], ":", 2);
        g_assert_cmpuint(g_strv_length(f), ==, 2);
        g_string_append_printf(out, "%s%s", out->len ? "," : "", g_strstrip(f[0]));
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Asserts that @vf's type is @want, as the backend and the file say. */
static void
assert_type(VsGpuOps *ops, const char *root, const char *vf, const char *want)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = ops->vf_get_type(ops->data, vf, &error);
    g_autofree char *rel =
        g_build_filename("bus/pci/devices", vf, "nvidia/current_vgpu_type", NULL);
    g_autofree char *file = read_rel(root, rel);

    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, want);
    g_assert_cmpstr(file, ==, want);
}

/* Asserts that setting @type on @vf fails with @code. */
static void
assert_set_fails(VsGpuOps *ops, const char *vf, const char *type, int code)
{
    g_autoptr(GError) error = NULL;

    g_assert_false(ops->vf_set_type(ops->data, vf, type, &error));
    g_assert_error(error, VS_GPU_ERROR, code);
    g_assert_nonnull(strstr(error->message, vf));
}

/* Asserts that setting @type on @vf succeeds. */
static void
assert_set(VsGpuOps *ops, const char *vf, const char *type)
{
    g_autoptr(GError) error = NULL;

    gboolean ok = ops->vf_set_type(ops->data, vf, type, &error);

    g_assert_no_error(error);
    g_assert_true(ok);
}

/* The H100's vendor-specific VFs: siblings' lists follow the type in use. */
static void
test_fake_vendor(void)
{
    g_autofree char *dir = copy_fixture("h100-vendor");
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(dir);
    g_autofree char *l2 = NULL, *l3 = NULL, *inv3 = NULL;

    g_unsetenv("VIRT_STATION_FAKE_GPU_BUSY");
    /* The fixture: 01.2 holds 1099, 01.3 is free and lists four types. */
    assert_type(ops, dir, VF2, "1099");
    assert_type(ops, dir, VF3, "0");
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l3, ==, "1097,1099,1101,1104");
    g_clear_pointer(&l3, g_free);

    /* A VF that holds a type is busy; a type it does not list is refused. */
    assert_set_fails(ops, VF2, "1097", VS_GPU_ERROR_BUSY);
    assert_set(ops, VF2, "0");
    assert_type(ops, dir, VF2, "0");
    l2 = creatable(dir, VF2);
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l2, ==, "1097,1099,1101,1104");
    g_assert_cmpstr(l3, ==, "1097,1099,1101,1104");
    g_clear_pointer(&l2, g_free);
    g_clear_pointer(&l3, g_free);

    /* Released: busy for one write of a type, then free. */
    assert_set_fails(ops, VF2, "1097", VS_GPU_ERROR_BUSY);
    assert_type(ops, dir, VF2, "0");
    assert_set(ops, VF2, "1097");
    assert_type(ops, dir, VF2, "1097");
    l2 = creatable(dir, VF2);
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l2, ==, "");
    g_assert_cmpstr(l3, ==, "1097"); /* H100-4C: min(2 VFs, 80 GB / 4 GB) = 2 instances */
    g_clear_pointer(&l2, g_free);
    g_clear_pointer(&l3, g_free);
    inv3 = inventory_types(ops, VF3);
    g_assert_cmpstr(inv3, ==, "1097");
    assert_set_fails(ops, VF3, "1099", VS_GPU_ERROR_REFUSED);
    assert_type(ops, dir, VF3, "0");
    assert_set(ops, VF3, "1097");
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l3, ==, "");
    g_clear_pointer(&l3, g_free);

    /* Released one at a time (from now on without busy writes): the type comes back, then
     * the whole list. */
    g_setenv("VIRT_STATION_FAKE_GPU_BUSY", "0", TRUE);
    assert_set(ops, VF3, "0");
    l2 = creatable(dir, VF2);
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l2, ==, "");
    g_assert_cmpstr(l3, ==, "1097");
    g_clear_pointer(&l2, g_free);
    g_clear_pointer(&l3, g_free);
    assert_set(ops, VF2, "0");
    l2 = creatable(dir, VF2);
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l2, ==, "1097,1099,1101,1104");
    g_assert_cmpstr(l3, ==, "1097,1099,1101,1104");
    g_clear_pointer(&l2, g_free);
    g_clear_pointer(&l3, g_free);

    /* The whole-GPU type (H100-80C, one instance) leaves the sibling nothing. */
    assert_set(ops, VF2, "1104");
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l3, ==, "");
    g_clear_pointer(&l3, g_free);
    assert_set_fails(ops, VF3, "1104", VS_GPU_ERROR_REFUSED);
    assert_set(ops, VF2, "0");
    assert_set(ops, VF2, "1101");
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l3, ==, "1101");
    g_clear_pointer(&l3, g_free);
    assert_set(ops, VF2, "0");
    assert_set(ops, VF2, "0"); /* releasing a free VF changes nothing */
    l3 = creatable(dir, VF3);
    g_assert_cmpstr(l3, ==, "1097,1099,1101,1104");
    g_clear_pointer(&l3, g_free);

    /* $VIRT_STATION_FAKE_GPU_BUSY=2: two refused writes after a release, then it works. */
    g_setenv("VIRT_STATION_FAKE_GPU_BUSY", "2", TRUE);
    assert_set(ops, VF3, "1099");
    assert_set(ops, VF3, "0");
    assert_set_fails(ops, VF3, "1099", VS_GPU_ERROR_BUSY);
    assert_set_fails(ops, VF3, "1101", VS_GPU_ERROR_BUSY);
    assert_type(ops, dir, VF3, "0");
    l2 = creatable(dir, VF2);
    g_assert_cmpstr(l2, ==, "1097,1099,1101,1104");
    assert_set(ops, VF3, "1101");
    assert_type(ops, dir, VF3, "1101");
    g_unsetenv("VIRT_STATION_FAKE_GPU_BUSY");

    /* The PF has no nvidia/current_vgpu_type. */
    assert_set_fails(ops, "0000:c1:00.0", "1097", VS_GPU_ERROR_UNSUPPORTED);
    vs_gpu_fake_tree_remove(dir);
}

/* Writes @text to @root/.fake-fail. */
static void
set_faults(const char *root, const char *text)
{
    g_autofree char *path = g_build_filename(root, ".fake-fail", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
test_fake_faults(void)
{
    g_autofree char *t4 = copy_fixture("rhel-t4");
    g_autofree char *h100 = copy_fixture("h100-vendor");
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_fake(t4);
    g_autoptr(VsGpuOps) vops = vs_gpu_ops_fake(h100);
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL, *after = NULL, *left = NULL, *got = NULL;

    set_faults(t4, "mdev_create\nmdev_remove\nmdev_create\n");
    before = snapshot(t4);
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-222", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "fake fault"));
    g_clear_error(&error);
    g_assert_false(ops->mdev_exists(ops->data, U1));
    g_assert_cmpint(avail(t4, T4, "nvidia-222"), ==, 16);
    left = read_rel(t4, ".fake-fail");
    g_assert_cmpstr(left, ==, "mdev_remove\nmdev_create");
    g_clear_pointer(&left, g_free);
    /* The second mdev_create line fails the next create too; then it works. */
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-222", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_clear_error(&error);
    /* Apart from the consumed lines and the lock file, the tree is as it was. */
    set_faults(t4, "mdev_create\nmdev_remove\nmdev_create\n");
    {
        g_autofree char *lock = g_build_filename(t4, ".fake-lock", NULL);
        g_assert_cmpint(unlink(lock), ==, 0);
    }
    after = snapshot(t4);
    g_assert_cmpstr(before, ==, after);
    set_faults(t4, "mdev_remove\n");
    g_assert_true(ops->mdev_create(ops->data, T4, "nvidia-222", U1, FALSE, &error));
    g_assert_no_error(error);
    g_assert_false(ops->mdev_remove(ops->data, U1, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_clear_error(&error);
    g_assert_true(ops->mdev_exists(ops->data, U1));
    g_assert_cmpint(avail(t4, T4, "nvidia-222"), ==, 15);
    g_assert_true(ops->mdev_remove(ops->data, U1, &error));
    g_assert_no_error(error);
    g_assert_false(ops->mdev_exists(ops->data, U1));

    set_faults(h100, "vf_get_type\nvf_set_type\n");
    got = vops->vf_get_type(vops->data, VF2, &error);
    g_assert_null(got);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_clear_error(&error);
    got = vops->vf_get_type(vops->data, VF2, &error);
    g_assert_cmpstr(got, ==, "1099");
    g_assert_false(vops->vf_set_type(vops->data, VF2, "0", &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_clear_error(&error);
    assert_type(vops, h100, VF2, "1099");
    left = read_rel(h100, ".fake-fail");
    g_assert_cmpstr(left, ==, "");
    assert_set(vops, VF2, "0");
    assert_type(vops, h100, VF2, "0");
    vs_gpu_fake_tree_remove(t4);
    vs_gpu_fake_tree_remove(h100);
}

/* Asserts that @ok is FALSE with VS_GPU_ERROR_INVALID in @error, and clears it. */
static void
assert_invalid(gboolean ok, GError **error)
{
    g_assert_false(ok);
    g_assert_error(*error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    g_clear_error(error);
}

/* Names that would leave the tree are refused by both backends, and nothing is written. */
static void
test_invalid_names(void)
{
    const char *hosts[] = {"rhel-t4", "h100-vendor"};

    for (guint h = 0; h < G_N_ELEMENTS(hosts); h++) {
        g_autofree char *dir = copy_fixture(hosts[h]);
        g_autofree char *before = snapshot(dir);
        g_autofree char *after = NULL;
        g_autofree char *lock = g_build_filename(dir, ".fake-lock", NULL);

        for (int fake = 0; fake < 2; fake++) {
            g_autoptr(VsGpuOps) ops = fake ? vs_gpu_ops_fake(dir) : vs_gpu_ops_sysfs(dir);
            g_autoptr(GError) error = NULL;
            const char *bad_addr[] = {"../x", T4 "/../..", "../../../etc", "", "0000:3b:00.0x"};
            const char *bad_type[] = {"../x", "..", ".", "a/b", "", "nvidia-222\n"};
            const char *bad_uuid[] = {"../x", "../" U1, U1 "/..", ""};
            const char *bad_id[] = {"1/../x", "abc", "", "-1", "../0"};

            for (guint i = 0; i < G_N_ELEMENTS(bad_addr); i++) {
                g_autofree char *drv = ops->pci_driver(ops->data, bad_addr[i]);
                g_assert_null(drv);
                assert_invalid(
                    ops->mdev_create(ops->data, bad_addr[i], "nvidia-222", U1, FALSE, &error),
                    &error);
                assert_invalid(ops->vf_set_type(ops->data, bad_addr[i], "1097", &error), &error);
                g_assert_null(ops->vf_get_type(ops->data, bad_addr[i], &error));
                g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
                g_clear_error(&error);
            }
            for (guint i = 0; i < G_N_ELEMENTS(bad_type); i++)
                assert_invalid(ops->mdev_create(ops->data, T4, bad_type[i], U1, FALSE, &error),
                               &error);
            for (guint i = 0; i < G_N_ELEMENTS(bad_uuid); i++) {
                assert_invalid(
                    ops->mdev_create(ops->data, T4, "nvidia-222", bad_uuid[i], FALSE, &error),
                    &error);
                assert_invalid(ops->mdev_remove(ops->data, bad_uuid[i], &error), &error);
                g_assert_false(ops->mdev_exists(ops->data, bad_uuid[i]));
            }
            for (guint i = 0; i < G_N_ELEMENTS(bad_id); i++)
                assert_invalid(ops->vf_set_type(ops->data, VF3, bad_id[i], &error), &error);
        }
        g_assert_false(g_file_test(lock, G_FILE_TEST_EXISTS));
        after = snapshot(dir);
        g_assert_cmpstr(before, ==, after);
        vs_gpu_fake_tree_remove(dir);
    }
}

/* The sysfs backend writes the kernel's files (which the copies lack: made here, empty, as the
 * kernel has them) and reads the tree. */
static void
test_sysfs(void)
{
    g_autofree char *t4 = copy_fixture("rhel-t4");
    g_autofree char *h100 = copy_fixture("h100-vendor");
    g_autoptr(VsGpuOps) ops = vs_gpu_ops_sysfs(t4);
    g_autoptr(VsGpuOps) vops = vs_gpu_ops_sysfs(h100);
    g_autoptr(GError) error = NULL;
    g_autofree char *create =
        g_build_filename(t4, "bus/pci/devices", T4, "mdev_supported_types/nvidia-222/create", NULL);
    g_autofree char *remove = g_build_filename(t4, "bus/mdev/devices", T4_MDEV, "remove", NULL);
    g_autofree char *text = NULL, *drv = NULL, *got = NULL;

    g_assert_cmpstr(ops->name, ==, "sysfs");
    g_assert_true(g_file_set_contents(create, "", 0, NULL));
    g_assert_true(g_file_set_contents(remove, "", 0, NULL));

    /* `create` gets the UUID; no kernel makes the device here, which is an error. */
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-222", U1, TRUE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "does not exist"));
    g_clear_error(&error);
    g_assert_true(g_file_get_contents(create, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, U1);
    g_clear_pointer(&text, g_free);
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-999", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
    g_assert_nonnull(strstr(error->message, "nvidia-999"));
    g_assert_nonnull(strstr(error->message, T4));
    g_clear_error(&error);
    /* The type without a `create` file (a plain copy): the write fails, naming the file. */
    g_assert_false(ops->mdev_create(ops->data, T4, "nvidia-223", U1, FALSE, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, "nvidia-223/create"));
    g_clear_error(&error);

    /* `remove` gets 1; a device that is not there is removed already. */
    g_assert_true(ops->mdev_exists(ops->data, T4_MDEV));
    g_assert_true(ops->mdev_remove(ops->data, T4_MDEV, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(remove, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "1");
    g_clear_pointer(&text, g_free);
    g_assert_false(ops->mdev_exists(ops->data, U1));
    g_assert_true(ops->mdev_remove(ops->data, U1, &error));
    g_assert_no_error(error);

    drv = ops->pci_driver(ops->data, T4);
    g_assert_cmpstr(drv, ==, "nvidia");
    g_clear_pointer(&drv, g_free);
    drv = ops->pci_driver(ops->data, "03:00.0");
    g_assert_cmpstr(drv, ==, "ast");
    g_clear_pointer(&drv, g_free);
    drv = ops->pci_driver(ops->data, "0000:99:00.0");
    g_assert_null(drv);

    /* current_vgpu_type gets the id, exactly; the sysfs backend applies no rules. */
    g_assert_true(vops->vf_set_type(vops->data, VF3, "1097", &error));
    g_assert_no_error(error);
    {
        g_autofree char *path =
            g_build_filename(h100, "bus/pci/devices", VF3, "nvidia/current_vgpu_type", NULL);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "1097");
    }
    got = vops->vf_get_type(vops->data, VF3, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, "1097");
    g_clear_pointer(&got, g_free);
    got = vops->vf_get_type(vops->data, VF2, &error);
    g_assert_cmpstr(got, ==, "1099");
    g_assert_false(vops->vf_set_type(vops->data, "0000:c1:00.0", "1097", &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(error->message, "not a vendor-specific vGPU VF"));
    g_clear_error(&error);
    g_assert_null(vops->vf_get_type(vops->data, "0000:c1:00.0", &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED);
    vs_gpu_fake_tree_remove(t4);
    vs_gpu_fake_tree_remove(h100);
}

/* Both backends read the driver link: its name, or NULL without one. */
static void
test_pci_driver(void)
{
    g_autofree char *dir = copy_fixture("desktop-geforce");
    g_autofree char *link = g_build_filename(dir, "bus/pci/devices/0000:01:00.1/driver", NULL);

    for (int fake = 0; fake < 2; fake++) {
        g_autoptr(VsGpuOps) ops = fake ? vs_gpu_ops_fake(dir) : vs_gpu_ops_sysfs(dir);
        g_autofree char *gpu = ops->pci_driver(ops->data, "0000:01:00.0");
        g_autofree char *audio = ops->pci_driver(ops->data, "01:00.1");

        g_assert_cmpstr(gpu, ==, "nvidia");
        g_assert_cmpstr(audio, ==, fake ? NULL : "snd_hda_intel");
        if (!fake) /* unbound, as after `echo ADDR > driver/unbind` */
            g_assert_cmpint(unlink(link), ==, 0);
    }
    vs_gpu_fake_tree_remove(dir);
}

/* Two processes take the last instance of a type at once: exactly one gets it. */
static void
test_fake_two_processes(void)
{
    g_autofree char *dir = copy_fixture("a100-sriov");
    const char *uuids[] = {U1, U2};

    for (int round = 0; round < 10; round++) {
        int pipes[2];
        pid_t pids[2];
        int won = 0, refused = 0;
        g_autoptr(VsGpuOps) ops = NULL;

        g_assert_cmpint(pipe(pipes), ==, 0);
        for (int c = 0; c < 2; c++) {
            pids[c] = fork();
            g_assert_cmpint(pids[c], >=, 0);
            if (pids[c] == 0) {
                VsGpuOps *mine = vs_gpu_ops_fake(dir);
                GError *error = NULL;
                int code = 3;
                char buf;

                close(pipes[1]);
                if (read(pipes[0], &buf, 1) == 0) /* both start when the pipe closes */
                    code = mine->mdev_create(mine->data, "0000:41:00.5", "nvidia-475", uuids[c],
                                             FALSE, &error)
                               ? 0
                           : g_error_matches(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED) ? 1
                                                                                        : 2;
                g_clear_error(&error);
                vs_gpu_ops_free(mine);
                _exit(code);
            }
        }
        close(pipes[0]);
        close(pipes[1]);
        for (int c = 0; c < 2; c++) {
            int status;
            g_assert_cmpint(waitpid(pids[c], &status, 0), ==, pids[c]);
            g_assert_true(WIFEXITED(status));
            if (WEXITSTATUS(status) == 0)
                won++;
            else if (WEXITSTATUS(status) == 1)
                refused++;
        }
        /* Made after the fork: the children hold nothing of the parent's to free. */
        ops = vs_gpu_ops_fake(dir);
        g_assert_cmpint(won, ==, 1);
        g_assert_cmpint(refused, ==, 1);
        g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-475"), ==, 0);
        g_assert_true(ops->mdev_exists(ops->data, U1) != ops->mdev_exists(ops->data, U2));
        g_assert_true(ops->mdev_remove(ops->data, U1, NULL));
        g_assert_true(ops->mdev_remove(ops->data, U2, NULL));
        g_assert_cmpint(avail(dir, "0000:41:00.5", "nvidia-475"), ==, 1);
    }
    vs_gpu_fake_tree_remove(dir);
}

static void
test_from_env(void)
{
    g_autofree char *dir = copy_fixture("rhel-t4");
    VsGpuOps *ops;

    g_unsetenv("VIRT_STATION_FAKE_GPU");
    g_setenv("VIRT_STATION_SYSFS_ROOT", dir, TRUE);
    g_assert_null(vs_gpu_ops_from_env());
    g_setenv("VIRT_STATION_FAKE_GPU", "1", TRUE);
    ops = vs_gpu_ops_from_env();
    g_assert_nonnull(ops);
    g_assert_cmpstr(ops->name, ==, "fake");
    g_assert_true(ops->mdev_exists(ops->data, T4_MDEV)); /* on that tree */
    vs_gpu_ops_free(ops);
    g_unsetenv("VIRT_STATION_SYSFS_ROOT");
    g_assert_null(vs_gpu_ops_from_env());
    g_unsetenv("VIRT_STATION_FAKE_GPU");
    vs_gpu_ops_free(NULL);
    vs_gpu_fake_tree_remove(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gpu-hostops/copy", test_copy);
    g_test_add_func("/gpu-hostops/fake/t4", test_fake_t4);
    g_test_add_func("/gpu-hostops/fake/a100", test_fake_a100);
    g_test_add_func("/gpu-hostops/fake/vendor", test_fake_vendor);
    g_test_add_func("/gpu-hostops/fake/faults", test_fake_faults);
    g_test_add_func("/gpu-hostops/fake/two-processes", test_fake_two_processes);
    g_test_add_func("/gpu-hostops/invalid-names", test_invalid_names);
    g_test_add_func("/gpu-hostops/sysfs", test_sysfs);
    g_test_add_func("/gpu-hostops/pci-driver", test_pci_driver);
    g_test_add_func("/gpu-hostops/from-env", test_from_env);
    return g_test_run();
}
