/* Spec files and values: SIZE units, the cNmM shorthand, every key, and errors that name the
 * key and the line. */
#include <glib/gstdio.h>
#include <string.h>

#include "tests/bed/golden.h"
#include "provisioner/base/bounded-read.h"
#include "provisioner/base/yaml-load.h"
#include "provisioner/images/catalog.h"
#include "provisioner/spec.h"

static void
test_sizes(void)
{
    struct {
        const char *text;
        guint64 bare, bytes;
    } ok[] = {
        {"8192", 1ULL << 20, 8192ULL << 20},
        {"20", 1ULL << 30, 20ULL << 30},
        {"512K", 1, 512ULL << 10},
        {"8G", 1ULL << 20, 8ULL << 30},
        {"8GiB", 1ULL << 20, 8ULL << 30},
        {"3MiB", 1ULL << 30, 3ULL << 20},
        {"2T", 1, 2ULL << 40},
        {"1KiB", 1, 1024},
    };
    const char *bad[] = {"",    "G", "-1", "1.5G", "8 G", "8g", "8GB", "0", "99999999999999999999T",
                         "0x10"};

    for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
        guint64 bytes = 0;
        g_autoptr(GError) error = NULL;
        g_assert_true(vs_spec_parse_size(ok[i].text, ok[i].bare, "--disk", &bytes, &error));
        g_assert_no_error(error);
        g_assert_cmpuint(bytes, ==, ok[i].bytes);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint64 bytes = 42;
        g_autoptr(GError) error = NULL;
        g_assert_false(vs_spec_parse_size(bad[i], 1, "--disk", &bytes, &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
        g_assert_true(g_str_has_prefix(error->message, "--disk: '"));
        g_assert_cmpuint(bytes, ==, 42);
    }
}

static void
test_instance_type(void)
{
    guint cpus = 0;
    guint64 mib = 0;
    g_autoptr(GError) error = NULL;

    g_assert_true(vs_spec_parse_instance_type("c4m8192", &cpus, &mib, &error));
    g_assert_cmpuint(cpus, ==, 4);
    g_assert_cmpuint(mib, ==, 8192);
    const char *bad[] = {"c0m1024", "c4",       "m8192",   "4m8192",
                         "c4m8G",   "c4m8192x", "C4M8192", "c4m8192\n"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) e = NULL;
        g_assert_false(vs_spec_parse_instance_type(bad[i], &cpus, &mib, &e));
        g_assert_nonnull(strstr(e->message, "is not of the form cNmM"));
    }
}

