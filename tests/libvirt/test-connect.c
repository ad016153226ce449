/* Connections: the default URI rules (-c, else LIBVIRT_DEFAULT_URI, else the config file, else
 * qemu:///system for root and qemu:///session for others), libvirt's test driver in-process, the
 * real libvirtd, and a clear error for a URI nobody answers. */
#include <string.h>
#include <unistd.h>

#include "tests/bed/bed.h"
#include "domains/connect.h"

static void
test_default_uri(void)
{
    g_autofree char *saved = g_strdup(g_getenv("LIBVIRT_DEFAULT_URI"));

    g_unsetenv("LIBVIRT_DEFAULT_URI");
    g_autofree char *plain = vs_uri_default(NULL);
    g_assert_cmpstr(plain, ==, geteuid() == 0 ? "qemu:///system" : "qemu:///session");
    g_autofree char *configured = vs_uri_default("qemu+ssh://host/system");
    g_assert_cmpstr(configured, ==, "qemu+ssh://host/system");
    g_setenv("LIBVIRT_DEFAULT_URI", "test:///default", TRUE);
    g_autofree char *env = vs_uri_default("qemu+ssh://host/system");
    g_assert_cmpstr(env, ==, "test:///default");
    if (saved)
        g_setenv("LIBVIRT_DEFAULT_URI", saved, TRUE);
    else
        g_unsetenv("LIBVIRT_DEFAULT_URI");
}

static void
test_test_driver(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("test:///default", &error);
    g_autoptr(virDomain) dom = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(conn);
    /* The test driver starts with one running domain called "test". */
    dom = virDomainLookupByName(conn, "test");
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainIsActive(dom), ==, 1);
}

static void
test_real_libvirtd(void)
{
    g_autoptr(GError) error = NULL;
    unsigned long version = 0;

    g_assert_true(vs_bed_daemons(&error));
    g_assert_no_error(error);
    g_autoptr(virConnect) conn = vs_connect_open("qemu:///system", &error);
    g_assert_no_error(error);
    g_assert_cmpint(virConnectGetLibVersion(conn, &version), ==, 0);
    g_assert_cmpuint(version, >=, 8000000);
    g_autofree char *uri = virConnectGetURI(conn);
    g_assert_cmpstr(uri, ==, "qemu:///system");
}

static void
test_bad_uri(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("nosuchdriver:///system", &error);

    g_assert_null(conn);
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED);
    g_assert_true(g_str_has_prefix(error->message, "connecting to nosuchdriver:///system: "));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/connect/default-uri", test_default_uri);
    g_test_add_func("/connect/test-driver", test_test_driver);
    g_test_add_func("/connect/real-libvirtd", test_real_libvirtd);
    g_test_add_func("/connect/bad-uri", test_bad_uri);
    return g_test_run();
}
