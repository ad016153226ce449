/* MIME multipart user-data: our cloud-config and the user's part in one document. */
#include "provisioner/cloudinit-internal.h"

#include <string.h>

/* Returns a MIME boundary that occurs in none of @parts. It is derived from their content, so
 * the same inputs give the same document. */
static char *
pick_boundary(GBytes **parts, guint n)
{
    for (guint attempt = 0;; attempt++) {
        g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
        g_checksum_update(sum, (const guchar *)&attempt, sizeof(attempt));
        for (guint i = 0; i < n; i++) {
            gsize len;
            const guchar *data = g_bytes_get_data(parts[i], &len);
            g_checksum_update(sum, data, (gssize)len);
        }
        g_autofree char *boundary =
            g_strdup_printf("==virt-station-%.32s==", g_checksum_get_string(sum));
        gboolean clash = FALSE;
        for (guint i = 0; i < n && !clash; i++) {
            gsize len;
            const char *data = g_bytes_get_data(parts[i], &len);
            clash = g_strstr_len(data, (gssize)len, boundary) != NULL;
        }
        if (!clash)
            return g_steal_pointer(&boundary);
    }
}

GBytes *
vs_cloudinit_mime_combine(const char *ours, GBytes *theirs, const char *mime_type)
{
    g_autoptr(GBytes) ours_bytes = g_bytes_new_static(ours, strlen(ours));
    GBytes *parts[] = {ours_bytes, theirs};
    g_autofree char *boundary = pick_boundary(parts, G_N_ELEMENTS(parts));
    g_autoptr(GString) out = g_string_new(NULL);
    gsize len;
    const char *data = g_bytes_get_data(theirs, &len);

    g_string_append_printf(out,
                           "Content-Type: multipart/mixed; boundary=\"%s\"\n"
                           "MIME-Version: 1.0\n\n",
                           boundary);
    g_string_append_printf(out,
                           "--%s\n"
                           "Content-Type: text/cloud-config; charset=\"utf-8\"\n"
                           "MIME-Version: 1.0\n"
                           "Content-Transfer-Encoding: 8bit\n"
                           "Content-Disposition: attachment; filename=\"virt-station.cfg\"\n\n"
                           "%s\n",
                           boundary, ours);
    g_string_append_printf(out, "--%s\n", boundary);
    if (mime_type) {
        gboolean utf8 = g_utf8_validate(data, (gssize)len, NULL);
        g_string_append_printf(out, "Content-Type: %s; charset=\"utf-8\"\nMIME-Version: 1.0\n",
                               mime_type);
        if (utf8) {
            g_string_append(out, "Content-Transfer-Encoding: 8bit\n"
                                 "Content-Disposition: attachment; filename=\"user-data\"\n\n");
            g_string_append_len(out, data, (gssize)len);
        } else {
            g_autofree char *b64 = g_base64_encode((const guchar *)data, len);
            g_string_append(out, "Content-Transfer-Encoding: base64\n"
                                 "Content-Disposition: attachment; filename=\"user-data\"\n\n");
            gsize b64_len = strlen(b64);
            for (gsize i = 0; i < b64_len; i += 76)
                g_string_append_printf(out, "%.76s\n", b64 + i);
        }
    } else {
        g_string_append_len(out, data, (gssize)len);
    }
    /* The line break before a boundary belongs to the boundary: the payload keeps its own. */
    g_string_append_printf(out, "\n--%s--\n", boundary);
    return g_string_free_to_bytes(g_steal_pointer(&out));
}
