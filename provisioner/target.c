#include "provisioner/target.h"

#include <string.h>
#include <unistd.h>

#include "domains/connect.h"
#include "provisioner/identity.h"
#include "provisioner/ports.h"
#include "provisioner/request.h"
#include "domains/uri.h"

void
vs_target_clear(VsTarget *t)
{
    g_clear_pointer(&t->station, vs_metadata_free);
    g_clear_pointer(&t->dom, virDomainFree);
    g_clear_pointer(&t->conn, virConnectClose);
    g_clear_pointer(&t->uri, g_free);
    g_clear_pointer(&t->port_lock, vs_lock_release);
    g_clear_pointer(&t->base_locks, g_ptr_array_unref);
    g_clear_pointer(&t->name_lock, vs_lock_release);
}

char *
vs_target_host_uri(virConnectPtr conn, const char *given)
{
    char *uri = virConnectGetURI(conn);
    char *ret = g_strdup(uri ? uri : given);

    free(uri);
    return ret;
}

gboolean
vs_target_lock(VsTarget *t, gboolean volumes, const VsProgress *progress, GError **error)
{
    g_autofree char *uri = vs_target_host_uri(t->conn, t->uri);
    const char *name = virDomainGetName(t->dom);
    g_autofree char *key = vs_lock_key_name(uri, name);
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);

    t->name_lock = vs_lock_take_reporting(VS_LOCK_NAME, key, progress, name, error);
    if (!t->name_lock)
        return FALSE;
    /* The command that held the lock may have removed the domain (a `delete`, an `up` that
     * rolled back), or something else did before this one looked. */
    if (virDomainIsPersistent(t->dom) < 0 && virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
        g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_NOT_FOUND,
                    "%s no longer exists (removed meanwhile)", name);
        return FALSE;
    }
    if (t->station) {
        g_clear_pointer(&t->station, vs_metadata_free);
        t->station = vs_lifecycle_owned(t->dom, error);
        if (!t->station)
            return FALSE;
    }
    if (!volumes || !t->station)
        return TRUE;
    for (guint i = 0; i < t->station->volumes->len; i++) {
        const VsOwnedVolume *v = t->station->volumes->pdata[i];
        g_ptr_array_add(keys, vs_lock_key_base(uri, v->pool, v->name));
    }
    t->base_locks = vs_lock_take_all(VS_LOCK_BASE, keys, error);
    return t->base_locks != NULL;
}

gboolean
vs_target_connect(VsCli *cli, VsTarget *t, GError **error)
{
    t->uri = vs_cli_uri(cli, error);
    if (!t->uri)
        return FALSE;
    t->conn = vs_connect_open(t->uri, error);
    return t->conn != NULL;
}

gboolean
vs_target_open(VsCli *cli, const char *name, gboolean allow_foreign, VsTarget *t, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (!vs_target_connect(cli, t, error))
        return FALSE;
    t->dom = vs_lifecycle_lookup(t->conn, name, &t->station, &local);
    if (t->dom)
        return TRUE;
    if (allow_foreign && g_error_matches(local, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FOREIGN)) {
        t->dom = virDomainLookupByName(t->conn, name);
        return t->dom != NULL;
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
}

gboolean
vs_target_name(const char *command, int argc, char **argv, const char **ret_name, GError **error)
{
    if (argc < 2) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: a workstation NAME is needed",
                    command);
        return FALSE;
    }
    if (argc > 2) {
        g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE, "%s: unexpected argument '%s'",
                    command, argv[2]);
        return FALSE;
    }
    /* A name no workstation can have is bad usage (exit 2), not "not found" (3). */
    if (!vs_request_check_name(argv[1], error)) {
        g_prefix_error(error, "%s: ", command);
        return FALSE;
    }
    *ret_name = argv[1];
    return TRUE;
}

gboolean
vs_target_begin(VsCli *cli, const VsCommand *cmd, void *options, int *argc, char ***argv,
                gboolean allow_foreign, VsTarget *t, const char **ret_name, GError **error)
{
    return vs_cli_parse(cli, cmd, options, argc, argv, error) &&
           vs_target_name(cmd->name, *argc, *argv, ret_name, error) &&
           vs_target_open(cli, *ret_name, allow_foreign, t, error);
}

guint16
vs_target_free_port(virConnectPtr conn, gboolean remote, guint16 candidate, virDomainPtr except,
                    GError **error)
{
    g_autoptr(GHashTable) used = vs_lifecycle_used_ports(conn, except, error);

    if (!used)
        return 0;

    if (candidate && !g_hash_table_contains(used, GUINT_TO_POINTER(candidate)) &&
        (remote || vs_ports_is_free_loopback(candidate)))
        return candidate;

    for (int attempt = 0; attempt < 100; attempt++) {
        guint16 port =
            remote ? (guint16)g_random_int_range(40000, 60000) : vs_ports_free_loopback(error);
        if (!port)
            return 0;
        if (!g_hash_table_contains(used, GUINT_TO_POINTER(port)))
            return port;
    }
    g_set_error(error, VS_DOMAINS_ERROR, VS_DOMAINS_ERROR_FAILED, "no free port on 127.0.0.1");
    return 0;
}

gboolean
vs_target_identities(const VsTarget *t, const char *identity, char ***ret_identities,
                     GError **error)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(t->dom, uuid) < 0)
        uuid[0] = '\0';
    return vs_identity_resolve(identity, t->uri, uuid[0] ? uuid : NULL, ret_identities, error);
}

gboolean
vs_target_remember_identities(const char *uri, virDomainPtr dom, const char *const *identities,
                              GError **error)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (!identities || !identities[0])
        return TRUE;
    if (virDomainGetUUIDString(dom, uuid) < 0)
        return vs_libvirt_error(error, "reading the domain's UUID");
    return vs_identity_remember(uri, uuid, identities, error);
}
