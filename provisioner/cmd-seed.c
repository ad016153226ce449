/* virt-station seed: the standalone NoCloud seed builder. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "provisioner/base/bounded-read.h"
#include "provisioner/base/yaml-load.h"
#include "provisioner/cloudinit.h"
#include "provisioner/commands.h"
#include "provisioner/defaults.h"

/* The largest password hash file: a crypt(3) hash is a line of at most a few hundred bytes. */
#define PASSWORD_HASH_MAX_BYTES 4096

/* Reads the file @path of at most @max_bytes into @ret. */
static gboolean
read_file(const char *path, gsize max_bytes, GBytes **ret, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;

    if (!vs_read_bounded_file(path, max_bytes, &data, &len, error))
        return FALSE;
    *ret = g_bytes_new_take(g_steal_pointer(&data), len);
    return TRUE;
}

/* Returns the password hash in the file @path, or on stdin for "-": its one line, without the
 * newline that ends it. NULL with @error set when it cannot be read or holds no line. */
static char *
read_password_hash(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len;
    const char *what = strcmp(path, "-") == 0 ? "--password-hash-file - (stdin)" : path;

    if (strcmp(path, "-") == 0
            ? !vs_read_bounded_fd(STDIN_FILENO, what, PASSWORD_HASH_MAX_BYTES, &data, &len, error)
            : !vs_read_bounded_file(path, PASSWORD_HASH_MAX_BYTES, &data, &len, error))
        return NULL;
    /* One final newline ends the line (mkpasswd writes it); anything else stays and is judged
     * by the hash check. */
    if (len > 0 && data[len - 1] == '\n')
        data[--len] = '\0';
    if (len == 0 || strlen(data) != len) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "seed: %s holds no password hash (one line, as `mkpasswd -m sha-512` prints)",
                    what);
        return NULL;
    }
    return g_steal_pointer(&data);
}

/* Parses --mode: octal permissions no wider than 0777. */
static gboolean
parse_mode(const char *text, mode_t *ret_mode, GError **error)
{
    guint64 mode;

    if (!g_ascii_string_to_unsigned(text, 8, 0, 0777, &mode, NULL)) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                    "seed: --mode: '%s' is not octal permissions from 0 to 0777 (such as 0640)",
                    text);
        return FALSE;
    }
    *ret_mode = (mode_t)mode;
    return TRUE;
}

static int
usage_error(VsCli *cli, const char *message)
{
    g_autoptr(GError) error = g_error_new(VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "seed: %s", message);
    return vs_cli_fail(cli, "seed", error);
}

typedef struct {
    char *output;
    char *user_data;
    char **ssh_keys;
    char *hostname;
    char *user;
    char *mac;
    char *network_config;
    char *password_hash; /* refused: a hash in argv is visible to every user (ps) */
    char *password_hash_file;
    char *vendor_data;
    char *instance_id;
    char *mode;
} SeedOptions;

static const VsOption seed_options[] = {
    {"output", 'o', 0, VS_FILENAME(SeedOptions, output), "Write the ISO to FILE (required)", "FILE",
     VS_COMPLETE_FILE},
    {"user-data", 0, 0, VS_FILENAME(SeedOptions, user_data),
     "Merge this user-data (cloud-config, script, include, MIME, ...)", "FILE", VS_COMPLETE_FILE},
    {"ssh-key", 0, 0, VS_FILENAMES(SeedOptions, ssh_keys),
     "Authorize this public key for the user (repeatable; default ~/.ssh/id_ed25519.pub, "
     "id_ecdsa.pub or id_rsa.pub)",
     "FILE.pub", VS_COMPLETE_FILE},
    {"hostname", 0, 0, VS_STRING(SeedOptions, hostname), "Guest hostname (default: station)",
     "NAME"},
    {"user", 0, 0, VS_STRING(SeedOptions, user),
     "Login to create, with sudo (default: your login name, or station for root)", "NAME"},
    {"mac", 0, 0, VS_STRING(SeedOptions, mac),
     "Write a network-config that enables DHCP on the NIC with this MAC", "MAC"},
    {"network-config", 0, 0, VS_FILENAME(SeedOptions, network_config),
     "Use this network-config file", "FILE", VS_COMPLETE_FILE},
    {"password-hash-file", 0, 0, VS_FILENAME(SeedOptions, password_hash_file),
     "Give the user the crypt(3) password hash in FILE, or on stdin with - (mkpasswd -m "
     "sha-512)",
     "FILE", VS_COMPLETE_FILE},
    {"password-hash", 0, G_OPTION_FLAG_HIDDEN, VS_STRING(SeedOptions, password_hash),
     "Refused: use --password-hash-file", "HASH"},
    {"vendor-data", 0, 0, VS_FILENAME(SeedOptions, vendor_data), "Add this vendor-data file",
     "FILE", VS_COMPLETE_FILE},
    {"instance-id", 0, 0, VS_STRING(SeedOptions, instance_id),
     "meta-data instance-id (default: a new random one)", "ID"},
    {"mode", 0, 0, VS_STRING(SeedOptions, mode),
     "The ISO file's permissions, less the umask (default 0600: user-data may hold secrets)",
     "OCTAL"},
    {NULL},
};
VS_OPTIONS_AUTO_CLEAR(SeedOptions, seed_options)

