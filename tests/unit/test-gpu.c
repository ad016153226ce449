/* GPU inventory and selection on the fake sysfs hosts of tests/data/sysfs (made by
 * make-fixtures.py; lspci reads the same trees in the conformance suite). Each host's
 * `gpu probe --json` output is a golden file; explicit modes and their errors are asserted. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include "gpu/hostops.h"

#include "tests/bed/golden.h"
#include "provisioner/gpujson.h"
#include "gpu/nodedev.h"
#include "gpu/select.h"

#define QEMU_7_2 7002000UL

static const char *const hosts[] = {
    "rhel-t4",          "a100-sriov", "h100-vendor", "laptop-intel", "desktop-amd",
    "desktop-geforce",  "bmc-only",   "two-vendors", "shared-group", "malformed",
    "malformed-vendor", "h100-guest", "h200-guest",
};

static VsGpuInventory *
inventory(const char *host)
{
    g_autofree char *rel = g_build_filename("sysfs", host, NULL);
    g_autofree char *root = vs_golden_path(rel);
    g_autoptr(GError) error = NULL;
    VsGpuInventory *inv = vs_gpu_inventory_read(root, &error);

    g_assert_no_error(error);
    g_assert_nonnull(inv);
    return inv;
}

static VsGpuPlan *
plan_for(const VsGpuInventory *inv, const char *gpu, guint64 memory_mib, unsigned long qemu,
         GError **error)
{
    g_auto(VsGpuRequest) req = {0};

    if (!vs_gpu_request_parse(gpu, memory_mib, &req, error))
        return NULL;
    return vs_gpu_select(inv, &req, qemu, error);
}

static void
test_probe_golden(gconstpointer data)
{
    const char *host = data;
    g_autoptr(VsGpuInventory) inv = inventory(host);
    g_autoptr(GError) error = NULL;
    /* What `gpu probe` shows: the plan `up --gpu auto` makes. */
    g_autoptr(VsGpuPlan) plan =
        vs_gpu_plan_request("auto", 4096, inv, NULL, QEMU_7_2, VS_GPU_WHERE_LOCAL, &error);
    g_autofree char *json = NULL;
    g_autofree char *golden = g_strdup_printf("sysfs/%s.json", host);

    g_assert_no_error(error);
    json = vs_gpujson_probe(inv, plan, NULL);
    vs_golden_check(golden, json, strlen(json));
}

