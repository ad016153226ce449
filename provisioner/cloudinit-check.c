/* The checks of what users give: login and host names, MAC addresses, SSH public keys and
 * password hashes. */
#include "provisioner/cloudinit-internal.h"

#include <string.h>

#include "provisioner/base/file-read.h"

gboolean
vs_cloudinit_check_user(const char *name, GError **error)
{
    if (!g_regex_match_simple("^[a-z_][a-z0-9_-]{0,30}$", name, G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_cloudinit_invalid(
            error, VS_CLOUDINIT_ERROR_USAGE,
            "invalid user name '%s': use up to 31 lower-case letters, digits, '_' or "
            "'-', starting with a letter or '_'",
            name);
    if (strcmp(name, "root") == 0)
        return vs_cloudinit_invalid(
            error, VS_CLOUDINIT_ERROR_USAGE,
            "the user may not be 'root': virt-station creates an ordinary login with "
            "sudo");
    return TRUE;
}

gboolean
vs_cloudinit_check_hostname(const char *name, GError **error)
{
    if (strlen(name) > 253 ||
        !g_regex_match_simple("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}"
                              "[a-z0-9])?)*$",
                              name, G_REGEX_CASELESS | G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_cloudinit_invalid(
            error, VS_CLOUDINIT_ERROR_USAGE,
            "invalid hostname '%s': use dot-separated labels of letters, digits and "
            "'-' (at most 63 characters each, no '-' at either end)",
            name);
    return TRUE;
}

gboolean
vs_cloudinit_check_mac(const char *mac, GError **error)
{
    if (!g_regex_match_simple("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", mac,
                              G_REGEX_CASELESS | G_REGEX_DOLLAR_ENDONLY, 0))
        return vs_cloudinit_invalid(
            error, VS_CLOUDINIT_ERROR_USAGE,
            "invalid MAC address '%s': expected six hex pairs like 52:54:00:12:34:56", mac);
    if (g_ascii_xdigit_value(mac[1]) & 1)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                                    "invalid MAC address '%s': it is a multicast address", mac);
    return TRUE;
}

gboolean
vs_cloudinit_check_password_hash(const char *hash, GError **error)
{
    if (!g_regex_match_simple("^\\$[0-9a-z]+\\$[./A-Za-z0-9$=,]+$", hash, G_REGEX_DOLLAR_ENDONLY,
                              0))
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_USAGE,
                                    "the password hash does not look like a crypt(3) hash such as "
                                    "`mkpasswd -m sha-512` prints ($6$...); a plain password is "
                                    "not accepted");
    return TRUE;
}

/* Returns TRUE when @line is "TYPE BASE64 [COMMENT]" with a base64 blob that names TYPE. */
static gboolean
is_public_key_line(const char *line)
{
    static const char *const types[] = {
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        NULL,
    };
    g_auto(GStrv) fields = g_regex_split_simple("[ \t]+", line, 0, 0);
    g_autofree guchar *blob = NULL;
    gsize len = 0;
    guint32 name_len;

    if (g_strv_length(fields) < 2 || !g_strv_contains(types, fields[0]))
        return FALSE;
    if (!g_regex_match_simple("^[A-Za-z0-9+/]+={0,2}$", fields[1], G_REGEX_DOLLAR_ENDONLY, 0))
        return FALSE;
    blob = g_base64_decode(fields[1], &len);
    if (len < 4)
        return FALSE;
    name_len = GUINT32_FROM_BE(*(guint32 *)blob);
    return name_len == strlen(fields[0]) && len >= 4 + name_len &&
           memcmp(blob + 4, fields[0], name_len) == 0;
}

gboolean
vs_cloudinit_read_ssh_keys(const char *path, GPtrArray *keys, GError **error)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    guint found = 0;

    if (!vs_file_read_bounded(path, VS_FILE_CAP_KEY, "SSH public key", &text, NULL, error))
        return FALSE;
    if (strstr(text, "PRIVATE KEY-----"))
        return vs_cloudinit_invalid(
            error, VS_CLOUDINIT_ERROR_INVALID,
            "%s is a private key; give the public key (the .pub file) instead", path);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);
        if (*line == '\0' || *line == '#')
            continue;
        if (!is_public_key_line(line))
            return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID,
                                        "%s line %u is not an SSH public key (expected a line like "
                                        "'ssh-ed25519 AAAA... comment')",
                                        path, i + 1);
        g_ptr_array_add(keys, g_strdup(line));
        found++;
    }
    if (found == 0)
        return vs_cloudinit_invalid(error, VS_CLOUDINIT_ERROR_INVALID, "%s holds no SSH public key",
                                    path);
    return TRUE;
}
