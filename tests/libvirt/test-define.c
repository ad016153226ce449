/* `virsh define` on the real libvirtd accepts every golden case (x86_64 and aarch64), and `virsh
 * dumpxml` gives back what virt-station depends on: the metadata, the volumes and the MAC; for the
 * GPU cases the guest PCI layout of passthrough, the mdev UUID and the unmanaged VF. Each case is
 * defined under its golden name, then undefined again; a domain of that name that exists already
 * (not ours) stops the test instead of being touched.
 *
 * Every case is defined, the aarch64 ones included (qemu-system-arm and qemu-efi-aarch64 are
 * test packages of scripts/setup), and what libvirt gives back is compared with what was
 * defined field by field (same_as_defined): architecture, machine, firmware, memory, vCPUs,
 * every disk, interface, controller model, serial log, panic device, the lifecycle actions.
 *
 * Cases written for passt are defined as this host gets them: libvirt older than 9.2 rejects
 * <backend type='passt'/>, so virt-station's version check gives it the SLIRP form instead;
 * cases written for KVM get type 'qemu' on a host without KVM, as the capability probe does.
 * Where a case is not changed by that, what is defined is the golden file byte for byte
 * (the case's message says so); the other golden files are defined as written as well, and
 * libvirt must refuse each for what it asks of this host that the host lacks. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <string.h>

#include "tests/bed/bed.h"
#include "tests/bed/domcase.h"
#include "tests/bed/golden.h"
#include "vs-config.h"

static gboolean host_has_passt, host_has_kvm;

static void
as_this_host(VsPlanInputs *facts)
{
    facts->passt = facts->passt && host_has_passt;
    facts->kvm = facts->kvm && host_has_kvm;
}

static gboolean
virsh(const char *const *args, char **ret_out, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *err = NULL, *out = NULL;
    int status;

    g_ptr_array_add(argv, (char *)"virsh");
    g_ptr_array_add(argv, (char *)"-c");
    g_ptr_array_add(argv, (char *)"qemu:///system");
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *)args[i]);
    g_ptr_array_add(argv, NULL);
    /* Its output is kept off stdout, which carries the TAP stream. */
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      &status, error))
        return FALSE;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "virsh %s: %s", args[0], err);
        return FALSE;
    }
    if (ret_out)
        *ret_out = g_steal_pointer(&out);
    return TRUE;
}

/* Returns the string value of @expr (XPath) in @doc, "" when it selects nothing. */
static char *
xpath_string(xmlDocPtr doc, const char *expr)
{
    g_autofree char *wrapped = g_strdup_printf("string(%s)", expr);
    xmlXPathContextPtr ctxt = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)wrapped, ctxt);
    char *ret;

    g_assert_nonnull(obj);
    ret = g_strdup(obj->stringval ? (const char *)obj->stringval : "");
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctxt);
    return ret;
}

/* Returns the number of nodes @expr (XPath) selects in @doc. */
static guint
xpath_count(xmlDocPtr doc, const char *expr)
{
    g_autofree char *wrapped = g_strdup_printf("count(%s)", expr);
    xmlXPathContextPtr ctxt = xmlXPathNewContext(doc);
    xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)wrapped, ctxt);
    guint ret;

    g_assert_nonnull(obj);
    ret = (guint)obj->floatval;
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctxt);
    return ret;
}

/* Fails unless @expr has the same value in @dumped as in @defined, where @defined has one. */
static void
same_value(xmlDocPtr defined, xmlDocPtr dumped, const char *expr)
{
    g_autofree char *want = xpath_string(defined, expr);
    g_autofree char *got = xpath_string(dumped, expr);

    if (*want && strcmp(want, got) != 0)
        g_error("%s: defined \"%s\", libvirt gives back \"%s\"", expr, want, got);
}

/* Fails unless what libvirt gives back (@dumped_xml, `dumpxml --inactive`) keeps, field by
 * field, what was defined (@xml): libvirt adds defaults and addresses, it must not change or
 * drop what virt-station wrote. */
