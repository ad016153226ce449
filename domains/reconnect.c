/* Reconnecting to libvirt.
 *
 * Theory of operation: when libvirtd exits, the client's event loop (connect.c) reads end of
 * file on the socket and closes the connection: virConnectIsAlive() then says 0 and every call
 * on it fails with an RPC-layer error ("client socket is closed"). A remote host that vanishes
 * without closing the socket is noticed by the keepalive (connect.c's event loop answers it) or
 * by a call whose write fails. Either way the old connection is of no further use: the caller
 * opens a new one to the same URI and finds its domain again by UUID (a name may have been
 * given to another domain in between; a UUID is not). QEMU outlives libvirtd, and a daemon that
 * starts again reattaches to the QEMU processes it finds, so the domain usually still runs. */
#include "domains/reconnect.h"

#include <string.h>

#include "domains/connect.h"

gboolean
vs_reconnect_error_is_lost(int domain, int code, const char *message)
{
    gboolean rpc = domain == VIR_FROM_RPC || domain == VIR_FROM_REMOTE;

    if (code == VIR_ERR_INVALID_CONN || code == VIR_ERR_NO_CONNECT)
        return TRUE;
    if (!rpc)
        return FALSE;
    if (code == VIR_ERR_SYSTEM_ERROR || code == VIR_ERR_RPC)
        return TRUE;
    return code == VIR_ERR_INTERNAL_ERROR && message &&
           (strstr(message, "client socket is closed") || strstr(message, "keepalive"));
}

gboolean
vs_reconnect_lost(virConnectPtr conn, const virError *last, char **ret_why)
{
    gboolean lost_error =
        last && vs_reconnect_error_is_lost(last->domain, last->code, last->message);

    /* virConnectIsAlive() resets the thread's last error: @last is the caller's copy. */
    if (virConnectIsAlive(conn) == 0) {
        *ret_why = lost_error && last->message
                       ? g_strdup_printf("the connection is closed: %s", last->message)
                       : g_strdup("the connection is closed: libvirtd exited or dropped it");
        return TRUE;
    }
    if (!lost_error)
        return FALSE;
    *ret_why = g_strdup(last->message ? last->message : "a call failed with an RPC error");
    return TRUE;
}

virDomainPtr
vs_reconnect_domain(const char *uri, const char *uuid, GError **error)
{
    g_autoptr(virConnect) conn = vs_connect_open(uri, error);
    virDomainPtr dom;

    if (!conn)
        return NULL;
    dom = virDomainLookupByUUIDString(conn, uuid);
    if (!dom) {
        g_autofree char *what =
            g_strdup_printf("looking up the domain with UUID %s on %s", uuid, uri);
        vs_libvirt_error(error, what);
        return NULL;
    }
    return dom; /* it holds a reference to @conn */
}
