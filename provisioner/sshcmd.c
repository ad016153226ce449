#include "provisioner/sshcmd.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "provisioner/keys.h"

void
vs_ssh_target_free(VsSshTarget *t)
{
    if (!t)
        return;
    g_free(t->user);
    g_free(t->host);
    g_free(t->jump);
    g_free(t->jump_key);
    g_free(t->jump_known_hosts);
    g_free(t->alias);
    g_free(t->known_hosts);
    g_strfreev(t->identities);
    g_free(t->identity);
    g_free(t);
}

char *
vs_ssh_jump_from_uri(const char *uri)
{
    g_autoptr(GUri) parsed = uri ? g_uri_parse(uri, G_URI_FLAGS_NONE, NULL) : NULL;
    GString *jump;

    if (!parsed || !g_uri_get_host(parsed) || !*g_uri_get_host(parsed))
        return NULL;
    jump = g_string_new(NULL);
    if (g_uri_get_userinfo(parsed))
        g_string_append_printf(jump, "%s@", g_uri_get_userinfo(parsed));
    g_string_append(jump, g_uri_get_host(parsed));
    if (g_uri_get_port(parsed) > 0)
        g_string_append_printf(jump, ":%d", g_uri_get_port(parsed));
    return g_string_free(jump, FALSE);
}

char *
vs_ssh_uri_param(const char *uri, const char *name)
{
    g_autoptr(GUri) parsed = uri ? g_uri_parse(uri, G_URI_FLAGS_ENCODED_QUERY, NULL) : NULL;
    g_autoptr(GHashTable) params = NULL;

    if (!parsed || !g_uri_get_query(parsed))
        return NULL;
    params = g_uri_parse_params(g_uri_get_query(parsed), -1, "&", G_URI_PARAMS_NONE, NULL);
    return params ? g_strdup(g_hash_table_lookup(params, name)) : NULL;
}

/* Returns FALSE after setting G_FILE_ERROR_INVAL: @what's @value (escaped) cannot be used. */
static gboolean
refuse(GError **error, const char *what, const char *value, const char *rule)
{
    g_autofree char *shown = g_strescape(value, NULL);

    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "refusing %s '%s': %s; nothing was run (is the domain's metadata or the guest "
                "tampered with?)",
                what, shown, rule);
    return FALSE;
}

gboolean
vs_ssh_check_user(const char *user, const char *what, GError **error)
{
    /* \A and \z: a final newline is no end of the value (GLib's $ would allow one). */
    if (!user || !g_regex_match_simple("\\A[a-z_][a-z0-9_-]{0,30}\\z", user, 0, 0))
        return refuse(error, what, user ? user : "",
                      "a login name is 1 to 31 lower-case letters, "
                      "digits, '_' or '-', starting with a letter or '_'");
    return TRUE;
}

gboolean
vs_ssh_check_host(const char *host, const char *what, GError **error)
{
    static const char *const rule = "an address is an IPv4 or IPv6 literal or a hostname of "
                                    "letters, digits, '-' and '.'";
    g_autoptr(GInetAddress) address = NULL;

    if (!host || !*host || strlen(host) > 253 || strchr(host, '%'))
        return refuse(error, what, host ? host : "", rule);
    address = g_inet_address_new_from_string(host);
    if (address)
        return TRUE;
    if (!g_regex_match_simple("\\A[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
                              "(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\\z",
                              host, G_REGEX_CASELESS, 0))
        return refuse(error, what, host, rule);
    return TRUE;
}

VsSshTarget *
vs_ssh_target_new(const char *uri, const char *name, const VsMetadata *station, const char *host,
                  const char *const *identities, GError **error)
{
    g_autoptr(VsSshTarget) t = g_new0(VsSshTarget, 1);
    g_autofree char *dir =
        g_build_filename(g_get_user_cache_dir(), "virt-station", "known_hosts", NULL);
    g_autofree char *text = NULL;

    if (station->host_keys->len == 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s's metadata holds no SSH host key, so its sshd cannot be verified and "
                    "virt-station does not log in to it (a workstation made with --seed-from: "
                    "its seed server gives the guest its host key)",
                    name);
        return NULL;
    }
    if (!host && !station->ssh_host) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s has no known address yet", name);
        return NULL;
    }
    /* What the metadata and the guest say reaches ssh's command line only once checked. */
    if (!vs_ssh_check_user(station->ssh_user, "the metadata's SSH user", error) ||
        !vs_ssh_check_host(host ? host : station->ssh_host,
                           host ? "the guest's address" : "the metadata's SSH host", error))
        return NULL;
    if (!host && (station->ssh_port == 0 || station->ssh_port > 65535)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "refusing the metadata's SSH port %u: not a TCP port", station->ssh_port);
        return NULL;
    }
    t->user = g_strdup(station->ssh_user);
    t->host = g_strdup(host ? host : station->ssh_host);
    t->port = host ? 22 : station->ssh_port;
    t->jump = vs_ssh_jump_from_uri(uri);
    if (t->jump) {
        /* Reach the libvirt host as libvirt itself does: its key file and host key checking. */
        g_autofree char *no_verify = vs_ssh_uri_param(uri, "no_verify");
        t->jump_key = vs_ssh_uri_param(uri, "keyfile");
        t->jump_known_hosts = vs_ssh_uri_param(uri, "known_hosts");
        t->jump_no_verify = g_strcmp0(no_verify, "1") == 0;
    }
    t->alias = g_strdup_printf("vs-%s", name);
    if (identities && identities[0])
        t->identities = g_strdupv((char **)identities);
    else
        t->identity = vs_keys_own_key(FALSE, NULL);
    /* known_hosts is rewritten from the metadata each time: it holds public keys only. */
    text = vs_metadata_known_hosts(station, t->alias);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "creating %s: %s", dir,
                    g_strerror(errno));
        return NULL;
    }
    t->known_hosts = g_build_filename(dir, name, NULL);
    if (!g_file_set_contents(t->known_hosts, text, -1, error))
        return NULL;
    return g_steal_pointer(&t);
}

