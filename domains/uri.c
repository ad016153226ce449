#include "domains/uri.h"

#include <string.h>
#include <unistd.h>

char *
vs_uri_default(const char *configured)
{
    const char *env = g_getenv("LIBVIRT_DEFAULT_URI");

    if (env && *env)
        return g_strdup(env);
    if (configured && *configured)
        return g_strdup(configured);
    return g_strdup(geteuid() == 0 ? "qemu:///system" : "qemu:///session");
}

gboolean
vs_uri_is_local_qemu(const char *uri)
{
    return g_strcmp0(uri, "qemu:///system") == 0 || g_strcmp0(uri, "qemu:///session") == 0;
}
