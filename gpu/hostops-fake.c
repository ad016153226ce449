/* The fake backend: the sysfs backend's files on a writable copy of a fixture tree, with the
 * kernel's reactions applied here, since writing `create` into a plain directory does nothing.
 * All state lives in the tree (several processes share it); every operation that changes it
 * holds an flock on ROOT/.fake-lock.
 *
 * Mediated devices. A device is made as the kernel shows it: the directory PARENT/UUID with an
 * `mdev_type` link to ../mdev_supported_types/TYPE and a `remove` file, the link
 * bus/mdev/devices/UUID -> ../../../bus/pci/devices/PARENT/UUID and the link TYPE/devices/UUID
 * -> ../../../UUID (relative, like the fixtures' own mdevs: the inventory reads both alike).
 * Counts: the first time a parent is touched, every type of it gets TYPE/.fake-max = its
 * available_instances plus the mdevs of that type that exist then. Creating needs
 * available_instances > 0 (else REFUSED) and drops it by 1; on a parent driven by nvidia every
 * other type drops to 0 (time-sliced vGPUs on one GPU are all of one type). Removing raises the
 * type by 1 (at most .fake-max); once no mdev of an nvidia parent is left, every type of it is
 * back at its .fake-max.
 *
 * Vendor-specific VFs. The VFs of one PF (its virtfn* links; a VF without physfn is alone) form
 * a group; the first time one is touched, the union of their creatable_vgpu_types lines is kept
 * in PF/.fake-vgpu-types. A type's maximum in the group is min(number of VFs, largest
 * framebuffer in that list / the type's framebuffer), the number of VFs when a framebuffer is
 * unknown: on the fixtures' H100 with two VFs, H100-80C has 1, the others 2. After each change
 * every VF's list is written again: a VF holding a type offers nothing; a free VF offers the
 * whole list when no VF of the group holds a type, the lines of the one type held when fewer
 * VFs than its maximum hold it, else nothing. Writing a type needs current 0 (else BUSY), the
 * VF not busy (else BUSY) and the id in the VF's list (else REFUSED, the kernel's EINVAL).
 * Writing 0 to a VF holding a type releases it and makes it busy for the next
 * $VIRT_STATION_FAKE_GPU_BUSY (default 1) writes of a type (VF/nvidia/.fake-busy counts them).
 *
 * Faults. Each line of ROOT/.fake-fail names an operation (mdev_create, mdev_remove,
 * vf_set_type, vf_get_type); its next call removes that line and fails with "fake fault",
 * changing nothing else. Names are checked (INVALID) before anything is read or written. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpu/hostops-sysfs.h"

#define HEADER "ID    : vGPU Name"

/* ---- small file helpers ---- */

/* Returns TRUE when @path exists (a dangling symlink counts). */
static gboolean
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Returns TRUE when @path holds a number (written to @ret), else FALSE with @error set. */
static gboolean
read_number(const char *path, gint64 *ret, GError **error)
{
    g_autofree char *text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_SHORT_MAX, NULL, error);

    if (!text)
        return FALSE;
    g_strstrip(text);
    if (!g_ascii_string_to_signed(text, 10, 0, G_MAXINT32, ret, NULL)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "%s holds \"%s\", not a count", path,
                    text);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once @path holds @text, else FALSE with @error set. */
static gboolean
write_text(const char *path, const char *text, GError **error)
{
    if (g_file_set_contents(path, text, -1, error))
        return TRUE;
    g_prefix_error(error, "fake GPU backend: ");
    return FALSE;
}

/* Returns TRUE once @path holds the number @n and a newline. */
static gboolean
write_number(const char *path, gint64 n, GError **error)
{
    g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT "\n", n);
    return write_text(path, text, error);
}

/* Returns the basename of the target of the link @dir/@name, or NULL. */
static char *
link_base(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *target = g_file_read_link(path, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

/* Removes the tree @path, not following symlinks. Returns TRUE when it is gone. */
static gboolean
remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return errno == ENOENT;
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
        }
        return rmdir(path) == 0;
    }
    return unlink(path) == 0;
}

/* ---- lock and faults ---- */

/* Returns the descriptor holding the tree's lock, or -1 with @error set. */
static int
lock_tree(const VsGpuSysfs *s, GError **error)
{
    g_autofree char *path = g_build_filename(s->root, ".fake-lock", NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    int rc;

    if (fd < 0) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "fake GPU backend: cannot open %s: %s", path, g_strerror(errno));
        return -1;
    }
    do
        rc = flock(fd, LOCK_EX);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "fake GPU backend: cannot lock %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Releases the tree's lock taken by lock_tree(). */