/* Returns the command that reaches the target through its jump host @t->jump (ssh -W), with
 * the URI's port, key file, host key checks and user. */
static char *
proxy_command(const VsSshTarget *t, gboolean batch)
{
    g_autofree char *jump_uri = g_strconcat("ssh://", t->jump, NULL);
    g_autoptr(GUri) jump = g_uri_parse(jump_uri, G_URI_FLAGS_NONE, NULL);
    /* %h is the checked guest address (vs_ssh_target_new); an IPv6 literal needs brackets. */
    GString *proxy = g_string_new(strchr(t->host, ':') ? "ssh -W [%h]:%p" : "ssh -W %h:%p");

    if (jump && g_uri_get_port(jump) > 0)
        g_string_append_printf(proxy, " -p %d", g_uri_get_port(jump));
    if (t->jump_key) {
        g_autofree char *q = g_shell_quote(t->jump_key);
        g_string_append_printf(proxy, " -i %s", q);
    }
    if (t->jump_no_verify)
        g_string_append(proxy, " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null");
    else if (t->jump_known_hosts) {
        g_autofree char *q = g_shell_quote(t->jump_known_hosts);
        g_string_append_printf(proxy, " -o UserKnownHostsFile=%s", q);
    }
    if (batch)
        g_string_append(proxy, " -o BatchMode=yes");
    if (jump && g_uri_get_userinfo(jump)) {
        g_autofree char *q = g_shell_quote(g_uri_get_userinfo(jump));
        g_string_append_printf(proxy, " -l %s", q);
    }
    /* "--": the jump host is never read as an option. */
    g_autofree char *host = g_shell_quote(jump ? g_uri_get_host(jump) : t->jump);
    g_string_append_printf(proxy, " -- %s", host);
    return g_string_free(proxy, FALSE);
}

/* Returns @command as one line for the remote shell. ssh joins its arguments with spaces: each
 * one is quoted so that the command runs with exactly these arguments. */
static char *
remote_command(char **command)
{
    GString *line = g_string_new(NULL);

    for (guint i = 0; command[i]; i++) {
        g_autofree char *q = g_shell_quote(command[i]);
        if (i)
            g_string_append_c(line, ' ');
        g_string_append(line, q);
    }
    return g_string_free(line, FALSE);
}

GPtrArray *
vs_ssh_argv(const VsSshTarget *t, gboolean batch, gboolean tty, char **command)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup("ssh"));
    g_ptr_array_add(argv, g_strdup("-p"));
    g_ptr_array_add(argv, g_strdup_printf("%u", t->port));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup_printf("UserKnownHostsFile=%s", t->known_hosts));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup("StrictHostKeyChecking=yes"));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup_printf("HostKeyAlias=%s", t->alias));
    g_ptr_array_add(argv, g_strdup("-o"));
    g_ptr_array_add(argv, g_strdup("LogLevel=ERROR"));
    if (batch) {
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("BatchMode=yes"));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("ConnectTimeout=10"));
    }
    if (t->identities) {
        /* Exactly these keys: an agent holding many would otherwise use up sshd's
         * MaxAuthTries before the right one is offered. */
        for (guint i = 0; t->identities[i]; i++) {
            g_ptr_array_add(argv, g_strdup("-i"));
            g_ptr_array_add(argv, g_strdup(t->identities[i]));
        }
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup("IdentitiesOnly=yes"));
    } else if (t->identity) {
        g_ptr_array_add(argv, g_strdup("-i"));
        g_ptr_array_add(argv, g_strdup(t->identity));
    }
    if (t->jump) {
        /* A ProxyCommand rather than -J: the jump needs the URI's key file and checks, which
         * -J would not pass on. */
        g_autofree char *proxy = proxy_command(t, batch);
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup_printf("ProxyCommand=%s", proxy));
    }
    g_ptr_array_add(argv, g_strdup(tty ? "-t" : "-T"));
    /* The options end here: the destination and the command are never read as options (ssh
     * stops parsing options after "--", also after the destination). */
    g_ptr_array_add(argv, g_strdup("--"));
    g_ptr_array_add(argv, g_strdup_printf("%s@%s", t->user, t->host));
    if (command && command[0])
        g_ptr_array_add(argv, remote_command(command));
    g_ptr_array_add(argv, NULL);
    return argv;
}
