/* Domain XML: golden cases tests/data/domains/<case>.yaml -> <case>.xml, byte for byte, each also
 * validated against libvirt's RelaxNG schema; hostile values that must not change the document's
 * structure; invalid names refused. */
#include <libxml/relaxng.h>
#include <libxml/xpathInternals.h>
#include <string.h>
#include <yaml.h>

#include "tests/bed/domcase.h"
#include "tests/bed/golden.h"
#include "domains/lifecycle.h"
#include "domains/metadata.h"
#include "provisioner/request.h"
#include "domains/vs-xml.h"
#include "domains/xml.h"

#define SCHEMA "/usr/share/libvirt/schemas/domain.rng"

static void
validate(const char *xml, const char *what)
{
    static xmlRelaxNGPtr schema;
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), what, NULL, XML_PARSE_NONET);
    xmlRelaxNGValidCtxtPtr ctxt;
    int rc;

    g_assert_nonnull(doc);
    if (!schema) {
        xmlRelaxNGParserCtxtPtr parser = xmlRelaxNGNewParserCtxt(SCHEMA);
        schema = xmlRelaxNGParse(parser);
        xmlRelaxNGFreeParserCtxt(parser);
        if (!schema)
            g_error("cannot load libvirt's schema %s (package libvirt-daemon-common or "
                    "libvirt-clients)",
                    SCHEMA);
    }
    ctxt = xmlRelaxNGNewValidCtxt(schema);
    rc = xmlRelaxNGValidateDoc(ctxt, doc);
    xmlRelaxNGFreeValidCtxt(ctxt);
    if (rc != 0)
        g_error("%s does not validate against %s", what, SCHEMA);
}

static void
test_golden_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *rel = g_strdup_printf("domains/%s.yaml", name);
    g_autofree char *golden = g_strdup_printf("domains/%s.xml", name);
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_domcase_xml(rel, &error);

    g_assert_no_error(error);
    validate(xml, golden);
    vs_golden_check(golden, xml, strlen(xml));
}

/* ---- hostile values ---- */

static char *
xpath_string(xmlDoc *doc, const char *expr)
{
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
    g_autoptr(xmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctxt);
    g_assert_nonnull(obj);
    xmlChar *s = xmlXPathCastToString(obj);
    char *ret = g_strdup((char *)s);
    xmlFree(s);
    return ret;
}

static double
xpath_number(xmlDoc *doc, const char *expr)
{
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
    g_autoptr(xmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST expr, ctxt);
    g_assert_nonnull(obj);
    return xmlXPathCastToNumber(obj);
}