static void
test_auto_choices(void)
{
    struct {
        const char *host;
        guint64 memory;
        unsigned long qemu;
        const char *mode, *device, *type, *render;
    } cases[] = {
        /* The smallest type of at least 4 GiB, Q before C and A at equal size. */
        {"rhel-t4", 4096, QEMU_7_2, "vgpu", "0000:3b:00.0", "nvidia-224", NULL},
        {"rhel-t4", 1024, QEMU_7_2, "vgpu", "0000:3b:00.0", "nvidia-222", NULL},
        /* 16 GiB: T4-16Q has no instance left, so the largest available, T4-8Q. */
        {"rhel-t4", 16384, QEMU_7_2, "vgpu", "0000:3b:00.0", "nvidia-225", NULL},
        /* Ampere: the first VF with an instance. */
        {"a100-sriov", 4096, QEMU_7_2, "vgpu", "0000:41:00.5", "nvidia-471", NULL},
        /* Hopper vendor-specific: the free VF, H100-4C is the smallest of at least 4 GiB. */
        {"h100-vendor", 4096, QEMU_7_2, "vgpu", "0000:c1:01.3", "1097", NULL},
        {"h100-vendor", 10240, QEMU_7_2, "vgpu", "0000:c1:01.3", "1101", NULL},
        {"laptop-intel", 4096, QEMU_7_2, "virgl", "0000:00:02.0", NULL, "/dev/dri/renderD128"},
        /* QEMU 6.0 has no virtio-vga-gl. */
        {"laptop-intel", 4096, 6000000, "none", NULL, NULL, NULL},
        {"desktop-amd", 4096, QEMU_7_2, "virgl", "0000:03:00.0", NULL, "/dev/dri/renderD128"},
        /* NVIDIA's proprietary driver is not chosen for virgl by auto. */
        {"desktop-geforce", 4096, QEMU_7_2, "none", NULL, NULL, NULL},
        {"bmc-only", 4096, QEMU_7_2, "none", NULL, NULL, NULL},
        /* A real VM with an H100 passed through to it: nothing for a workstation. */
        {"h100-guest", 4096, QEMU_7_2, "none", NULL, NULL, NULL},
        {"h200-guest", 4096, QEMU_7_2, "none", NULL, NULL, NULL},
        /* vGPU wins over virgl. */
        {"two-vendors", 4096, QEMU_7_2, "vgpu", "0000:65:00.0", "nvidia-224", NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(VsGpuInventory) inv = inventory(cases[i].host);
        g_autoptr(GError) error = NULL;
        g_autoptr(VsGpuPlan) plan = plan_for(inv, "auto", cases[i].memory, cases[i].qemu, &error);
        g_assert_no_error(error);
        g_test_message("%s %" G_GUINT64_FORMAT, cases[i].host, cases[i].memory);
        g_assert_cmpstr(vs_gpu_mode_to_string(plan->mode), ==, cases[i].mode);
        g_assert_cmpstr(plan->device, ==, cases[i].device);
        g_assert_cmpstr(plan->vgpu_type, ==, cases[i].type);
        g_assert_cmpstr(plan->render_node, ==, cases[i].render);
        g_assert_cmpuint(plan->reasons->len, >=, 1);
        /* Auto never takes a whole GPU. */
        g_assert_cmpint(plan->mode, !=, VS_GPU_MODE_PASSTHROUGH);
    }
}

static void
test_explicit_modes(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuInventory) t4 = inventory("rhel-t4");
    g_autoptr(VsGpuInventory) h100 = inventory("h100-vendor");
    g_autoptr(VsGpuInventory) geforce = inventory("desktop-geforce");
    g_autoptr(VsGpuInventory) bmc = inventory("bmc-only");
    g_autoptr(VsGpuInventory) shared = inventory("shared-group");

    g_autoptr(VsGpuPlan) by_name = plan_for(t4, "vgpu:GRID T4-8Q", 4096, QEMU_7_2, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(by_name->vgpu_type, ==, "nvidia-225");
    g_assert_cmpint(by_name->vgpu_kind, ==, VS_VGPU_KIND_MDEV);
    g_autoptr(VsGpuPlan) by_id = plan_for(h100, "vgpu:1099", 4096, QEMU_7_2, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(by_id->device, ==, "0000:c1:01.3");
    g_assert_cmpint(by_id->vgpu_kind, ==, VS_VGPU_KIND_VENDOR_VFIO);

    /* A type whose instances are all taken is still planned: the claim under the GPU lock
     * refuses it with who holds them (gpu/attach.c), or takes one given back meanwhile. */
    g_autoptr(VsGpuPlan) full = plan_for(t4, "vgpu:nvidia-226", 4096, QEMU_7_2, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(full->vgpu_type, ==, "nvidia-226");
    g_assert_cmpstr(full->reasons->pdata[0], ==,
                    "vGPU GRID T4-16Q (nvidia-226, 16384 MiB) on 0000:3b:00.0: no instance is "
                    "free now: the GPU lock decides when the workstation is made");
    g_assert_null(plan_for(t4, "vgpu:nvidia-999", 4096, QEMU_7_2, &error));
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
    g_assert_true(g_str_has_prefix(error->message,
                                   "vGPU type nvidia-999: no device offers it; available: "
                                   "GRID T4-1Q (nvidia-222) on 0000:3b:00.0, "));
    g_clear_error(&error);
    g_assert_null(plan_for(bmc, "vgpu", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==, "no vGPU instance is available on this host");
    g_clear_error(&error);

    /* virgl asked for on NVIDIA's driver: allowed through egl-headless, and said why. */
    g_autoptr(VsGpuPlan) virgl = plan_for(geforce, "virgl", 4096, QEMU_7_2, &error);
    g_assert_no_error(error);
    g_assert_true(virgl->egl_headless);
    g_assert_cmpstr(virgl->render_node, ==, "/dev/dri/renderD128");
    g_assert_nonnull(strstr(virgl->reasons->pdata[0], "not Mesa"));
    g_assert_null(plan_for(bmc, "virgl", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==, "--gpu virgl: this host has no render node");
    g_clear_error(&error);

    /* Passthrough takes every function of the card; a foreign device in the group stops it. */
    g_autoptr(VsGpuPlan) pass = plan_for(geforce, "passthrough:01:00.0", 4096, QEMU_7_2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(pass->functions->len, ==, 2);
    g_assert_cmpstr(pass->functions->pdata[0], ==, "0000:01:00.0");
    g_assert_cmpstr(pass->functions->pdata[1], ==, "0000:01:00.1");
    g_assert_null(plan_for(shared, "passthrough:0000:01:00.0", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==,
                    "--gpu passthrough:0000:01:00.0: IOMMU group 2 also holds 0000:02:00.0 (class "
                    "0c03), which would have to go along; passthrough needs a group of this "
                    "device's functions only");
    g_clear_error(&error);
    g_assert_null(plan_for(geforce, "passthrough:0000:09:00.0", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==, "--gpu passthrough:0000:09:00.0: no GPU at that address");
    g_clear_error(&error);
    /* The captured H100 guest has no IOMMU groups at all. */
    g_autoptr(VsGpuInventory) guest = inventory("h100-guest");
    g_assert_null(plan_for(guest, "passthrough:0000:00:06.0", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==,
                    "--gpu passthrough:0000:00:06.0: the device is in no IOMMU group (is the "
                    "IOMMU on?)");
    g_clear_error(&error);
    g_autoptr(VsGpuInventory) h200 = inventory("h200-guest");
    g_assert_null(plan_for(h200, "passthrough:0000:00:06.0", 4096, QEMU_7_2, &error));
    g_assert_cmpstr(error->message, ==,
                    "--gpu passthrough:0000:00:06.0: the device is in no IOMMU group (is the "
                    "IOMMU on?)");
    g_clear_error(&error);

    const char *bad[] = {"vgpus", "passthrough", "passthrough:zz", "none:x", "vgpu:"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_auto(VsGpuRequest) req = {0};
        g_autoptr(GError) e = NULL;
        g_assert_false(vs_gpu_request_parse(bad[i], 4096, &req, &e));
        g_assert_error(e, VS_GPU_ERROR, VS_GPU_ERROR_INVALID);
    }
}

static void
test_malformed(void)
{
    g_autoptr(VsGpuInventory) inv = inventory("malformed");
    g_autoptr(VsGpuInventory) vendor = inventory("malformed-vendor");
    g_autoptr(GError) error = NULL;

    /* Types that cannot be read are skipped, each with its reason; the devices remain. */
    g_assert_cmpuint(inv->devices->len, ==, 2);
    g_assert_cmpuint(inv->warnings->len, ==, 2);
    g_assert_cmpuint(((VsGpuDevice *)inv->devices->pdata[0])->vgpu_types->len, ==, 0);
    g_assert_cmpuint(vendor->devices->len, ==, 0);
    g_assert_cmpstr(vendor->warnings->pdata[0], ==,
                    "0000:07:00.0 skipped: its vendor id reads as 0000 (the vendor file holds no "
                    "valid id)");
    g_assert_null(vs_gpu_inventory_read("/nonexistent", &error));
    g_assert_cmpstr(error->message, ==, "/nonexistent/bus/pci does not exist: no PCI bus to read");
}

/* The same hosts described by libvirt node-device XML give the same inventory and plan. */
static void
test_nodedev(void)
{
    const char *cases[] = {"rhel-t4", "laptop-intel"};

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *rel = g_build_filename("nodedev", cases[i], NULL);
        g_autofree char *dir = vs_golden_path(rel);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GPtrArray) xmls = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
            g_autofree char *file = g_build_filename(rel, name, NULL);
            g_autoptr(GBytes) data = vs_golden_read(file);
            g_ptr_array_add(xmls, g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data)));
        }
        g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_from_nodedevs(xmls, &error);
        g_assert_no_error(error);
        g_autoptr(VsGpuPlan) plan =
            vs_gpu_plan_request("auto", 4096, inv, NULL, QEMU_7_2, VS_GPU_WHERE_LOCAL, &error);
        g_assert_no_error(error);
        g_autofree char *json = vs_gpujson_probe(inv, plan, NULL);
        g_autofree char *golden = g_strdup_printf("sysfs/%s.json", cases[i]);
        g_autoptr(GBytes) expected = vs_golden_read(golden);
        g_assert_cmpstr(json, ==, g_bytes_get_data(expected, NULL));
    }

    /* A document that does not parse is an error, not a crash. */
    g_autoptr(GPtrArray) broken = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_ptr_array_add(broken, g_strdup("<device><name>pci_0000_01_00_0</name"));
    g_assert_null(vs_gpu_inventory_from_nodedevs(broken, &error));
    g_assert_cmpstr(error->message, ==,
                    "libvirt gave node device XML that does not parse (document 1)");
}

static void
test_existing_mdevs(void)
{
    g_autoptr(VsGpuInventory) t4 = inventory("rhel-t4");
    g_autoptr(VsGpuInventory) amd = inventory("desktop-amd");
    VsMdev *m;

    g_assert_cmpuint(t4->mdevs->len, ==, 1);
    m = t4->mdevs->pdata[0];
    g_assert_cmpstr(m->uuid, ==, "4b20d080-1b54-4048-85b3-a6a62d165c01");
    g_assert_cmpstr(m->type_id, ==, "nvidia-225");
    g_assert_cmpstr(m->parent, ==, "0000:3b:00.0");
    g_assert_cmpuint(amd->mdevs->len, ==, 0);
}

static void
test_framebuffer(void)
{
    g_assert_cmpuint(vs_gpu_framebuffer_mib("num_heads=4, framebuffer=2048M, max_instance=8", NULL),
                     ==, 2048);
    g_assert_cmpuint(vs_gpu_framebuffer_mib("framebuffer=24G", NULL), ==, 24576);
    g_assert_cmpuint(vs_gpu_framebuffer_mib(NULL, "NVIDIA L4-4Q"), ==, 4096);
    g_assert_cmpuint(vs_gpu_framebuffer_mib("framebuffer=garbage", "GRID T4-2Q"), ==, 2048);
    g_assert_cmpuint(vs_gpu_framebuffer_mib(NULL, "no profile"), ==, 0);
}

static void
test_all_data_used(void)
{
    /* Every host has its golden JSON; the trees themselves are read by the tests above. */
    for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
        g_autofree char *golden = g_strdup_printf("sysfs/%s.json", hosts[i]);
        g_autofree char *path = vs_golden_path(golden);
        g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    }
    g_autofree char *dir = vs_golden_path("sysfs");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    guint count = 0;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".json"))
            count++;
    g_assert_cmpuint(count, ==, G_N_ELEMENTS(hosts));
    vs_golden_assert_all_used("nodedev");
}

/* What a connection cannot attach: auto leaves it out and says why, explicit modes are refused;
 * a local system connection attaches everything the selection chose. */
static void
test_where(void)
{
    g_autoptr(VsGpuInventory) vendor = inventory("h100-vendor");
    g_autoptr(VsGpuInventory) t4 = inventory("rhel-t4");
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuPlan) local = NULL, remote = NULL, remote_mdev = NULL, session = NULL;
    g_autoptr(VsGpuPlan) refused = NULL;

    local = vs_gpu_plan_request("auto", 4096, vendor, NULL, QEMU_7_2, VS_GPU_WHERE_LOCAL, &error);
    g_assert_no_error(error);
    g_assert_cmpint(local->mode, ==, VS_GPU_MODE_VGPU);
    g_assert_cmpstr(local->device, ==, "0000:c1:01.3");
    g_assert_cmpint(local->vgpu_kind, ==, VS_VGPU_KIND_VENDOR_VFIO);

    remote = vs_gpu_plan_request("auto", 4096, vendor, NULL, QEMU_7_2, VS_GPU_WHERE_REMOTE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(remote->mode, ==, VS_GPU_MODE_NONE);
    g_assert_true(g_str_has_prefix(remote->reasons->pdata[1],
                                   "not chosen, because NVIDIA's vendor-specific vGPUs are set "
                                   "through the VF's sysfs files, which only a local connection "
                                   "reaches: vGPU NVIDIA H100-4C (1097"));
    refused =
        vs_gpu_plan_request("vgpu:1097", 4096, vendor, NULL, QEMU_7_2, VS_GPU_WHERE_REMOTE, &error);
    g_assert_null(refused);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "only a local connection reaches"));
    g_clear_error(&error);

    /* libvirt before 9.7.0 cannot start a VF left on NVIDIA's driver: refused before anything
     * is created, naming the release. */
    refused = vs_gpu_plan_request("vgpu:1097", 4096, vendor, NULL, QEMU_7_2,
                                  VS_GPU_WHERE_OLD_LIBVIRT, &error);
    g_assert_null(refused);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "older than 9.7.0"));
    g_clear_error(&error);

    /* mdevs go through libvirt's node-device API: a remote host attaches them. */
    remote_mdev =
        vs_gpu_plan_request("auto", 4096, t4, NULL, QEMU_7_2, VS_GPU_WHERE_REMOTE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(remote_mdev->mode, ==, VS_GPU_MODE_VGPU);
    g_assert_cmpstr(remote_mdev->vgpu_type, ==, "nvidia-224");

    session = vs_gpu_plan_request("auto", 4096, t4, NULL, QEMU_7_2, VS_GPU_WHERE_SESSION, &error);
    g_assert_no_error(error);
    g_assert_cmpint(session->mode, ==, VS_GPU_MODE_NONE);
    g_assert_nonnull(strstr(session->reasons->pdata[1], "qemu:///session connection cannot"));
    refused = vs_gpu_plan_request("passthrough:0000:3b:00.0", 4096, t4, NULL, QEMU_7_2,
                                  VS_GPU_WHERE_SESSION, &error);
    g_assert_null(refused);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_clear_error(&error);
    refused = vs_gpu_plan_request("vgpu:no-such-type", 4096, t4, NULL, QEMU_7_2, VS_GPU_WHERE_LOCAL,
                                  &error);
    g_assert_null(refused);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_UNKNOWN);
}

