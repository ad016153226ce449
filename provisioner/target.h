/* The libvirt module's commands: reaching a workstation by name. */
#pragma once

#include "provisioner/commands.h"
#include "domains/lifecycle.h"
#include "provisioner/base/progress.h"
#include "provisioner/lock.h"

typedef struct {
    char *uri;
    virConnectPtr conn;
    virDomainPtr dom;
    VsMetadata *station;   /* NULL for a foreign domain when allowed */
    VsLock *port_lock;     /* the port lock while a start needs it, else NULL */
    VsLock *name_lock;     /* see vs_target_lock */
    GPtrArray *base_locks; /* VsLock: the base locks of its volumes (vs_target_lock) */
} VsTarget;

void vs_target_clear(VsTarget *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VsTarget, vs_target_clear)

/* Connects and looks up @name. Unless @allow_foreign, a domain without virt-station's metadata
 * is refused (VS_DOMAINS_ERROR_FOREIGN, exit status 3). */
gboolean vs_target_open(VsCli *cli, const char *name, gboolean allow_foreign, VsTarget *t,
                        GError **error);

/* Returns a 127.0.0.1 port that is free here (on a @remote host: a random one of 40000-59999)
 * and given to no domain of @conn carrying virt-station metadata but @except (may be NULL):
 * @candidate when it still is (0: none), else another; 0 with @error set. The caller holds the
 * port lock (lock.h, VS_LOCK_PORT) until the port is taken where this function looks: named by a
 * defined domain (`up`), or bound by a running one (`start`, whose port a stopped domain names
 * already). */
guint16 vs_target_free_port(virConnectPtr conn, gboolean remote, guint16 candidate,
                            virDomainPtr except, GError **error);

/* Returns the connection's own spelling of its URI (two spellings of one host give one), for
 * lock keys. */
char *vs_target_host_uri(virConnectPtr conn, const char *given);

/* Takes @t's name lock and reads its metadata again under it (another command may have changed
 * or removed the domain meanwhile: VS_DOMAINS_ERROR_NOT_FOUND); with @volumes also the base locks
 * of the volumes the metadata names (keys in ascending order), so that no `up --image vol:` builds
 * on them. While another process holds the name lock it says so through @progress (may be NULL)
 * and waits, until @progress says to stop (vs_lock_take_reporting). */
gboolean vs_target_lock(VsTarget *t, gboolean volumes, const VsProgress *progress, GError **error);

/* Connects only. */
gboolean vs_target_connect(VsCli *cli, VsTarget *t, GError **error);

/* The start of every command on one workstation: parses @cmd's options (into @options, see
 * vs_cli_parse), takes NAME, connects and looks it up (see vs_target_open). Sets @ret_name to
 * NAME. */
gboolean vs_target_begin(VsCli *cli, const VsCommand *cmd, void *options, int *argc, char ***argv,
                         gboolean allow_foreign, VsTarget *t, const char **ret_name,
                         GError **error);

/* Sets @ret_identities to the private keys to log in to @t with: @identity when given (checked:
 * a readable regular file, else exit status 2), else those remembered for it on this client,
 * else NULL (the agent and ssh's defaults). */
gboolean vs_target_identities(const VsTarget *t, const char *identity, char ***ret_identities,
                              GError **error);

/* Remembers @identities (none: nothing) as the keys to log in to the domain @dom of @uri with.
 * Returns FALSE with @error set when they could not be written down. */
gboolean vs_target_remember_identities(const char *uri, virDomainPtr dom,
                                       const char *const *identities, GError **error);

/* Parses "COMMAND NAME" from @argc/@argv after option parsing; sets @error (usage: exit status
 * 2) otherwise, and when NAME is no valid workstation name (vs_request_check_name). */
gboolean vs_target_name(const char *command, int argc, char **argv, const char **ret_name,
                        GError **error);
