/* Opening the libvirt connection a command works on. */
#pragma once

#include "vs-libvirt.h"

/* Returns the URI to use when none was given: LIBVIRT_DEFAULT_URI, else @configured (from the
 * config file, may be NULL), else qemu:///system for root and qemu:///session for others. */
char *vs_connect_default_uri(const char *configured);

/* Returns a connection to @uri (NULL: the default), or NULL with @error set. */
virConnectPtr vs_connect_open(const char *uri, GError **error);
