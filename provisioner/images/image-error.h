/* The images module's error domain for what failed on the way (a transfer, a signature, an
 * archive); bad input is VS_SPEC_ERROR (base/spec-error.h). cli.c maps any domain it does not
 * know, this one included, to exit status 1. */
#pragma once

#include <glib.h>

#define VS_IMAGE_ERROR (vs_image_error_quark())
GQuark vs_image_error_quark(void);
typedef enum {
    VS_IMAGE_ERROR_FAILED, /* a download, signature or unpacking failed (exit status 1) */
} VsImageError;
