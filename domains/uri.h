/* Connection URIs, without libvirt. */
#pragma once

#include <glib.h>

/* Returns the URI to use when none was given: LIBVIRT_DEFAULT_URI, else @configured (from the
 * config file, may be NULL), else qemu:///system for root and qemu:///session for others. */
char *vs_uri_default(const char *configured);

/* Returns TRUE when @uri names the local QEMU driver (qemu:///system or qemu:///session). */
gboolean vs_uri_is_local_qemu(const char *uri);
