/* cloud-init composition: golden cases (each also checked by `cloud-init schema` in the
 * conformance suite) and one test per error, asserting its message. */
#include <string.h>
#include <yaml.h>

#include "provisioner/cloudinit.h"
#include "tests/bed/golden.h"

typedef struct {
    const char *name;
    const char *user_data; /* under cloudinit/inputs, or NULL */
    const char *keys[3];   /* under keys/ */
    const char *mac;
    const char *password_hash;
    const char *network_config; /* under cloudinit/inputs */
    gboolean host_keys;
} ComposeCase;

static const ComposeCase cases[] = {
    {"minimal", NULL, {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"mac-password",
     NULL,
     {"tester.pub"},
     "52:54:00:AB:cd:01",
     "$6$rounds=4096$salt$hashhashhash",
     NULL,
     FALSE},
    {"host-keys", NULL, {"tester.pub"}, "52:54:00:00:00:02", NULL, NULL, TRUE},
    {"hostile-comment", NULL, {"hostile-comment.pub", "tester.pub"}, NULL, NULL, NULL, FALSE},
    {"merge-users", "cloud-config-users.yaml", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"merge-same-user", "cloud-config-same-user.yaml", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"empty-cloud-config", "empty-cloud-config.yaml", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"script", "script.sh", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"include", "include.txt", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"archive", "archive.yaml", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"mime", "mime.txt", {"tester.pub"}, NULL, NULL, NULL, FALSE},
    {"network-config", NULL, {"tester.pub"}, NULL, NULL, "network-v2.yaml", FALSE},
};

static VsHostKey *
fake_host_key(const char *type)
{
    VsHostKey *key = g_new0(VsHostKey, 1);
    key->type = g_strdup(type);
    key->private_key = g_strdup_printf("-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE%sKEY\n"
                                       "-----END OPENSSH PRIVATE KEY-----\n",
                                       type);
    key->public_key = g_strdup_printf("ssh-%s AAAAFAKE root@station", type);
    return key;
}

static void
fill_spec(VsCloudInitSpec *spec, const ComposeCase *c)
{
    g_autoptr(GError) error = NULL;

    spec->instance_id = g_strdup_printf("iid-%s", c->name);
    spec->hostname = g_strdup("ws1.example.test");
    spec->user = g_strdup("tester");
    spec->mac = g_strdup(c->mac);
    spec->password_hash = g_strdup(c->password_hash);
    spec->ssh_keys = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < G_N_ELEMENTS(c->keys) && c->keys[i]; i++) {
        g_autofree char *rel = g_build_filename("keys", c->keys[i], NULL);
        g_autofree char *path = vs_golden_path(rel);
        vs_golden_use(rel);
        g_assert_true(vs_cloudinit_read_ssh_keys(path, spec->ssh_keys, &error));
        g_assert_no_error(error);
    }
    if (c->user_data) {
        g_autofree char *rel = g_build_filename("cloudinit", "inputs", c->user_data, NULL);
        spec->user_data = vs_golden_read(rel);
        spec->user_data_name = g_strdup(c->user_data);
    }
    if (c->network_config) {
        g_autofree char *rel = g_build_filename("cloudinit", "inputs", c->network_config, NULL);
        spec->network_config = vs_golden_read(rel);
    }
    if (c->host_keys) {
        spec->host_keys = g_ptr_array_new_with_free_func((GDestroyNotify)vs_host_key_free);
        g_ptr_array_add(spec->host_keys, fake_host_key("ed25519"));
        g_ptr_array_add(spec->host_keys, fake_host_key("ecdsa"));
    }
}

static void
check_file(const char *case_name, const char *suffix, GBytes *data)
{
    g_autofree char *rel = g_strdup_printf("cloudinit/%s.%s", case_name, suffix);
    gsize len;
    const char *buf = g_bytes_get_data(data, &len);
    vs_golden_check(rel, buf, len);
}