static void
same_as_defined(const char *xml, const char *dumped_xml)
{
    xmlDocPtr defined = xmlReadMemory(xml, (int)strlen(xml), "defined.xml", NULL, XML_PARSE_NONET);
    xmlDocPtr dumped =
        xmlReadMemory(dumped_xml, (int)strlen(dumped_xml), "dumped.xml", NULL, XML_PARSE_NONET);
    static const char *const fields[] = {"/domain/@type",
                                         "/domain/name",
                                         "/domain/uuid",
                                         "/domain/title",
                                         "/domain/vcpu",
                                         "/domain/os/@firmware",
                                         "/domain/os/type/@arch",
                                         "/domain/os/type",
                                         "/domain/os/boot/@dev",
                                         "/domain/os/smbios/@mode",
                                         "/domain/sysinfo/system/entry[@name='serial']",
                                         "/domain/features/gic/@version",
                                         "/domain/features/kvm/hidden/@state",
                                         "/domain/cpu/@mode",
                                         "/domain/clock/@offset",
                                         "/domain/on_poweroff",
                                         "/domain/on_reboot",
                                         "/domain/on_crash",
                                         "/domain/devices/serial/log/@file",
                                         "/domain/devices/console/target/@type",
                                         "/domain/devices/panic/@model",
                                         "/domain/devices/video/model/@type",
                                         "/domain/devices/graphics/@type",
                                         "/domain/devices/rng/@model",
                                         "/domain/devices/memballoon/@model",
                                         "/domain/devices/channel/target/@name",
                                         NULL};
    static const char *const disk_fields[] = {
        "@type",          "@device",     "driver/@type", "source/@pool",
        "source/@volume", "target/@dev", "target/@bus",  NULL};
    static const char *const nic_fields[] = {"@type",          "mac/@address",    "model/@type",
                                             "source/@bridge", "source/@network", NULL};

    g_assert_nonnull(defined);
    g_assert_nonnull(dumped);
    for (guint i = 0; fields[i]; i++)
        same_value(defined, dumped, fields[i]);
    /* The machine: libvirt pins the version ("virt" becomes "virt-7.2", "q35" "pc-q35-7.2"). */
    g_autofree char *machine = xpath_string(defined, "/domain/os/type/@machine");
    g_autofree char *kept_machine = xpath_string(dumped, "/domain/os/type/@machine");
    g_assert_cmpstr(machine, !=, "");
    if (!g_str_has_prefix(kept_machine, machine) &&
        !g_str_has_prefix(kept_machine, strcmp(machine, "q35") == 0 ? "pc-q35-" : machine))
        g_error("machine %s given back as %s", machine, kept_machine);
    /* The emulator is the one of the domain's architecture. */
    g_autofree char *arch = xpath_string(defined, "/domain/os/type/@arch");
    g_autofree char *emulator = xpath_string(dumped, "/domain/devices/emulator");
    g_autofree char *qemu = g_strdup_printf("/qemu-system-%s", arch);
    g_assert_true(g_str_has_suffix(emulator, qemu));
    /* Memory in MiB as written, KiB as given back. */
    g_autofree char *unit = xpath_string(defined, "/domain/memory/@unit");
    g_autofree char *mib = xpath_string(defined, "/domain/memory");
    g_autofree char *kib = xpath_string(dumped, "/domain/memory");
    g_assert_cmpstr(unit, ==, "MiB");
    g_assert_cmpuint(g_ascii_strtoull(kib, NULL, 10), ==, g_ascii_strtoull(mib, NULL, 10) * 1024);
    /* Every disk and interface, in order, with its fields; no device of these kinds added. */
    guint disks = xpath_count(defined, "/domain/devices/disk");
    g_assert_cmpuint(disks, >=, 1);
    g_assert_cmpuint(xpath_count(dumped, "/domain/devices/disk"), ==, disks);
    for (guint d = 1; d <= disks; d++) {
        for (guint f = 0; disk_fields[f]; f++) {
            g_autofree char *expr =
                g_strdup_printf("/domain/devices/disk[%u]/%s", d, disk_fields[f]);
            same_value(defined, dumped, expr);
        }
        g_autofree char *ro = g_strdup_printf("/domain/devices/disk[%u]/readonly", d);
        g_assert_cmpuint(xpath_count(dumped, ro), ==, xpath_count(defined, ro));
    }
    guint nics = xpath_count(defined, "/domain/devices/interface");
    g_assert_cmpuint(xpath_count(dumped, "/domain/devices/interface"), ==, nics);
    for (guint n = 1; n <= nics; n++)
        for (guint f = 0; nic_fields[f]; f++) {
            g_autofree char *expr =
                g_strdup_printf("/domain/devices/interface[%u]/%s", n, nic_fields[f]);
            same_value(defined, dumped, expr);
        }
    /* Controllers virt-station asks for by model (virtio-scsi, root ports) are all there. */
    guint controllers = xpath_count(defined, "/domain/devices/controller");
    for (guint c = 1; c <= controllers; c++) {
        g_autofree char *type_expr = g_strdup_printf("/domain/devices/controller[%u]/@type", c);
        g_autofree char *model_expr = g_strdup_printf("/domain/devices/controller[%u]/@model", c);
        g_autofree char *index_expr = g_strdup_printf("/domain/devices/controller[%u]/@index", c);
        g_autofree char *type = xpath_string(defined, type_expr);
        g_autofree char *model = xpath_string(defined, model_expr);
        g_autofree char *index = xpath_string(defined, index_expr);
        g_autofree char *match = g_strdup_printf(
            "/domain/devices/controller[@type='%s' and @model='%s' and @index='%s']", type, model,
            index);
        g_assert_cmpuint(xpath_count(dumped, match), ==, 1);
    }
    g_assert_cmpuint(xpath_count(dumped, "/domain/devices/hostdev"), ==,
                     xpath_count(defined, "/domain/devices/hostdev"));
    /* QEMU arguments (the SLIRP form of user networking) kept in order. */
    guint args = xpath_count(defined, "/domain/*[local-name()='commandline']/*");
    g_assert_cmpuint(xpath_count(dumped, "/domain/*[local-name()='commandline']/*"), ==, args);
    for (guint a = 1; a <= args; a++) {
        g_autofree char *expr =
            g_strdup_printf("(/domain/*[local-name()='commandline']/*)[%u]/@value", a);
        same_value(defined, dumped, expr);
    }
    xmlFreeDoc(defined);
    xmlFreeDoc(dumped);
}

