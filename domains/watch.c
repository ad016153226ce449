/* Watching a domain during a wait.
 *
 * Theory of operation: the lifecycle callback runs in libvirt's event loop thread (connect.c)
 * and only raises a flag (and notes a panic); the waiting thread reads the state with
 * virDomainGetState() when the flag is up or a second has passed, and vs_watch_decide() turns
 * state and reason into a verdict. The flag lives in a reference-counted box that libvirt holds
 * a reference to, because its callback may still run after we deregister it. */
#define VIR_ENUM_SENTINELS /* the _LAST values that size the name tables */
#include "domains/watch.h"

#include <libxml/parser.h>
#include <string.h>

/* Names as virsh prints them (tools/virsh-domain-monitor.c). A value this libvirt added after
 * the table was written reads "unknown"; the unit test checks every value libvirt knows has
 * a name. */
static const char *const state_names[VIR_DOMAIN_LAST] = {
    [VIR_DOMAIN_NOSTATE] = "no state",     [VIR_DOMAIN_RUNNING] = "running",
    [VIR_DOMAIN_BLOCKED] = "idle",         [VIR_DOMAIN_PAUSED] = "paused",
    [VIR_DOMAIN_SHUTDOWN] = "in shutdown", [VIR_DOMAIN_SHUTOFF] = "shut off",
    [VIR_DOMAIN_CRASHED] = "crashed",      [VIR_DOMAIN_PMSUSPENDED] = "pmsuspended",
};

static const char *const paused_names[VIR_DOMAIN_PAUSED_LAST] = {
    [VIR_DOMAIN_PAUSED_UNKNOWN] = "unknown",
    [VIR_DOMAIN_PAUSED_USER] = "user",
    [VIR_DOMAIN_PAUSED_MIGRATION] = "migrating",
    [VIR_DOMAIN_PAUSED_SAVE] = "saving",
    [VIR_DOMAIN_PAUSED_DUMP] = "dumping",
    [VIR_DOMAIN_PAUSED_IOERROR] = "I/O error",
    [VIR_DOMAIN_PAUSED_WATCHDOG] = "watchdog",
    [VIR_DOMAIN_PAUSED_FROM_SNAPSHOT] = "from snapshot",
    [VIR_DOMAIN_PAUSED_SHUTTING_DOWN] = "shutting down",
    [VIR_DOMAIN_PAUSED_SNAPSHOT] = "creating snapshot",
    [VIR_DOMAIN_PAUSED_CRASHED] = "crashed",
    [VIR_DOMAIN_PAUSED_STARTING_UP] = "starting up",
    [VIR_DOMAIN_PAUSED_POSTCOPY] = "post-copy",
    [VIR_DOMAIN_PAUSED_POSTCOPY_FAILED] = "post-copy failed",
};

static const char *const shutoff_names[VIR_DOMAIN_SHUTOFF_LAST] = {
    [VIR_DOMAIN_SHUTOFF_UNKNOWN] = "unknown",
    [VIR_DOMAIN_SHUTOFF_SHUTDOWN] = "shutdown",
    [VIR_DOMAIN_SHUTOFF_DESTROYED] = "destroyed",
    [VIR_DOMAIN_SHUTOFF_CRASHED] = "crashed",
    [VIR_DOMAIN_SHUTOFF_MIGRATED] = "migrated",
    [VIR_DOMAIN_SHUTOFF_SAVED] = "saved",
    [VIR_DOMAIN_SHUTOFF_FAILED] = "failed",
    [VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT] = "from snapshot",
    [VIR_DOMAIN_SHUTOFF_DAEMON] = "daemon",
};

static const char *const crashed_names[VIR_DOMAIN_CRASHED_LAST] = {
    [VIR_DOMAIN_CRASHED_UNKNOWN] = "unknown",
    [VIR_DOMAIN_CRASHED_PANICKED] = "panicked",
};