/* Returns a device at @address of @class in IOMMU group @group, noted in @inv. */
static VsGpuDevice *
vmd_device(VsGpuInventory *inv, const char *address, guint class_code, int group)
{
    VsGpuDevice *d = g_new0(VsGpuDevice, 1);

    d->address = g_strdup(address);
    d->class_code = class_code;
    d->iommu_group = group;
    d->numa_node = -1;
    d->vgpu_types = g_ptr_array_new_with_free_func((GDestroyNotify)vs_vgpu_type_free);
    vs_gpu_inventory_note(inv, d);
    return d;
}

/* PCI domains of five hex digits (Intel VMD: 10000:00:02.0): parsed, and a card's functions are
 * those of its own slot only — an NVMe drive at 10000:00:03.0 in the same IOMMU group is another
 * device that blocks passthrough, not a function that goes along. */
static void
test_vmd_domains(void)
{
    g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(VsGpuPlan) plan = NULL;
    g_autofree char *slot = NULL;
    guint d, b, s, f;

    g_assert_true(vs_pci_address_parse("10000:00:02.0", &d, &b, &s, &f));
    g_assert_cmphex(d, ==, 0x10000);
    g_assert_cmphex(s, ==, 2);
    g_assert_true(vs_pci_address_parse("0000:3b:00.1", &d, &b, &s, &f));
    g_assert_cmphex(d, ==, 0);
    g_assert_cmphex(b, ==, 0x3b);
    g_assert_cmphex(f, ==, 1);
    g_assert_false(vs_pci_address_parse("000:3b:00.1", &d, &b, &s, &f));
    g_assert_false(vs_pci_address_parse("123456789:3b:00.1", &d, &b, &s, &f));
    g_assert_false(vs_pci_address_parse("0000:3b:00.1\n", &d, &b, &s, &f));
    g_assert_false(vs_pci_address_parse("0000:3b:20.0", &d, &b, &s, &f));
    slot = vs_pci_slot_of("10000:00:02.0");
    g_assert_cmpstr(slot, ==, "10000:00:02");

    g_ptr_array_add(inv->devices, vmd_device(inv, "10000:00:02.0", 0x0300, 5));
    g_ptr_array_add(inv->devices, vmd_device(inv, "10000:00:02.1", 0x0403, 5));
    vs_gpu_device_free(vmd_device(inv, "10000:00:03.0", 0x0108, 5));
    plan = vs_gpu_plan_request("passthrough:10000:00:02.0", 4096, inv, NULL, QEMU_7_2,
                               VS_GPU_WHERE_LOCAL, &error);
    g_assert_null(plan);
    g_assert_error(error, VS_GPU_ERROR, VS_GPU_ERROR_REFUSED);
    g_assert_nonnull(strstr(error->message, "also holds 10000:00:03.0 (class 0108)"));
    g_assert_null(strstr(error->message, "10000:00:02.1"));
}

