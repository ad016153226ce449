/* The 64-bit prefetchable BAR sizes the inventory reads from sysfs `resource` files: literal
 * files (the VF BARs and the ROM after the sixth line are not the device's own window), the
 * fixture hosts against what lspci, with its own code, prints for the same trees, and the sum
 * a passthrough plan carries for the domain's 64-bit MMIO window. */
#include <string.h>

#include "tests/bed/golden.h"
#include "gpu/select.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define GIB (G_GUINT64_CONSTANT(1) << 30)

/* A real layout: BAR0 32-bit, BAR1 and BAR3 64-bit prefetchable, BAR5 I/O, the ROM, and a VF
 * BAR that is 64-bit prefetchable too (line 9) but belongs to the VFs. */
static const char h100_resource[] = "0x00000000d0000000 0x00000000d0ffffff 0x0000000000040200\n"
                                    "0x0000020000000000 0x0000021fffffffff 0x000000000014220c\n"
                                    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                    "0x0000022000000000 0x0000022001ffffff 0x000000000014220c\n"
                                    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                                    "0x000000000000e000 0x000000000000e07f 0x0000000000040101\n"
                                    "0x00000000fc000000 0x00000000fc07ffff 0x000000000004e200\n"
                                    "0x00000000d1000000 0x00000000d17fffff 0x0000000000040200\n"
                                    "0x0000024000000000 0x0000025fffffffff 0x000000000014220c\n";

static void
test_parse(void)
{
    g_assert_cmpuint(vs_gpu_bar64_bytes_parse(h100_resource), ==, 128 * GIB + 32 * MIB);
    /* 32-bit prefetchable (no MEM_64 flag) and 64-bit non-prefetchable do not count. */
    g_assert_cmpuint(
        vs_gpu_bar64_bytes_parse("0x00000000e0000000 0x00000000efffffff 0x0000000000042208\n"
                                 "0x0000030000000000 0x00000300000fffff 0x0000000000140204\n"),
        ==, 0);
    /* Garbage, a truncated line and an empty range count as nothing; the rest still counts. */
    g_assert_cmpuint(vs_gpu_bar64_bytes_parse("garbage\n0x10 0x20\n"
                                              "0x0 0x0 0x14220c\n"
                                              "0x0000020000000000 0x000002000fffffff 0x14220c\n"),
                     ==, 256 * MIB);
    g_assert_cmpuint(vs_gpu_bar64_bytes_parse(""), ==, 0);
}

/* Returns the sum of the "(64-bit, prefetchable) [size=N]" regions `lspci -vv` prints for
 * @address in the tree at @root. */
static guint64
lspci_bar64(const char *root, const char *address)
{
    g_autofree char *opt = g_strdup_printf("sysfs.path=%s/bus/pci", root);
    const char *argv[] = {"lspci", "-A", "linux-sysfs", "-O", opt, "-vv", "-s", address, NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GRegex) re = g_regex_new(
        "Region [0-5]: Memory at [0-9a-f]+ \\(64-bit, prefetchable\\) \\[size=([0-9]+)([KMG]?)\\]",
        0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    int status;
    guint64 total = 0;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, &error));
    g_assert_no_error(error);
    /* It exits 1 for a device without `resource` file, having printed the rest. */
    (void)status;
    g_assert_true(g_str_has_prefix(out, address + 5));
    for (g_regex_match(re, out, 0, &match); g_match_info_matches(match);
         g_match_info_next(match, NULL)) {
        g_autofree char *n = g_match_info_fetch(match, 1);
        g_autofree char *unit = g_match_info_fetch(match, 2);
        guint shift = !*unit ? 0 : *unit == 'K' ? 10 : *unit == 'M' ? 20 : 30;
        total += g_ascii_strtoull(n, NULL, 10) << shift;
    }
    return total;
}

/* Every device of every fixture host: the inventory's sum is lspci's; the hosts with BARs
 * have the sizes their cards have. */