static void
test_hostile_values_keep_structure(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = vs_domcase_xml("domains/hostile.yaml", &error);
    g_autoptr(xmlDoc) doc = NULL;

    g_assert_no_error(error);
    doc = xmlReadMemory(xml, (int)strlen(xml), "hostile.xml", NULL, XML_PARSE_NONET);
    g_assert_nonnull(doc);
    /* Exactly the elements a plain case has: nothing was injected. */
    g_assert_cmpfloat(xpath_number(doc, "count(//vs:volume)"), ==, 2);
    g_assert_cmpfloat(xpath_number(doc, "count(//vs:image)"), ==, 1);
    g_assert_cmpfloat(xpath_number(doc, "count(//evil)"), ==, 0);
    g_assert_cmpfloat(xpath_number(doc, "count(//vs:host-key)"), ==, 1);
    g_assert_cmpfloat(xpath_number(doc, "count(/domain/devices/serial/log)"), ==, 1);
    /* And every value comes back as it went in (the control character made visible). */
    g_autofree char *log = xpath_string(doc, "string(/domain/devices/serial/log/@file)");
    g_assert_cmpstr(log, ==, "/var/log/a'b\"c<d>&e/ünïcødé/vsgolden-hostile-console.log");
    g_autofree char *alias = xpath_string(doc, "string(//vs:image/@alias)");
    g_assert_cmpstr(alias, ==, "my \"image\" <&> </vs:image><evil/> ü\xef\xbf\xbd");
    g_autofree char *key = xpath_string(doc, "string(//vs:host-key)");
    g_assert_cmpstr(key, ==,
                    "ssh-ed25519 AAAA </vs:host-key><vs:volume role='disk' pool='default' "
                    "name='victim'/> & 'x'");
    g_autofree char *victim = xpath_string(doc, "string(//vs:volume[@name='victim']/@name)");
    g_assert_cmpstr(victim, ==, "");
    g_autofree char *reason = xpath_string(doc, "string(//vs:gpu/vs:reason)");
    g_assert_cmpstr(reason, ==,
                    "no GPU </vs:reason><vs:volume role='disk' pool='default' name='victim2'/> & "
                    "'y'");
    g_assert_cmpfloat(xpath_number(doc, "count(//vs:gpu/vs:reason)"), ==, 1);
    /* Read back as `info` reads it. */
    {
        xmlXPathContext *ctxt = xmlXPathNewContext(doc);
        xmlXPathRegisterNs(ctxt, BAD_CAST "vs", BAD_CAST VS_STATION_NS);
        xmlXPathObject *res = xmlXPathEvalExpression(BAD_CAST "//vs:station", ctxt);
        g_assert_cmpint(res->nodesetval->nodeNr, ==, 1);
        xmlBuffer *buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, res->nodesetval->nodeTab[0], 0, 0);
        g_autoptr(VsMetadata) station =
            vs_metadata_parse((const char *)xmlBufferContent(buf), &error);
        g_assert_no_error(error);
        g_assert_cmpuint(station->gpu_reasons->len, ==, 1);
        g_assert_cmpstr(station->gpu_reasons->pdata[0], ==, reason);
        g_assert_cmpuint(station->volumes->len, ==, 2);
        xmlBufferFree(buf);
        xmlXPathFreeObject(res);
        xmlXPathFreeContext(ctxt);
    }
    validate(xml, "hostile.xml");
    vs_golden_check("domains/hostile.xml", xml, strlen(xml));
}

static void
test_invalid_names_refused(void)
{
    const char *names[] = {"Upper",
                           "-lead",
                           "trail-",
                           "a_b",
                           "a.b",
                           "a b",
                           "x<y",
                           "ünï",
                           "",
                           "a&amp;b",
                           "0123456789012345678901234567890123456789012345678901234567890123"};
    g_autoptr(VsPlanInputs) facts =
        vs_domcase_parse_facts("kvm: false\narch: x86_64\nssh-port: 1\n"
                               "mac: 52:54:00:00:00:01\ngpu: {mode: none}\n");

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autoptr(VsSpec) spec = vs_spec_new();
        g_autoptr(GError) error = NULL;
        spec->name = g_strdup(names[i]);
        g_assert_null(vs_request_config(spec, facts, &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "invalid name '") ||
                      g_str_has_prefix(error->message, "a workstation NAME"));
    }
    /* 63 characters is the longest valid name. */
    g_autoptr(VsSpec) ok = vs_spec_new();
    g_autoptr(GError) error = NULL;
    ok->name = g_strdup("012345678901234567890123456789012345678901234567890123456789012");
    g_autoptr(VsDomainConfig) config = vs_request_config(ok, facts, &error);
    g_assert_no_error(error);
    g_assert_nonnull(config);
}

/* Moving the forwarded port rewrites the QEMU arguments or <portForward>, and the metadata. */
static void
test_port_rewrite(void)
{
    const char *cases[] = {"domains/user-slirp.yaml", "domains/basic-user-passt.yaml"};

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autofree char *xml = vs_domcase_xml(cases[i], &error);
        g_assert_no_error(error);
        g_assert_nonnull(strstr(xml, "40022"));
        g_autofree char *moved = vs_lifecycle_xml_with_port(xml, 40123, &error);
        g_assert_no_error(error);
        g_assert_null(strstr(moved, "40022"));
        g_assert_nonnull(
            strstr(moved, "<vs:ssh user=\"station\" host=\"127.0.0.1\" port=\"40123\"/>"));
        if (i == 0)
            g_assert_nonnull(strstr(moved, "hostfwd=tcp:127.0.0.1:40123-:22"));
        else
            g_assert_nonnull(strstr(moved, "<range start=\"40123\" to=\"22\"/>"));
        validate(moved, cases[i]);
    }
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
libvirt_9_0(VsPlanInputs *facts)
{
    facts->libvirt_version = 9000000;
}

