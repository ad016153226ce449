#include "provisioner/base/yaml-load.h"

#include "provisioner/base/bounded-read.h"
#include "provisioner/base/spec-error.h"

/* Returns FALSE with VS_SPEC_ERROR_LIMIT when a collection in the first @documents documents of
 * @data opens deeper than VS_YAML_MAX_DEPTH; TRUE otherwise, malformed YAML included (the load
 * reports that, with its context). Reads events only: no tree is built, and the scanner never
 * holds more than VS_YAML_MAX_DEPTH levels of state before the error. */
static gboolean
check_depth(const char *data, gsize len, const char *what, guint documents, GError **error)
{
    yaml_parser_t parser;
    yaml_event_t event;
    guint depth = 0;
    gboolean ok = TRUE;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    while (documents > 0 && yaml_parser_parse(&parser, &event)) {
        yaml_event_type_t type = event.type;
        if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
            if (++depth > VS_YAML_MAX_DEPTH) {
                g_set_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT,
                            "%s line %zu column %zu: YAML nested more than %d levels deep, the "
                            "limit",
                            what, event.start_mark.line + 1, event.start_mark.column + 1,
                            VS_YAML_MAX_DEPTH);
                ok = FALSE;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (type == YAML_DOCUMENT_END_EVENT) {
            documents--;
        }
        yaml_event_delete(&event);
        if (!ok || type == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&parser);
    return ok;
}

gboolean
vs_yaml_load_bounded(const char *data, gsize len, const char *what, VsYamlFlags flags,
                     gsize max_bytes, yaml_document_t *ret_doc, GError **error)
{
    yaml_parser_t parser;
    yaml_document_t next;
    gboolean context;

    if (len > max_bytes)
        return vs_size_limit_fail(error, what, data, len, max_bytes);
    /* The load below reads a second document only to refuse it. */
    if (!check_depth(data, len, what, (flags & VS_YAML_SINGLE) ? 2 : 1, error))
        return FALSE;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, ret_doc)) {
        context = (flags & VS_YAML_CONTEXT) && parser.context;
        vs_spec_fail(error, "%s: malformed YAML at line %zu column %zu: %s%s%s", what,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "syntax error", context ? " " : "",
                     context ? parser.context : "");
        yaml_parser_delete(&parser);
        return FALSE;
    }
    /* A second document would be silently ignored: refuse it where the format has one. */
    if ((flags & VS_YAML_SINGLE) && yaml_parser_load(&parser, &next)) {
        gboolean more = yaml_document_get_root_node(&next) != NULL;
        yaml_document_delete(&next);
        if (more) {
            yaml_document_delete(ret_doc);
            yaml_parser_delete(&parser);
            return vs_spec_fail(error, "%s: holds more than one YAML document", what);
        }
    }
    yaml_parser_delete(&parser);
    return TRUE;
}

gboolean
vs_yaml_load(const char *data, gsize len, const char *what, VsYamlFlags flags,
             yaml_document_t *ret_doc, GError **error)
{
    return vs_yaml_load_bounded(data, len, what, flags, VS_YAML_MAX_BYTES, ret_doc, error);
}

void
vs_yaml_document_free(yaml_document_t *doc)
{
    yaml_document_delete(doc);
    g_free(doc);
}
