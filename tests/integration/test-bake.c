/* `bake` end to end on real libvirtd with the Debian test image and a temporary pool (two boots
 * under TCG, one after the other):
 *   1. bake a golden volume whose user-data writes a file and, in runcmd, records the bake
 *      guest's machine-id and SSH host public keys under /var/tmp (which the cleaning keeps);
 *   2. the volume: no backing file (libvirt's volume XML, and qemu-img info, which is not
 *      virt-station), the image's own virtual size (qemu-img info of the test image), sparse
 *      (allocation well under the size), marked baked, listed by `image list`; nothing else of
 *      the bake left (no domain, no overlay, no seed);
 *   3. `run --image vol:POOL/NAME` of it: the file is there, /etc/machine-id is a new one, no
 *      SSH host key of the bake guest is in use, and the run leaves no domain or volume.
 * Prints the bake's duration and the volume's size and allocation. */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"

#define URI     "qemu:///system"
#define vs(...) vs_bed_run_vsv(URI, __VA_ARGS__)

static const char user_data[] = "#cloud-config\n"
                                "write_files:\n"
                                "  - path: /etc/baked-marker\n"
                                "    content: \"baked by virt-station\\n\"\n"
                                "runcmd:\n"
                                "  - cp /etc/machine-id /var/tmp/bake-machine-id\n"
                                "  - sh -c 'for k in /etc/ssh/ssh_host_*_key; do ssh-keygen -y "
                                "-f $k; done > /var/tmp/bake-host-keys'\n";

