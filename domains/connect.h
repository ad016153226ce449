/* Opening the libvirt connection a command works on. */
#pragma once

#include "domains/uri.h"
#include "domains/vs-libvirt.h"

/* Returns a connection to @uri (NULL: the default), or NULL with @error set. The first call
 * starts libvirt's event loop in a thread of its own, so that domain events reach the caller. */
virConnectPtr vs_connect_open(const char *uri, GError **error);