static void check_as_written(const char *name, const char *adapted);

static void
test_define_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *rel = g_strdup_printf("domains/%s.yaml", name);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_domcase_xml_with(rel, as_this_host, &error);
    g_autofree char *dir = g_dir_make_tmp("vs-define-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "domain.xml", NULL);
    g_autofree char *dumped = NULL;
    g_autofree char *domname = NULL;

    g_assert_no_error(error);
    domname = g_strdup(strstr(xml, "<name>") + 6);
    *strstr(domname, "</name>") = '\0';
    {
        const char *check[] = {"domstate", domname, NULL};
        g_autofree char *out = NULL;
        g_autoptr(GError) absent = NULL;
        if (virsh(check, &out, &absent))
            g_error("a domain called %s exists already; not touching it", domname);
    }
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *define[] = {"define", path, NULL};
    gboolean defined = virsh(define, NULL, &error);
    if (defined) {
        const char *dump[] = {"dumpxml", "--inactive", domname, NULL};
        virsh(dump, &dumped, &error);
        const char *undefine[] = {"undefine", "--nvram", domname, NULL};
        g_autoptr(GError) undefine_error = NULL;
        g_assert_true(virsh(undefine, NULL, &undefine_error));
    }
    g_remove(path);
    g_rmdir(dir);
    g_assert_no_error(error);
    g_assert_true(defined);
    /* What libvirt keeps carries what virt-station reads back later. */
    g_assert_nonnull(strstr(dumped, "<vs:station xmlns:vs=\"urn:virt-station:domain:1\""));
    g_autofree char *disk = g_strdup_printf("volume='%s.qcow2'", domname);
    g_assert_nonnull(strstr(dumped, disk));
    g_assert_nonnull(strstr(dumped, "52:54:00:"));
    /* The domain has the UUID the metadata records (a copy would get another). */
    g_autofree char *uuid = g_strdup(strstr(xml, "<uuid>") + 6);
    *strstr(uuid, "</uuid>") = '\0';
    g_assert_true(g_str_has_prefix(uuid, "0b5e3c2a-7f1d-4e8a-9c6b-"));
    g_autofree char *uuid_el = g_strdup_printf("<uuid>%s</uuid>", uuid);
    g_autofree char *uuid_attr = g_strdup_printf(" uuid=\"%s\"", uuid);
    g_assert_nonnull(strstr(dumped, uuid_el));
    g_assert_nonnull(strstr(dumped, uuid_attr));
    same_as_defined(xml, dumped);
    check_as_written(name, xml);
}

