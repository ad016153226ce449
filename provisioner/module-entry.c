/* The libvirt module's exported functions (see module.h). Only this module links libvirt. */
#include "caps.h"
#include "connect.h"
#include "module.h"

gboolean vs_module_probe(const char *uri, VsCaps *ret_caps, GError **error);

gboolean
vs_module_probe(const char *uri, VsCaps *ret_caps, GError **error)
{
    g_autoptr(virConnect) conn = vs_connect_open(uri, error);

    return conn && vs_caps_probe(conn, ret_caps, error);
}