static void
test_compose_case(gconstpointer data)
{
    const ComposeCase *c = data;
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;

    fill_spec(&spec, c);
    g_assert_true(vs_cloudinit_compose(&spec, &files, warnings, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(warnings->len, ==, 0);
    check_file(c->name, "user-data", files.user_data);
    check_file(c->name, "meta-data", files.meta_data);
    g_assert_true((files.network_config != NULL) == (c->mac || c->network_config));
    if (files.network_config)
        check_file(c->name, "network-config", files.network_config);
    g_assert_null(files.vendor_data);
    g_assert_true(files.has_secrets == (c->password_hash || c->host_keys));
    if (c->network_config)
        /* The user's own network-config goes in byte for byte. */
        g_assert_true(g_bytes_equal(files.network_config, spec.network_config));
}

/* Returns the scalar at users[@user].ssh_authorized_keys[@index] in cloud-config @text. */
static char *
authorized_key(GBytes *text, guint user, guint index)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    gsize len;
    const guchar *data = g_bytes_get_data(text, &len);
    char *result = NULL;

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, data, len);
    g_assert_true(yaml_parser_load(&parser, &doc));
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    g_assert_cmpint(root->type, ==, YAML_MAPPING_NODE);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        if (strcmp((char *)k->data.scalar.value, "users") != 0)
            continue;
        yaml_node_t *users = yaml_document_get_node(&doc, p->value);
        yaml_node_t *u = yaml_document_get_node(&doc, users->data.sequence.items.start[user]);
        for (yaml_node_pair_t *q = u->data.mapping.pairs.start; q < u->data.mapping.pairs.top;
             q++) {
            yaml_node_t *uk = yaml_document_get_node(&doc, q->key);
            if (strcmp((char *)uk->data.scalar.value, "ssh_authorized_keys") != 0)
                continue;
            yaml_node_t *keys = yaml_document_get_node(&doc, q->value);
            yaml_node_t *key = yaml_document_get_node(&doc, keys->data.sequence.items.start[index]);
            result = g_strdup((char *)key->data.scalar.value);
        }
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return result;
}

static void
test_hostile_comment_round_trips(void)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;
    g_autofree char *path = vs_golden_path("keys/hostile-comment.pub");
    g_autofree char *expected = NULL;

    fill_spec(&spec, &cases[3]);
    g_assert_true(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_file_get_contents(path, &expected, NULL, NULL));
    g_strstrip(expected);
    /* Quotes, '<', '&', '#' and ': ' in a key comment come back as the same string. */
    g_assert_nonnull(strstr(expected, "o'brien \"quoted\" <&> #x: y"));
    g_autofree char *got = authorized_key(files.user_data, 1, 0);
    g_assert_cmpstr(got, ==, expected);
}

static void
test_merge_keeps_their_keys_in_order(void)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;
    const char *order[] = {
        "packages:", "users:", "ssh_authorized_keys:", "runcmd:", "write_files:"};
    const char *text, *last = NULL;

    fill_spec(&spec, &cases[4]);
    g_assert_true(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_no_error(error);
    text = g_bytes_get_data(files.user_data, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        g_autofree char *line = g_strdup_printf("\n%s", order[i]);
        const char *at = strstr(text, line);
        g_assert_nonnull(at);
        g_assert_true(at > last);
        last = at;
    }
    /* Their users stay, ours follows them. */
    g_autofree char *bob_key = authorized_key(files.user_data, 2, 0);
    g_assert_true(g_str_has_prefix(bob_key, "ssh-ed25519 "));
    g_assert_nonnull(strstr(text, "name: bob"));
    g_assert_nonnull(strstr(text, "- default"));
}

/* ---- anchors and aliases ---- */

/* Returns the user-data composed from @text for the user "tester" with the key tester.pub, or
 * NULL with @error set. */
static GBytes *
compose_text(const char *text, GError **error)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    ComposeCase c = {"aliases", NULL, {"tester.pub"}, NULL, NULL, NULL, FALSE};

    fill_spec(&spec, &c);
    spec.user_data = g_bytes_new(text, strlen(text));
    spec.user_data_name = g_strdup("aliases.yaml");
    if (!vs_cloudinit_compose(&spec, &files, NULL, error))
        return NULL;
    return g_bytes_ref(files.user_data);
}