/* Returns @xml with its domain name replaced by @name. */
static char *
renamed(const char *xml, const char *name)
{
    const char *start = strstr(xml, "<name>"), *end = strstr(xml, "</name>");

    g_assert_true(start && end && start < end);
    return g_strdup_printf("%.*s<name>%s%s", (int)(start - xml), xml, name, end);
}

/* Defines the golden file tests/data/domains/@name.xml as written, renamed to a sweepable
 * vs-int-written-N-PID, unless it is @adapted (what this host gets, defined by the caller).
 * libvirt must refuse exactly a file that asks for what this host lacks: passt before 9.2,
 * KVM where none works, saying so. */
static void
check_as_written(const char *name, const char *adapted)
{
    g_autofree char *rel = g_strdup_printf("domains/%s.xml", name);
    g_autoptr(GBytes) data = vs_golden_read(rel);
    g_autofree char *golden = g_strndup(g_bytes_get_data(data, NULL), g_bytes_get_size(data));
    static guint serial;
    g_autofree char *domname = g_strdup_printf("vs-int-written%u-%d", serial++, (int)getpid());
    g_autofree char *dir = NULL, *path = NULL, *xml = NULL;
    g_autoptr(GError) error = NULL;
    const char *why;

    if (strcmp(golden, adapted) == 0) {
        g_test_message("%s: defined as written", rel);
        return;
    }
    if (strstr(golden, "<backend type=\"passt\"/>") && !host_has_passt)
        why = "Invalid value for attribute 'type' in element 'backend': 'passt'";
    else if (g_str_has_prefix(golden, "<domain type=\"kvm\"") && !host_has_kvm)
        why = "does not support virt type 'kvm'";
    else
        g_error("%s differs from what this host gets, for no reason this host has", rel);
    dir = g_dir_make_tmp("vs-define-XXXXXX", NULL);
    path = g_build_filename(dir, "domain.xml", NULL);
    xml = renamed(golden, domname);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *define[] = {"define", path, NULL};
    gboolean defined = virsh(define, NULL, &error);
    if (defined) {
        const char *undefine[] = {"undefine", "--nvram", domname, NULL};
        g_autoptr(GError) undefine_error = NULL;
        g_assert_true(virsh(undefine, NULL, &undefine_error));
    }
    g_remove(path);
    g_rmdir(dir);
    g_assert_false(defined);
    g_assert_nonnull(strstr(error->message, why));
    g_test_message("%s as written: refused by this host (%s)", rel, why);
}

/* The GPU cases (x86_64): libvirt accepts host devices that do not exist on this host at
 * define time (they are looked up at start), so each is defined here as a sweepable
 * vs-int-gpuN-PID domain, and what libvirt keeps carries the guest layout the XML asked for. */
