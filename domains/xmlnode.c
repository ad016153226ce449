/* The element tree of domains/xmlnode.h and its serializer.
 *
 * Escaping is libxml2's (xmlEscapeContent and xmlBufAttrSerializeTxtContent when the output
 * encoding is UTF-8): in text & < > and carriage return; in attribute values also '"', newline
 * and tab, which an attribute-value normalizing parser would otherwise turn into spaces. Every
 * other byte is written as it is: the values are UTF-8 already (domains/xml.c makes them valid
 * and free of the control characters XML 1.0 forbids). */
#include "domains/xmlnode.h"

#include <string.h>

struct VsXmlNode {
    char *qname;         /* "prefix:name" or "name" */
    GPtrArray *ns;       /* declarations: prefix, uri, prefix, uri, ... (NULL: none) */
    GPtrArray *attrs;    /* name, value, name, value, ... (NULL: none) */
    char *text;          /* the text held, or NULL */
    GPtrArray *children; /* VsXmlNode (NULL: none) */
};

VsXmlNode *
vs_xml_node_new(const char *prefix, const char *name)
{
    VsXmlNode *node = g_new0(VsXmlNode, 1);

    node->qname = prefix ? g_strconcat(prefix, ":", name, NULL) : g_strdup(name);
    return node;
}

VsXmlNode *
vs_xml_node_add(VsXmlNode *parent, const char *prefix, const char *name)
{
    VsXmlNode *node;

    g_return_val_if_fail(parent->text == NULL, NULL);
    node = vs_xml_node_new(prefix, name);
    if (!parent->children)
        parent->children = g_ptr_array_new_with_free_func((GDestroyNotify)vs_xml_node_free);
    g_ptr_array_add(parent->children, node);
    return node;
}

void
vs_xml_node_set_text(VsXmlNode *node, const char *text)
{
    g_return_if_fail(node->children == NULL && text != NULL);
    g_free(node->text);
    node->text = g_strdup(text);
}

static void
add_pair(GPtrArray **pairs, const char *a, const char *b)
{
    if (!*pairs)
        *pairs = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(*pairs, g_strdup(a));
    g_ptr_array_add(*pairs, g_strdup(b));
}

void
vs_xml_node_set_attr(VsXmlNode *node, const char *name, const char *value)
{
    g_return_if_fail(value != NULL);
    add_pair(&node->attrs, name, value);
}

void
vs_xml_node_declare_ns(VsXmlNode *node, const char *prefix, const char *uri)
{
    g_return_if_fail(strpbrk(uri, "\"&<") == NULL);
    add_pair(&node->ns, prefix, uri);
}

void
vs_xml_node_free(VsXmlNode *node)
{
    if (!node)
        return;
    g_free(node->qname);
    if (node->ns)
        g_ptr_array_unref(node->ns);
    if (node->attrs)
        g_ptr_array_unref(node->attrs);
    g_free(node->text);
    if (node->children)
        g_ptr_array_unref(node->children);
    g_free(node);
}

/* Appends @s to @out escaped for text or, with @attribute, for an attribute value. */
static void
append_escaped(GString *out, const char *s, gboolean attribute)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '\r':
            g_string_append(out, "&#13;");
            break;
        case '"':
            g_string_append(out, attribute ? "&quot;" : "\"");
            break;
        case '\n':
            g_string_append(out, attribute ? "&#10;" : "\n");
            break;
        case '\t':
            g_string_append(out, attribute ? "&#9;" : "\t");
            break;
        default:
            g_string_append_c(out, *p);
            break;
        }
    }
}

/* libxml2 indents 30 levels at most (its 60-character indentation string); ours are fewer. */
#define MAX_INDENT 30

static void
indent(GString *out, guint depth)
{
    for (guint i = 0; i < MIN(depth, MAX_INDENT); i++)
        g_string_append(out, "  ");
}

static void
write_node(GString *out, const VsXmlNode *node, guint depth)
{
    indent(out, depth);
    g_string_append_c(out, '<');
    g_string_append(out, node->qname);
    for (guint i = 0; node->ns && i < node->ns->len; i += 2)
        g_string_append_printf(out, " xmlns:%s=\"%s\"", (char *)node->ns->pdata[i],
                               (char *)node->ns->pdata[i + 1]);
    for (guint i = 0; node->attrs && i < node->attrs->len; i += 2) {
        g_string_append_printf(out, " %s=\"", (char *)node->attrs->pdata[i]);
        append_escaped(out, node->attrs->pdata[i + 1], TRUE);
        g_string_append_c(out, '"');
    }
    if (node->text) {
        g_string_append_c(out, '>');
        append_escaped(out, node->text, FALSE);
    } else if (node->children && node->children->len > 0) {
        g_string_append(out, ">\n");
        for (guint i = 0; i < node->children->len; i++) {
            write_node(out, node->children->pdata[i], depth + 1);
            g_string_append_c(out, '\n');
        }
        indent(out, depth);
    } else {
        g_string_append(out, "/>");
        return;
    }
    g_string_append(out, "</");
    g_string_append(out, node->qname);
    g_string_append_c(out, '>');
}

char *
vs_xml_node_serialize(const VsXmlNode *root)
{
    GString *out = g_string_sized_new(4096);

    write_node(out, root, 0);
    g_string_append_c(out, '\n');
    return g_string_free(out, FALSE);
}