static void
test_full_spec(void)
{
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) data = vs_golden_read("specs/full.yaml");

    g_assert_true(vs_spec_load_data(spec, g_bytes_get_data(data, NULL), g_bytes_get_size(data),
                                    "full.yaml", "/home/alice/ws", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(spec->name, ==, "ws1");
    /* Relative paths are taken from the spec's folder; the image is a path too, but may be an
     * alias, so it stays as written. */
    g_assert_cmpstr(spec->image, ==, "images/debian-12.qcow2");
    g_assert_cmpuint(spec->cpus, ==, 6);
    g_assert_cmpuint(spec->memory_mib, ==, 12 * 1024);
    g_assert_cmpuint(spec->disk_bytes, ==, 40ULL << 30);
    g_assert_cmpstr(spec->instance_type, ==, "c2m2048");
    g_assert_cmpstr(spec->network, ==, "bridge:br0");
    g_assert_cmpstr(spec->gpu, ==, "virgl");
    g_assert_cmpuint(spec->gpu_memory_bytes, ==, 8ULL << 30);
    g_assert_cmpstr(spec->display, ==, "spice");
    g_assert_cmpstr(spec->user, ==, "alice");
    g_assert_cmpuint(spec->ssh_keys->len, ==, 2);
    g_assert_cmpstr(spec->ssh_keys->pdata[0], ==, "/home/alice/ws/keys/alice.pub");
    g_assert_cmpstr(spec->ssh_keys->pdata[1], ==, "/abs/bob.pub");
    g_assert_cmpstr(spec->user_data, ==, "/home/alice/ws/cloud/user-data.yaml");
    g_assert_cmpstr(spec->network_config, ==, "/home/alice/ws/cloud/net.yaml");
    g_assert_cmpstr(spec->seed_device, ==, "cdrom");
    g_assert_cmpstr(spec->seed_from, ==, "http://127.0.0.1:8000/seed/");
    g_assert_cmpstr(spec->arch, ==, "x86_64");
    g_assert_cmpstr(spec->firmware, ==, "efi");
    g_assert_cmpstr(spec->virt_type, ==, "kvm");
    g_assert_cmpstr(spec->mac, ==, "52:54:00:00:00:09");
    g_assert_cmpstr(spec->pool, ==, "fast");
    g_assert_cmpstr(spec->osinfo, ==, "http://fedoraproject.org/fedora/41");
}

static void
expect_error(const char *text, const char *message)
{
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;

    g_assert_false(vs_spec_load_data(spec, text, strlen(text), "s.yaml", NULL, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_INVALID);
    if (strcmp(error->message, message) != 0)
        g_error("expected '%s', got '%s'", message, error->message);
}

static void
test_errors(void)
{
    expect_error("name: a\ncpu: 4\n", "s.yaml line 2: unknown key 'cpu'");
    expect_error("name: a\ncpus: four\n", "s.yaml line 2: cpus: 'four' is not a number of "
                                          "vCPUs (1 to 4096)");
    expect_error("memory: 8X\n", "s.yaml line 1: memory: '8X' has an unknown unit (use K, M, G or "
                                 "T)");
    expect_error("name: [a, b]\n", "s.yaml line 1: 'name' needs a single value");
    expect_error("ssh-key: {a: b}\n", "s.yaml line 1: 'ssh-key' must be a file or a list of files");
    expect_error("- name\n", "s.yaml: a spec is a mapping of keys such as 'name', 'image', 'cpus'");
    expect_error("name: a\n---\nname: b\n", "s.yaml: holds more than one YAML document");
    expect_error("name: a\n  cpus: 4\n",
                 "s.yaml: malformed YAML at line 2 column 7: mapping values are not allowed in "
                 "this context");
}

/* Returns a spec nested @depth levels under its root mapping: flow sequences ([[...]]) or flow
 * mappings ({a: {a: ...}}) on line 2 as the value of "x", or block sequences (- - - z) on line 3
 * under "x:". */
static char *
nested(const char *style, guint depth)
{
    GString *s = g_string_new(strcmp(style, "block") == 0 ? "name: ws1\nx:\n" : "name: ws1\nx: ");

    for (guint i = 0; i < depth; i++)
        g_string_append(s, strcmp(style, "seq") == 0   ? "["
                           : strcmp(style, "map") == 0 ? "{a: "
                                                       : "- ");
    g_string_append(s, strcmp(style, "block") == 0 ? "z" : strcmp(style, "map") == 0 ? "b" : "");
    for (guint i = 0; i < depth && strcmp(style, "block") != 0; i++)
        g_string_append_c(s, strcmp(style, "seq") == 0 ? ']' : '}');
    g_string_append_c(s, '\n');
    return g_string_free(s, FALSE);
}

/* Nesting (counted with the spec's own mapping as level 1) and size limits, checked on events
 * before a tree is built: 256 levels load, 257 and 60,000 are refused with the line, not a
 * crash; a file past the size limit names the line the limit falls on. */
static void
test_yaml_limits(void)
{
    static const char *const styles[] = {"seq", "map", "block"};

    for (guint s = 0; s < G_N_ELEMENTS(styles); s++) {
        static const guint depths[] = {199, 255, 256, 299, 59999};
        for (guint d = 0; d < G_N_ELEMENTS(depths); d++) {
            g_autofree char *text = nested(styles[s], depths[d]);
            yaml_document_t doc;
            g_autoptr(GError) error = NULL;
            gboolean ok =
                vs_yaml_load(text, strlen(text), "deep.yaml", VS_YAML_SINGLE, &doc, &error);
            /* The root mapping is level 1: @depths[d] more levels under it. */
            if (depths[d] + 1 <= VS_YAML_MAX_DEPTH) {
                g_assert_no_error(error);
                g_assert_true(ok);
                yaml_document_delete(&doc);
                continue;
            }
            g_assert_false(ok);
            g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
            g_assert_true(g_str_has_prefix(error->message, strcmp(styles[s], "block") == 0
                                                               ? "deep.yaml line 3 column "
                                                               : "deep.yaml line 2 column "));
            g_assert_true(g_str_has_suffix(error->message,
                                           ": YAML nested more than 256 levels deep, the limit"));
        }
    }
    {
        /* The column is the collection's: level 257 is the 256th "- " on line 3, at column
         * 1 + 2 * 255. */
        g_autofree char *text = nested("block", 300);
        yaml_document_t doc;
        g_autoptr(GError) error = NULL;
        g_assert_false(vs_yaml_load(text, strlen(text), "deep.yaml", 0, &doc, &error));
        g_assert_cmpstr(error->message, ==,
                        "deep.yaml line 3 column 511: YAML nested more than 256 levels deep, "
                        "the limit");
    }
    {
        /* The spec loader says the same, and a spec 200 deep is parsed (and refused for what it
         * says, a list where one value belongs). */
        g_autoptr(VsSpec) spec = vs_spec_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *deep = nested("seq", 60000);
        g_autofree char *value = nested("seq", 200);
        g_autofree char *fine = g_strconcat("memory: ", value + strlen("name: ws1\nx: "), NULL);
        g_assert_false(vs_spec_load_data(spec, deep, strlen(deep), "s.yaml", NULL, &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
        g_clear_error(&error);
        g_assert_false(vs_spec_load_data(spec, fine, strlen(fine), "s.yaml", NULL, &error));
        g_assert_cmpstr(error->message, ==, "s.yaml line 1: 'memory' needs a single value");
    }
    {
        /* The image catalog goes through the same loader. */
        g_autoptr(VsCatalog) catalog = vs_catalog_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *deep = nested("map", 300);
        g_assert_false(vs_catalog_add_data(catalog, deep, strlen(deep), "images.yaml", &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
        g_assert_true(g_str_has_prefix(error->message, "images.yaml line 2 column "));
    }
    {
        /* 1 MiB of 64-byte lines and one more: byte 1048576 opens line 16385. */
        GString *big = g_string_new(NULL);
        yaml_document_t doc;
        g_autoptr(GError) error = NULL;
        while (big->len <= VS_YAML_MAX_BYTES)
            g_string_append_printf(big, "key-%08" G_GSIZE_FORMAT ": %049d\n", big->len / 64, 0);
        g_assert_cmpuint(big->len % 64, ==, 0);
        g_assert_false(vs_yaml_load(big->str, big->len, "big.yaml", 0, &doc, &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
        g_assert_cmpstr(error->message, ==,
                        "big.yaml line 16385: the file is larger than 1 MiB, the limit for it");
        g_clear_error(&error);
        /* Exactly 1 MiB loads. */
        g_string_truncate(big, VS_YAML_MAX_BYTES);
        g_assert_true(vs_yaml_load(big->str, big->len, "big.yaml", 0, &doc, &error));
        g_assert_no_error(error);
        yaml_document_delete(&doc);
        g_string_free(big, TRUE);
    }
    {
        /* A device without end is read up to the limit and refused, not read for ever. */
        g_autofree char *data = NULL;
        gsize len = 7;
        g_autoptr(GError) error = NULL;
        g_autoptr(VsSpec) spec = vs_spec_new();
        g_assert_false(vs_read_bounded_file("/dev/zero", 1024, &data, &len, &error));
        g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
        g_assert_cmpstr(error->message, ==,
                        "/dev/zero line 1: the file is larger than 1 KiB, the limit for it");
        g_assert_null(data);
        g_assert_cmpuint(len, ==, 7);
        g_clear_error(&error);
        /* A spec file must be a regular file: /dev/zero is refused before a byte is read. */
        g_assert_false(vs_spec_load_file(spec, "/dev/zero", &error));
        g_assert_cmpstr(error->message, ==,
                        "spec file /dev/zero: not a regular file (a device, FIFO or folder is not "
                        "read)");
    }
}

/* Memory is a whole number of MiB from 1 MiB to 16 TiB, disk at most 16 TiB, the vGPU
 * framebuffer a whole number of MiB from 1 MiB to 1 TiB: the same rules as the flags. */
static void
test_size_limits(void)
{
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(GError) error = NULL;
    const char *ok = "memory: 16T\ndisk: 16T\ngpu-memory: 1T\n";

    g_assert_true(vs_spec_load_data(spec, ok, strlen(ok), "s.yaml", NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(spec->memory_mib, ==, 16ULL << 20);
    g_assert_cmpuint(spec->disk_bytes, ==, 16ULL << 40);
    g_assert_cmpuint(spec->gpu_memory_bytes, ==, 1ULL << 40);
    expect_error("memory: 1K\n", "s.yaml line 1: memory: '1K' is less than 1 MiB");
    expect_error("memory: 1536K\n", "s.yaml line 1: memory: '1536K' is not a whole number of MiB");
    expect_error("memory: 16777215T\n",
                 "s.yaml line 1: memory: '16777215T' is more than 16 TiB, the limit");
    expect_error("memory: 16777217\n",
                 "s.yaml line 1: memory: '16777217' is more than 16 TiB, the limit");
    expect_error("disk: 16385G\n", "s.yaml line 1: disk: '16385G' is more than 16 TiB, the limit");
    expect_error("gpu-memory: 512K\n", "s.yaml line 1: gpu-memory: '512K' is less than 1 MiB");
    expect_error("gpu-memory: 4097K\n",
                 "s.yaml line 1: gpu-memory: '4097K' is not a whole number of MiB");
    expect_error("gpu-memory: 2T\n",
                 "s.yaml line 1: gpu-memory: '2T' is more than 1 TiB, the limit");
    {
        guint cpus;
        guint64 mib;
        g_autoptr(GError) e = NULL;
        g_assert_false(vs_spec_parse_instance_type("c2m16777217", &cpus, &mib, &e));
        g_assert_cmpstr(e->message, ==,
                        "instance-type: 'c2m16777217' asks for more than 16 TiB of memory, the "
                        "limit");
        g_assert_true(vs_spec_parse_instance_type("c2m16777216", &cpus, &mib, NULL));
        g_assert_cmpuint(mib, ==, 16777216);
    }
}

static void
test_config_file(void)
{
    g_autofree char *home = g_dir_make_tmp("vs-config-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(home, "virt-station", NULL);
    g_autofree char *path = g_build_filename(dir, "config.yaml", NULL);
    g_autofree char *saved = g_strdup(g_getenv("XDG_CONFIG_HOME"));
    g_autofree char *connect = NULL;
    g_autoptr(VsSpec) none = vs_spec_new();
    g_autoptr(VsSpec) spec = vs_spec_new();
    g_autoptr(VsSpec) bad = vs_spec_new();
    g_autoptr(GError) error = NULL;

    g_setenv("XDG_CONFIG_HOME", home, TRUE);
    /* g_get_user_config_dir() reads the variable once: nothing may have asked before. */
    g_assert_cmpstr(g_get_user_config_dir(), ==, home);
    /* No file: nothing set, no error. */
    g_assert_true(vs_spec_load_config(none, &connect, &error));
    g_assert_no_error(error);
    g_assert_null(connect);
    g_assert_null(none->pool);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    g_assert_true(g_file_set_contents(path,
                                      "connect: qemu+ssh://root@host.example/system\n"
                                      "pool: fast\nnetwork: user\nuser: alice\n"
                                      "ssh-key: [keys/alice.pub]\nvirt-type: qemu\n"
                                      "require-signature: true\n",
                                      -1, NULL));
    g_assert_false(spec->require_signature);
    g_assert_true(vs_spec_load_config(spec, &connect, &error));
    g_assert_no_error(error);
    g_assert_true(spec->require_signature);
    g_assert_false(none->require_signature);
    g_assert_cmpstr(connect, ==, "qemu+ssh://root@host.example/system");
    g_assert_cmpstr(spec->pool, ==, "fast");
    g_assert_cmpstr(spec->network, ==, "user");
    g_assert_cmpstr(spec->user, ==, "alice");
    g_assert_cmpstr(spec->virt_type, ==, "qemu");
    g_autofree char *key = g_build_filename(dir, "keys", "alice.pub", NULL);
    g_assert_cmpstr(spec->ssh_keys->pdata[0], ==, key);

    /* Only those keys: a spec key there is named as out of place. */
    g_assert_true(g_file_set_contents(path, "pool: fast\ncpus: 4\n", -1, NULL));
    g_assert_false(vs_spec_load_config(bad, NULL, &error));
    g_autofree char *msg = g_strdup_printf("%s line 2: unknown key 'cpus' (config.yaml holds "
                                           "connect, pool, network, user, ssh-key, virt-type, "
                                           "require-signature)",
                                           path);
    g_assert_cmpstr(error->message, ==, msg);
    g_clear_error(&error);

    /* require-signature takes true or false, nothing else. */
    g_autoptr(VsSpec) flag = vs_spec_new();
    g_assert_true(g_file_set_contents(path, "require-signature: yes please\n", -1, NULL));
    g_assert_false(vs_spec_load_config(flag, NULL, &error));
    g_autofree char *flag_msg =
        g_strdup_printf("%s line 1: require-signature: 'yes please' is not true or false", path);
    g_assert_cmpstr(error->message, ==, flag_msg);
    g_clear_error(&error);
    g_assert_true(g_file_set_contents(path, "require-signature: false\n", -1, NULL));
    g_assert_true(vs_spec_load_config(flag, NULL, &error));
    g_assert_false(flag->require_signature);

    /* Its nesting is limited like every YAML file's. */
    g_clear_error(&error);
    g_autofree char *deep = nested("seq", 300);
    g_assert_true(g_file_set_contents(path, deep + strlen("name: ws1\n"), -1, NULL));
    g_assert_false(vs_spec_load_config(bad, NULL, &error));
    g_assert_error(error, VS_SPEC_ERROR, VS_SPEC_ERROR_LIMIT);
    g_autofree char *where = g_strdup_printf("%s line 1 column ", path);
    g_assert_true(g_str_has_prefix(error->message, where));

    g_unlink(path);
    g_rmdir(dir);
    g_rmdir(home);
    if (saved)
        g_setenv("XDG_CONFIG_HOME", saved, TRUE);
    else
        g_unsetenv("XDG_CONFIG_HOME");
}

static void
test_all_data_used(void)
{
    vs_golden_assert_all_used("specs");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/spec/sizes", test_sizes);
    g_test_add_func("/spec/instance-type", test_instance_type);
    g_test_add_func("/spec/full", test_full_spec);
    g_test_add_func("/spec/errors", test_errors);
    g_test_add_func("/spec/config-file", test_config_file);
    g_test_add_func("/spec/yaml-limits", test_yaml_limits);
    g_test_add_func("/spec/size-limits", test_size_limits);
    g_test_add_func("/spec/zz-last/all-data-used", test_all_data_used);
    return g_test_run();
}