/* Returns the node of @doc at @path: mapping keys and sequence indices separated by '/'. */
static yaml_node_t *
node_at(yaml_document_t *doc, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    yaml_node_t *node = yaml_document_get_root_node(doc);

    for (guint i = 0; parts[i] && node; i++) {
        yaml_node_t *next = NULL;
        if (node->type == YAML_SEQUENCE_NODE) {
            guint64 index = g_ascii_strtoull(parts[i], NULL, 10);
            if (node->data.sequence.items.start + index < node->data.sequence.items.top)
                next = yaml_document_get_node(doc, node->data.sequence.items.start[index]);
        } else if (node->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
                 p < node->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(doc, p->key);
                if (k->type == YAML_SCALAR_NODE &&
                    strcmp((char *)k->data.scalar.value, parts[i]) == 0)
                    next = yaml_document_get_node(doc, p->value);
            }
        }
        node = next;
    }
    g_assert_nonnull(node);
    return node;
}

/* Returns the number of items of the sequence at @path. */
static guint
length_at(yaml_document_t *doc, const char *path)
{
    yaml_node_t *node = node_at(doc, path);

    g_assert_cmpint(node->type, ==, YAML_SEQUENCE_NODE);
    return (guint)(node->data.sequence.items.top - node->data.sequence.items.start);
}

/* Returns the scalar at @path. */
static const char *
scalar_at(yaml_document_t *doc, const char *path)
{
    yaml_node_t *node = node_at(doc, path);

    g_assert_cmpint(node->type, ==, YAML_SCALAR_NODE);
    return (const char *)node->data.scalar.value;
}

/* Loads @data as one YAML document into @doc. */
static void
load(GBytes *data, yaml_document_t *doc)
{
    yaml_parser_t parser;
    gsize len;
    const guchar *text = g_bytes_get_data(data, &len);

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, text, len);
    g_assert_true(yaml_parser_load(&parser, doc));
    yaml_parser_delete(&parser);
}

/* What ours is added to is ours alone: an alias that shares the users list, a user's entry or
 * a key list with other keys does not carry our user or keys there. */