static void
unlock_tree(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* A descriptor holding the tree's lock, released when it goes out of scope. */
typedef int VsFakeLock;
static void
vs_fake_lock_clear(VsFakeLock *fd)
{
    unlock_tree(*fd);
    *fd = -1;
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsFakeLock, vs_fake_lock_clear)

/* Returns FALSE with @error set when ROOT/.fake-fail names @op (the line is consumed), or when
 * that file cannot be read; TRUE otherwise. Called with the lock held. */
static gboolean
no_fault(const VsGpuSysfs *s, const char *op, GError **error)
{
    g_autofree char *path = g_build_filename(s->root, ".fake-fail", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) rest = g_string_new(NULL);
    gboolean hit = FALSE;
    int err;

    text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_LIST_MAX, &err, error);
    if (!text) {
        if (err != ENOENT)
            return FALSE;
        g_clear_error(error);
        return TRUE;
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (!hit && strcmp(g_strstrip(lines[i]), op) == 0)
            hit = TRUE;
        else if (*lines[i])
            g_string_append_printf(rest, "%s\n", lines[i]);
    }
    if (!hit)
        return TRUE;
    if (!write_text(path, rest->str, error))
        return FALSE;
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "fake fault: %s failed (asked by %s)", op,
                path);
    return FALSE;
}

/* ---- mediated devices ---- */

