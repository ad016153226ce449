/* A small XML element tree and its serializer, for the domain XML: the program writes XML without
 * linking libxml2 (and the ICU and libstdc++ it drags in). The output is the one libxml2's
 * xmlSaveDoc() gives with XML_SAVE_FORMAT | XML_SAVE_NO_DECL and UTF-8, byte for byte: 2 spaces
 * per level, `<a/>` for an empty element, an element holding text on one line `<a>text</a>`,
 * namespace declarations before the attributes, which keep the order they were added in, and a
 * newline at the end. tests/unit/test-xmlnode.c compares it with libxml2's own. */
#pragma once

#include <glib.h>

typedef struct VsXmlNode VsXmlNode;

/* Returns a new element @prefix:@name (@prefix NULL: no prefix), the root of a tree. */
VsXmlNode *vs_xml_node_new(const char *prefix, const char *name);

/* Returns a new element @prefix:@name appended to @parent's children, owned by @parent. An
 * element holds either text or elements, never both. */
VsXmlNode *vs_xml_node_add(VsXmlNode *parent, const char *prefix, const char *name);

/* Sets the text @node holds (escaped when written; "" writes `<a></a>`). */
void vs_xml_node_set_text(VsXmlNode *node, const char *text);

/* Appends the attribute @name="@value" (escaped when written) to @node's. */
void vs_xml_node_set_attr(VsXmlNode *node, const char *name, const char *value);

/* Declares the namespace xmlns:@prefix="@uri" on @node; @uri is written as it is, so it must
 * hold no '"', '&' or '<' (a constant). */
void vs_xml_node_declare_ns(VsXmlNode *node, const char *prefix, const char *uri);

/* Returns the document whose root element is @root (UTF-8, indented, no XML declaration). */
char *vs_xml_node_serialize(const VsXmlNode *root);

/* Frees @node and its descendants (NULL is allowed); only for a root. */
void vs_xml_node_free(VsXmlNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsXmlNode, vs_xml_node_free)