static void
test_define_gpu_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *rel = g_strdup_printf("domains/%s.yaml", name);
    g_autoptr(GError) error = NULL;
    g_autofree char *golden = vs_domcase_xml_with(rel, as_this_host, &error);
    static guint serial;
    g_autofree char *domname = g_strdup_printf("vs-int-gpu%u-%d", serial++, (int)getpid());
    g_autofree char *xml = NULL;
    g_autofree char *dir = g_dir_make_tmp("vs-define-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "domain.xml", NULL);
    g_autofree char *dumped = NULL;

    g_assert_no_error(error);
    xml = renamed(golden, domname);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    const char *define[] = {"define", path, NULL};
    gboolean defined = virsh(define, NULL, &error);
    if (defined) {
        const char *dump[] = {"dumpxml", "--inactive", domname, NULL};
        virsh(dump, &dumped, &error);
        const char *undefine[] = {"undefine", "--nvram", domname, NULL};
        g_autoptr(GError) undefine_error = NULL;
        g_assert_true(virsh(undefine, NULL, &undefine_error));
    }
    g_remove(path);
    g_rmdir(dir);
    g_assert_no_error(error);
    g_assert_true(defined);
    g_assert_nonnull(strstr(dumped, "<vs:station xmlns:vs=\"urn:virt-station:domain:1\""));
    same_as_defined(xml, dumped);
    check_as_written(name, golden);
    if (strstr(xml, "model=\"pcie-root\"")) {
        /* Passthrough: the 64-bit hole and the card's functions in one slot of root port 1,
         * kept as asked, not moved by libvirt's address assignment. */
        g_autofree char *hole = g_strdup(strstr(xml, "<pcihole64 unit=\"KiB\">"));
        g_assert_nonnull(hole);
        *strstr(hole, "</pcihole64>") = '\0';
        g_autofree char *kept = g_strdup_printf("<pcihole64 unit='KiB'>%s</pcihole64>",
                                                hole + strlen("<pcihole64 unit=\"KiB\">"));
        g_assert_nonnull(strstr(dumped, kept));
        g_assert_nonnull(strstr(dumped, "<controller type='pci' index='1' "
                                        "model='pcie-root-port'>"));
        g_assert_nonnull(strstr(dumped, "<address type='pci' domain='0x0000' bus='0x01' "
                                        "slot='0x00' function='0x0'"));
        if (strstr(xml, "function=\"0x1\"/>\n      </source>")) {
            g_assert_nonnull(strstr(dumped, "<address type='pci' domain='0x0000' bus='0x01' "
                                            "slot='0x00' function='0x0' multifunction='on'/>"));
            g_assert_nonnull(strstr(dumped, "<address type='pci' domain='0x0000' bus='0x01' "
                                            "slot='0x00' function='0x1'/>"));
        }
        /* Nothing else was put on the card's root port. */
        const char *p = dumped;
        guint on_port = 0;
        while ((p = strstr(p, "<address type='pci' domain='0x0000' bus='0x01'")))
            on_port++, p++;
        g_assert_cmpuint(on_port, ==, strstr(xml, "function=\"0x1\"/>\n      </source>") ? 2 : 1);
        g_assert_true(strstr(xml, "<os firmware=\"efi\">")
                          ? strstr(dumped, "<os firmware='efi'>") != NULL
                          : strstr(dumped, "firmware='efi'") == NULL);
    }
    if (strstr(xml, "type=\"mdev\"")) {
        g_autofree char *uuid = g_strdup(strstr(xml, "<address uuid=\"") + 15);
        *strchr(uuid, '"') = '\0';
        g_autofree char *kept = g_strdup_printf("<address uuid='%s'/>", uuid);
        g_assert_nonnull(strstr(dumped, kept));
        g_assert_nonnull(strstr(dumped, "type='mdev'"));
    }
    if (strstr(xml, "managed=\"no\""))
        g_assert_nonnull(strstr(dumped, "<hostdev mode='subsystem' type='pci' managed='no'>"));
}

