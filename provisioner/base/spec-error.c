#include "provisioner/base/spec-error.h"

G_DEFINE_QUARK(vs - spec - error - quark, vs_spec_error)

gboolean
vs_spec_fail(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID, msg);
    return FALSE;
}
