/* The domain XML's serializer (domains/xmlnode.h) against libxml2's own: the same tree built with
 * both is written byte for byte alike (libxml2's xmlSaveDoc, XML_SAVE_FORMAT | XML_SAVE_NO_DECL,
 * UTF-8, as domains/xml.c wrote it before), and libxml2 reads every value back as it went in. */
#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <string.h>

#include "domains/vs-xml.h"
#include "domains/xmlnode.h"

#define NS_A "urn:test:a"
#define NS_Q "http://example.org/q/1.0"

/* Values with everything either escaping treats specially, the other quote, and UTF-8. */
static const char ATTR_VALUE[] = "a&b<c>d\"e'f\rg\nh\ti ]]> &amp; \xc3\xa9\xe2\x82\xac";
static const char TEXT_VALUE[] = "x & y < z > w \" ' \r\n\tq ]]> &lt; \xc3\xa9\xef\xbf\xbd";

/* One element of the tree, in both implementations. */
typedef struct {
    VsXmlNode *vs;
    xmlNode *x;
} Pair;

/* An element in @ns (NULL: none), which an ancestor declares. */
static Pair
add(Pair parent, xmlNs *ns, const char *name)
{
    Pair p = {vs_xml_node_add(parent.vs, ns ? (const char *)ns->prefix : NULL, name),
              xmlNewChild(parent.x, ns, BAD_CAST name, NULL)};
    return p;
}

static Pair
add_text(Pair parent, xmlNs *ns, const char *name, const char *text)
{
    Pair p = {vs_xml_node_add(parent.vs, ns ? (const char *)ns->prefix : NULL, name),
              xmlNewTextChild(parent.x, ns, BAD_CAST name, BAD_CAST text)};
    vs_xml_node_set_text(p.vs, text);
    return p;
}

/* An element in the namespace @prefix:@uri that it declares itself (as domains/xml.c's
 * <vs:station>); sets @ret_ns to libxml2's. */
static Pair
add_declaring(Pair parent, const char *prefix, const char *uri, const char *name, xmlNs **ret_ns)
{
    Pair p = {vs_xml_node_add(parent.vs, prefix, name),
              xmlNewChild(parent.x, NULL, BAD_CAST name, NULL)};
    *ret_ns = xmlNewNs(p.x, BAD_CAST uri, BAD_CAST prefix);
    xmlSetNs(p.x, *ret_ns);
    vs_xml_node_declare_ns(p.vs, prefix, uri);
    return p;
}

static void
set_attr(Pair p, const char *name, const char *value)
{
    vs_xml_node_set_attr(p.vs, name, value);
    xmlNewProp(p.x, BAD_CAST name, BAD_CAST value);
}

/* Builds the test tree in both; returns libxml2's document and sets @ret_root to ours. */
static xmlDoc *
build(VsXmlNode **ret_root)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    Pair root = {vs_xml_node_new(NULL, "domain"), xmlNewNode(NULL, BAD_CAST "domain")};
    Pair station, gpu, cmdline, deep;
    xmlNs *a, *q;

    xmlDocSetRootElement(doc, root.x);
    set_attr(root, "type", ATTR_VALUE);
    set_attr(root, "second", "2");
    add_text(root, NULL, "name", TEXT_VALUE);
    add_text(root, NULL, "title", "");
    set_attr(add(root, NULL, "empty"), "k", "v");
    add(root, NULL, "bare");
    set_attr(add(add(add(root, NULL, "devices"), NULL, "disk"), NULL, "source"), "file",
             "/a b/c&d.qcow2");

    /* Declared on the element that uses it, after an attribute: the declaration comes first. */
    station = add(root, NULL, "metadata");
    station = add_declaring(station, "a", NS_A, "station", &a);
    set_attr(station, "version", "1");
    gpu = add(station, a, "gpu");
    set_attr(gpu, "mode", "none");
    add_text(gpu, a, "reason", TEXT_VALUE);
    set_attr(add(gpu, a, "function"), "address", "0000:01:00.0");

    /* Declared on the root after its attributes and children, used by a child. */
    q = xmlNewNs(root.x, BAD_CAST NS_Q, BAD_CAST "q");
    vs_xml_node_declare_ns(root.vs, "q", NS_Q);
    cmdline = add(root, q, "commandline");
    set_attr(add(cmdline, q, "arg"), "value", "-netdev");
    set_attr(add(cmdline, q, "arg"), "value", ATTR_VALUE);

    /* Deeper than libxml2 indents (30 levels). */
    deep = root;
    for (int i = 0; i < 34; i++)
        deep = add(deep, NULL, "d");
    add_text(deep, NULL, "leaf", "x");

    *ret_root = root.vs;
    return doc;
}