static void
libvirt_9_1(VsPlanInputs *facts)
{
    facts->libvirt_version = 9001000;
}

/* Returns the model of @xml's <panic> devices, space-separated ("" for none). */
static char *
panic_models(const char *xml)
{
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
    g_autoptr(xmlXPathContext) ctxt = xmlXPathNewContext(doc);
    g_autoptr(xmlXPathObject) obj = xmlXPathEvalExpression(BAD_CAST "/domain/devices/panic", ctxt);
    GString *out = g_string_new(NULL);

    for (int i = 0; obj->nodesetval && i < obj->nodesetval->nodeNr; i++) {
        xmlChar *model = xmlGetProp(obj->nodesetval->nodeTab[i], BAD_CAST "model");
        g_string_append_printf(out, "%s%s", i ? " " : "", (char *)model);
        xmlFree(model);
    }
    return g_string_free(out, FALSE);
}

/* pvpanic, so that a guest's kernel panic reaches libvirt: the ISA device on x86 whatever the
 * libvirt; pvpanic-pci on aarch64 only where libvirt 9.1+ accepts it. */
static void
test_pvpanic(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *x86 = vs_domcase_xml_with("domains/user-slirp.yaml", libvirt_9_0, &error);
    g_autofree char *arm_old =
        vs_domcase_xml_with("domains/aarch64-cdrom.yaml", libvirt_9_0, &error);
    g_autofree char *arm_new =
        vs_domcase_xml_with("domains/aarch64-cdrom.yaml", libvirt_9_1, &error);

    g_assert_no_error(error);
    g_autofree char *x86_models = panic_models(x86);
    g_autofree char *old_models = panic_models(arm_old);
    g_autofree char *new_models = panic_models(arm_new);
    g_assert_cmpstr(x86_models, ==, "isa");
    g_assert_cmpstr(old_models, ==, "");
    g_assert_cmpstr(new_models, ==, "pvpanic");
    /* A crashed guest is powered off and kept defined. */
    g_assert_nonnull(strstr(x86, "<on_crash>destroy</on_crash>"));
}

/* The 64-bit PCI hole: the next power of two at least twice the BARs' sum, at least 32 GiB. */
static void
test_pcihole64(void)
{
    const guint64 mib = G_GUINT64_CONSTANT(1) << 20, gib = G_GUINT64_CONSTANT(1) << 30;

    g_assert_cmpuint(vs_domain_pcihole64_kib(0), ==, 32 * 1024 * 1024);
    /* A T4: 256 MiB + 32 MiB. */
    g_assert_cmpuint(vs_domain_pcihole64_kib(288 * mib), ==, 32 * 1024 * 1024);
    /* 16 GiB exactly: twice is 32 GiB, no rounding. */
    g_assert_cmpuint(vs_domain_pcihole64_kib(16 * gib), ==, 32 * 1024 * 1024);
    g_assert_cmpuint(vs_domain_pcihole64_kib(16 * gib + 1), ==, 64 * 1024 * 1024);
    /* An H100: 128 GiB + 32 MiB -> 512 GiB (256 GiB would not hold both, aligned). */
    g_assert_cmpuint(vs_domain_pcihole64_kib(128 * gib + 32 * mib), ==, 512ULL * 1024 * 1024);
    /* No overflow at the top. */
    g_assert_cmpuint(vs_domain_pcihole64_kib(G_MAXUINT64), ==, (G_GUINT64_CONSTANT(1) << 62) >> 10);
}

