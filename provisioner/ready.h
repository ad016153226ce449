/* Waiting for a workstation to be ready, step by step. */
#pragma once

#include "provisioner/base/progress.h"
#include "provisioner/ready-error.h"
#include "domains/metadata.h"
#include "domains/vs-libvirt.h"
#include "domains/watch.h"

/* Waits until @dom runs, its network is up, sshd lets us in and cloud-init has finished,
 * reporting each step as it completes, while watching the domain. Logs in with exactly
 * @identities when given (else the agent, ssh's defaults and virt-station's own key). Errors:
 * VS_DOMAINS_ERROR_STOPPED when the domain shuts off, crashes or pauses on an error (exit 1; the
 * message gives state, reason, console and QEMU log tails and a hint), VS_READY_ERROR_REFUSED
 * when sshd refuses every key offered (exit 1), VS_DOMAINS_ERROR_TIMEOUT naming the step (exit
 * 4), VS_READY_ERROR_CLOUD_INIT when cloud-init finished with errors (in the message), and
 * VS_DOMAINS_ERROR_CANCELLED on Ctrl-C. The workstation is kept in every case. Each step is
 * reported through @progress as it completes.
 * When the connection to libvirt is lost (domains/reconnect.h), the wait says so through
 * @progress, opens @uri again once a second until its deadline, finds the domain by UUID and
 * goes on; *@dom is then the domain on the new connection (the old reference is dropped).
 * It fails with VS_DOMAINS_ERROR_FAILED (exit 1) when the domain is gone after reconnecting and
 * VS_DOMAINS_ERROR_TIMEOUT (exit 4) naming @uri when libvirt did not answer before the
 * deadline. */
gboolean vs_ready_wait(const VsProgress *progress, virDomainPtr *dom, const VsMetadata *station,
                       const char *uri, const char *const *identities, guint timeout_s,
                       GError **error);

/* Returns the guest's address for SSH: the metadata's forwarded host for user networking, else
 * the first IPv4 address from the DHCP lease or the guest agent; NULL when none is known. */
char *vs_ready_address(virDomainPtr dom, const VsMetadata *station);

/* The pure parts of the wait, apart so that tests can feed them. */

/* How many refusals in a row, over how long, before the wait gives up on the keys: sshd may
 * answer before cloud-init has written authorized_keys. */
#define VS_READY_REFUSALS        3
#define VS_READY_REFUSAL_SPAN_US (10 * G_USEC_PER_SEC)

typedef struct {
    guint count;     /* refusals in a row */
    gint64 first_us; /* when the first of them came (monotonic) */
} VsReadyRefusals;

/* Notes one login attempt at @now_us, @refused or not. Returns TRUE when sshd has refused every
 * key VS_READY_REFUSALS times in a row over at least VS_READY_REFUSAL_SPAN_US. */
gboolean vs_ready_refusals_note(VsReadyRefusals *r, gboolean refused, gint64 now_us);

/* Returns TRUE when @ssh_output says that sshd refused every key offered. */
gboolean vs_ready_is_refusal(const char *ssh_output);

/* Returns TRUE when @result, the text of cloud-init's result.json (written when its final stage
 * ends), lists no errors: `"errors": []`, whatever the spacing. */
gboolean vs_ready_result_ok(const char *result);

/* What is known when the domain stopped during the wait. */
typedef struct {
    const char *name;
    const char *step;         /* what was being waited for ("sshd to answer") */
    gboolean was_running;     /* it ran during the wait (else it was down from the start) */
    VsWatchStop stop;         /* libvirt's state and reason */
    gboolean kvm;             /* the domain runs under KVM */
    const char *console;      /* the serial console's last lines, or NULL */
    const char *panic;        /* the kernel's panic line, when the last lines miss it; or NULL */
    const char *console_note; /* where it is, or why there are no lines */
    const char *qemu_log;     /* QEMU's log's last lines, or NULL */
    const char *qemu_note;    /* where it is, or why there are no lines */
} VsReadyFailure;

/* Returns the message for @f: what happened in libvirt's words, the tails, a hint that fits,
 * and that the workstation is kept. */
char *vs_ready_failure_message(const VsReadyFailure *f);

/* Returns the last @lines lines of the file @path (at most its last 64 KiB), with terminal
 * escapes and control characters but tab and newline removed, or NULL with @error set. Sets
 * @ret_panic (when not NULL) to the last "Kernel panic - not syncing" line in those 64 KiB when
 * it is not among the returned lines (the call trace after it is longer), else to NULL. */
char *vs_ready_tail(const char *path, guint lines, char **ret_panic, GError **error);
