/* The error domain for input the user wrote (a spec file, config.yaml, the image catalog, a flag's
 * value): shared by the spec loader, cloud-init composition and the images module, so that none of
 * them includes another's header for it. cli.c maps it to exit status 2. */
#pragma once

#include <glib.h>

#define VS_SPEC_ERROR (vs_spec_error_quark())
GQuark vs_spec_error_quark(void);
typedef enum {
    VS_SPEC_ERROR_INVALID, /* a malformed file or value (exit status 2) */
    VS_SPEC_ERROR_LIMIT,   /* a file past a documented size or nesting limit (exit status 2) */
} VsSpecError;

/* Sets @error to VS_SPEC_ERROR_INVALID with the formatted message. Returns FALSE. */
gboolean vs_spec_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);
