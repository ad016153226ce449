#include "provisioner/interrupt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/vs-fault.h"

static volatile sig_atomic_t interrupted;

static void
on_signal(int signo)
{
    interrupted = 1;
}

void
vs_interrupt_catch(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

gboolean
vs_interrupted(void)
{
    return interrupted != 0;
}

void
vs_interrupt_test_pause(const char *step)
{
#if VS_TEST_HOOKS
    if (g_strcmp0(g_getenv("VIRT_STATION_TEST_PAUSE"), step) != 0)
        return;
    fprintf(stderr, "paused before %s\n", step);
    fflush(stderr);
    for (int i = 0; i < 600 && !interrupted; i++)
        g_usleep(G_USEC_PER_SEC / 10);
#endif
}

gboolean
vs_interrupt_test_point(const char *step, GError **error)
{
    vs_interrupt_test_pause(step);
    return vs_fault_point(step, error);
}