/* Returns the mdevs of the tree: each a GStrv {uuid, parent, type}. */
static GPtrArray *
list_mdevs(const VsGpuSysfs *s)
{
    g_autofree char *dir = g_build_filename(s->root, "bus", "mdev", "devices", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    const char *uuid;

    while (d && (uuid = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, uuid, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *pdir = target ? g_path_get_dirname(target) : NULL;
        g_autofree char *type = link_base(path, "mdev_type");
        char **m;

        if (!g_uuid_string_is_valid(uuid) || !target || !type)
            continue;
        m = g_new0(char *, 4);
        m[0] = g_strdup(uuid);
        m[1] = g_path_get_basename(pdir);
        m[2] = g_steal_pointer(&type);
        g_ptr_array_add(out, m);
    }
    return out;
}

/* Returns how many of @mdevs are on @parent (and of @type, unless NULL). */
static guint
count_mdevs(GPtrArray *mdevs, const char *parent, const char *type)
{
    guint n = 0;

    for (guint i = 0; i < mdevs->len; i++) {
        char **m = g_ptr_array_index(mdevs, i);
        if (strcmp(m[1], parent) == 0 && (!type || strcmp(m[2], type) == 0))
            n++;
    }
    return n;
}

/* Returns the path of @parent's mdev_supported_types directory. */
static char *
types_dir(const VsGpuSysfs *s, const char *parent)
{
    g_autofree char *pdir = vs_gpu_sysfs_device_path(s, parent);
    return g_build_filename(pdir, "mdev_supported_types", NULL);
}

/* Returns TRUE once every type of @parent has its .fake-max (written at first use). */
static gboolean
ensure_max(const VsGpuSysfs *s, const char *parent, GError **error)
{
    g_autofree char *tdir = types_dir(s, parent);
    g_autoptr(GDir) d = g_dir_open(tdir, 0, NULL);
    g_autoptr(GPtrArray) mdevs = NULL;
    const char *type;

    while (d && (type = g_dir_read_name(d))) {
        g_autofree char *dir = g_build_filename(tdir, type, NULL);
        g_autofree char *max = g_build_filename(dir, ".fake-max", NULL);
        g_autofree char *avail = g_build_filename(dir, "available_instances", NULL);
        gint64 n;

        if (exists(max))
            continue;
        if (!read_number(avail, &n, error))
            return FALSE;
        if (!mdevs)
            mdevs = list_mdevs(s);
        if (!write_number(max, n + count_mdevs(mdevs, parent, type), error))
            return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once every type of @parent but @keep (NULL: all) has @n instances available, or
 * its .fake-max when @n is negative. */
static gboolean
set_all_available(const VsGpuSysfs *s, const char *parent, const char *keep, gint64 n,
                  GError **error)
{
    g_autofree char *tdir = types_dir(s, parent);
    g_autoptr(GDir) d = g_dir_open(tdir, 0, NULL);
    const char *type;

    while (d && (type = g_dir_read_name(d))) {
        g_autofree char *dir = g_build_filename(tdir, type, NULL);
        g_autofree char *avail = g_build_filename(dir, "available_instances", NULL);
        g_autofree char *max = g_build_filename(dir, ".fake-max", NULL);
        gint64 value = n;

        if (keep && strcmp(type, keep) == 0)
            continue;
        if (value < 0 && !read_number(max, &value, error))
            return FALSE;
        if (!write_number(avail, value, error))
            return FALSE;
    }
    return TRUE;
}

/* Returns TRUE when @parent is bound to the nvidia driver. */
static gboolean
is_nvidia(const VsGpuSysfs *s, const char *parent)
{
    g_autofree char *driver = vs_gpu_sysfs_pci_driver((void *)s, parent);
    return driver && strcmp(driver, "nvidia") == 0;
}

/* Removes the files of the mdev @uuid of @type on @parent. */
static void
remove_mdev_files(const VsGpuSysfs *s, const char *parent, const char *type, const char *uuid)
{
    g_autofree char *pdir = vs_gpu_sysfs_device_path(s, parent);
    g_autofree char *mdir = g_build_filename(pdir, uuid, NULL);
    g_autofree char *tlink =
        g_build_filename(pdir, "mdev_supported_types", type, "devices", uuid, NULL);
    g_autofree char *blink = g_build_filename(s->root, "bus", "mdev", "devices", uuid, NULL);

    unlink(tlink);
    unlink(blink);
    remove_tree(mdir);
}

/* Returns TRUE once the files of the mdev @uuid exist as the kernel shows them. */
static gboolean
make_mdev_files(const VsGpuSysfs *s, const char *parent, const char *type, const char *uuid,
                GError **error)
{
    g_autofree char *pdir = vs_gpu_sysfs_device_path(s, parent);
    g_autofree char *mdir = g_build_filename(pdir, uuid, NULL);
    g_autofree char *type_link = g_build_filename(mdir, "mdev_type", NULL);
    g_autofree char *type_target = g_build_filename("..", "mdev_supported_types", type, NULL);
    g_autofree char *remove = g_build_filename(mdir, "remove", NULL);
    g_autofree char *devs = g_build_filename(pdir, "mdev_supported_types", type, "devices", NULL);
    g_autofree char *dev_link = g_build_filename(devs, uuid, NULL);
    g_autofree char *dev_target = g_build_filename("..", "..", "..", uuid, NULL);
    g_autofree char *bus = g_build_filename(s->root, "bus", "mdev", "devices", NULL);
    g_autofree char *bus_link = g_build_filename(bus, uuid, NULL);
    g_autofree char *bus_target =
        g_build_filename("..", "..", "..", "bus", "pci", "devices", parent, uuid, NULL);
    const char *failed = NULL;

    if (mkdir(mdir, 0755) != 0)
        failed = mdir;
    else if (symlink(type_target, type_link) != 0)
        failed = type_link;
    else if (g_mkdir_with_parents(devs, 0755) != 0 || symlink(dev_target, dev_link) != 0)
        failed = dev_link;
    else if (g_mkdir_with_parents(bus, 0755) != 0 || symlink(bus_target, bus_link) != 0)
        failed = bus_link;
    if (failed) {
        int err = errno;
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "fake GPU backend: cannot make %s: %s", failed, g_strerror(err));
        remove_mdev_files(s, parent, type, uuid);
        return FALSE;
    }
    if (!write_text(remove, "", error)) {
        remove_mdev_files(s, parent, type, uuid);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once the mdev exists and the counts are as the kernel would show them. */
static gboolean
fake_mdev_create(void *data, const char *parent, const char *type, const char *uuid,
                 gboolean persistent, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(parent, error);
    g_autofree char *tdir = NULL, *avail = NULL, *dev = NULL;
    g_auto(VsFakeLock) lock = -1;
    gint64 n;

    (void)persistent;
    if (!addr || !vs_gpu_sysfs_check_type(type, error) || !vs_gpu_sysfs_check_uuid(uuid, error))
        return FALSE;
    if ((lock = lock_tree(s, error)) < 0 || !no_fault(s, "mdev_create", error))
        return FALSE;
    tdir = g_build_filename(s->root, "bus", "pci", "devices", addr, "mdev_supported_types", type,
                            NULL);
    if (!g_file_test(tdir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN,
                    "%s offers no mdev type %s (no %s): see virt-station gpu probe", addr, type,
                    tdir);
        return FALSE;
    }
    dev = g_build_filename(s->root, "bus", "mdev", "devices", uuid, NULL);
    if (exists(dev)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "mediated device %s exists already (%s)", uuid, dev);
        return FALSE;
    }
    if (!ensure_max(s, addr, error))
        return FALSE;
    avail = g_build_filename(tdir, "available_instances", NULL);
    if (!read_number(avail, &n, error))
        return FALSE;
    if (n <= 0) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "no instance of %s left on %s (%s is 0)", type, addr, avail);
        return FALSE;
    }
    if (!make_mdev_files(s, addr, type, uuid, error))
        return FALSE;
    if (!write_number(avail, n - 1, error) ||
        (is_nvidia(s, addr) && !set_all_available(s, addr, type, 0, error))) {
        remove_mdev_files(s, addr, type, uuid);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once the mdev @uuid is gone and the counts restored. */
static gboolean
fake_mdev_remove(void *data, const char *uuid, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *dev = NULL, *target = NULL, *pdir = NULL, *pbase = NULL, *parent = NULL;
    g_autofree char *type = NULL, *types = NULL, *tdir = NULL, *avail = NULL, *max = NULL;
    g_autoptr(GPtrArray) mdevs = NULL;
    g_auto(VsFakeLock) lock = -1;
    gint64 n, top;

    if (!vs_gpu_sysfs_check_uuid(uuid, error))
        return FALSE;
    if ((lock = lock_tree(s, error)) < 0 || !no_fault(s, "mdev_remove", error))
        return FALSE;
    dev = g_build_filename(s->root, "bus", "mdev", "devices", uuid, NULL);
    if (!exists(dev))
        return TRUE;
    target = g_file_read_link(dev, NULL);
    pdir = target ? g_path_get_dirname(target) : NULL;
    pbase = pdir ? g_path_get_basename(pdir) : NULL;
    parent = pbase ? vs_gpu_sysfs_check_address(pbase, NULL) : NULL;
    type = link_base(dev, "mdev_type");
    if (!parent || !type || !vs_gpu_sysfs_check_type(type, NULL)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "fake GPU backend: %s is not a link to a parent's device with an mdev_type "
                    "link",
                    dev);
        return FALSE;
    }
    if (!ensure_max(s, parent, error))
        return FALSE;
    remove_mdev_files(s, parent, type, uuid);
    if (exists(dev)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "fake GPU backend: cannot remove %s: %s", dev, g_strerror(errno));
        return FALSE;
    }
    types = types_dir(s, parent);
    tdir = g_build_filename(types, type, NULL);
    avail = g_build_filename(tdir, "available_instances", NULL);
    max = g_build_filename(tdir, ".fake-max", NULL);
    if (!read_number(avail, &n, error) || !read_number(max, &top, error) ||
        !write_number(avail, MIN(n + 1, top), error))
        return FALSE;
    mdevs = list_mdevs(s);
    if (is_nvidia(s, parent) && count_mdevs(mdevs, parent, NULL) == 0)
        return set_all_available(s, parent, NULL, -1, error);
    return TRUE;
}

/* ---- vendor-specific VFs ---- */

/* The VFs of one PF, and the union of their creatable types. */
typedef struct {
    char *dir;        /* the PF's directory (the VF's when it has no physfn): holds the state */
    GPtrArray *vfs;   /* canonical VF addresses with nvidia/current_vgpu_type */
    GPtrArray *ids;   /* the full list: type ids, in id order */
    GPtrArray *lines; /* the full list: lines as the kernel wrote them, in the same order */
} VsFakeGroup;

/* Frees @g. */
static void
group_free(VsFakeGroup *g)
{
    g_free(g->dir);
    g_clear_pointer(&g->vfs, g_ptr_array_unref);
    g_clear_pointer(&g->ids, g_ptr_array_unref);
    g_clear_pointer(&g->lines, g_ptr_array_unref);
    g_free(g);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsFakeGroup, group_free)

/* Returns the path of @vf's nvidia/@name. */
static char *
vf_file(const VsGpuSysfs *s, const char *vf, const char *name)
{
    g_autofree char *dir = vs_gpu_sysfs_device_path(s, vf);
    return g_build_filename(dir, "nvidia", name, NULL);
}

/* Adds the type lines of @text ("1097  : NVIDIA H100-4C") to @ids and @lines, each id once. */
static void
add_lines(GPtrArray *ids, GPtrArray *lines, const char *text)
{
    g_auto(GStrv) split = g_strsplit(text, "\n", -1);

    for (guint i = 0; split[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(split[i], ":", 2);
        guint64 id;
        guint at = 0;

        if (g_strv_length(fields) != 2)
            continue;
        g_strstrip(fields[0]);
        if (!g_ascii_string_to_unsigned(fields[0], 10, 1, G_MAXUINT32, &id, NULL))
            continue; /* the header */
        if (g_ptr_array_find_with_equal_func(ids, fields[0], g_str_equal, NULL))
            continue;
        while (at < ids->len && g_ascii_strtoull(g_ptr_array_index(ids, at), NULL, 10) < id)
            at++;
        g_ptr_array_insert(ids, (int)at, g_strdup(fields[0]));
        g_ptr_array_insert(lines, (int)at, g_strchomp(g_strdup(split[i])));
    }
}

/* Returns the ids listed in @vf's creatable_vgpu_types now, or NULL with @error set. */
static GPtrArray *
creatable_ids(const VsGpuSysfs *s, const char *vf, GError **error)
{
    g_autofree char *path = vf_file(s, vf, "creatable_vgpu_types");
    g_autofree char *text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_LIST_MAX, NULL, error);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    if (!text)
        return NULL;
    add_lines(ids, lines, text);
    return g_steal_pointer(&ids);
}

/* Returns the order of two strings in a GPtrArray. */
static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns the group of @vf, its full list made at first use, or NULL with @error set. */
static VsFakeGroup *
group_of(const VsGpuSysfs *s, const char *vf, GError **error)
{
    g_autoptr(VsFakeGroup) g = g_new0(VsFakeGroup, 1);
    g_autofree char *vdir = vs_gpu_sysfs_device_path(s, vf);
    g_autofree char *pf_base = link_base(vdir, "physfn");
    g_autofree char *pf = pf_base ? vs_gpu_sysfs_check_address(pf_base, NULL) : NULL;
    g_autofree char *state = NULL, *text = NULL;

    g->vfs = g_ptr_array_new_with_free_func(g_free);
    g->ids = g_ptr_array_new_with_free_func(g_free);
    g->lines = g_ptr_array_new_with_free_func(g_free);
    if (pf) {
        g_autoptr(GDir) d = NULL;
        const char *name;

        g->dir = vs_gpu_sysfs_device_path(s, pf);
        d = g_dir_open(g->dir, 0, NULL);
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *base =
                g_str_has_prefix(name, "virtfn") ? link_base(g->dir, name) : NULL;
            g_autofree char *addr = base ? vs_gpu_sysfs_check_address(base, NULL) : NULL;
            g_autofree char *cur = addr ? vf_file(s, addr, "current_vgpu_type") : NULL;
            if (cur && g_file_test(cur, G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add(g->vfs, g_steal_pointer(&addr));
        }
        g_ptr_array_sort(g->vfs, compare_strings);
    }
    if (g->vfs->len && !g_ptr_array_find_with_equal_func(g->vfs, vf, g_str_equal, NULL))
        g_ptr_array_add(g->vfs, g_strdup(vf)); /* a VF its PF does not list: one of them */
    if (!g->vfs->len) {
        g_clear_pointer(&g->dir, g_free);
        g->dir = g_build_filename(vdir, "nvidia", NULL);
        g_ptr_array_add(g->vfs, g_strdup(vf));
    }
    state = g_build_filename(g->dir, ".fake-vgpu-types", NULL);
    if (!exists(state)) {
        g_autoptr(GString) all = g_string_new(HEADER "\n");
        for (guint i = 0; i < g->vfs->len; i++) {
            g_autofree char *path = vf_file(s, g->vfs->pdata[i], "creatable_vgpu_types");
            g_autofree char *list = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_LIST_MAX, NULL, NULL);
            if (list)
                add_lines(g->ids, g->lines, list);
        }
        for (guint i = 0; i < g->lines->len; i++)
            g_string_append_printf(all, "%s\n", (char *)g->lines->pdata[i]);
        return write_text(state, all->str, error) ? g_steal_pointer(&g) : NULL;
    }
    text = vs_gpu_sysfs_read(state, VS_GPU_SYSFS_LIST_MAX, NULL, error);
    if (!text)
        return NULL;
    add_lines(g->ids, g->lines, text);
    return g_steal_pointer(&g);
}

/* Returns how many VFs of @g may hold the type at @index of its full list at once. */
static guint
group_max(const VsFakeGroup *g, guint index)
{
    guint64 largest = 0, fb;

    for (guint i = 0; i < g->lines->len; i++) {
        const char *name = strchr(g->lines->pdata[i], ':');
        g_autofree char *clean = g_strstrip(g_strdup(name ? name + 1 : ""));
        largest = MAX(largest, vs_gpu_framebuffer_mib(NULL, clean));
    }
    {
        const char *name = strchr(g->lines->pdata[index], ':');
        g_autofree char *clean = g_strstrip(g_strdup(name ? name + 1 : ""));
        fb = vs_gpu_framebuffer_mib(NULL, clean);
    }
    if (!fb || !largest)
        return g->vfs->len;
    return (guint)MAX(1, MIN((guint64)g->vfs->len, largest / fb));
}

/* Returns TRUE once every VF of @g lists what it may take now (see the top of the file). */
static gboolean
group_write_lists(const VsGpuSysfs *s, const VsFakeGroup *g, GError **error)
{
    g_autoptr(GPtrArray) current = g_ptr_array_new_with_free_func(g_free);
    const char *held = NULL;
    gboolean mixed = FALSE;
    guint count = 0;
    int index = -1;

    for (guint i = 0; i < g->vfs->len; i++) {
        char *cur = vs_gpu_sysfs_vf_get_type((void *)s, g->vfs->pdata[i], error);
        if (!cur)
            return FALSE;
        g_ptr_array_add(current, cur);
        if (strcmp(cur, "0") == 0)
            continue;
        if (held && strcmp(held, cur) != 0)
            mixed = TRUE;
        held = cur;
        count++;
    }
    if (held && !mixed) {
        guint at;
        if (g_ptr_array_find_with_equal_func(g->ids, held, g_str_equal, &at) &&
            count < group_max(g, at))
            index = (int)at;
    }
    for (guint i = 0; i < g->vfs->len; i++) {
        g_autofree char *path = vf_file(s, g->vfs->pdata[i], "creatable_vgpu_types");
        g_autoptr(GString) list = g_string_new(HEADER "\n");

        if (strcmp(current->pdata[i], "0") == 0 && !held)
            for (guint j = 0; j < g->lines->len; j++)
                g_string_append_printf(list, "%s\n", (char *)g->lines->pdata[j]);
        else if (strcmp(current->pdata[i], "0") == 0 && index >= 0)
            g_string_append_printf(list, "%s\n", (char *)g->lines->pdata[index]);
        if (!write_text(path, list->str, error))
            return FALSE;
    }
    return TRUE;
}

/* Returns how many writes of a type the environment says a released VF refuses. */
static gint64
busy_writes(void)
{
    const char *env = g_getenv("VIRT_STATION_FAKE_GPU_BUSY");
    guint64 n;

    if (env && g_ascii_string_to_unsigned(env, 10, 0, 1000, &n, NULL))
        return (gint64)n;
    return 1;
}

/* Returns TRUE once @vf holds @type (released for "0") and the group's lists follow. */
static gboolean
fake_vf_set_type(void *data, const char *vf, const char *type, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(vf, error);
    g_autofree char *path = NULL, *busy = NULL, *cur = NULL;
    g_autoptr(VsFakeGroup) g = NULL;
    g_autoptr(GPtrArray) offered = NULL;
    g_auto(VsFakeLock) lock = -1;
    gint64 left = 0;

    if (!addr || !vs_gpu_sysfs_check_vgpu_id(type, error))
        return FALSE;
    if ((lock = lock_tree(s, error)) < 0 || !no_fault(s, "vf_set_type", error))
        return FALSE;
    path = vs_gpu_sysfs_current_type_path(s, addr, error);
    if (!path || !(g = group_of(s, addr, error)) ||
        !(cur = vs_gpu_sysfs_vf_get_type(s, addr, error)))
        return FALSE;
    busy = vf_file(s, addr, ".fake-busy");
    if (exists(busy) && !read_number(busy, &left, error))
        return FALSE;
    if (strcmp(type, "0") == 0) {
        if (strcmp(cur, "0") == 0)
            return TRUE;
        return write_text(path, "0\n", error) && write_number(busy, busy_writes(), error) &&
               group_write_lists(s, g, error);
    }
    if (strcmp(cur, "0") != 0) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_BUSY,
                    "setting vGPU type %s on VF %s: writing %s failed: %s (it holds type %s: "
                    "release it first)",
                    type, addr, path, g_strerror(EBUSY), cur);
        return FALSE;
    }
    if (left > 0) {
        if (!write_number(busy, left - 1, error))
            return FALSE;
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_BUSY,
                    "setting vGPU type %s on VF %s: writing %s failed: %s", type, addr, path,
                    g_strerror(EBUSY));
        return FALSE;
    }
    if (!(offered = creatable_ids(s, addr, error)))
        return FALSE;
    if (!g_ptr_array_find_with_equal_func(offered, type, g_str_equal, NULL)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED,
                    "setting vGPU type %s on VF %s: writing %s failed: %s (the type is not in "
                    "its nvidia/creatable_vgpu_types now)",
                    type, addr, path, g_strerror(EINVAL));
        return FALSE;
    }
    {
        g_autofree char *text = g_strdup_printf("%s\n", type);
        return write_text(path, text, error) && group_write_lists(s, g, error);
    }
}

