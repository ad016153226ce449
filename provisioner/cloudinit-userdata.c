/* The user's own user-data: what kind it is, and how ours joins it. */
#include "provisioner/cloudinit-internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

/* The most that gzipped user-data may inflate to. cloud-init's own gzip step (util.decomp_gzip)
 * has no limit, and its documentation notes that clouds cap user-data at about 16 KiB (EC2;
 * OpenStack 64 KiB): 16 MiB, a thousand times that, holds any real cloud-config or script and
 * stops a gzip bomb after 16 MiB of memory instead of gigabytes. */
#define VS_CLOUDINIT_INFLATED_CAP ((gsize)16 << 20)

/* First lines cloud-init recognises, and the MIME type of each. Longest prefix first. */
typedef struct {
    const char *header;
    const char *mime_type;
    gboolean prefix; /* the header may be followed by more on its line */
} VsUserDataKind;

static const VsUserDataKind user_data_kinds[] = {
    {"#cloud-config-archive", "text/cloud-config-archive", FALSE},
    {"#cloud-config-jsonp", "text/cloud-config-jsonp", FALSE},
    {"#cloud-config", "text/cloud-config", FALSE},
    {"#include-once", "text/x-include-once-url", FALSE},
    {"#include", "text/x-include-url", FALSE},
    {"#cloud-boothook", "text/cloud-boothook", FALSE},
    {"#part-handler", "text/part-handler", FALSE},
    {"#upstart-job", "text/upstart-job", FALSE},
    {"## template: jinja", "text/jinja2", FALSE},
    {"#!", "text/x-shellscript", TRUE},
};

/* Returns the kind of user-data @text starts with, or NULL when cloud-init would ignore it. */
static const VsUserDataKind *
detect_kind(const char *text, gsize len, gboolean *ret_mime)
{
    /* @text need not end in a NUL: the first line is found within @len bytes. */
    const char *newline = memchr(text, '\n', len);
    g_autofree char *first = g_strndup(text, newline ? (gsize)(newline - text) : len);

    g_strchomp(first);
    *ret_mime = g_ascii_strncasecmp(first, "Content-Type:", 13) == 0 ||
                g_ascii_strncasecmp(first, "MIME-Version:", 13) == 0;
    for (guint i = 0; i < G_N_ELEMENTS(user_data_kinds); i++) {
        const VsUserDataKind *k = &user_data_kinds[i];
        if (k->prefix ? g_str_has_prefix(first, k->header) : strcmp(first, k->header) == 0)
            return k;
    }
    return NULL;
}

/* Returns the cloud-config-archive @theirs with a part holding our cloud-config appended. */
static GBytes *
extend_archive(const char *ours, GBytes *theirs, const char *what, GError **error)
{
    gsize len;
    const char *data = g_bytes_get_data(theirs, &len);
    g_autoptr(yaml_document_t) doc = vs_cloudinit_yaml_parse(data, len, what, error);
    g_autoptr(GString) out = g_string_new("#cloud-config-archive\n");
    int part;

    if (!doc)
        return NULL;
    if (vs_cloudinit_yaml_node_type(doc, 1) == YAML_MAPPING_NODE &&
        yaml_document_get_node(doc, 1)->data.mapping.pairs.start ==
            yaml_document_get_node(doc, 1)->data.mapping.pairs.top) {
        /* An empty archive: a list of nothing. */
        yaml_document_delete(doc);
        yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1);
        yaml_document_add_sequence(doc, NULL, YAML_BLOCK_SEQUENCE_STYLE);
    }
    if (vs_cloudinit_yaml_node_type(doc, 1) != YAML_SEQUENCE_NODE)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: a cloud-config-archive must be a list of parts", what),
               NULL;
    /* Our part is added to the list itself: an alias to it from inside would carry it too. */
    if (vs_cloudinit_yaml_references(doc, 1) > 1)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: an alias refers to the whole archive from inside it; "
                                    "virt-station cannot add its part to it",
                                    what),
               NULL;
    part = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
    vs_cloudinit_yaml_add_pair(doc, part, "type",
                               vs_cloudinit_yaml_plain(doc, "text/cloud-config"));
    vs_cloudinit_yaml_add_pair(doc, part, "filename",
                               vs_cloudinit_yaml_plain(doc, "virt-station.cfg"));
    vs_cloudinit_yaml_add_pair(doc, part, "content", vs_cloudinit_yaml_quoted(doc, ours));
    yaml_document_append_sequence_item(doc, 1, part);
    if (!vs_cloudinit_yaml_emit(doc, out, error))
        return NULL;
    return g_string_free_to_bytes(g_steal_pointer(&out));
}