static void
test_firmware_default(void)
{
    g_assert_cmpint(vs_firmware_default(VS_ARCH_X86_64, VS_GPU_MODE_PASSTHROUGH), ==,
                    VS_FIRMWARE_EFI);
    g_assert_cmpint(vs_firmware_default(VS_ARCH_X86_64, VS_GPU_MODE_VGPU), ==, VS_FIRMWARE_BIOS);
    g_assert_cmpint(vs_firmware_default(VS_ARCH_X86_64, VS_GPU_MODE_NONE), ==, VS_FIRMWARE_BIOS);
    g_assert_cmpint(vs_firmware_default(VS_ARCH_AARCH64, VS_GPU_MODE_NONE), ==, VS_FIRMWARE_EFI);
}

static void
functions_reversed(VsPlanInputs *facts)
{
    g_ptr_array_set_size(facts->gpu->functions, 0);
    g_ptr_array_add(facts->gpu->functions, g_strdup("0000:01:00.1"));
    g_ptr_array_add(facts->gpu->functions, g_strdup("0000:01:00.0"));
}

/* Whatever order the plan lists the functions in, each keeps its host function number in the
 * guest slot, and only function 0 says multifunction. */
static void
test_passthrough_function_order(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml =
        vs_domcase_xml_with("domains/passthrough.yaml", functions_reversed, &error);
    g_assert_no_error(error);
    g_autoptr(xmlDoc) doc = xmlReadMemory(xml, (int)strlen(xml), "d.xml", NULL, XML_PARSE_NONET);
    g_autofree char *f0 = xpath_string(
        doc, "string(/domain/devices/hostdev[address/@function='0x0']/source/address/@function)");
    g_autofree char *f1 = xpath_string(
        doc, "string(/domain/devices/hostdev[address/@function='0x1']/source/address/@function)");
    g_assert_cmpstr(f0, ==, "0x0");
    g_assert_cmpstr(f1, ==, "0x1");
    g_assert_cmpfloat(xpath_number(doc, "count(//hostdev/address[@multifunction='on'])"), ==, 1);
    g_assert_cmpfloat(
        xpath_number(doc, "count(//hostdev/address[@multifunction='on' and @function='0x0'])"), ==,
        1);
    g_assert_cmpfloat(xpath_number(doc, "count(//hostdev/address[@bus='0x01' and @slot='0x00'])"),
                      ==, 2);
    validate(xml, "passthrough reversed");
}

static void
test_all_data_used(void)
{
    vs_golden_assert_all_used("domains");
}

int
main(int argc, char **argv)
{
    g_autofree char *dir = vs_golden_path("domains");
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_test_init(&argc, &argv, NULL);
    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".yaml") && strcmp(name, "hostile.yaml") != 0)
            g_ptr_array_add(cases, g_strndup(name, strlen(name) - 5));
    g_ptr_array_sort(cases, compare_names);
    for (guint i = 0; i < cases->len; i++) {
        g_autofree char *path = g_strdup_printf("/domain-xml/golden/%s", (char *)cases->pdata[i]);
        g_test_add_data_func(path, cases->pdata[i], test_golden_case);
    }
    g_test_add_func("/domain-xml/hostile/values-keep-structure",
                    test_hostile_values_keep_structure);
    g_test_add_func("/domain-xml/names/invalid-refused", test_invalid_names_refused);
    g_test_add_func("/domain-xml/port-rewrite", test_port_rewrite);
    g_test_add_func("/domain-xml/pvpanic", test_pvpanic);
    g_test_add_func("/domain-xml/pcihole64", test_pcihole64);
    g_test_add_func("/domain-xml/firmware-default", test_firmware_default);
    g_test_add_func("/domain-xml/passthrough-function-order", test_passthrough_function_order);
    g_test_add_func("/domain-xml/zz-last/all-data-used", test_all_data_used);
    return g_test_run();
}
