/* Watching a domain while something waits for it: libvirt's lifecycle events tell at once when
 * it stops, crashes or pauses on an error; a poll of its state once a second is the backstop
 * (no event loop, a lost event, a remote daemon that drops them). */
#pragma once

#include "domains/vs-libvirt.h"

/* What the wait should do about a domain in a given state. */
typedef enum {
    VS_WATCH_GOING,   /* it may still become ready: keep waiting */
    VS_WATCH_STOPPED, /* it will not by itself: shut off, crashed, paused on an error, gone */
} VsWatchVerdict;

/* Why a domain will not become ready, as libvirt says it. */
typedef struct {
    int state;         /* virDomainState; -1 when the domain is gone (undefined) */
    int reason;        /* the reason of @state (virDomainShutoffReason, ...) */
    gboolean panicked; /* a CRASHED/PANICKED event came: the guest's kernel told pvpanic */
} VsWatchStop;

/* Returns the verdict for a domain in @state (virDomainState) for @reason. Stops on shut off,
 * crashed, and paused for crashed, I/O error, watchdog, unknown (how a KVM internal error
 * shows) or a failed post-copy; keeps waiting through every other pause (user, save, dump,
 * snapshot, migration, starting up, shutting down) and through running, idle, in shutdown
 * (shut off follows) and pmsuspended. */
VsWatchVerdict vs_watch_decide(int state, int reason);

/* Returns the state's name as virsh spells it ("shut off", "paused", ...). */
const char *vs_watch_state_to_string(int state);

/* Returns the reason's name as `virsh domstate --reason` spells it ("I/O error", "shutdown",
 * "panicked", ...), or "unknown" for a reason this libvirt did not know of. */
const char *vs_watch_reason_to_string(int state, int reason);

typedef struct _VsWatch VsWatch;

/* Returns a watch on @dom: lifecycle events where the connection delivers them (an event loop
 * runs, see connect.c), else polling alone. Never NULL. */
VsWatch *vs_watch_new(virDomainPtr dom);
void vs_watch_free(VsWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VsWatch, vs_watch_free)

/* Returns TRUE while the domain may still become ready; FALSE with @ret_stop filled when it will
 * not. Asks libvirt only after an event or when a second has passed since it last asked. */
gboolean vs_watch_check(VsWatch *watch, VsWatchStop *ret_stop);

/* Sets @ret_console_log to the serial console's log file on the libvirt host (NULL when the
 * domain writes none) and @ret_kvm to whether the domain runs under KVM, from its XML. Returns
 * FALSE when the XML could not be read. */
gboolean vs_watch_domain_facts(virDomainPtr dom, char **ret_console_log, gboolean *ret_kvm);
