/* Bringing an image into the cache: the publisher's checksum list (its signature checked when a
 * keyring is configured), the download, its verification, unpacking, and the cache entry. In the
 * libvirt module only (libcurl, gpgme). */
#pragma once

#include "provisioner/base/progress.h"
#include "provisioner/images/image.h"

/* Brings @image (ALIAS, URL or FILE) into the cache unless it is there, and fills its path,
 * sha256 and volume. An alias's checksum list is asked for again (a conditional request: an
 * unchanged list costs no transfer). Steps, warnings and bytes go to @progress, which also says
 * when to stop. Returns FALSE with @error set; a failed or mismatching download leaves nothing in
 * the cache but, for an interrupted transfer, the part to resume. */
gboolean vs_image_fetch(VsImage *image, const VsProgress *progress, GError **error);
