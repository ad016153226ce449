#include "provisioner/base/yaml-load.h"

#include "provisioner/base/spec-error.h"

gboolean
vs_yaml_load(const char *data, gsize len, const char *what, VsYamlFlags flags,
             yaml_document_t *ret_doc, GError **error)
{
    yaml_parser_t parser;
    yaml_document_t next;
    gboolean context;

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

void
vs_yaml_document_free(yaml_document_t *doc)
{
    yaml_document_delete(doc);
    g_free(doc);
}
