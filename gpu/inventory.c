/* The inventory, from sysfs.
 *
 * libpci reads the PCI devices (ids, class, subsystem, driver, IOMMU group, NUMA node) with its
 * sysfs method rooted at <root>/bus/pci, and names them from pci.ids. libpci reports fatal
 * problems (an unreadable vendor file) through a callback that must not return: it jumps back
 * here and becomes an error naming the problem. What libpci does not know is read from the same
 * tree directly: physfn links, drm/renderD*, mdev_supported_types and NVIDIA's nvidia/ files.
 * A part of a device that cannot be read (a type without a count) is skipped with a warning. */
#include "gpu/inventory.h"

#include "gpu/hostops-sysfs.h"

#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK(vs - gpu - error - quark, vs_gpu_error)

void
vs_vgpu_type_free(VsVgpuType *t)
{
    g_free(t->id);
    g_free(t->name);
    g_free(t->parent);
    g_free(t);
}

void
vs_gpu_device_free(VsGpuDevice *d)
{
    if (!d)
        return;
    g_free(d->address);
    g_free(d->vendor);
    g_free(d->name);
    g_free(d->driver);
    g_free(d->physfn);
    g_free(d->render_node);
    g_ptr_array_unref(d->vgpu_types);
    g_free(d);
}

static void
mdev_free(VsMdev *m)
{
    g_free(m->uuid);
    g_free(m->type_id);
    g_free(m->parent);
    g_free(m);
}

gboolean
vs_gpu_fail(GError **error, int code, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, VS_GPU_ERROR, code, msg);
    return FALSE;
}

VsGpuInventory *
vs_gpu_inventory_new(void)
{
    VsGpuInventory *inv = g_new0(VsGpuInventory, 1);

    inv->devices = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_device_free);
    inv->mdevs = g_ptr_array_new_with_free_func((GDestroyNotify)mdev_free);
    inv->warnings = g_ptr_array_new_with_free_func(g_free);
    inv->iommu_groups = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                              (GDestroyNotify)g_ptr_array_unref);
    inv->classes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return inv;
}

void
vs_gpu_inventory_note(VsGpuInventory *inv, const VsGpuDevice *d)
{
    g_hash_table_insert(inv->classes, g_strdup(d->address), GUINT_TO_POINTER(d->class_code));
    if (d->iommu_group >= 0) {
        GPtrArray *members =
            g_hash_table_lookup(inv->iommu_groups, GINT_TO_POINTER(d->iommu_group));
        if (!members) {
            members = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(inv->iommu_groups, GINT_TO_POINTER(d->iommu_group), members);
        }
        g_ptr_array_add(members, g_strdup(d->address));
    }
}

void
vs_gpu_inventory_free(VsGpuInventory *inv)
{
    if (!inv)
        return;
    g_ptr_array_unref(inv->devices);
    if (inv->mdevs)
        g_ptr_array_unref(inv->mdevs);
    g_ptr_array_unref(inv->warnings);
    g_hash_table_unref(inv->iommu_groups);
    g_hash_table_unref(inv->classes);
    g_free(inv);
}

const char *
vs_gpu_sysfs_root(const char *given)
{
    const char *env = g_getenv("VIRT_STATION_SYSFS_ROOT");

    if (given && *given)
        return given;
    return env && *env ? env : "/sys";
}

gboolean
vs_gpu_device_is_display(const VsGpuDevice *dev)
{
    return (dev->class_code >> 8) == 0x03;
}

guint64
vs_gpu_framebuffer_mib(const char *description, const char *name)
{
    g_autoptr(GMatchInfo) m = NULL;
    g_autoptr(GRegex) fb = g_regex_new("framebuffer=([0-9]{1,7})([MG])", 0, 0, NULL);
    g_autoptr(GRegex) profile =
        g_regex_new("-([0-9]{1,4})([QCBA])$", G_REGEX_DOLLAR_ENDONLY, 0, NULL);

    if (description && g_regex_match(fb, description, 0, &m)) {
        g_autofree char *n = g_match_info_fetch(m, 1);
        g_autofree char *unit = g_match_info_fetch(m, 2);
        return g_ascii_strtoull(n, NULL, 10) * (unit[0] == 'G' ? 1024 : 1);
    }
    g_clear_pointer(&m, g_match_info_free);
    if (name && g_regex_match(profile, name, 0, &m)) {
        g_autofree char *n = g_match_info_fetch(m, 1);
        return g_ascii_strtoull(n, NULL, 10) * 1024;
    }
    return 0;
}

