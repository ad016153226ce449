/* The domain watch in-process on libvirt's test driver (test:///default), through
 * vs_connect_open() and so with the event loop it starts: a running or user-paused domain keeps
 * the wait going; a destroyed one stops it, noticed through the lifecycle event within a fraction
 * of the one-second poll; a domain undefined from elsewhere is "gone". */
#include <libvirt/virterror.h>
#include <string.h>

#include "domains/connect.h"
#include "domains/watch.h"

#define DOMAIN_XML                                                                                 \
    "<domain type='test'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"              \
    "<os><type arch='x86_64'>hvm</type></os></domain>"

/* Returns a running domain @name on @conn: persistent, or transient when @transient. */
static virDomainPtr
running_domain(virConnectPtr conn, const char *name, gboolean transient)
{
    g_autofree char *xml = g_strdup_printf(DOMAIN_XML, name);
    virDomainPtr dom;

    if (transient)
        return virDomainCreateXML(conn, xml, 0);
    dom = virDomainDefineXML(conn, xml);
    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainCreate(dom), ==, 0);
    return dom;
}

/* Returns TRUE when the watch reports the domain stopped within @ms milliseconds, checking every
 * 10 ms; @ret_stop filled then. */
static gboolean
stops_within(VsWatch *watch, guint ms, VsWatchStop *ret_stop)
{
    for (guint waited = 0; waited <= ms; waited += 10) {
        if (!vs_watch_check(watch, ret_stop))
            return TRUE;
        g_usleep(10 * 1000);
    }
    return FALSE;
}

static void
test_destroy_seen_through_the_event(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("test:///default", &error);
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(VsWatch) watch = NULL;
    VsWatchStop stop = {0};

    g_assert_no_error(error);
    dom = running_domain(conn, "vs-watch-destroy", FALSE);
    watch = vs_watch_new(dom);
    /* The first check asks libvirt: running. */
    g_assert_true(vs_watch_check(watch, &stop));
    /* Paused by the user: waited through. */
    g_assert_cmpint(virDomainSuspend(dom), ==, 0);
    g_assert_false(stops_within(watch, 300, &stop));
    g_assert_cmpint(virDomainResume(dom), ==, 0);
    g_assert_false(stops_within(watch, 300, &stop));

    /* Destroyed right after a poll: only the event can make a check ask libvirt within the
     * next second, and it does within half of it. */
    g_usleep(G_USEC_PER_SEC + G_USEC_PER_SEC / 20);
    g_assert_true(vs_watch_check(watch, &stop));
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_true(stops_within(watch, 500, &stop));
    g_assert_cmpint(stop.state, ==, VIR_DOMAIN_SHUTOFF);
    g_assert_cmpint(stop.reason, ==, VIR_DOMAIN_SHUTOFF_DESTROYED);
    g_assert_false(stop.panicked);
    g_assert_cmpint(virDomainUndefine(dom), ==, 0);
}

static void
test_gone(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(virConnect) conn = vs_connect_open("test:///default", &error);
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(VsWatch) watch = NULL;
    VsWatchStop stop = {0};

    g_assert_no_error(error);
    dom = running_domain(conn, "vs-watch-gone", TRUE);
    g_assert_nonnull(dom);
    watch = vs_watch_new(dom);
    g_assert_true(vs_watch_check(watch, &stop));
    /* A transient domain destroyed from elsewhere is no more. */
    g_assert_cmpint(virDomainDestroy(dom), ==, 0);
    g_assert_true(stops_within(watch, 1500, &stop));
    g_assert_cmpint(stop.state, ==, -1);
    g_assert_cmpstr(vs_watch_state_to_string(stop.state), ==, "undefined");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/watch/destroy-seen-through-the-event", test_destroy_seen_through_the_event);
    g_test_add_func("/watch/gone", test_gone);
    return g_test_run();
}
