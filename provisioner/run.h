/* `run`: a throwaway workstation for one command (cmd-run.c), and what it is made of: the sweep
 * of what killed runs left, keeping a failed run, the children it waits for, the exit status
 * (run-life.c), and the copies in and out over the verified SSH (run-copy.c).
 *
 * A run's domain is transient and created with VIR_DOMAIN_START_AUTODESTROY (up-apply.h), so
 * libvirt destroys it when the run's connection closes, whatever ends the process. Its volumes
 * are not: a run killed with SIGKILL leaves its overlay and seed. Every run holds its name lock
 * (lock.h) from the apply to the end, so the rule that removes such leftovers is: a volume
 * NAME.qcow2 or NAME-seed.iso whose NAME is "run-" and 8 hex digits, whose name lock is free (no
 * run lives under that name) and whose domain is gone (a run kept with --keep-on-failure has a
 * persistent one) is deleted, unless a domain's disks use it or a volume is built on it. */
#pragma once

#include <glib.h>

#include "provisioner/base/progress.h"
#include "provisioner/sshcmd.h"
#include "domains/metadata.h"
#include "domains/vs-libvirt.h"

/* What the names of unnamed runs start with; what the sweep looks at. */
#define VS_RUN_PREFIX "run-"

/* Bounds: copies per run, and the length of each side of a copy. */
#define VS_RUN_COPIES_MAX 64
#define VS_RUN_PATH_MAX   4096

/* Exit statuses of `run` besides CMD's own (shared/CLI.md). */
#define VS_RUN_EXIT_TIMEOUT 124 /* --cmd-timeout expired; CMD was killed */
#define VS_RUN_EXIT_NOT_RUN                                                                        \
    125 /* a failure before CMD ran, or of a copy-out after CMD succeeded                          \
         */
#define VS_RUN_EXIT_SSH         255 /* the SSH connection failed during CMD (ssh's own status) */
#define VS_RUN_EXIT_INTERRUPTED 130 /* Ctrl-C or SIGTERM while CMD ran */

/* How a run ended, for its exit status. */
typedef struct {
    gboolean cmd_ran;       /* CMD was started */
    int cmd_status;         /* ssh's exit status (CMD's own; 255 from ssh); -1 killed */
    gboolean cmd_timed_out; /* --cmd-timeout expired and CMD was killed */
    gboolean interrupted;   /* Ctrl-C or SIGTERM while CMD ran */
    gboolean copy_out_failed;
} VsRunOutcome;

/* Returns the exit status of a run that ended as @o: 125 when CMD never ran, 124 when its timeout
 * expired, 130 when interrupted, else CMD's own (255 for a failed connection, as ssh says),
 * except that a failed copy-out turns a success into 125. */
int vs_run_exit_status(const VsRunOutcome *o);

/* Returns a fresh name for an unnamed run: "run-" and 8 random hex digits. */
char *vs_run_random_name(void);

/* Returns the run name that volume @volume would belong to ("run-ab12cd34" for
 * "run-ab12cd34.qcow2" or "run-ab12cd34-seed.iso": "run-" and exactly 8 lower-case hex digits,
 * as vs_run_random_name makes them), or NULL when it is no unnamed run's volume. */
char *vs_run_volume_owner(const char *volume);

/* Deletes, in every active pool of @conn, the volumes of runs that are gone (the rule above),
 * reporting each through @progress; problems are warnings, never errors. Takes name locks one at
 * a time, without waiting: call it holding no lock. @uri: the connection's URI as given. Returns
 * how many volumes were deleted. */
guint vs_run_sweep(virConnectPtr conn, const char *uri, const VsProgress *progress);

/* Makes the running transient domain @dom persistent (virDomainDefineXML of its own XML) and
 * marks its metadata kept with @reason, so that no sweep takes its volumes. Returns the
 * persistent domain, or NULL with @error set. */
virDomainPtr vs_run_keep(virDomainPtr dom, const char *reason, GError **error);

/* Destroys the run's domain @dom (or `bake`'s temporary one: throwaway workstations both)
 * and deletes the volumes @station names that are its disks,
 * unless another domain's disks use one or a volume is built on it (each kept or missing one
 * adds a sentence to @notes). A pool that cannot be read does not keep them (see run-life.c).
 * Returns FALSE with @error set; what is left, the sweep removes once the run's lock is free. */
gboolean vs_run_remove(virDomainPtr dom, const VsMetadata *station, GPtrArray *notes,
                       GError **error);

/* Waits for the child @pid (spawned with G_SPAWN_DO_NOT_REAP_CHILD) until it ends; kills it
 * (SIGTERM, then SIGKILL after 2 s) once @deadline_us (monotonic; 0: none) passes or Ctrl-C or
 * SIGTERM arrived (interrupt.h), saying which in @ret_timed_out and @ret_interrupted. Returns its
 * exit status, or -1 when a signal ended it. */
int vs_run_wait_child(GPid pid, gint64 deadline_us, gboolean *ret_timed_out,
                      gboolean *ret_interrupted);

/* Copies the local file or folder @src to @dst in the guest over @ssh (run-copy.c): a folder's
 * content lands in the folder @dst (made when missing, merged otherwise), a file becomes the
 * file @dst. Returns FALSE with @error set. */
gboolean vs_run_copy_in(const VsSshTarget *ssh, const char *src, const char *dst, GError **error);

/* Copies the guest's file or folder @src to the local path @dst over @ssh, the same way round.
 * Returns FALSE with @error set. */
gboolean vs_run_copy_out(const VsSshTarget *ssh, const char *src, const char *dst, GError **error);

/* Returns TRUE when @spec ("SRC:DST", split at the first ':') has both sides, each at most
 * VS_RUN_PATH_MAX bytes, setting @ret_src and @ret_dst; else FALSE with @error set
 * (VS_CLI_ERROR_USAGE) naming @flag. */
gboolean vs_run_split_copy(const char *flag, const char *spec, char **ret_src, char **ret_dst,
                           GError **error);