/* ---- libpci, with its fatal errors turned into GError ---- */

static jmp_buf pci_jump;
static char *pci_message;
static GPtrArray *pci_warnings;

static void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN pci_fatal(char *msg, ...)
{
    va_list ap;

    va_start(ap, msg);
    g_free(pci_message);
    pci_message = g_strdup_vprintf(msg, ap);
    va_end(ap);
    longjmp(pci_jump, 1);
}

static void G_GNUC_PRINTF(1, 2) pci_warn(char *msg, ...)
{
    va_list ap;

    va_start(ap, msg);
    if (pci_warnings)
        g_ptr_array_add(pci_warnings, g_strdup_vprintf(msg, ap));
    va_end(ap);
}

static void G_GNUC_PRINTF(1, 2) pci_debug(char *msg, ...)
{
}

/* ---- files libpci does not read ---- */

/* Returns the first line of @dir/@name, stripped, or NULL when unreadable. */
static char *
read_line(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    /* Bounded, regular files only: a description that is a link to /dev/zero or a FIFO is
     * unreadable, not an allocation without end or a hang. */
    g_autofree char *text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_LIST_MAX, NULL, NULL);

    if (!text)
        return NULL;
    text[strcspn(text, "\n")] = '\0';
    return g_strstrip(g_steal_pointer(&text));
}

static void
read_render_node(VsGpuDevice *d, const char *dir)
{
    g_autofree char *drm = g_build_filename(dir, "drm", NULL);
    g_autoptr(GDir) dd = g_dir_open(drm, 0, NULL);
    const char *name;
    int best = -1;

    while (dd && (name = g_dir_read_name(dd))) {
        guint64 minor;
        if (g_str_has_prefix(name, "renderD") &&
            g_ascii_string_to_unsigned(name + 7, 10, 0, 1023, &minor, NULL) &&
            (best < 0 || (int)minor < best))
            best = (int)minor;
    }
    if (best >= 0)
        d->render_node = g_strdup_printf("/dev/dri/renderD%d", best);
}

/* Flags of a kernel resource (include/linux/ioport.h), as `resource` files print them. */
#define RESOURCE_MEM      0x200UL
#define RESOURCE_PREFETCH 0x2000UL
#define RESOURCE_MEM_64   0x100000UL
/* A `resource` file has one line of three 18-character numbers per resource: 17 for a device
 * with SR-IOV, well under 2 KiB. Anything longer is not one. */
#define RESOURCE_FILE_MAX 4096

guint64
vs_gpu_bar64_bytes_parse(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 7);
    guint64 total = 0;

    /* Lines 0-5 are the BARs; 6 is the expansion ROM, 7-12 a PF's VF BARs (not its own). */
    for (guint i = 0; lines[i] && i < 6; i++) {
        guint64 start, end, flags;
        char *p = lines[i], *q;

        start = g_ascii_strtoull(p, &q, 16);
        if (q == p)
            continue;
        end = g_ascii_strtoull(p = q, &q, 16);
        if (q == p)
            continue;
        flags = g_ascii_strtoull(p = q, &q, 16);
        if (q == p || end <= start)
            continue;
        if ((flags & RESOURCE_MEM) && (flags & RESOURCE_PREFETCH) && (flags & RESOURCE_MEM_64))
            total += end - start + 1;
    }
    return total;
}

/* Sets @d's bar64_bytes from @dir/resource (0 when it is missing or malformed). */
static void
read_bars(VsGpuInventory *inv, VsGpuDevice *d, const char *dir)
{
    g_autofree char *path = g_build_filename(dir, "resource", NULL);
    g_autofree char *text = g_malloc0(RESOURCE_FILE_MAX + 1);
    FILE *f = fopen(path, "re");
    size_t n;

    if (!f)
        return;
    n = fread(text, 1, RESOURCE_FILE_MAX + 1, f);
    fclose(f);
    if (n > RESOURCE_FILE_MAX) {
        g_ptr_array_add(inv->warnings,
                        g_strdup_printf("%s is longer than %d bytes: its BAR sizes are not read",
                                        path, RESOURCE_FILE_MAX));
        return;
    }
    text[n] = '\0';
    d->bar64_bytes = vs_gpu_bar64_bytes_parse(text);
}