static const char *const running_names[VIR_DOMAIN_RUNNING_LAST] = {
    [VIR_DOMAIN_RUNNING_UNKNOWN] = "unknown",
    [VIR_DOMAIN_RUNNING_BOOTED] = "booted",
    [VIR_DOMAIN_RUNNING_MIGRATED] = "migrated",
    [VIR_DOMAIN_RUNNING_RESTORED] = "restored",
    [VIR_DOMAIN_RUNNING_FROM_SNAPSHOT] = "from snapshot",
    [VIR_DOMAIN_RUNNING_UNPAUSED] = "unpaused",
    [VIR_DOMAIN_RUNNING_MIGRATION_CANCELED] = "migration canceled",
    [VIR_DOMAIN_RUNNING_SAVE_CANCELED] = "save canceled",
    [VIR_DOMAIN_RUNNING_WAKEUP] = "event wakeup",
    [VIR_DOMAIN_RUNNING_CRASHED] = "crashed",
    [VIR_DOMAIN_RUNNING_POSTCOPY] = "post-copy",
    [VIR_DOMAIN_RUNNING_POSTCOPY_FAILED] = "post-copy failed",
};

/* Returns @names[@i] when @i is in the table and named, else @fallback. */
static const char *
lookup(const char *const *names, int n, int i, const char *fallback)
{
    return i >= 0 && i < n && names[i] ? names[i] : fallback;
}

const char *
vs_watch_state_to_string(int state)
{
    if (state < 0)
        return "undefined";
    return lookup(state_names, G_N_ELEMENTS(state_names), state, "unknown");
}

const char *
vs_watch_reason_to_string(int state, int reason)
{
    switch (state) {
    case VIR_DOMAIN_PAUSED:
        return lookup(paused_names, G_N_ELEMENTS(paused_names), reason, "unknown");
    case VIR_DOMAIN_SHUTOFF:
        return lookup(shutoff_names, G_N_ELEMENTS(shutoff_names), reason, "unknown");
    case VIR_DOMAIN_CRASHED:
        return lookup(crashed_names, G_N_ELEMENTS(crashed_names), reason, "unknown");
    case VIR_DOMAIN_RUNNING:
        return lookup(running_names, G_N_ELEMENTS(running_names), reason, "unknown");
    case VIR_DOMAIN_SHUTDOWN:
        return reason == VIR_DOMAIN_SHUTDOWN_USER ? "user" : "unknown";
    default:
        return "unknown";
    }
}

VsWatchVerdict
vs_watch_decide(int state, int reason)
{
    if (state < 0) /* undefined by someone else */
        return VS_WATCH_STOPPED;
    switch (state) {
    case VIR_DOMAIN_SHUTOFF:
    case VIR_DOMAIN_CRASHED:
        return VS_WATCH_STOPPED;
    case VIR_DOMAIN_PAUSED:
        switch (reason) {
        /* Paused by an error: nothing resumes it by itself. A KVM internal error leaves the
         * domain paused for an unknown reason. */
        case VIR_DOMAIN_PAUSED_UNKNOWN:
        case VIR_DOMAIN_PAUSED_IOERROR:
        case VIR_DOMAIN_PAUSED_WATCHDOG:
        case VIR_DOMAIN_PAUSED_CRASHED:
        case VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
            return VS_WATCH_STOPPED;
        /* Paused on purpose or for a moment: it runs again (or shuts off, which is seen). */
        case VIR_DOMAIN_PAUSED_USER:
        case VIR_DOMAIN_PAUSED_MIGRATION:
        case VIR_DOMAIN_PAUSED_SAVE:
        case VIR_DOMAIN_PAUSED_DUMP:
        case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
        case VIR_DOMAIN_PAUSED_SHUTTING_DOWN:
        case VIR_DOMAIN_PAUSED_SNAPSHOT:
        case VIR_DOMAIN_PAUSED_STARTING_UP:
        case VIR_DOMAIN_PAUSED_POSTCOPY:
        default:
            return VS_WATCH_GOING;
        }
    case VIR_DOMAIN_NOSTATE:
    case VIR_DOMAIN_RUNNING:
    case VIR_DOMAIN_BLOCKED:
    case VIR_DOMAIN_SHUTDOWN:
    case VIR_DOMAIN_PMSUSPENDED:
    default:
        return VS_WATCH_GOING;
    }
}

