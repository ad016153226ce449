#include "domains/connect.h"

#include <signal.h>

gboolean
vs_libvirt_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();
    int code = VS_DOMAINS_ERROR_FAILED;

    if (err && (err->code == VIR_ERR_NO_DOMAIN || err->code == VIR_ERR_NO_STORAGE_POOL ||
                err->code == VIR_ERR_NO_STORAGE_VOL))
        code = VS_DOMAINS_ERROR_NOT_FOUND;
    g_set_error(error, VS_DOMAINS_ERROR, code, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
    return FALSE;
}

/* libvirt prints every error to stderr unless a handler is set; we report through GError. */
static void
ignore_libvirt_error(void *opaque, virErrorPtr err)
{
}

/* Runs libvirt's default event loop for good. Returns nothing: the process ends with it. */
static gpointer
run_events(gpointer data)
{
    for (;;) {
        if (virEventRunDefaultImpl() < 0)
            g_usleep(G_USEC_PER_SEC / 10); /* never spin on a broken loop */
    }
    return NULL;
}

/* libvirt delivers domain events (the wait's lifecycle watch, domains/watch.c) and answers the
 * daemon's keepalives only through an event loop, which must be registered before the first
 * connection is opened. It runs in a thread of its own with every signal blocked, so that
 * Ctrl-C still reaches the thread that waits. Without it (registration failed) the wait polls.
 * Returns nothing. */
static void
start_event_loop(void)
{
    static gsize started;

    if (g_once_init_enter(&started)) {
        if (virEventRegisterDefaultImpl() == 0) {
            sigset_t all, old;
            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
            g_thread_unref(g_thread_new("libvirt-events", run_events, NULL));
            pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        g_once_init_leave(&started, 1);
    }
}

virConnectPtr
vs_connect_open(const char *uri, GError **error)
{
    g_autofree char *resolved = uri ? g_strdup(uri) : vs_uri_default(NULL);
    virConnectPtr conn;

    virSetErrorFunc(NULL, ignore_libvirt_error);
    start_event_loop();
    conn = virConnectOpen(resolved);
    if (!conn) {
        g_autofree char *what = g_strdup_printf("connecting to %s", resolved);
        vs_libvirt_error(error, what);
        return NULL;
    }
    return conn;
}