/* Returns @data uncompressed when it is gzip (cloud-init accepts gzipped user-data), refusing
 * more than VS_CLOUDINIT_INFLATED_CAP bytes once inflated. */
static GBytes *
maybe_gunzip(GBytes *data, const char *what, GError **error)
{
    gsize len;
    const guchar *buf = g_bytes_get_data(data, &len);
    struct archive *a;
    struct archive_entry *entry;
    g_autoptr(GByteArray) out = NULL;
    char chunk[16384];
    la_ssize_t n;

    if (len < 2 || buf[0] != 0x1f || buf[1] != 0x8b)
        return g_bytes_ref(data);
    a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK ||
        archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
        vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                             "%s: starts like gzip but is no valid gzip data", what);
        archive_read_free(a);
        return NULL;
    }
    out = g_byte_array_new();
    while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
        /* Stop as soon as the cap is passed: 6.8 MB of gzip inflate to gigabytes. */
        if (out->len + (gsize)n > VS_CLOUDINIT_INFLATED_CAP) {
            vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                 "%s: gzipped user-data inflates to more than %u MiB; cloud-init "
                                 "user-data is normally kilobytes (most clouds cap it at 16 KiB)",
                                 what, (guint)(VS_CLOUDINIT_INFLATED_CAP >> 20));
            archive_read_free(a);
            return NULL;
        }
        g_byte_array_append(out, (const guint8 *)chunk, (guint)n);
    }
    if (n < 0) {
        vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s: gzip data: %s", what,
                             archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    archive_read_free(a);
    return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

/* Returns the final user-data: ours, or ours merged with or combined with the user's. */
GBytes *
vs_cloudinit_userdata_compose(const VsCloudInitSpec *spec, GPtrArray *warnings, GError **error)
{
    const char *what = spec->user_data_name ? spec->user_data_name : "user-data";
    g_autofree char *ours = NULL;
    g_autoptr(GBytes) theirs = NULL;
    const VsUserDataKind *kind;
    gboolean mime;
    gsize len;
    const char *data;

    if (!spec->user_data) {
        ours = vs_cloudinit_config_ours(spec, error);
        return ours ? g_bytes_new_take(g_steal_pointer(&ours), strlen(ours)) : NULL;
    }
    theirs = maybe_gunzip(spec->user_data, what, error);
    if (!theirs)
        return NULL;
    data = g_bytes_get_data(theirs, &len);
    if (len == 0)
        return vs_cloudinit_invalid(
                   error, VS_CLOUDINIT_ERROR_INVALID,
                   "%s is empty; cloud-init would ignore it (leave --user-data out instead)", what),
               NULL;
    if (memchr(data, '\0', len))
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                    "%s: binary data is not user-data cloud-init understands",
                                    what),
               NULL;
    kind = detect_kind(data, len, &mime);
    if (!kind && !mime)
        return vs_cloudinit_invalid(
                   error, VS_CLOUDINIT_ERROR_INVALID,
                   "%s: the first line is no cloud-init header, so cloud-init would ignore "
                   "the file; start it with '#cloud-config', '#!' (a script), '#include', "
                   "'#cloud-boothook', '#part-handler' or a MIME header",
                   what),
               NULL;
    if (kind && strcmp(kind->mime_type, "text/cloud-config") == 0) {
        g_autoptr(yaml_document_t) doc = vs_cloudinit_yaml_parse(data, len, what, error);
        g_autoptr(GString) out = g_string_new("#cloud-config\n");
        if (!doc || !vs_cloudinit_config_merge(doc, spec, what, warnings, error) ||
            !vs_cloudinit_yaml_emit(doc, out, error))
            return NULL;
        return g_string_free_to_bytes(g_steal_pointer(&out));
    }
    ours = vs_cloudinit_config_ours(spec, error);
    if (!ours)
        return NULL;
    if (kind && strcmp(kind->mime_type, "text/cloud-config-archive") == 0)
        return extend_archive(ours, theirs, what, error);
    /* No kind: a MIME document of theirs (a kind and a MIME header exclude each other). */
    return vs_cloudinit_mime_combine(ours, theirs, kind ? kind->mime_type : NULL);
}