static void
test_aliases_not_shared(void)
{
    g_autoptr(GError) error = NULL;
    yaml_document_t doc;

    /* Our user is not in their list: a new entry, in `users` only. */
    g_autoptr(GBytes) list = compose_text("#cloud-config\n"
                                          "users: &people\n"
                                          "  - default\n"
                                          "runcmd: *people\n",
                                          &error);
    g_assert_no_error(error);
    load(list, &doc);
    g_assert_cmpuint(length_at(&doc, "users"), ==, 2);
    g_assert_cmpstr(scalar_at(&doc, "users/0"), ==, "default");
    g_assert_cmpstr(scalar_at(&doc, "users/1/name"), ==, "tester");
    g_assert_cmpuint(length_at(&doc, "runcmd"), ==, 1);
    g_assert_cmpstr(scalar_at(&doc, "runcmd/0"), ==, "default");
    yaml_document_delete(&doc);
    /* Nothing is shared any more: no alias is written. */
    g_assert_null(memchr(g_bytes_get_data(list, NULL), '*', g_bytes_get_size(list)));

    /* Our user's own entry and its key list, each shared elsewhere: our key joins `users` and
     * the top-level list only. */
    g_autoptr(GBytes) entry = compose_text("#cloud-config\n"
                                           "users: &people\n"
                                           "  - default\n"
                                           "  - &me\n"
                                           "    name: tester\n"
                                           "    shell: /bin/sh\n"
                                           "    ssh_authorized_keys: &keys\n"
                                           "      - ssh-ed25519 AAAA bob\n"
                                           "ssh_authorized_keys: *keys\n"
                                           "runcmd: *people\n"
                                           "write_files:\n"
                                           "  - path: /etc/keys\n"
                                           "    content: x\n"
                                           "    owner: *keys\n"
                                           "  - *me\n",
                                           &error);
    g_assert_no_error(error);
    load(entry, &doc);
    g_assert_cmpuint(length_at(&doc, "users"), ==, 2);
    g_assert_cmpuint(length_at(&doc, "users/1/ssh_authorized_keys"), ==, 2);
    g_assert_cmpstr(scalar_at(&doc, "users/1/ssh_authorized_keys/0"), ==, "ssh-ed25519 AAAA bob");
    g_assert_true(g_str_has_prefix(scalar_at(&doc, "users/1/ssh_authorized_keys/1"), "ssh-"));
    g_assert_cmpstr(scalar_at(&doc, "users/1/shell"), ==, "/bin/sh");
    g_assert_cmpuint(length_at(&doc, "ssh_authorized_keys"), ==, 2);
    /* Theirs, as they wrote them. */
    g_assert_cmpuint(length_at(&doc, "runcmd"), ==, 2);
    g_assert_cmpuint(length_at(&doc, "runcmd/1/ssh_authorized_keys"), ==, 1);
    g_assert_cmpuint(length_at(&doc, "write_files/0/owner"), ==, 1);
    g_assert_cmpuint(length_at(&doc, "write_files/1/ssh_authorized_keys"), ==, 1);
    g_assert_cmpstr(scalar_at(&doc, "write_files/1/name"), ==, "tester");
    yaml_document_delete(&doc);

    /* A merge key where ours goes, or the document inside itself: refused. */
    static const char *const refused[][2] = {
        {"#cloud-config\nbase: &b\n  users: [default]\n<<: *b\n",
         "aliases.yaml: a YAML merge key ('<<') in the top level is not supported"},
        {"#cloud-config\nx: &me\n  name: tester\nusers:\n  - <<: *me\n    shell: /bin/sh\n",
         "aliases.yaml: a YAML merge key ('<<') in an entry of 'users' is not supported"},
        {"#cloud-config\n--- &root\nruncmd: [a]\nself: *root\n",
         "aliases.yaml: an alias refers to the whole document from inside it"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_autoptr(GError) e = NULL;
        g_autofree char *text = g_strdup(refused[i][0]);
        g_autoptr(GBytes) none = compose_text(text, &e);
        if (none)
            g_error("case %u accepted: %s", i, (const char *)g_bytes_get_data(none, NULL));
        g_assert_error(e, VS_CLOUDINIT_ERROR, VS_CLOUDINIT_ERROR_INVALID);
        if (!strstr(e->message, refused[i][1]))
            g_error("case %u: %s", i, e->message);
    }
}

/* ---- errors ---- */

static void
expect_error(const char *user_data, const char *network_config, const char *message)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;
    ComposeCase c = {"error", user_data, {"tester.pub"}, NULL, NULL, network_config, FALSE};

    fill_spec(&spec, &c);
    g_assert_false(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_error(error, VS_CLOUDINIT_ERROR, VS_CLOUDINIT_ERROR_INVALID);
    if (!strstr(error->message, message))
        g_error("expected '%s' in: %s", message, error->message);
    g_assert_null(files.user_data);
}

static void
test_error_not_a_header(void)
{
    expect_error("not-a-header.txt", NULL,
                 "not-a-header.txt: the first line is no cloud-init header");
    expect_error("plain.txt", NULL, "plain.txt: the first line is no cloud-init header");
}

static void
test_error_malformed_yaml(void)
{
    expect_error("malformed.yaml", NULL, "malformed.yaml: malformed YAML at line 4 column 2");
}

static void
test_error_not_a_mapping(void)
{
    expect_error("top-level-list.yaml", NULL,
                 "top-level-list.yaml: a cloud-config must be a mapping of keys at its top level");
}

static void
test_error_users_not_list(void)
{
    expect_error("users-not-list.yaml", NULL,
                 "'users' must be a list to add the user 'tester' to it");
}

static void
test_error_network_config(void)
{
    expect_error(NULL, "network-bad.yaml", "network-config: 'version' must be 1 or 2");
}

static void
test_error_their_host_keys(void)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GError) error = NULL;
    ComposeCase c = {"error", "their-ssh-keys.yaml", {"tester.pub"}, NULL, NULL, NULL, TRUE};

    fill_spec(&spec, &c);
    g_assert_false(vs_cloudinit_compose(&spec, &files, NULL, &error));
    g_assert_nonnull(strstr(error->message, "'ssh_keys' is set by virt-station"));
}