static char *
libxml2_serialize(xmlDoc *doc)
{
    xmlBuffer *buf = xmlBufferCreate();
    xmlSaveCtxt *save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);
    char *out;

    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    out = g_strndup((const char *)xmlBufferContent(buf), (gsize)xmlBufferLength(buf));
    xmlBufferFree(buf);
    return out;
}

static void
test_same_bytes_as_libxml2(void)
{
    VsXmlNode *root = NULL;
    g_autoptr(xmlDoc) doc = build(&root);
    g_autoptr(VsXmlNode) owned = root;
    g_autofree char *ours = vs_xml_node_serialize(root);
    g_autofree char *theirs = libxml2_serialize(doc);

    g_assert_cmpstr(ours, ==, theirs);
    /* What the escaping is, spelled out (libxml2's, as the comparison above shows). */
    g_assert_nonnull(strstr(ours, "<domain xmlns:q=\"" NS_Q "\" type=\"a&amp;b&lt;c&gt;d&quot;e'f"
                                  "&#13;g&#10;h&#9;i ]]&gt; &amp;amp; \xc3\xa9\xe2\x82\xac\" "
                                  "second=\"2\">\n"));
    g_assert_nonnull(strstr(ours, "\n  <name>x &amp; y &lt; z &gt; w \" ' &#13;\n\tq ]]&gt; "
                                  "&amp;lt; \xc3\xa9\xef\xbf\xbd</name>\n"));
    g_assert_nonnull(strstr(ours, "\n  <title></title>\n  <empty k=\"v\"/>\n  <bare/>\n"));
    g_assert_nonnull(strstr(ours, "\n    <a:station xmlns:a=\"" NS_A "\" version=\"1\">\n"));
    g_assert_true(g_str_has_suffix(ours, "</domain>\n"));
}

static void
test_values_read_back(void)
{
    g_autoptr(VsXmlNode) root = NULL;
    g_autoptr(xmlDoc) built = build(&root);
    g_autofree char *ours = vs_xml_node_serialize(root);
    g_autoptr(xmlDoc) doc = xmlReadMemory(ours, (int)strlen(ours), "ours.xml", NULL,
                                          XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlNode *top, *name, *station, *gpu, *reason, *cmdline, *arg;
    g_autofree xmlChar *type = NULL, *text = NULL, *reason_text = NULL, *value = NULL;

    g_assert_nonnull(doc);
    top = xmlDocGetRootElement(doc);
    type = xmlGetProp(top, BAD_CAST "type");
    g_assert_cmpstr((char *)type, ==, ATTR_VALUE);
    name = xmlFirstElementChild(top);
    g_assert_cmpstr((char *)name->name, ==, "name");
    text = xmlNodeGetContent(name);
    g_assert_cmpstr((char *)text, ==, TEXT_VALUE);

    station = xmlFirstElementChild(xmlNextElementSibling(xmlNextElementSibling(
        xmlNextElementSibling(xmlNextElementSibling(xmlNextElementSibling(name))))));
    g_assert_cmpstr((char *)station->name, ==, "station");
    g_assert_nonnull(station->ns);
    g_assert_cmpstr((char *)station->ns->href, ==, NS_A);
    gpu = xmlFirstElementChild(station);
    g_assert_cmpstr((char *)gpu->ns->href, ==, NS_A);
    reason = xmlFirstElementChild(gpu);
    g_assert_cmpstr((char *)reason->name, ==, "reason");
    g_assert_cmpstr((char *)reason->ns->prefix, ==, "a");
    reason_text = xmlNodeGetContent(reason);
    g_assert_cmpstr((char *)reason_text, ==, TEXT_VALUE);

    cmdline = xmlNextElementSibling(station->parent);
    g_assert_cmpstr((char *)cmdline->name, ==, "commandline");
    g_assert_cmpstr((char *)cmdline->ns->href, ==, NS_Q);
    arg = xmlNextElementSibling(xmlFirstElementChild(cmdline));
    value = xmlGetProp(arg, BAD_CAST "value");
    g_assert_cmpstr((char *)value, ==, ATTR_VALUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xmlnode/same-bytes-as-libxml2", test_same_bytes_as_libxml2);
    g_test_add_func("/xmlnode/values-read-back", test_values_read_back);
    return g_test_run();
}