/* Returns @vf's current type, unless a fault is asked for. */
static char *
fake_vf_get_type(void *data, const char *vf, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(vf, error);
    g_auto(VsFakeLock) lock = -1;

    if (!addr)
        return NULL;
    if ((lock = lock_tree(s, error)) < 0 || !no_fault(s, "vf_get_type", error))
        return NULL;
    return vs_gpu_sysfs_vf_get_type(s, addr, error);
}

VsGpuOps *
vs_gpu_ops_fake(const char *root)
{
    VsGpuOps *ops = vs_gpu_ops_sysfs(root);

    ops->name = "fake";
    ops->mdev_create = fake_mdev_create;
    ops->mdev_remove = fake_mdev_remove;
    ops->vf_set_type = fake_vf_set_type;
    ops->vf_get_type = fake_vf_get_type;
    return ops;
}

/* ---- fixture copies for tests ---- */

/* Returns TRUE once the regular file @src is copied to @dst. */
static gboolean
copy_file(const char *src, const char *dst, GError **error)
{
    char buf[8192];
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    gboolean ok = in >= 0 && out >= 0;

    while (ok) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        ok = write(out, buf, (size_t)n) == n;
    }
    if (!ok)
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot copy %s to %s: %s", src, dst,
                    g_strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && ok) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot write %s: %s", dst,
                    g_strerror(errno));
        ok = FALSE;
    }
    return ok;
}