static void
test_warning_unknown_key(void)
{
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    ComposeCase c = {"warn", "unknown-key.yaml", {"tester.pub"}, NULL, NULL, NULL, FALSE};

    fill_spec(&spec, &c);
    g_assert_true(vs_cloudinit_compose(&spec, &files, warnings, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(warnings->len, ==, 1);
    g_assert_cmpstr(warnings->pdata[0], ==,
                    "unknown-key.yaml: unknown cloud-config key 'frobnicate' (cloud-init will "
                    "ignore it)");
}

static void
expect_key_error(const char *file, const char *message)
{
    g_autofree char *rel = g_build_filename("keys", file, NULL);
    g_autofree char *path = vs_golden_path(rel);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;

    vs_golden_use(rel);
    g_assert_false(vs_cloudinit_read_ssh_keys(path, keys, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, message))
        g_error("expected '%s' in: %s", message, error->message);
    g_assert_cmpuint(keys->len, ==, 0);
}

static void
test_error_key_files(void)
{
    expect_key_error("garbage.pub", "garbage.pub line 1 is not an SSH public key");
    expect_key_error("private-by-mistake", "is a private key; give the public key");
    expect_key_error("does-not-exist.pub", "SSH public key ");
    expect_key_error("does-not-exist.pub", "does-not-exist.pub: No such file or directory");
}

static void
test_error_values(void)
{
    struct {
        const char *hostname, *user, *mac, *hash, *message;
    } bad[] = {
        {"a<b", "tester", NULL, NULL, "invalid hostname 'a<b'"},
        {"-x", "tester", NULL, NULL, "invalid hostname '-x'"},
        {"ok", "Tester", NULL, NULL, "invalid user name 'Tester'"},
        {"ok", "root", NULL, NULL, "the user may not be 'root'"},
        {"ok", "tester", "52:54:00:00:00", NULL, "invalid MAC address '52:54:00:00:00'"},
        {"ok", "tester", "01:00:5e:00:00:01", NULL, "it is a multicast address"},
        {"ok", "tester", NULL, "hunter2", "does not look like a crypt(3) hash"},
        /* GLib's $ also matches before a final newline: every check reaches the real end. */
        {"host\n", "tester", NULL, NULL, "invalid hostname 'host\n'"},
        {"ok", "tester\n", NULL, NULL, "invalid user name 'tester\n'"},
        {"ok", "tester", "52:54:00:12:34:56\n", NULL, "invalid MAC address '52:54:00:12:34:56\n'"},
        {"ok", "tester", NULL, "$6$salt$hash\n", "does not look like a crypt(3) hash"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        VsCloudInitSpec spec = {.hostname = (char *)bad[i].hostname,
                                .user = (char *)bad[i].user,
                                .mac = (char *)bad[i].mac,
                                .password_hash = (char *)bad[i].hash};
        g_auto(VsSeedFiles) files = {0};
        g_autoptr(GError) error = NULL;
        g_assert_false(vs_cloudinit_compose(&spec, &files, NULL, &error));
        g_assert_error(error, VS_CLOUDINIT_ERROR, VS_CLOUDINIT_ERROR_USAGE);
        if (!strstr(error->message, bad[i].message))
            g_error("expected '%s' in: %s", bad[i].message, error->message);
    }
}

static void
test_all_data_used(void)
{
    vs_golden_assert_all_used("cloudinit");
    vs_golden_assert_all_used("keys");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/cloudinit/compose/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_compose_case);
    }
    g_test_add_func("/cloudinit/hostile-comment-round-trips", test_hostile_comment_round_trips);
    g_test_add_func("/cloudinit/merge-keeps-their-keys-in-order",
                    test_merge_keeps_their_keys_in_order);
    g_test_add_func("/cloudinit/aliases-not-shared", test_aliases_not_shared);
    g_test_add_func("/cloudinit/error/not-a-header", test_error_not_a_header);
    g_test_add_func("/cloudinit/error/malformed-yaml", test_error_malformed_yaml);
    g_test_add_func("/cloudinit/error/not-a-mapping", test_error_not_a_mapping);
    g_test_add_func("/cloudinit/error/users-not-list", test_error_users_not_list);
    g_test_add_func("/cloudinit/error/network-config", test_error_network_config);
    g_test_add_func("/cloudinit/error/their-host-keys", test_error_their_host_keys);
    g_test_add_func("/cloudinit/error/key-files", test_error_key_files);
    g_test_add_func("/cloudinit/error/values", test_error_values);
    g_test_add_func("/cloudinit/warning/unknown-key", test_warning_unknown_key);
    /* Last: every data file was used by the tests above. */
    g_test_add_func("/cloudinit/zz-last/all-data-used", test_all_data_used);
    return g_test_run();
}
