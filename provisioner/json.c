#include "provisioner/json.h"

void
vs_json_init(VsJson *j)
{
    j->out = g_string_new(NULL);
    j->first = g_array_new(FALSE, FALSE, sizeof(gboolean));
}

char *
vs_json_finish(VsJson *j)
{
    g_array_free(j->first, TRUE);
    g_string_append_c(j->out, '\n');
    return g_string_free(j->out, FALSE);
}

static void
append_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

/* Writes the separator and key for the next member. */
static void
member(VsJson *j, const char *key)
{
    if (j->first->len > 0) {
        gboolean *first = &g_array_index(j->first, gboolean, j->first->len - 1);
        if (!*first)
            g_string_append_c(j->out, ',');
        *first = FALSE;
    }
    if (key) {
        append_string(j->out, key);
        g_string_append_c(j->out, ':');
    }
}

static void
open_container(VsJson *j, const char *key, char c)
{
    gboolean first = TRUE;

    member(j, key);
    g_string_append_c(j->out, c);
    g_array_append_val(j->first, first);
}

static void
close_container(VsJson *j, char c)
{
    g_array_set_size(j->first, j->first->len - 1);
    g_string_append_c(j->out, c);
}

void
vs_json_begin_object(VsJson *j, const char *key)
{
    open_container(j, key, '{');
}

void
vs_json_end_object(VsJson *j)
{
    close_container(j, '}');
}

void
vs_json_begin_array(VsJson *j, const char *key)
{
    open_container(j, key, '[');
}

void
vs_json_end_array(VsJson *j)
{
    close_container(j, ']');
}

void
vs_json_string(VsJson *j, const char *key, const char *value)
{
    member(j, key);
    if (!value) {
        g_string_append(j->out, "null");
        return;
    }
    g_autofree char *valid = g_utf8_make_valid(value, -1);
    append_string(j->out, valid);
}

void
vs_json_int(VsJson *j, const char *key, gint64 value)
{
    member(j, key);
    g_string_append_printf(j->out, "%" G_GINT64_FORMAT, value);
}

void
vs_json_bool(VsJson *j, const char *key, gboolean value)
{
    member(j, key);
    g_string_append(j->out, value ? "true" : "false");
}

void
vs_json_null(VsJson *j, const char *key)
{
    member(j, key);
    g_string_append(j->out, "null");
}
