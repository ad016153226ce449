/* The sysfs backend: what root does by hand on a local host. An mdev is made by writing its
 * UUID to the type's `create` (the kernel makes /sys/bus/mdev/devices/UUID before the write
 * returns) and removed by writing 1 to its `remove`; NVIDIA's vendor-specific VFs take a vGPU
 * type id written to nvidia/current_vgpu_type. Every name that goes into a path is checked
 * first (canonical PCI address, UUID, type id), so no input reaches outside the tree. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "gpu/hostops-sysfs.h"
#include "gpu/plan.h"

char *
vs_gpu_sysfs_read(const char *path, gsize max, int *ret_errno, GError **error)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    char chunk[4096];
    struct stat st;
    /* O_NONBLOCK: a FIFO planted in a tree does not hang the open; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

    if (ret_errno)
        *ret_errno = 0;
    if (fd < 0) {
        int err = errno;
        if (ret_errno)
            *ret_errno = err;
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot open %s: %s", path,
                    g_strerror(err));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        /* sysfs attributes are regular files: not /dev/zero, a FIFO or a folder. */
        close(fd);
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "%s is not a regular file: not a sysfs attribute", path);
        return NULL;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            if (ret_errno)
                *ret_errno = err;
            g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "cannot read %s: %s", path,
                        g_strerror(err));
            return NULL;
        }
        if (n == 0)
            break;
        g_string_append_len(buf, chunk, n);
        if (buf->len > max) {
            close(fd);
            g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                        "%s is longer than %" G_GSIZE_FORMAT " bytes: not a sysfs attribute", path,
                        max);
            return NULL;
        }
    }
    close(fd);
    return g_string_free(g_steal_pointer(&buf), FALSE);
}

int
vs_gpu_sysfs_write(const char *path, const char *text)
{
    size_t len = strlen(text);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return errno;
    do
        n = write(fd, text, len);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len) {
        int err = n < 0 ? errno : EIO;
        close(fd);
        return err;
    }
    return close(fd) < 0 ? errno : 0;
}

char *
vs_gpu_sysfs_check_address(const char *address, GError **error)
{
    guint domain, bus, slot, function;

    if (!address || !vs_pci_address_parse(address, &domain, &bus, &slot, &function)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                    "\"%s\" is not a PCI address: give one as dddd:bb:dd.f (see lspci -D)",
                    address ? address : "");
        return NULL;
    }
    return g_strdup_printf("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

gboolean
vs_gpu_sysfs_check_uuid(const char *uuid, GError **error)
{
    if (uuid && g_uuid_string_is_valid(uuid))
        return TRUE;
    g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                "\"%s\" is not a UUID: a mediated device is named by one (uuidgen makes one)",
                uuid ? uuid : "");
    return FALSE;
}

gboolean
vs_gpu_sysfs_check_type(const char *type, GError **error)
{
    gboolean ok = type && *type && strcmp(type, ".") != 0 && strcmp(type, "..") != 0 &&
                  strlen(type) < VS_GPU_SYSFS_SHORT_MAX;

    for (const char *p = type; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '_' || *p == '.' || *p == '-';
    if (!ok)
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                    "\"%s\" is not an mdev type id: ids are letters, digits, '_', '.' and '-' "
                    "(\"nvidia-222\"; see virt-station gpu probe)",
                    type ? type : "");
    return ok;
}

gboolean
vs_gpu_sysfs_check_vgpu_id(const char *id, GError **error)
{
    gboolean ok = id && *id && strlen(id) <= 10;

    for (const char *p = id; ok && *p; p++)
        ok = g_ascii_isdigit(*p);
    if (!ok)
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_INVALID,
                    "\"%s\" is not a vendor-specific vGPU type id: those are numbers (\"1097\"; "
                    "0 releases the VF)",
                    id ? id : "");
    return ok;
}