/* What the event callback and the waiting thread share. */
typedef struct {
    gint changed;  /* an event came since the last check */
    gint panicked; /* a CRASHED/PANICKED event came */
} Flags;

struct _VsWatch {
    virDomainPtr dom;
    virConnectPtr conn;
    int callback; /* the callback's id, or -1 */
    Flags *flags;
    gint64 last_poll;
};

/* Drops libvirt's reference to the flags (its free callback). Returns nothing. */
static void
flags_unref(void *flags)
{
    g_atomic_rc_box_release(flags);
}

/* The lifecycle callback (libvirt's event thread): raises the flag. Returns 0 as libvirt asks. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    Flags *flags = opaque;

    if (event == VIR_DOMAIN_EVENT_CRASHED && detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED)
        g_atomic_int_set(&flags->panicked, 1);
    g_atomic_int_set(&flags->changed, 1);
    return 0;
}

VsWatch *
vs_watch_new(virDomainPtr dom)
{
    VsWatch *w = g_new0(VsWatch, 1);

    w->dom = dom;
    virDomainRef(dom);
    w->conn = virDomainGetConnect(dom);
    virConnectRef(w->conn);
    w->flags = g_atomic_rc_box_new0(Flags);
    w->callback = virConnectDomainEventRegisterAny(w->conn, dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                                   g_atomic_rc_box_acquire(w->flags), flags_unref);
    if (w->callback < 0)
        g_atomic_rc_box_release(w->flags); /* libvirt did not take its reference */
    /* The first check asks at once. */
    g_atomic_int_set(&w->flags->changed, 1);
    return w;
}

void
vs_watch_free(VsWatch *w)
{
    if (!w)
        return;
    if (w->callback >= 0)
        virConnectDomainEventDeregisterAny(w->conn, w->callback);
    g_atomic_rc_box_release(w->flags);
    virDomainFree(w->dom);
    virConnectClose(w->conn);
    g_free(w);
}

gboolean
vs_watch_check(VsWatch *w, VsWatchStop *ret_stop)
{
    gint64 now = g_get_monotonic_time();
    int state = VIR_DOMAIN_NOSTATE, reason = 0;

    if (!g_atomic_int_compare_and_exchange(&w->flags->changed, 1, 0) &&
        now - w->last_poll < G_USEC_PER_SEC)
        return TRUE;
    w->last_poll = now;
    if (virDomainGetState(w->dom, &state, &reason, 0) < 0) {
        virErrorPtr err = virGetLastError();
        /* Only a domain that is gone is a verdict; a failed call is asked again next time. */
        if (!err || err->code != VIR_ERR_NO_DOMAIN)
            return TRUE;
        state = -1;
    }
    if (vs_watch_decide(state, reason) == VS_WATCH_GOING)
        return TRUE;
    ret_stop->state = state;
    ret_stop->reason = reason;
    ret_stop->panicked = g_atomic_int_get(&w->flags->panicked) != 0;
    return FALSE;
}

gboolean
vs_watch_domain_facts(virDomainPtr dom, char **ret_console_log, gboolean *ret_kvm)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlXPathContext) ctxt = NULL;
    g_autoptr(xmlXPathObject) log = NULL, type = NULL;

    if (!xml)
        return FALSE;
    doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL, XML_PARSE_NONET);
    if (!doc)
        return FALSE;
    ctxt = xmlXPathNewContext(doc);
    log = xmlXPathEvalExpression(BAD_CAST "string(/domain/devices/serial/log/@file)", ctxt);
    type = xmlXPathEvalExpression(BAD_CAST "string(/domain/@type)", ctxt);
    *ret_console_log =
        log && log->stringval && *log->stringval ? g_strdup((const char *)log->stringval) : NULL;
    *ret_kvm = type && type->stringval && g_str_equal((const char *)type->stringval, "kvm");
    return TRUE;
}
