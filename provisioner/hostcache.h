/* The host facts of the last probe of a local libvirt URI, so that `up --dry-run` need not load
 * libvirt at all (loading it takes longer than everything else a dry run does). */
#pragma once

#include "domains/config.h"

/* Returns TRUE and fills @ret_caps when facts for @uri are cached and still describe the host:
 * only local qemu:/// URIs are cached, for a day at most, and only while the fingerprint of the
 * host (the libvirt daemons' and QEMU's binaries, /dev/kvm, libvirt's capability cache) is the
 * one seen at the probe. */
gboolean vs_hostcache_load(const char *uri, VsCaps *ret_caps);

/* Remembers @caps, just probed, for @uri. Failing to write changes nothing. */
void vs_hostcache_store(const char *uri, const VsCaps *caps);
