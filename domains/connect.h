/* Opening the libvirt connection a command works on. */
#pragma once

#include "uri.h"
#include "vs-libvirt.h"

/* Returns a connection to @uri (NULL: the default), or NULL with @error set. */
virConnectPtr vs_connect_open(const char *uri, GError **error);