guint64
vs_gpu_inventory_bar64_bytes(const VsGpuInventory *inv, const char *address)
{
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        if (g_strcmp0(d->address, address) == 0)
            return d->bar64_bytes;
    }
    return 0;
}

/* Reads a PF's SR-IOV capacity (sriov_totalvfs: a number, bounded), 0 when it has none. */
static void
read_sriov(VsGpuDevice *d, const char *dir)
{
    g_autofree char *total = read_line(dir, "sriov_totalvfs");
    guint64 n;

    if (total && g_ascii_string_to_unsigned(total, 10, 0, 65535, &n, NULL))
        d->sriov_totalvfs = (guint)n;
}

static int
compare_types(gconstpointer a, gconstpointer b)
{
    const VsVgpuType *x = *(VsVgpuType *const *)a, *y = *(VsVgpuType *const *)b;
    return strcmp(x->id, y->id);
}

/* Reads the mdev types of @d when it is an mdev parent: <root>/class/mdev_bus/<address>. */
static void
read_mdev_types(VsGpuInventory *inv, VsGpuDevice *d, const char *root)
{
    g_autofree char *parent = g_build_filename(root, "class", "mdev_bus", d->address, NULL);
    g_autofree char *types = g_build_filename(parent, "mdev_supported_types", NULL);
    g_autoptr(GDir) td = g_dir_open(types, 0, NULL);
    const char *id;

    while (td && (id = g_dir_read_name(td))) {
        g_autofree char *tdir = g_build_filename(types, id, NULL);
        g_autofree char *name = read_line(tdir, "name");
        g_autofree char *desc = read_line(tdir, "description");
        g_autofree char *avail = read_line(tdir, "available_instances");
        guint64 n;
        VsVgpuType *t;

        if (!avail || !g_ascii_string_to_unsigned(avail, 10, 0, 1 << 20, &n, NULL)) {
            g_ptr_array_add(inv->warnings,
                            g_strdup_printf("%s: mdev type %s skipped: available_instances is %s",
                                            d->address, id, avail ? "not a number" : "missing"));
            continue;
        }
        t = g_new0(VsVgpuType, 1);
        t->id = g_strdup(id);
        t->name = g_strdup(name && *name ? name : id);
        t->available = (gint64)n;
        t->framebuffer_mib = vs_gpu_framebuffer_mib(desc, t->name);
        t->parent = g_strdup(d->address);
        t->kind = VS_VGPU_KIND_MDEV;
        g_ptr_array_add(d->vgpu_types, t);
    }
    g_ptr_array_sort(d->vgpu_types, compare_types);
}

/* NVIDIA's vendor-specific vGPU: a free VF (current type 0) offers its creatable types, one
 * instance each; a VF with a type set offers nothing. */
static void
read_vendor_types(VsGpuInventory *inv, VsGpuDevice *d, const char *dir)
{
    g_autofree char *ndir = g_build_filename(dir, "nvidia", NULL);
    g_autofree char *path = g_build_filename(ndir, "creatable_vgpu_types", NULL);
    g_autofree char *current = read_line(ndir, "current_vgpu_type");
    g_autofree char *text = vs_gpu_sysfs_read(path, VS_GPU_SYSFS_LIST_MAX, NULL, NULL);
    g_auto(GStrv) lines = NULL;

    if (!text)
        return;
    if (!current || strcmp(current, "0") != 0)
        return;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], ":", 2);
        guint64 id;
        VsVgpuType *t;

        if (g_strv_length(fields) != 2)
            continue;
        g_strstrip(fields[0]);
        g_strstrip(fields[1]);
        if (!g_ascii_string_to_unsigned(fields[0], 10, 1, G_MAXUINT32, &id, NULL))
            continue; /* the header line "ID : vGPU Name" */
        t = g_new0(VsVgpuType, 1);
        t->id = g_strdup(fields[0]);
        t->name = g_strdup(fields[1]);
        t->available = 1;
        t->framebuffer_mib = vs_gpu_framebuffer_mib(NULL, t->name);
        t->parent = g_strdup(d->address);
        t->kind = VS_VGPU_KIND_VENDOR_VFIO;
        g_ptr_array_add(d->vgpu_types, t);
    }
}

