/* Which libvirt errors mean "the connection to libvirtd is lost" (domains/reconnect.c), fed with
 * the errors libvirt 9.0's client raises when the daemon goes away (end of file on the socket,
 * a write into a closed one, the keepalive, a call on a closed connection) and with errors of
 * live connections that must not start a reconnect; then the reconnect's own look-up, against
 * libvirt's in-process test driver (no daemon): the same domain found again by UUID, a UUID the
 * daemon does not hold (the domain is gone), and a daemon that is not there at all. */
#include <glib/gstdio.h>
#include <string.h>

#include "domains/connect.h"
#include "domains/reconnect.h"

static void
test_lost_errors(void)
{
    struct {
        int domain, code;
        const char *message;
        gboolean lost;
    } cases[] = {
        /* The daemon went away. */
        {VIR_FROM_RPC, VIR_ERR_SYSTEM_ERROR, "End of file while reading data: Input/output error",
         TRUE},
        {VIR_FROM_RPC, VIR_ERR_SYSTEM_ERROR, "Cannot write data: Broken pipe", TRUE},
        {VIR_FROM_RPC, VIR_ERR_SYSTEM_ERROR, "Cannot recv data: Connection reset by peer", TRUE},
        {VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, "client socket is closed", TRUE},
        {VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, "connection closed due to keepalive timeout", TRUE},
        {VIR_FROM_REMOTE, VIR_ERR_RPC, "unable to decode message payload", TRUE},
        {VIR_FROM_NONE, VIR_ERR_INVALID_CONN, "invalid connection pointer in virDomainGetState",
         TRUE},
        {VIR_FROM_REMOTE, VIR_ERR_NO_CONNECT, "no connection driver available", TRUE},
        /* A failed call on a connection that still works. */
        {VIR_FROM_QEMU, VIR_ERR_NO_DOMAIN, "Domain not found: no domain with matching uuid", FALSE},
        {VIR_FROM_QEMU, VIR_ERR_AGENT_UNRESPONSIVE,
         "Guest agent is not responding: QEMU guest agent is not connected", FALSE},
        {VIR_FROM_QEMU, VIR_ERR_SYSTEM_ERROR, "cannot open file '/x': Permission denied", FALSE},
        {VIR_FROM_QEMU, VIR_ERR_INTERNAL_ERROR, "client socket is closed", FALSE},
        {VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, "unexpected message type", FALSE},
        {VIR_FROM_RPC, VIR_ERR_INTERNAL_ERROR, NULL, FALSE},
        {VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID, "domain is not running", FALSE},
        {VIR_FROM_NONE, VIR_ERR_OK, NULL, FALSE},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %u: %s", i, cases[i].message ? cases[i].message : "(none)");
        g_assert_cmpint(
            vs_reconnect_error_is_lost(cases[i].domain, cases[i].code, cases[i].message), ==,
            cases[i].lost);
    }
}

/* A live connection is lost only when the error says so; the words say what was seen. */
static void
test_lost_on_live_connection(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("test:///default", &error);
    virError not_found = {
        .code = VIR_ERR_NO_DOMAIN, .domain = VIR_FROM_TEST, .message = (char *)"Domain not found"};
    virError closed = {.code = VIR_ERR_INTERNAL_ERROR,
                       .domain = VIR_FROM_RPC,
                       .message = (char *)"client socket is closed"};
    g_autofree char *why = NULL;

    g_assert_no_error(error);
    g_assert_false(vs_reconnect_lost(conn, NULL, &why));
    g_assert_false(vs_reconnect_lost(conn, &not_found, &why));
    g_assert_null(why);
    g_assert_true(vs_reconnect_lost(conn, &closed, &why));
    g_assert_cmpstr(why, ==, "client socket is closed");
}

/* The same domain again by UUID, a UUID that is not there, a daemon that is not there. */
static void
test_reconnect_domain(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("test:///default", &error);
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, "test");
    g_autoptr(virDomain) again = NULL, gone = NULL, none = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN], found[VIR_UUID_STRING_BUFLEN];
    g_autofree char *dir = g_dir_make_tmp("vs-reconnect-XXXXXX", NULL);
    g_autofree char *uri = g_strdup_printf("qemu+unix:///system?socket=%s/no-such-sock", dir);

    g_assert_no_error(error);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainGetUUIDString(dom, uuid), ==, 0);
    again = vs_reconnect_domain("test:///default", uuid, &error);
    g_assert_no_error(error);
    g_assert_nonnull(again);
    g_assert_cmpstr(virDomainGetName(again), ==, "test");
    g_assert_cmpint(virDomainGetUUIDString(again, found), ==, 0);
    g_assert_cmpstr(found, ==, uuid);

    gone = vs_reconnect_domain("test:///default", "0d1c8c1f-6d1a-4b6e-9d35-2b6f1f7c2a11", &error);
    g_assert_null(gone);
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "0d1c8c1f-6d1a-4b6e-9d35-2b6f1f7c2a11"));
    g_clear_error(&error);

    /* No daemon behind the socket: still unreachable, not "gone". */
    none = vs_reconnect_domain(uri, uuid, &error);
    g_assert_null(none);
    g_assert_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED);
    g_assert_nonnull(strstr(error->message, uri));
    g_assert_nonnull(strstr(error->message, "no-such-sock"));
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reconnect/lost-errors", test_lost_errors);
    g_test_add_func("/reconnect/lost-on-live-connection", test_lost_on_live_connection);
    g_test_add_func("/reconnect/domain-again", test_reconnect_domain);
    return g_test_run();
}