/* up --dry-run against the real daemon defines nothing and creates no volume. */
static void
test_up_dry_run_changes_nothing(void)
{
    g_autofree char *image = g_build_filename(VS_SOURCE_DIR, "tests/data/keys/tester.pub", NULL);
    g_autofree char *name = g_strdup_printf("vs-dryrun-%d", (int)getpid());
    const char *argv[] = {"virt-station", "-c",  "qemu:///system", "up",          name,
                          "--image",      image, "--dry-run",      "--print-xml", "--network",
                          "user",         NULL};
    g_autofree char *out = NULL;
    g_autoptr(GError) error = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &error));
    g_assert_no_error(error);
    g_assert_cmpint(status, ==, 0);
    g_autofree char *tag = g_strdup_printf("<name>%s</name>", name);
    g_assert_nonnull(strstr(out, tag));

    virConnectPtr conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(conn);
    virDomainPtr dom = virDomainLookupByName(conn, name);
    g_assert_null(dom);
    virStoragePoolPtr pool = virStoragePoolLookupByName(conn, "default");
    if (pool) {
        g_autofree char *disk = g_strdup_printf("%s.qcow2", name);
        g_autofree char *seed = g_strdup_printf("%s-seed.iso", name);
        virStoragePoolRefresh(pool, 0);
        g_assert_null(virStorageVolLookupByName(pool, disk));
        g_assert_null(virStorageVolLookupByName(pool, seed));
        virStoragePoolFree(pool);
    }
    virConnectClose(conn);
}

static void
ignore_error(void *opaque, virErrorPtr err)
{
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = vs_golden_path("domains");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) gpu_cases = g_ptr_array_new_with_free_func(g_free);
    unsigned long version = 0;
    const char *name;

    g_test_init(&argc, &argv, NULL);
    virSetErrorFunc(NULL, ignore_error);
    if (!vs_bed_daemons(&error))
        g_error("%s", error->message);
    virConnectPtr conn = virConnectOpen("qemu:///system");
    g_assert_nonnull(conn);
    g_assert_cmpint(virConnectGetLibVersion(conn, &version), ==, 0);
    char *caps = virConnectGetDomainCapabilities(conn, NULL, "x86_64", "q35", "kvm", 0);
    host_has_kvm = caps != NULL;
    free(caps);
    virConnectClose(conn);
    host_has_passt = version >= 9002000;

    while ((name = g_dir_read_name(d))) {
        g_autofree char *rel = g_strdup_printf("domains/%s", name);
        g_autofree char *full = vs_golden_path(rel);
        g_autofree char *text = NULL;
        if (!g_str_has_suffix(name, ".yaml") || !g_file_get_contents(full, &text, NULL, NULL))
            continue;
        /* Cases with host devices are defined under sweepable names (test_define_gpu_case). */
        if (strstr(text, "mode: vgpu") || strstr(text, "mode: passthrough"))
            g_ptr_array_add(gpu_cases, g_strndup(name, strlen(name) - 5));
        else
            g_ptr_array_add(cases, g_strndup(name, strlen(name) - 5));
    }
    g_assert_cmpuint(cases->len, >=, 10);
    for (guint i = 0; i < cases->len; i++) {
        g_autofree char *path = g_strdup_printf("/define/%s", (char *)cases->pdata[i]);
        g_test_add_data_func(path, cases->pdata[i], test_define_case);
    }
    g_assert_cmpuint(gpu_cases->len, >=, 5);
    for (guint i = 0; i < gpu_cases->len; i++) {
        g_autofree char *path = g_strdup_printf("/define/gpu/%s", (char *)gpu_cases->pdata[i]);
        g_test_add_data_func(path, gpu_cases->pdata[i], test_define_gpu_case);
    }
    g_test_add_func("/define/up-dry-run-changes-nothing", test_up_dry_run_changes_nothing);
    return g_test_run();
}