static int
compare_mdevs(gconstpointer a, gconstpointer b)
{
    return strcmp((*(VsMdev *const *)a)->uuid, (*(VsMdev *const *)b)->uuid);
}

/* The mediated devices that exist: <root>/bus/mdev/devices/<uuid>, each a child of its parent
 * with an mdev_type link to the type it was made from. */
static void
read_mdevs(VsGpuInventory *inv, const char *root)
{
    g_autofree char *dir = g_build_filename(root, "bus", "mdev", "devices", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *uuid;

    while (d && (uuid = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, uuid, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *type_link = g_build_filename(path, "mdev_type", NULL);
        g_autofree char *type = g_file_read_link(type_link, NULL);
        g_autofree char *parent_dir = target ? g_path_get_dirname(target) : NULL;
        VsMdev *m;

        if (!g_uuid_string_is_valid(uuid) || !target || !type) {
            if (strcmp(uuid, ".keep") != 0)
                g_ptr_array_add(inv->warnings,
                                g_strdup_printf("mediated device %s skipped: not a UUID with a "
                                                "parent and an mdev_type link",
                                                uuid));
            continue;
        }
        m = g_new0(VsMdev, 1);
        m->uuid = g_strdup(uuid);
        m->type_id = g_path_get_basename(type);
        m->parent = g_path_get_basename(parent_dir);
        g_ptr_array_add(inv->mdevs, m);
    }
    g_ptr_array_sort(inv->mdevs, compare_mdevs);
}

static int
compare_devices(gconstpointer a, gconstpointer b)
{
    const VsGpuDevice *x = *(VsGpuDevice *const *)a, *y = *(VsGpuDevice *const *)b;
    return strcmp(x->address, y->address);
}

/* Returns the vendor's name (@device < 0) or the device's from pci.ids, or NULL. */
static char *
lookup(struct pci_access *acc, int vendor, int device)
{
    char buf[256];
    char *name = device < 0
                     ? pci_lookup_name(acc, buf, sizeof(buf),
                                       PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS, vendor)
                     : pci_lookup_name(acc, buf, sizeof(buf),
                                       PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS, vendor, device);
    return name ? g_strdup(name) : NULL;
}

/* Adds every PCI device libpci found to @all, notes them in @inv, and collects display slots.
 * Names come later, for the devices kept: looking one up loads all of pci.ids. */
static void
collect(struct pci_access *acc, VsGpuInventory *inv, GPtrArray *all, GHashTable *slots)
{
    for (struct pci_dev *p = acc->devices; p; p = p->next) {
        VsGpuDevice *d;
        char *s;
        pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_SUBSYS | PCI_FILL_DRIVER |
                             PCI_FILL_IOMMU_GROUP | PCI_FILL_NUMA_NODE);
        /* No device has vendor 0000 or ffff: its vendor file held no number. */
        if (p->vendor_id == 0x0000 || p->vendor_id == 0xffff) {
            g_ptr_array_add(inv->warnings,
                            g_strdup_printf("%04x:%02x:%02x.%x skipped: its vendor id reads as "
                                            "%04x (the vendor file holds no valid id)",
                                            p->domain, p->bus, p->dev, p->func, p->vendor_id));
            continue;
        }
        d = g_new0(VsGpuDevice, 1);
        d->address = g_strdup_printf("%04x:%02x:%02x.%x", p->domain, p->bus, p->dev, p->func);
        d->vgpu_types = g_ptr_array_new_with_free_func((GDestroyNotify)vs_vgpu_type_free);
        g_ptr_array_add(all, d);
        d->vendor_id = p->vendor_id;
        d->device_id = p->device_id;
        d->class_code = p->device_class;
        d->subsys_vendor_id = p->subsys_vendor_id;
        d->subsys_device_id = p->subsys_id;
        s = pci_get_string_property(p, PCI_FILL_DRIVER);
        d->driver = s ? g_path_get_basename(s) : NULL;
        s = pci_get_string_property(p, PCI_FILL_IOMMU_GROUP);
        d->iommu_group = s ? atoi(s) : -1;
        d->numa_node = (p->known_fields & PCI_FILL_NUMA_NODE) ? p->numa_node : -1;
        vs_gpu_inventory_note(inv, d);
        if (vs_gpu_device_is_display(d))
            g_hash_table_add(slots, vs_pci_slot_of(d->address));
    }
}

/* Runs libpci over @bus. Returns FALSE with @error set when libpci gave up (its fatal errors
 * jump back here). */
static gboolean
scan_pci(const char *bus, VsGpuInventory *inv, GPtrArray *all, GHashTable *slots, GError **error)
{
    struct pci_access *volatile acc = NULL;

    pci_warnings = inv->warnings;
    if (setjmp(pci_jump)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED, "reading PCI devices under %s: %s",
                    bus, pci_message ? pci_message : "libpci failed");
        g_clear_pointer(&pci_message, g_free);
        pci_warnings = NULL;
        return FALSE;
    }
    acc = pci_alloc();
    acc->error = pci_fatal;
    acc->warning = pci_warn;
    acc->debug = pci_debug;
    acc->method = PCI_ACCESS_SYS_BUS_PCI;
    pci_set_param(acc, "sysfs.path", (char *)bus);
    pci_init(acc);
    pci_scan_bus(acc);
    collect(acc, inv, all, slots);
    for (guint i = 0; i < all->len; i++) {
        VsGpuDevice *d = all->pdata[i];
        g_autofree char *slot = vs_pci_slot_of(d->address);
        if (!g_hash_table_contains(slots, slot))
            continue;
        d->vendor = lookup(acc, (int)d->vendor_id, -1);
        d->name = lookup(acc, (int)d->vendor_id, (int)d->device_id);
    }
    pci_cleanup(acc);
    pci_warnings = NULL;
    return TRUE;
}

