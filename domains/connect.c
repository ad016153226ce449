#include "connect.h"

gboolean
vs_libvirt_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();
    int code = VS_DOMAINS_ERROR_FAILED;

    if (err && (err->code == VIR_ERR_NO_DOMAIN || err->code == VIR_ERR_NO_STORAGE_POOL ||
                err->code == VIR_ERR_NO_STORAGE_VOL))
        code = VS_DOMAINS_ERROR_NOT_FOUND;
    g_set_error(error, VS_DOMAINS_ERROR, code, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
    return FALSE;
}

/* libvirt prints every error to stderr unless a handler is set; we report through GError. */
static void
ignore_libvirt_error(void *opaque, virErrorPtr err)
{
}

virConnectPtr
vs_connect_open(const char *uri, GError **error)
{
    g_autofree char *resolved = uri ? g_strdup(uri) : vs_uri_default(NULL);
    virConnectPtr conn;

    virSetErrorFunc(NULL, ignore_libvirt_error);
    conn = virConnectOpen(resolved);
    if (!conn) {
        g_autofree char *what = g_strdup_printf("connecting to %s", resolved);
        vs_libvirt_error(error, what);
        return NULL;
    }
    return conn;
}