/* Returns TRUE once the contents of the directory @src are copied into @dst. */
static gboolean
copy_tree(const char *src, const char *dst, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(src, 0, error);
    const char *name;

    if (!d)
        return FALSE;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *from = g_build_filename(src, name, NULL);
        g_autofree char *to = g_build_filename(dst, name, NULL);
        struct stat st;

        if (lstat(from, &st) != 0) {
            g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot read %s: %s", from,
                        g_strerror(errno));
            return FALSE;
        }
        if (S_ISLNK(st.st_mode)) {
            g_autofree char *target = g_file_read_link(from, error);
            if (!target)
                return FALSE;
            if (symlink(target, to) != 0) {
                g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot make %s: %s", to,
                            g_strerror(errno));
                return FALSE;
            }
        } else if (S_ISDIR(st.st_mode)) {
            if (mkdir(to, 0755) != 0) {
                g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot make %s: %s", to,
                            g_strerror(errno));
                return FALSE;
            }
            if (!copy_tree(from, to, error))
                return FALSE;
        } else if (S_ISREG(st.st_mode) && !copy_file(from, to, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

char *
vs_gpu_fake_tree_copy(const char *fixture, GError **error)
{
    g_autofree char *dir = g_dir_make_tmp("vs-gpu-fake-XXXXXX", error);

    if (!dir)
        return NULL;
    if (!copy_tree(fixture, dir, error)) {
        g_prefix_error(error, "copying the fixture %s: ", fixture);
        remove_tree(dir);
        return NULL;
    }
    return g_steal_pointer(&dir);
}

void
vs_gpu_fake_tree_remove(const char *dir)
{
    if (dir)
        remove_tree(dir);
}
