/* The libvirt domain XML of a workstation: a pure function of its configuration. */
#pragma once

#include "domains/config.h"

#define VS_STATION_NS     "urn:virt-station:domain:1"
#define VS_STATION_PREFIX "vs"
#define VS_LIBOSINFO_NS   "http://libosinfo.org/xmlns/libvirt/domain/1.0"
#define VS_QEMU_NS        "http://libvirt.org/schemas/domain/qemu/1.0"

/* Returns the domain XML for @config (UTF-8, indented, no XML declaration), or NULL with @error
 * set when the configuration cannot be expressed (a GPU plan without its device, ...). */
char *vs_domain_xml(const VsDomainConfig *config, GError **error);