/* Returns the seconds since @start_us (monotonic). */
static double
since(gint64 start_us)
{
    return (double)(g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
}

/* Returns the value of the JSON number or string field @key in qemu-img's @json output, or
 * NULL when it is not there. */
static char *
json_field(const char *json, const char *key)
{
    g_autofree char *needle = g_strdup_printf("\"%s\": ", key);
    const char *at = strstr(json, needle);
    const char *end;

    if (!at)
        return NULL;
    at += strlen(needle);
    end = at + strcspn(at, ",\n}");
    return g_strndup(at, end - at);
}

/* Returns qemu-img info --output=json of @path. */
static char *
qemu_img_info(const char *path)
{
    g_auto(VsBedRun) r =
        vs_bed_run((const char *const[]){"qemu-img", "info", "--output=json", "-U", path, NULL});
    if (r.status != 0)
        g_error("qemu-img info %s: %s", path, r.err);
    return g_steal_pointer(&r.out);
}

static void
test_bake_and_use(void)
{
    VsBedWorld bed = {0};
    g_autofree char *golden = g_strdup_printf("vs-int-golden-%d", (int)getpid());
    g_autofree char *ws = g_strdup_printf("vs-int-baked-%d", (int)getpid());
    g_autofree char *ud = NULL, *image = NULL;

    vs_bed_world_setup(&bed, "vs-bake", "vs-int-bake");
    ud = g_build_filename(bed.dir, "user-data", NULL);
    g_assert_true(g_file_set_contents(ud, user_data, -1, NULL));

    /* 1. The bake. */
    gint64 t0 = g_get_monotonic_time();
    const char *virt_type = vs_bed_virt_type();
    g_auto(VsBedRun) bake =
        vs("bake", golden, "--image", bed.image, "--pool", bed.pool, "--network", "user",
           "--memory", "1024", "--user-data", ud, "--timeout", "900", "--virt-type",
           virt_type ? virt_type : "auto", NULL);
    double bake_s = since(t0);
    if (bake.status != 0)
        g_error("bake exited %d:\n%s", bake.status, bake.err);
    g_test_message("bake: %.0f s", bake_s);
    g_assert_nonnull(strstr(bake.out, "baked into storage pool"));
    g_assert_nonnull(strstr(bake.err, "cloud-init finished"));

    /* 2. The volume, as libvirt and qemu-img see it. */
    virStoragePoolPtr pool = virStoragePoolLookupByName(bed.conn, bed.pool);
    g_assert_nonnull(pool);
    g_assert_cmpint(virStoragePoolRefresh(pool, 0), ==, 0);
    virStorageVolPtr vol = virStorageVolLookupByName(pool, golden);
    g_assert_nonnull(vol);
    g_autofree char *vol_xml = virStorageVolGetXMLDesc(vol, 0);
    g_assert_null(strstr(vol_xml, "<backingStore"));
    g_assert_nonnull(strstr(vol_xml, "<format type='qcow2'/>"));
    g_autofree char *path = virStorageVolGetPath(vol);
    g_autofree char *info = qemu_img_info(path);
    g_autofree char *backing = json_field(info, "backing-filename");
    g_assert_null(backing);
    g_autofree char *base_info = qemu_img_info(bed.image);
    g_autofree char *base_size = json_field(base_info, "virtual-size");
    g_autofree char *size = json_field(info, "virtual-size");
    g_assert_nonnull(base_size);
    g_assert_cmpstr(size, ==, base_size);
    virStorageVolInfo vi;
    g_assert_cmpint(virStorageVolGetInfo(vol, &vi), ==, 0);
    g_autofree char *base_actual = json_field(base_info, "actual-size");
    struct stat st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_test_message("baked volume: virtual size %.2f GiB, allocation %.0f MiB (file %.0f MiB "
                   "apparent, %.0f MiB on disk); the test image: %.0f MiB",
                   vi.capacity / 1073741824.0, vi.allocation / 1048576.0, st.st_size / 1048576.0,
                   st.st_blocks * 512.0 / 1048576.0, g_ascii_strtod(base_actual, NULL) / 1048576.0);
    g_assert_cmpuint(vi.capacity, ==, g_ascii_strtoull(base_size, NULL, 10));
    g_assert_cmpuint(vi.allocation, <, vi.capacity / 2);
    g_autofree char *base_vol = NULL;
    {
        g_autofree char *vols = vs_bed_pool_volumes(bed.conn, bed.pool);
        g_auto(GStrv) names = g_strsplit(vols, " ", -1);
        /* The base (and its marker), NAME and its marker: no overlay, no seed. */
        g_assert_cmpuint(g_strv_length(names), ==, 4);
        g_autofree char *marker = g_strdup_printf("%s.baked", golden);
        g_assert_true(g_strv_contains((const char *const *)names, golden));
        g_assert_true(g_strv_contains((const char *const *)names, marker));
        for (guint i = 0; names[i]; i++)
            if (g_str_has_prefix(names[i], "debian12-") && !g_str_has_suffix(names[i], ".complete"))
                base_vol = g_strdup(names[i]);
        g_assert_nonnull(base_vol);
    }
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(bed.conn, &doms, 0);
    g_autofree char *prefix = g_strdup_printf("bake-%s-", golden);
    for (int i = 0; i < n; i++) {
        g_assert_false(g_str_has_prefix(virDomainGetName(doms[i]), prefix));
        virDomainFree(doms[i]);
    }
    g_free(doms);
    g_auto(VsBedRun) list = vs("image", "list", "--pool", bed.pool, NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_nonnull(strstr(list.out, golden));

    /* 3. A throwaway run from it: a second boot, cloud-init as a new instance; its command
     * prints what the checks need, sections separated by "---". */
    g_autofree char *ref = g_strdup_printf("vol:%s/%s", bed.pool, golden);
    t0 = g_get_monotonic_time();
    g_auto(VsBedRun) run =
        vs("run", "--name", ws, "--image", ref, "--pool", bed.pool, "--network", "user", "--memory",
           "1024", "--timeout", "600", "--", "sh", "-c",
           "cat /etc/baked-marker; echo ---; cat /var/tmp/bake-machine-id; echo ---; "
           "cat /etc/machine-id; echo ---; cat /var/tmp/bake-host-keys; echo ---; "
           "sudo -n sh -c 'for k in /etc/ssh/ssh_host_*_key; do ssh-keygen -y -f $k; done'",
           NULL);
    if (run.status != 0)
        g_error("run --image %s exited %d:\n%s", ref, run.status, run.err);
    g_test_message("run from the baked volume: done after %.0f s", since(t0));
    g_auto(GStrv) parts = g_strsplit(run.out, "---\n", -1);
    g_assert_cmpuint(g_strv_length(parts), ==, 5);
    g_assert_cmpstr(parts[0], ==, "baked by virt-station\n");
    g_autofree char *old_id = g_strstrip(g_strdup(parts[1]));
    g_autofree char *new_id = g_strstrip(g_strdup(parts[2]));
    g_test_message("machine-id: bake %s, now %s", old_id, new_id);
    g_assert_cmpuint(strlen(old_id), ==, 32);
    g_assert_cmpuint(strlen(new_id), ==, 32);
    g_assert_cmpstr(old_id, !=, new_id);
    /* The bake said which machine-id it removed: the one its guest had. */
    g_autofree char *said = g_strdup_printf("machine-id: %s", old_id);
    g_assert_nonnull(strstr(bake.err, said));
    /* Host keys from the private keys (cloud-init may write a seeded key without its .pub). */
    const char *new_keys = parts[4];
    g_auto(GStrv) old_lines = g_strsplit(g_strstrip(parts[3]), "\n", -1);
    g_assert_cmpuint(g_strv_length(old_lines), >=, 1);
    g_assert_nonnull(strstr(new_keys, "ssh-"));
    for (guint i = 0; old_lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit(old_lines[i], " ", 3);
        g_assert_nonnull(fields[1]);
        /* The key material itself, whatever the comment. */
        if (strstr(new_keys, fields[1]))
            g_error("the bake guest's host key %s is still in use:\n%s", fields[0], new_keys);
    }
    g_test_message("host keys: %u of the bake guest, none among the new ones",
                   g_strv_length(old_lines));

    /* The run left nothing; the baked volume stays: it is no workstation's own. */
    virDomainPtr gone = virDomainLookupByName(bed.conn, ws);
    g_assert_null(gone);
    g_autofree char *left = vs_bed_pool_volumes(bed.conn, bed.pool);
    g_assert_null(strstr(left, ws));
    g_assert_nonnull(strstr(left, golden));
    virStorageVolFree(vol);
    virStoragePoolFree(pool);
    vs_bed_world_teardown(&bed);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/bake/bake-and-use", test_bake_and_use);
    return g_test_run();
}
