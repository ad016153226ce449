/* Coexisting with other tools, on the real libvirtd: a domain defined with plain `virsh define`
 * is listed by `list --all` as foreign, and delete, stop, start, exec and up with its name refuse
 * it without changing it. A copy of a workstation made as virt-clone makes it is foreign too
 * ("cloned from ORIG") until `adopt`, and deleting it then removes exactly its own disk; delete
 * keeps a volume another domain's disk uses. And Ctrl-C at each creation step of `up` leaves no
 * domain and no volume behind (the VIRT_STATION_TEST_PAUSE hook holds `up` before the step). */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "domains/inspect.h"

static char *
dumpxml(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);
    char *xml;

    g_assert_nonnull(dom);
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    virDomainFree(dom);
    return xml;
}

static void
test_foreign_domain_refused(void)
{
    g_autofree char *name = g_strdup_printf("vs-foreign-%d", (int)getpid());
    g_autofree char *dir = g_dir_make_tmp("vs-foreign-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "foreign.xml", NULL);
    g_autofree char *image = g_build_filename(dir, "image.qcow2", NULL);
    g_autofree char *xml =
        g_strdup_printf("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                        "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>",
                        name);
    virConnectPtr conn = virConnectOpen("qemu:///system");

    g_assert_nonnull(conn);
    g_assert_true(g_file_set_contents(file, xml, -1, NULL));
    g_assert_true(g_file_set_contents(image, "not really an image", -1, NULL));
    g_auto(VsBedRun) def =
        vs_bed_run((const char *[]){"virsh", "-c", "qemu:///system", "define", file, NULL});
    g_assert_cmpint(def.status, ==, 0);
    g_autofree char *before = dumpxml(conn, name);

    g_auto(VsBedRun) list =
        vs_bed_run((const char *[]){"virt-station", "-c", "qemu:///system", "list", "--all", NULL});
    g_assert_cmpint(list.status, ==, 0);
    g_autofree char *row = g_strdup_printf("\n%s ", name);
    const char *line = strstr(list.out, row);
    g_assert_nonnull(line);
    g_assert_true(strstr(line, "(foreign") < strchr(line + 1, '\n'));
    g_auto(VsBedRun) mine =
        vs_bed_run((const char *[]){"virt-station", "-c", "qemu:///system", "list", NULL});
    g_assert_null(strstr(mine.out, row));
    g_auto(VsBedRun) json = vs_bed_run(
        (const char *[]){"virt-station", "-c", "qemu:///system", "list", "--all", "--json", NULL});
    g_autofree char *entry = g_strdup_printf(
        "{\"name\":\"%s\",\"owned\":false,\"state\":\"shut off\",\"vcpus\":1,\"memory_mib\":64}",
        name);
    g_assert_nonnull(strstr(json.out, entry));

    const char *refusals[][8] = {
        {"delete", name, NULL},
        {"stop", name, "--force", NULL},
        {"start", name, NULL},
        {"up", name, "--image", image, "--network", "user", NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refusals); i++) {
        const char *args[12] = {"virt-station", "-c", "qemu:///system"};
        for (guint k = 0; refusals[i][k]; k++)
            args[3 + k] = refusals[i][k];
        g_auto(VsBedRun) r = vs_bed_run(args);
        if (r.status != 3 || !strstr(r.err, "not created by virt-station"))
            g_error("%s on a foreign domain: exit %d, %s", refusals[i][0], r.status, r.err);
    }
    g_auto(VsBedRun) exec = vs_bed_run(
        (const char *[]){"virt-station", "-c", "qemu:///system", "exec", name, "--", "true", NULL});
    g_assert_cmpint(exec.status, ==, 125);

    g_autofree char *after = dumpxml(conn, name);
    g_assert_cmpstr(after, ==, before);
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_cmpint(virDomainIsActive(dom), ==, 0);
    virDomainUndefine(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    g_unlink(file);
    g_unlink(image);
    g_rmdir(dir);
}

/* ---- copies of workstations (virt-clone), adopt, and the delete rule ---- */

/* A directory pool and a home for one test: virt-station's keys, caches and port lock go there. */
typedef struct {
    virConnectPtr conn;
    char *home;
    char *pool_dir;
    char *pool;
    char *image;
} Bed;

static void
bed_open(Bed *b, const char *kind)
{
    g_autofree char *pool_xml = NULL;
    virStoragePoolPtr p;

    b->conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(b->conn);
    b->home = vs_bed_tmpdir("vs-own");
    b->pool_dir = vs_bed_tmpdir("vs-ownpool");
    b->pool = g_strdup_printf("vs-test-%s-%d", kind, (int)getpid());
    b->image = g_build_filename(b->home, "image.qcow2", NULL);
    pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", b->pool,
        b->pool_dir);
    p = virStoragePoolCreateXML(b->conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);
    g_auto(VsBedRun) img = vs_bed_run(
        (const char *[]){"qemu-img", "create", "-q", "-f", "qcow2", b->image, "64M", NULL});
    g_assert_cmpint(img.status, ==, 0);
    g_setenv("XDG_DATA_HOME", b->home, TRUE);
    g_setenv("XDG_RUNTIME_DIR", b->home, TRUE);
}

/* Removes the domains @names (NULL-terminated) if they are still there, every volume of the
 * pool, the pool and the home. */
static void
bed_close(Bed *b, const char *const *names)
{
    vs_bed_pool_remove(b->conn, b->pool, names);
    virConnectClose(b->conn);
    vs_bed_rmtree(b->home);
    vs_bed_rmtree(b->pool_dir);
    g_free(b->home);
    g_free(b->pool_dir);
    g_free(b->pool);
    g_free(b->image);
    g_unsetenv("XDG_DATA_HOME");
    g_unsetenv("XDG_RUNTIME_DIR");
}

/* Creates the workstation @name in @b's pool without waiting (its image boots nothing), then
 * powers it off. */
static void
bed_up(Bed *b, const char *name)
{
    g_auto(VsBedRun) up =
        vs_bed_run_vsv("qemu:///system", "up", name, "--image", b->image, "--pool", b->pool,
                       "--network", "user", "--memory", "256", "--no-wait", NULL);
    if (up.status != 0)
        g_error("up %s: exit %d, %s", name, up.status, up.err);
    g_auto(VsBedRun) off = vs_bed_run_vsv("qemu:///system", "stop", name, "--force", NULL);
    g_assert_cmpint(off.status, ==, 0);
}

/* Returns the line of `list --all` for @name. */
static char *
list_row(const char *name)
{
    g_auto(VsBedRun) list = vs_bed_run_vsv("qemu:///system", "list", "--all", NULL);
    g_autofree char *row = g_strdup_printf("\n%s ", name);
    const char *line;

    g_assert_cmpint(list.status, ==, 0);
    line = strstr(list.out, row);
    g_assert_nonnull(line);
    return g_strndup(line + 1, strcspn(line + 1, "\n"));
}

/* Returns the value of the first attribute @attr="..." after @after in @xml. */
static char *
attr_after(const char *xml, const char *after, const char *attr)
{
    const char *at = strstr(xml, after);
    g_autofree char *key = g_strdup_printf("%s=\"", attr);
    const char *v;

    g_assert_nonnull(at);
    v = strstr(at, key);
    g_assert_nonnull(v);
    v += strlen(key);
    return g_strndup(v, strcspn(v, "\""));
}

/* The clone sequence of issue "first run on real hosts": one scenario, step after step on the
 * same domains and volumes (copy, refusals, the original starts, adopt, delete); longer than a
 * function should be, because splitting it would only pass its state around. */
static void
test_clone_adopt_delete(void)
{
    Bed b = {0};
    g_autofree char *orig = g_strdup_printf("vs-foreign-orig-%d", (int)getpid());
    g_autofree char *copy = g_strdup_printf("vs-foreign-copy-%d", (int)getpid());
    g_autofree char *bare = g_strdup_printf("vs-foreign-bare-%d", (int)getpid());
    g_autofree char *orig_disk = NULL, *orig_seed = NULL, *copy_disk = NULL;
    g_autofree char *copy_path = NULL, *orig_xml = NULL, *copy_before = NULL;
    g_autofree char *vols_before = NULL, *orig_port = NULL, *orig_mac = NULL;
    g_autoptr(GString) clone = NULL;
    virStoragePoolPtr pool;
    virStorageVolPtr src, dst;
    virDomainPtr dom;

    bed_open(&b, "clone");
    orig_disk = g_strdup_printf("%s.qcow2", orig);
    orig_seed = g_strdup_printf("%s-seed.iso", orig);
    copy_disk = g_strdup_printf("%s.qcow2", copy);
    bed_up(&b, orig);

    /* The copy as virt-clone makes it: its own disk, copied (a file path, as virt-clone writes
     * it), the read-only seed shared, a new name, UUID and MAC, the metadata verbatim. */
    pool = virStoragePoolLookupByName(b.conn, b.pool);
    src = virStorageVolLookupByName(pool, orig_disk);
    g_assert_nonnull(src);
    g_autofree char *vol_xml = g_strdup_printf(
        "<volume><name>%s</name><capacity>67108864</capacity><target><format type='qcow2'/>"
        "</target></volume>",
        copy_disk);
    dst = virStorageVolCreateXMLFrom(pool, vol_xml, src, 0);
    g_assert_nonnull(dst);
    copy_path = virStorageVolGetPath(dst);
    virStorageVolFree(src);
    virStorageVolFree(dst);
    virStoragePoolFree(pool);
    orig_xml = dumpxml(b.conn, orig);
    orig_port = g_strdup_printf("%u", vs_inspect_port(orig_xml));
    g_assert_cmpstr(orig_port, !=, "0");
    orig_mac = attr_after(orig_xml, "<vs:network", "mac");
    clone = g_string_new(orig_xml);
    g_autofree char *name_el = g_strdup_printf("<name>%s</name>", orig);
    g_autofree char *copy_name_el = g_strdup_printf("<name>%s</name>", copy);
    g_string_replace(clone, name_el, copy_name_el, 1);
    {
        const char *u = strstr(clone->str, "<uuid>");
        g_string_erase(clone, u - clone->str, strstr(u, "</uuid>") + 7 - u); /* a new one */
    }
    g_autofree char *disk_from = g_strdup_printf(
        "<disk type='volume' device='disk'>\n      <driver name='qemu' type='qcow2' "
        "discard='unmap'/>\n      <source pool='%s' volume='%s'/>",
        b.pool, orig_disk);
    g_autofree char *disk_to =
        g_strdup_printf("<disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2' "
                        "discard='unmap'/>\n      <source file='%s'/>",
                        copy_path);
    g_assert_cmpuint(g_string_replace(clone, disk_from, disk_to, 1), ==, 1);
    g_autofree char *mac_arg = g_strdup_printf("mac=%s'", orig_mac);
    g_assert_cmpuint(g_string_replace(clone, mac_arg, "mac=52:54:00:c1:0e:01'", 1), ==, 1);
    dom = virDomainDefineXML(b.conn, clone->str);
    g_assert_nonnull(dom);
    virDomainFree(dom);
    copy_before = dumpxml(b.conn, copy);
    vols_before = vs_bed_pool_volumes(b.conn, b.pool);

    /* Listed as foreign with the reason; the original stays a workstation. */
    g_autofree char *row = list_row(copy);
    g_autofree char *reason = g_strdup_printf("cloned from %s", orig);
    g_autofree char *why = g_strdup_printf("(foreign: %s)", reason);
    if (!strstr(row, why))
        g_error("list --all: %s", row);
    g_autofree char *orig_row = list_row(orig);
    g_assert_null(strstr(orig_row, "(foreign"));
    g_auto(VsBedRun) json = vs_bed_run_vsv("qemu:///system", "list", "--all", "--json", NULL);
    g_autofree char *entry = g_strdup_printf("{\"name\":\"%s\",\"owned\":false,\"state\":\"shut "
                                             "off\",\"vcpus\":2,\"memory_mib\":256}",
                                             copy);
    g_assert_nonnull(strstr(json.out, entry));

    /* Refused, unchanged: delete, stop, start, up, exec. */
    const char *refusals[][8] = {
        {"delete", copy, NULL},
        {"stop", copy, "--force", NULL},
        {"start", copy, "--no-wait", NULL},
        {"up", copy, "--image", b.image, "--network", "user", NULL},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refusals); i++) {
        const char *args[12] = {"virt-station", "-c", "qemu:///system"};
        g_autofree char *adopt = g_strdup_printf("virt-station adopt %s", copy);
        for (guint k = 0; refusals[i][k]; k++)
            args[3 + k] = refusals[i][k];
        g_auto(VsBedRun) r = vs_bed_run(args);
        if (r.status != 3 || !strstr(r.err, reason) || !strstr(r.err, adopt))
            g_error("%s on a copy: exit %d, %s", refusals[i][0], r.status, r.err);
    }
    g_auto(VsBedRun) exec = vs_bed_run_vsv("qemu:///system", "exec", copy, "--", "true", NULL);
    g_assert_cmpint(exec.status, ==, 125);
    g_autofree char *copy_after = dumpxml(b.conn, copy);
    g_assert_cmpstr(copy_after, ==, copy_before);
    g_autofree char *vols_after = vs_bed_pool_volumes(b.conn, b.pool);
    g_assert_cmpstr(vols_after, ==, vols_before);
    g_assert_nonnull(strstr(vols_after, orig_seed));

    /* The original still starts; running, it holds the port the copy carries. */
    g_auto(VsBedRun) start = vs_bed_run_vsv("qemu:///system", "start", orig, "--no-wait", NULL);
    if (start.status != 0)
        g_error("start %s: exit %d, %s", orig, start.status, start.err);

    /* adopt: the copy's UUID, its own disk (found by path), the seed, its MAC, a new port. */
    g_auto(VsBedRun) adopt = vs_bed_run_vsv("qemu:///system", "adopt", copy, NULL);
    if (adopt.status != 0)
        g_error("adopt: exit %d, %s", adopt.status, adopt.err);
    g_autofree char *said =
        g_strdup_printf("%s adopted (it was cloned from %s); it owns: %s/%s (disk) %s/%s (seed)\n",
                        copy, orig, b.pool, copy_disk, b.pool, orig_seed);
    g_assert_cmpstr(adopt.out, ==, said);
    g_autofree char *adopted = dumpxml(b.conn, copy);
    g_autofree char *uuid = g_strdup(strstr(adopted, "<uuid>") + 6);
    *strchr(uuid, '<') = '\0';
    g_autofree char *meta_uuid = attr_after(adopted, "<vs:station", "uuid");
    g_assert_cmpstr(meta_uuid, ==, uuid);
    g_autofree char *meta_mac = attr_after(adopted, "<vs:network", "mac");
    g_assert_cmpstr(meta_mac, ==, "52:54:00:c1:0e:01");
    g_autofree char *meta_port = attr_after(adopted, "<vs:ssh", "port");
    g_assert_cmpstr(meta_port, !=, orig_port);
    g_autofree char *fwd = g_strdup_printf("%u", vs_inspect_port(adopted));
    g_assert_cmpstr(fwd, ==, meta_port);
    g_assert_nonnull(strstr(adopt.err, meta_port));
    g_autofree char *row2 = list_row(copy);
    g_assert_null(strstr(row2, "(foreign"));
    /* Once more: nothing to do. A domain without virt-station metadata: refused. */
    g_auto(VsBedRun) again = vs_bed_run_vsv("qemu:///system", "adopt", copy, NULL);
    g_assert_cmpint(again.status, ==, 0);
    g_assert_nonnull(strstr(again.err, "nothing changed"));
    g_autofree char *bare_xml =
        g_strdup_printf("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                        "<os><type arch='x86_64' machine='q35'>hvm</type></os></domain>",
                        bare);
    dom = virDomainDefineXML(b.conn, bare_xml);
    g_assert_nonnull(dom);
    g_auto(VsBedRun) refused = vs_bed_run_vsv("qemu:///system", "adopt", bare, NULL);
    g_assert_cmpint(refused.status, ==, 3);
    g_assert_nonnull(strstr(refused.err, "carries no virt-station metadata"));
    virDomainUndefine(dom);
    virDomainFree(dom);

    /* delete of the adopted copy: exactly its own disk; the seed the original uses is named. */
    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", copy, NULL);
    if (del.status != 0)
        g_error("delete %s: exit %d, %s", copy, del.status, del.err);
    g_autofree char *kept =
        g_strdup_printf("kept volume %s/%s: %s uses it as a disk", b.pool, orig_seed, orig);
    g_assert_nonnull(strstr(del.err, kept));
    g_autofree char *vols_deleted = vs_bed_pool_volumes(b.conn, b.pool);
    g_autoptr(GString) expected = g_string_new(vols_before);
    g_autofree char *copy_word = g_strdup_printf(" %s", copy_disk);
    g_assert_cmpuint(g_string_replace(expected, copy_word, "", 1), ==, 1);
    g_assert_cmpstr(vols_deleted, ==, expected->str);

    /* The original is whole: it starts again and is deleted as a workstation. */
    g_auto(VsBedRun) stop = vs_bed_run_vsv("qemu:///system", "stop", orig, "--force", NULL);
    g_assert_cmpint(stop.status, ==, 0);
    g_auto(VsBedRun) restart = vs_bed_run_vsv("qemu:///system", "start", orig, "--no-wait", NULL);
    if (restart.status != 0)
        g_error("start %s after the copy's delete: exit %d, %s", orig, restart.status, restart.err);
    g_auto(VsBedRun) gone = vs_bed_run_vsv("qemu:///system", "delete", orig, NULL);
    g_assert_cmpint(gone.status, ==, 0);
    g_assert_null(strstr(gone.err, "kept volume"));
    g_autofree char *vols_end = vs_bed_pool_volumes(b.conn, b.pool);
    g_assert_null(strstr(vols_end, orig_disk));
    g_assert_null(strstr(vols_end, orig_seed));
    g_assert_cmpstr(vols_end, !=, ""); /* the base image stays */

    bed_close(&b, (const char *[]){orig, copy, bare, NULL});
}