/* A sysfs tree whose description is a link to /dev/zero and whose name is a FIFO: read as
 * unreadable attributes (bounded, regular files only), neither an endless allocation nor a hang;
 * the framebuffer then comes from nothing, the rest of the inventory as before. */
static void
test_hostile_attributes(void)
{
    g_autofree char *fixture = vs_golden_path("sysfs/rhel-t4");
    g_autoptr(GError) error = NULL;
    g_autofree char *tree = vs_gpu_fake_tree_copy(fixture, &error);
    g_autofree char *type = NULL, *desc = NULL, *name = NULL;
    g_autoptr(VsGpuInventory) inv = NULL;
    const VsVgpuType *t = NULL;

    g_assert_no_error(error);
    type = g_build_filename(tree, "bus/pci/devices/0000:3b:00.0/mdev_supported_types/nvidia-224",
                            NULL);
    desc = g_build_filename(type, "description", NULL);
    name = g_build_filename(type, "name", NULL);
    g_assert_cmpint(g_unlink(desc), ==, 0);
    g_assert_cmpint(symlink("/dev/zero", desc), ==, 0);
    g_assert_cmpint(g_unlink(name), ==, 0);
    g_assert_cmpint(mkfifo(name, 0600), ==, 0);

    inv = vs_gpu_inventory_read(tree, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < inv->devices->len; i++) {
        const VsGpuDevice *d = inv->devices->pdata[i];
        for (guint k = 0; k < d->vgpu_types->len; k++)
            if (g_strcmp0(((VsVgpuType *)d->vgpu_types->pdata[k])->id, "nvidia-224") == 0)
                t = d->vgpu_types->pdata[k];
    }
    g_assert_nonnull(t);
    g_assert_cmpuint(t->framebuffer_mib, ==, 0);
    g_assert_cmpint(t->available, ==, 4);
    vs_gpu_fake_tree_remove(tree);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
        g_autofree char *path = g_strdup_printf("/gpu/probe/%s", hosts[i]);
        g_test_add_data_func(path, hosts[i], test_probe_golden);
    }
    g_test_add_func("/gpu/auto", test_auto_choices);
    g_test_add_func("/gpu/explicit", test_explicit_modes);
    g_test_add_func("/gpu/malformed", test_malformed);
    g_test_add_func("/gpu/where", test_where);
    g_test_add_func("/gpu/vmd-domains", test_vmd_domains);
    g_test_add_func("/gpu/hostile-attributes", test_hostile_attributes);
    g_test_add_func("/gpu/framebuffer", test_framebuffer);
    g_test_add_func("/gpu/nodedev", test_nodedev);
    g_test_add_func("/gpu/existing-mdevs", test_existing_mdevs);
    g_test_add_func("/gpu/zz-last/all-data-used", test_all_data_used);
    return g_test_run();
}