char *
vs_gpu_sysfs_device_path(const VsGpuSysfs *s, const char *address)
{
    return g_build_filename(s->root, "bus", "pci", "devices", address, NULL);
}

/* Returns the path of the mediated device @uuid (already checked). */
static char *
mdev_path(const VsGpuSysfs *s, const char *uuid)
{
    return g_build_filename(s->root, "bus", "mdev", "devices", uuid, NULL);
}

/* Returns FALSE with @error set after a failed write of @path (@err is its errno), naming
 * what it was for: BUSY for EBUSY; REFUSED for the kernel's refusals of the request itself
 * (EEXIST: the UUID is taken; EUSERS, EDQUOT, ENOSPC: no instance left; EINVAL: a type the VF
 * does not offer now); FAILED otherwise. */
static gboolean
write_failed(const char *path, int err, const char *what, GError **error)
{
    int code = VS_GPU_ERROR_FAILED;

    if (err == EBUSY)
        code = VS_GPU_ERROR_BUSY;
    else if (err == EEXIST || err == EUSERS || err == EDQUOT || err == ENOSPC || err == EINVAL)
        code = VS_GPU_ERROR_REFUSED;
    g_set_error(error, VS_GPU_ERROR, code, "%s: writing %s failed: %s", what, path,
                g_strerror(err));
    return FALSE;
}

/* Returns TRUE once the mdev exists. `persistent` is ignored: an mdev made through sysfs
 * vanishes at reboot, and `start` recreates it. */
static gboolean
sysfs_mdev_create(void *data, const char *parent, const char *type, const char *uuid,
                  gboolean persistent, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(parent, error);
    g_autofree char *tdir = NULL, *create = NULL, *dev = NULL, *what = NULL;
    int err;

    (void)persistent;
    if (!addr || !vs_gpu_sysfs_check_type(type, error) || !vs_gpu_sysfs_check_uuid(uuid, error))
        return FALSE;
    tdir = g_build_filename(s->root, "bus", "pci", "devices", addr, "mdev_supported_types", type,
                            NULL);
    if (!g_file_test(tdir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN,
                    "%s offers no mdev type %s (no %s): see virt-station gpu probe", addr, type,
                    tdir);
        return FALSE;
    }
    create = g_build_filename(tdir, "create", NULL);
    what = g_strdup_printf("creating mediated device %s of type %s on %s", uuid, type, addr);
    err = vs_gpu_sysfs_write(create, uuid);
    if (err != 0)
        return write_failed(create, err, what, error);
    dev = mdev_path(s, uuid);
    if (!g_file_test(dev, G_FILE_TEST_EXISTS)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "%s: the kernel accepted the write to %s but %s does not exist", what, create,
                    dev);
        return FALSE;
    }
    return TRUE;
}

/* Returns TRUE once the mdev @uuid is gone (or was never there). */
static gboolean
sysfs_mdev_remove(void *data, const char *uuid, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *dev = NULL, *remove = NULL, *what = NULL;
    int err;

    if (!vs_gpu_sysfs_check_uuid(uuid, error))
        return FALSE;
    dev = mdev_path(s, uuid);
    if (!g_file_test(dev, G_FILE_TEST_EXISTS))
        return TRUE;
    remove = g_build_filename(dev, "remove", NULL);
    what = g_strdup_printf("removing mediated device %s", uuid);
    err = vs_gpu_sysfs_write(remove, "1");
    if (err == ENOENT && !g_file_test(dev, G_FILE_TEST_EXISTS))
        return TRUE; /* removed meanwhile */
    if (err != 0)
        return write_failed(remove, err, what, error);
    return TRUE;
}

gboolean
vs_gpu_sysfs_mdev_exists(void *data, const char *uuid)
{
    VsGpuSysfs *s = data;
    g_autofree char *dev = NULL;

    if (!uuid || !g_uuid_string_is_valid(uuid))
        return FALSE;
    dev = mdev_path(s, uuid);
    return g_file_test(dev, G_FILE_TEST_EXISTS);
}

