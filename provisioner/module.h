/* The libvirt module (virt-station-libvirt.so): everything that calls libvirt, loaded only when
 * a command needs it (see main.c for why). */
#pragma once

#include <glib.h>

#include "config.h"

/* Returns the address of @symbol in the libvirt module, loading it on first use, or NULL with
 * @error set. */
void *vs_module_symbol(const char *symbol, GError **error);

/* What the module exports (module-entry.c), by the names vs_module_symbol() looks up: */

/* Probes the libvirt host at @uri. */
typedef gboolean (*VsModuleProbeFunc)(const char *uri, VsCaps *ret_caps, GError **error);