static void
test_fixtures_match_lspci(void)
{
    const char *hosts[] = {"rhel-t4",         "a100-sriov",   "h100-vendor", "desktop-amd",
                           "desktop-geforce", "shared-group", "two-vendors", "h200-guest"};
    guint with_bars = 0;

    for (guint h = 0; h < G_N_ELEMENTS(hosts); h++) {
        g_autofree char *rel = g_build_filename("sysfs", hosts[h], NULL);
        g_autofree char *root = vs_golden_path(rel);
        g_autoptr(GError) error = NULL;
        g_autoptr(VsGpuInventory) inv = vs_gpu_inventory_read(root, &error);

        g_assert_no_error(error);
        for (guint i = 0; i < inv->devices->len; i++) {
            const VsGpuDevice *d = inv->devices->pdata[i];
            g_assert_cmpuint(d->bar64_bytes, ==, lspci_bar64(root, d->address));
            with_bars += d->bar64_bytes > 0;
        }
    }
    /* The seven NVIDIA GPUs among them (T4 twice, A100, H100, GeForce twice, H200). */
    g_assert_cmpuint(with_bars, ==, 7);
}

static VsGpuInventory *
inventory(const char *host)
{
    g_autofree char *rel = g_build_filename("sysfs", host, NULL);
    g_autofree char *root = vs_golden_path(rel);
    g_autoptr(GError) error = NULL;
    VsGpuInventory *inv = vs_gpu_inventory_read(root, &error);

    g_assert_no_error(error);
    return inv;
}

static void
test_card_sizes(void)
{
    g_autoptr(VsGpuInventory) h100 = inventory("h100-vendor");
    g_autoptr(VsGpuInventory) t4 = inventory("rhel-t4");
    g_autoptr(VsGpuInventory) geforce = inventory("desktop-geforce");

    /* The PF's own BAR1 and BAR3, not its VFs' BARs. */
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(h100, "0000:c1:00.0"), ==, 128 * GIB + 32 * MIB);
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(h100, "0000:c1:01.2"), ==, 0);
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(t4, "0000:3b:00.0"), ==, 288 * MIB);
    /* The audio function's one BAR is 32-bit. */
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(geforce, "0000:01:00.1"), ==, 0);
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(geforce, "0000:99:00.0"), ==, 0);
    /* The captured H200 VM: BAR0 was placed 64-bit prefetchable there too (its `resource`
     * and lspci on the real machine's config space agree). */
    g_autoptr(VsGpuInventory) h200 = inventory("h200-guest");
    g_assert_cmpuint(vs_gpu_inventory_bar64_bytes(h200, "0000:00:06.0"), ==, 256 * GIB + 48 * MIB);
}

/* A passthrough plan carries the sum over the functions that go along. */
static void
test_plan_sum(void)
{
    g_autoptr(VsGpuInventory) inv = inventory("desktop-geforce");
    g_autoptr(GError) error = NULL;
    g_auto(VsGpuRequest) req = {0};
    g_assert_true(vs_gpu_request_parse("passthrough:0000:01:00.0", 0, &req, &error));
    g_autoptr(VsGpuPlan) plan = vs_gpu_select(inv, &req, 0, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(plan->functions->len, ==, 2);
    g_assert_cmpuint(plan->mmio64_bytes, ==, 288 * MIB);
    g_autoptr(VsGpuPlan) copy = vs_gpu_plan_copy(plan);
    g_assert_cmpuint(copy->mmio64_bytes, ==, 288 * MIB);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gpu-bars/parse", test_parse);
    g_test_add_func("/gpu-bars/fixtures-match-lspci", test_fixtures_match_lspci);
    g_test_add_func("/gpu-bars/card-sizes", test_card_sizes);
    g_test_add_func("/gpu-bars/plan-sum", test_plan_sum);
    return g_test_run();
}