static int run_seed(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_seed = {
    .name = "seed",
    .args = "-o FILE",
    .summary = "Write a cloud-init NoCloud seed ISO (like cloud-localds)",
    .description = "Write a cloud-init NoCloud seed ISO (label cidata) holding user-data, "
                   "meta-data and, when asked, network-config.",
    .options = seed_options,
    .run = run_seed,
};

static int
run_seed(VsCli *cli, int argc, char **argv)
{
    g_auto(SeedOptions) o = {0};
    g_auto(VsCloudInitSpec) spec = {0};
    g_auto(VsSeedFiles) files = {0};
    g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    mode_t mode = VS_SEED_FILE_MODE;

    if (!vs_cli_parse(cli, &vs_command_seed, &o, &argc, &argv, &error))
        return vs_cli_fail(cli, "seed", error);
    if (o.password_hash)
        return usage_error(cli, "--password-hash would show the hash to every user of this "
                                "machine (ps, /proc); give it in a file or on stdin with "
                                "--password-hash-file FILE|-");
    if (o.mode && !parse_mode(o.mode, &mode, &error))
        return vs_cli_fail(cli, "seed", error);
    if (argc > 1)
        return usage_error(cli, "unexpected argument; all inputs are given with options");
    if (!o.output)
        return usage_error(cli, "-o/--output FILE is required");
    if (o.mac && o.network_config)
        return usage_error(cli, "--mac and --network-config exclude each other");

    spec.hostname = g_strdup(o.hostname ? o.hostname : "station");
    spec.user = o.user ? g_strdup(o.user) : vs_defaults_user();
    spec.mac = g_steal_pointer(&o.mac);
    if (o.password_hash_file) {
        spec.password_hash = read_password_hash(o.password_hash_file, &error);
        if (!spec.password_hash)
            return vs_cli_fail(cli, "seed", error);
    }
    spec.instance_id = g_steal_pointer(&o.instance_id);
    spec.ssh_keys = g_ptr_array_new_with_free_func(g_free);
    if (o.ssh_keys) {
        for (guint i = 0; o.ssh_keys[i]; i++)
            if (!vs_cloudinit_read_ssh_keys(o.ssh_keys[i], spec.ssh_keys, &error))
                return vs_cli_fail(cli, "seed", error);
    } else {
        g_autofree char *key = vs_defaults_ssh_key();
        if (key && !vs_cloudinit_read_ssh_keys(key, spec.ssh_keys, &error))
            return vs_cli_fail(cli, "seed", error);
        if (!key && !spec.password_hash)
            vs_cli_warn("no SSH public key given or found in ~/.ssh: %s can log in only through "
                        "the user-data",
                        spec.user);
    }
    if (o.user_data) {
        spec.user_data_name = g_strdup(o.user_data);
        if (!read_file(o.user_data, VS_YAML_USER_DATA_MAX_BYTES, &spec.user_data, &error))
            return vs_cli_fail(cli, "seed", error);
    }
    if (o.network_config) {
        spec.network_config_name = g_strdup(o.network_config);
        if (!read_file(o.network_config, VS_YAML_MAX_BYTES, &spec.network_config, &error))
            return vs_cli_fail(cli, "seed", error);
    }
    if (o.vendor_data &&
        !read_file(o.vendor_data, VS_YAML_USER_DATA_MAX_BYTES, &spec.vendor_data, &error))
        return vs_cli_fail(cli, "seed", error);

    if (!vs_cloudinit_compose(&spec, &files, warnings, &error))
        return vs_cli_fail(cli, "seed", error);
    for (guint i = 0; i < warnings->len; i++)
        vs_cli_warn("%s", (char *)warnings->pdata[i]);
    if (!vs_seed_write(&files, o.output, mode, &error))
        return vs_cli_fail(cli, "seed", error);
    vs_cli_progress(cli, "wrote %s", o.output);
    return VS_EXIT_OK;
}