VsGpuInventory *
vs_gpu_inventory_read(const char *root, GError **error)
{
    g_autofree char *bus = g_build_filename(root, "bus", "pci", NULL);
    g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_new();
    g_autoptr(GHashTable) slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify)vs_gpu_device_free);

    if (!g_file_test(bus, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, VS_GPU_ERROR, VS_GPU_ERROR_FAILED,
                    "%s does not exist: no PCI bus to read", bus);
        return NULL;
    }
    if (!scan_pci(bus, inv, all, slots, error))
        return NULL;

    /* Display devices and the other functions of the same card (audio, USB-C). */
    for (guint i = 0; i < all->len; i++) {
        VsGpuDevice *d = all->pdata[i];
        g_autofree char *slot = vs_pci_slot_of(d->address);
        g_autofree char *dir = g_build_filename(bus, "devices", d->address, NULL);
        g_autofree char *physfn = g_build_filename(dir, "physfn", NULL);

        if (!g_hash_table_contains(slots, slot))
            continue;
        if (g_file_test(physfn, G_FILE_TEST_IS_SYMLINK)) {
            g_autofree char *target = g_file_read_link(physfn, NULL);
            d->physfn = target ? g_path_get_basename(target) : NULL;
        }
        read_sriov(d, dir);
        read_render_node(d, dir);
        read_bars(inv, d, dir);
        read_mdev_types(inv, d, root);
        read_vendor_types(inv, d, dir);
        g_ptr_array_add(inv->devices, g_steal_pointer(&all->pdata[i]));
    }
    g_ptr_array_sort(inv->devices, compare_devices);
    read_mdevs(inv, root);
    return g_steal_pointer(&inv);
}

VsGpuInventory *
vs_gpu_host_inventory(gboolean from_libvirt, const char *sysfs_root,
                      VsNodedevInventoryFunc nodedevs, void *data, GError **error)
{
    if (!from_libvirt)
        return vs_gpu_inventory_read(vs_gpu_sysfs_root(sysfs_root), error);
    g_return_val_if_fail(nodedevs != NULL, NULL);
    return nodedevs(data, error);
}