char *
vs_gpu_sysfs_current_type_path(const VsGpuSysfs *s, const char *vf, GError **error)
{
    g_autofree char *dir = vs_gpu_sysfs_device_path(s, vf);
    g_autofree char *path = g_build_filename(dir, "nvidia", "current_vgpu_type", NULL);

    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNSUPPORTED,
                    "VF %s has no nvidia/current_vgpu_type: not a vendor-specific vGPU VF "
                    "(see virt-station gpu probe)",
                    vf);
        return NULL;
    }
    return g_steal_pointer(&path);
}

/* Returns TRUE once @vf's current_vgpu_type holds @type. */
static gboolean
sysfs_vf_set_type(void *data, const char *vf, const char *type, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(vf, error);
    g_autofree char *path = NULL, *what = NULL;
    int err;

    if (!addr || !vs_gpu_sysfs_check_vgpu_id(type, error))
        return FALSE;
    path = vs_gpu_sysfs_current_type_path(s, addr, error);
    if (!path)
        return FALSE;
    what = strcmp(type, "0") == 0 ? g_strdup_printf("releasing the vGPU type of VF %s", addr)
                                  : g_strdup_printf("setting vGPU type %s on VF %s", type, addr);
    err = vs_gpu_sysfs_write(path, type);
    if (err != 0)
        return write_failed(path, err, what, error);
    return TRUE;
}

char *
vs_gpu_sysfs_vf_get_type(void *data, const char *vf, GError **error)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(vf, error);
    g_autofree char *path = NULL, *text = NULL;

    if (!addr)
        return NULL;
    path = vs_gpu_sysfs_current_type_path(s, addr, error);
    if (!path)
        return NULL;
    text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_SHORT_MAX, NULL, error);
    if (!text)
        return NULL;
    g_strstrip(text);
    if (!vs_gpu_sysfs_check_vgpu_id(text, NULL)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "%s holds \"%s\", not a vGPU type id",
                    path, text);
        return NULL;
    }
    return g_steal_pointer(&text);
}

char *
vs_gpu_sysfs_pci_driver(void *data, const char *address)
{
    VsGpuSysfs *s = data;
    g_autofree char *addr = vs_gpu_sysfs_check_address(address, NULL);
    g_autofree char *dir = NULL, *link = NULL, *target = NULL;

    if (!addr)
        return NULL;
    dir = vs_gpu_sysfs_device_path(s, addr);
    link = g_build_filename(dir, "driver", NULL);
    target = g_file_read_link(link, NULL);
    return target ? g_path_get_basename(target) : NULL;
}

VsGpuInventory *
vs_gpu_sysfs_inventory(void *data, GError **error)
{
    VsGpuSysfs *s = data;
    return vs_gpu_inventory_read(s->root, error);
}

void
vs_gpu_sysfs_free(void *data)
{
    VsGpuSysfs *s = data;

    if (!s)
        return;
    g_free(s->root);
    g_free(s);
}

VsGpuOps *
vs_gpu_ops_sysfs(const char *root)
{
    VsGpuOps *ops = g_new0(VsGpuOps, 1);
    VsGpuSysfs *s = g_new0(VsGpuSysfs, 1);

    s->root = g_strdup(root ? root : "/sys");
    ops->name = "sysfs";
    ops->mdev_create = sysfs_mdev_create;
    ops->mdev_remove = sysfs_mdev_remove;
    ops->mdev_exists = vs_gpu_sysfs_mdev_exists;
    ops->vf_set_type = sysfs_vf_set_type;
    ops->vf_get_type = vs_gpu_sysfs_vf_get_type;
    ops->pci_driver = vs_gpu_sysfs_pci_driver;
    ops->inventory = vs_gpu_sysfs_inventory;
    ops->free = vs_gpu_sysfs_free;
    ops->data = s;
    return ops;
}
