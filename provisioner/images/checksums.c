#include "provisioner/images/checksums.h"

#include "provisioner/images/image-error.h"

#include <string.h>

#include "provisioner/base/spec-error.h"

const char *
vs_checksums_type_name(GChecksumType type)
{
    return type == G_CHECKSUM_SHA512 ? "sha512" : "sha256";
}

gboolean
vs_checksums_find(const char *text, gsize len, VsSumsFormat format, const char *filename,
                  GChecksumType *ret_type, char **ret_hex, GError **error)
{
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    GChecksumType type = format == VS_SUMS_SHA512SUMS ? G_CHECKSUM_SHA512 : G_CHECKSUM_SHA256;
    gsize hexlen = g_checksum_type_get_length(type) * 2;

    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        g_autofree char *hex = NULL;
        const char *name = NULL;
        gsize name_len = 0;

        if (format == VS_SUMS_FEDORA) {
            /* SHA256 (FILE) = HEX */
            const char *close;
            if (!g_str_has_prefix(line, "SHA256 (") || !(close = strstr(line, ") = ")))
                continue;
            name = line + strlen("SHA256 (");
            name_len = close - name;
            hex = g_strdup(close + strlen(") = "));
        } else {
            /* HEX  FILE, or HEX *FILE for binary mode. */
            gsize n = strcspn(line, " \t");
            if (line[n] == '\0')
                continue;
            hex = g_strndup(line, n);
            name = line + n + strspn(line + n, " \t");
            if (*name == '*')
                name++;
            name_len = strlen(name);
        }
        if (name_len != strlen(filename) || strncmp(name, filename, name_len) != 0)
            continue;
        if (strlen(hex) != hexlen || strspn(hex, "0123456789abcdefABCDEF") != hexlen) {
            g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID,
                        "the checksum list names %s with a malformed %s sum '%s'", filename,
                        vs_checksums_type_name(type), hex);
            return FALSE;
        }
        *ret_type = type;
        *ret_hex = g_ascii_strdown(hex, -1);
        return TRUE;
    }
    /* The publisher's list, not the user's input: exit status 1. */
    g_set_error(error, VS_IMAGE_ERROR, VS_IMAGE_ERROR_FAILED, "the checksum list does not name %s",
                filename);
    return FALSE;
}