/* A workstation whose metadata names a volume another domain's disk uses: delete keeps it and
 * says so. (And info's memory line, on the way.) */
static void
test_delete_keeps_shared_volume(void)
{
    Bed b = {0};
    g_autofree char *ws = g_strdup_printf("vs-foreign-shared-%d", (int)getpid());
    g_autofree char *user = g_strdup_printf("vs-foreign-user-%d", (int)getpid());
    g_autofree char *seed = NULL, *disk = NULL, *xml = NULL;
    virDomainPtr dom;

    bed_open(&b, "shared");
    seed = g_strdup_printf("%s-seed.iso", ws);
    disk = g_strdup_printf("%s.qcow2", ws);
    bed_up(&b, ws);
    xml = g_markup_printf_escaped(
        "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
        "<disk type='volume' device='cdrom'><source pool='%s' volume='%s'/>"
        "<target dev='sda' bus='sata'/><readonly/></disk></devices></domain>",
        user, b.pool, seed);
    dom = virDomainDefineXML(b.conn, xml);
    g_assert_nonnull(dom);

    /* On the way: info shows the current memory beside the maximum once they differ (as after
     * `virt-xml NAME --edit --memory 128`). */
    g_auto(VsBedRun) info_same = vs_bed_run_vsv("qemu:///system", "info", ws, NULL);
    g_assert_nonnull(strstr(info_same.out, "\nmemory:   256 MiB\n"));
    virDomainPtr wsdom = virDomainLookupByName(b.conn, ws);
    g_assert_cmpint(virDomainSetMemoryFlags(wsdom, 128 * 1024, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
    virDomainFree(wsdom);
    g_auto(VsBedRun) info = vs_bed_run_vsv("qemu:///system", "info", ws, NULL);
    g_assert_cmpint(info.status, ==, 0);
    g_assert_nonnull(strstr(info.out, "\nmemory:   128 MiB (maximum 256 MiB)\n"));
    g_auto(VsBedRun) info_json = vs_bed_run_vsv("qemu:///system", "info", ws, "--json", NULL);
    g_assert_nonnull(strstr(info_json.out, "\"memory_mib\":256,\"current_memory_mib\":128,"));

    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", ws, NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *kept =
        g_strdup_printf("kept volume %s/%s: %s uses it as a disk", b.pool, seed, user);
    if (!strstr(del.err, kept))
        g_error("delete did not name the kept volume: %s", del.err);
    g_autofree char *vols = vs_bed_pool_volumes(b.conn, b.pool);
    g_assert_nonnull(strstr(vols, seed));
    g_assert_null(strstr(vols, disk));
    g_assert_null(virDomainLookupByName(b.conn, ws));

    virDomainUndefine(dom);
    virDomainFree(dom);
    bed_close(&b, (const char *[]){ws, user, NULL});
}

/* A workstation whose metadata names the base image and another workstation's disk (both also
 * made disks of its own, as a hand edit could): delete removes its own disk and seed only, and
 * names each volume it keeps and why. */
static void
test_delete_refuses_base_and_others(void)
{
    Bed b = {0};
    g_autofree char *ws1 = g_strdup_printf("vs-foreign-greedy-%d", (int)getpid());
    g_autofree char *ws2 = g_strdup_printf("vs-foreign-other-%d", (int)getpid());
    g_autofree char *disk2 = NULL, *base = NULL, *xml = NULL, *extra = NULL, *disks = NULL;
    g_autoptr(GString) edited = NULL;
    virDomainPtr dom;

    bed_open(&b, "greedy");
    bed_up(&b, ws1);
    bed_up(&b, ws2);
    disk2 = g_strdup_printf("%s.qcow2", ws2);
    xml = dumpxml(b.conn, ws1);
    base = attr_after(xml, "<vs:image", "volume");
    g_assert_true(g_str_has_prefix(base, "image-"));
    edited = g_string_new(xml);
    extra = g_markup_printf_escaped("<vs:volume role=\"disk\" pool=\"%s\" name=\"%s\"/>"
                                    "<vs:volume role=\"disk\" pool=\"%s\" name=\"%s\"/>",
                                    b.pool, base, b.pool, disk2);
    {
        const char *at = strstr(edited->str, "<vs:station");
        g_assert_nonnull(at);
        g_string_insert(edited, strchr(at, '>') + 1 - edited->str, extra);
    }
    disks =
        g_markup_printf_escaped("<disk type='volume' device='disk'><source pool='%s' volume='%s'/>"
                                "<target dev='vdx' bus='virtio'/><readonly/></disk>"
                                "<disk type='volume' device='disk'><source pool='%s' volume='%s'/>"
                                "<target dev='vdy' bus='virtio'/></disk></devices>",
                                b.pool, base, b.pool, disk2);
    g_assert_cmpuint(g_string_replace(edited, "</devices>", disks, 1), ==, 1);
    dom = virDomainDefineXML(b.conn, edited->str);
    g_assert_nonnull(dom);
    virDomainFree(dom);

    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", ws1, NULL);
    if (del.status != 0)
        g_error("delete %s: exit %d, %s", ws1, del.status, del.err);
    g_autofree char *kept_base = g_strdup_printf(
        "kept volume %s/%s: another volume is built on it (its backing file)", b.pool, base);
    g_autofree char *kept_disk =
        g_strdup_printf("kept volume %s/%s: %s uses it as a disk", b.pool, disk2, ws2);
    if (!strstr(del.err, kept_base) || !strstr(del.err, kept_disk))
        g_error("delete did not name what it kept: %s", del.err);
    g_autofree char *vols = vs_bed_pool_volumes(b.conn, b.pool);
    g_autofree char *expected =
        g_strdup_printf("%s %s.complete %s-seed.iso %s", base, base, ws2, disk2);
    g_assert_cmpstr(vols, ==, expected);
    g_assert_null(virDomainLookupByName(b.conn, ws1));
    /* The other workstation is whole. */
    g_auto(VsBedRun) start = vs_bed_run_vsv("qemu:///system", "start", ws2, "--no-wait", NULL);
    if (start.status != 0)
        g_error("start %s: exit %d, %s", ws2, start.status, start.err);

    bed_close(&b, (const char *[]){ws1, ws2, NULL});
}

/* up --seed-from URL (a loopback URL nothing serves: the image boots nothing): refused without
 * --no-wait before anything is made; with it no seed volume is uploaded, the domain points
 * cloud-init at the URL and records no host key, and wait and exec refuse it at once. On the
 * way, on the same workstation: `xml` is libvirt's XML, `stop --force` powers it off, `delete
 * --keep-disk` keeps exactly its disk. */
static void
test_seed_from_and_commands(void)
{
    Bed b = {0};
    g_autofree char *name = g_strdup_printf("vs-foreign-seedfrom-%d", (int)getpid());
    const char *url = "http://127.0.0.1:9/seed/";

    bed_open(&b, "seedfrom");
    g_auto(VsBedRun) refused =
        vs_bed_run_vsv("qemu:///system", "up", name, "--image", b.image, "--pool", b.pool,
                       "--network", "user", "--memory", "256", "--seed-from", url, NULL);
    g_assert_cmpint(refused.status, ==, 2);
    g_assert_nonnull(strstr(refused.err, "--seed-from needs --no-wait"));
    g_assert_null(virDomainLookupByName(b.conn, name));
    g_autofree char *none = vs_bed_pool_volumes(b.conn, b.pool);
    g_assert_cmpstr(none, ==, "");

    g_auto(VsBedRun) up = vs_bed_run_vsv("qemu:///system", "up", name, "--image", b.image, "--pool",
                                         b.pool, "--network", "user", "--memory", "256",
                                         "--seed-from", url, "--no-wait", NULL);
    if (up.status != 0)
        g_error("up --seed-from: exit %d, %s", up.status, up.err);
    g_assert_null(strstr(up.err, "seed.iso"));
    g_autofree char *vols = vs_bed_pool_volumes(b.conn, b.pool);
    g_autofree char *disk = g_strdup_printf("%s.qcow2", name);
    g_auto(GStrv) listed = g_strsplit(vols, " ", -1);
    /* The base, its completion marker and the overlay: no seed. */
    g_assert_cmpuint(g_strv_length(listed), ==, 3);
    g_assert_true(g_strv_contains((const char *const *)listed, disk));
    for (guint i = 0; listed[i]; i++)
        g_assert_false(g_str_has_suffix(listed[i], "-seed.iso"));

    /* xml: the running definition, as libvirt gives it; --inactive the next start's. */
    virDomainPtr dom = virDomainLookupByName(b.conn, name);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsActive(dom), ==, 1);
    g_autofree char *live = virDomainGetXMLDesc(dom, 0);
    g_autofree char *inactive = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    g_auto(VsBedRun) xml = vs_bed_run_vsv("qemu:///system", "xml", name, NULL);
    g_assert_cmpint(xml.status, ==, 0);
    g_assert_cmpstr(xml.out, ==, live);
    g_auto(VsBedRun) xml_inactive =
        vs_bed_run_vsv("qemu:///system", "xml", name, "--inactive", NULL);
    g_assert_cmpstr(xml_inactive.out, ==, inactive);
    g_assert_cmpstr(live, !=, inactive); /* the running one has its live parts (an id, aliases) */
    g_autofree char *smbios = g_strdup_printf("ds=nocloud;s=%s", url);
    g_assert_nonnull(strstr(xml.out, smbios));
    g_assert_null(strstr(xml.out, "host-key"));
    g_assert_null(strstr(xml.out, "role=\"seed\""));

    /* No host key: wait and exec refuse at once, saying why. */
    g_auto(VsBedRun) wait =
        vs_bed_run_vsv("qemu:///system", "wait", name, "--timeout", "300", NULL);
    g_assert_cmpint(wait.status, ==, 1);
    g_assert_nonnull(strstr(wait.err, "metadata holds no SSH host key, so its sshd cannot be "
                                      "verified and virt-station does not log in to it"));
    g_auto(VsBedRun) exec = vs_bed_run_vsv("qemu:///system", "exec", name, "--", "true", NULL);
    g_assert_cmpint(exec.status, ==, 125);
    g_assert_nonnull(strstr(exec.err, "metadata holds no SSH host key"));

    /* stop --force: off at once (destroyed, as libvirt says). */
    g_auto(VsBedRun) stop = vs_bed_run_vsv("qemu:///system", "stop", name, "--force", NULL);
    g_assert_cmpint(stop.status, ==, 0);
    int state = -1, reason = -1;
    g_assert_cmpint(virDomainGetState(dom, &state, &reason, 0), ==, 0);
    g_assert_cmpint(state, ==, VIR_DOMAIN_SHUTOFF);
    g_assert_cmpint(reason, ==, VIR_DOMAIN_SHUTOFF_DESTROYED);
    virDomainFree(dom);

    /* delete --keep-disk: the domain goes, its disk and the base stay. */
    g_auto(VsBedRun) del = vs_bed_run_vsv("qemu:///system", "delete", name, "--keep-disk", NULL);
    g_assert_cmpint(del.status, ==, 0);
    g_autofree char *said = g_strdup_printf("deleted %s (its disk is kept)", name);
    g_assert_nonnull(strstr(del.err, said));
    g_assert_null(virDomainLookupByName(b.conn, name));
    g_autofree char *after = vs_bed_pool_volumes(b.conn, b.pool);
    g_assert_cmpstr(after, ==, vols);

    bed_close(&b, (const char *[]){name, NULL});
}

/* ---- Ctrl-C at each creation step ---- */

static const char *const steps[] = {"pool", "base", "overlay", "seed", "define", "start"};

static void
test_interrupt_at_step(gconstpointer data)
{
    const char *step = data;
    g_autofree char *name = g_strdup_printf("vs-int-%s-%d", step, (int)getpid());
    g_autofree char *home = vs_bed_tmpdir("vs-int");
    g_autofree char *pool_dir = vs_bed_tmpdir("vs-intpool");
    g_autofree char *pool = g_strdup_printf("vs-int-%s-%d", step, (int)getpid());
    g_autofree char *image = g_build_filename(home, "image.qcow2", NULL);
    g_autofree char *pool_xml = g_markup_printf_escaped(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", pool, pool_dir);
    const char *qemu_img[] = {"qemu-img", "create", "-q", "-f", "qcow2", image, "64M", NULL};
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) up = NULL;
    g_autoptr(GDataInputStream) err = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GString) output = g_string_new(NULL);
    g_autofree char *expected = g_strdup_printf("paused before %s", step);
    virConnectPtr conn = virConnectOpen("qemu:///system");
    virStoragePoolPtr p;
    gboolean paused = FALSE;
    char *line;

    g_assert_nonnull(conn);
    p = virStoragePoolCreateXML(conn, pool_xml, 0);
    g_assert_nonnull(p);
    virStoragePoolFree(p);
    g_auto(VsBedRun) img = vs_bed_run(qemu_img);
    g_assert_cmpint(img.status, ==, 0);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                         G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
    g_subprocess_launcher_setenv(launcher, "VIRT_STATION_TEST_PAUSE", step, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_DATA_HOME", home, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_CACHE_HOME", home, TRUE);
    g_subprocess_launcher_setenv(launcher, "XDG_RUNTIME_DIR", home, TRUE);
    const char *up_args[] = {
        "virt-station", "-c", "qemu:///system", "up",   name,        "--image", image,
        "--pool",       pool, "--network",      "user", "--no-wait", NULL};
    g_auto(GStrv) up_argv = vs_bed_argv_with_virt_type(up_args);
    up = g_subprocess_launcher_spawnv(launcher, (const char *const *)up_argv, &error);
    g_assert_no_error(error);
    err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(up));
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        paused = strcmp(line, expected) == 0;
        g_free(line);
        if (paused)
            break;
    }
    if (!paused)
        g_error("up never paused before %s:\n%s", step, output->str);
    g_subprocess_send_signal(up, SIGINT);
    while ((line = g_data_input_stream_read_line(err, NULL, NULL, NULL))) {
        g_string_append_printf(output, "%s\n", line);
        g_free(line);
    }
    g_assert_true(g_subprocess_wait(up, NULL, NULL));
    g_assert_cmpint(g_subprocess_get_exit_status(up), ==, 1);
    g_autofree char *said = g_strdup_printf("interrupted before %s", step);
    if (!strstr(output->str, said) || (!strstr(output->str, "removed what was created") &&
                                       !strstr(output->str, "nothing had been created yet")))
        g_error("up did not say what it undid:\n%s", output->str);

    /* Nothing is left: no domain, no volume. */
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_null(dom);
    g_autofree char *vols = vs_bed_pool_volumes(conn, pool);
    g_assert_cmpstr(vols, ==, "");

    p = virStoragePoolLookupByName(conn, pool);
    virStoragePoolDestroy(p);
    virStoragePoolFree(p);
    virConnectClose(conn);
    vs_bed_rmtree(home);
    vs_bed_rmtree(pool_dir);
}

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;

    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    if (!vs_bed_daemons(&error))
        g_error("%s", error->message);
    g_test_add_func("/ownership/foreign-domain-refused", test_foreign_domain_refused);
    g_test_add_func("/ownership/clone-adopt-delete", test_clone_adopt_delete);
    g_test_add_func("/ownership/delete-keeps-shared-volume", test_delete_keeps_shared_volume);
    g_test_add_func("/ownership/delete-refuses-base-and-others",
                    test_delete_refuses_base_and_others);
    g_test_add_func("/ownership/seed-from-and-commands", test_seed_from_and_commands);
    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
        g_autofree char *path = g_strdup_printf("/ownership/interrupt/%s", steps[i]);
        g_test_add_data_func(path, steps[i], test_interrupt_at_step);
    }
    return g_test_run();
}
