/* virt-station console: the serial console through libvirt's stream API, so it works for remote
 * hosts too. The terminal is raw while attached; Ctrl-] leaves. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "provisioner/commands.h"
#include "provisioner/interrupt.h"
#include "provisioner/target.h"

#define ESCAPE 0x1d /* Ctrl-] */

typedef struct {
    virStreamPtr st;
    volatile gint done; /* the console went away, or the reader stopped */
    gboolean failed;
} Console;

/* Copies what the console says to stdout until the stream ends or is aborted. */
static gpointer
read_console(gpointer data)
{
    Console *c = data;
    char buf[4096];
    int n;

    while ((n = virStreamRecv(c->st, buf, sizeof(buf))) > 0) {
        if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
            break;
    }
    c->failed = n < 0 && !g_atomic_int_get(&c->done);
    g_atomic_int_set(&c->done, 1);
    return NULL;
}

static int run_console(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_console = {
    .name = "console",
    .args = "NAME",
    .summary = "Attach to a workstation's serial console (Ctrl-] leaves)",
    .description = "Attach to a workstation's serial console; Ctrl-] leaves.",
    .operand = VS_COMPLETE_WORKSTATION,
    .run = run_console,
};

static int
run_console(VsCli *cli, int argc, char **argv)
{
    g_auto(VsTarget) t = {0};
    g_autoptr(GError) error = NULL;
    g_autoptr(virStream) st = NULL;
    struct termios saved, raw;
    gboolean tty = isatty(STDIN_FILENO), leave = FALSE, input = TRUE;
    Console c = {0};
    GThread *reader;
    const char *name;

    if (!vs_target_begin(cli, &vs_command_console, NULL, &argc, &argv, FALSE, &t, &name, &error))
        return vs_cli_fail(cli, "console", error);
    /* A blocking stream read by a thread of its own: simpler than a non-blocking stream with
     * callbacks on libvirt's event loop (domains/connect.c runs one for domain events). */
    st = virStreamNew(t.conn, 0);
    if (!st || virDomainOpenConsole(t.dom, NULL, st, 0) < 0) {
        vs_libvirt_error(&error, "opening the serial console");
        return vs_cli_fail(cli, "console", error);
    }
    vs_cli_progress(cli, "connected to %s's serial console (Ctrl-] leaves)", name);
    vs_interrupt_catch();
    if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
        raw = saved;
        cfmakeraw(&raw);
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    } else {
        tty = FALSE;
    }
    c.st = st;
    reader = g_thread_new("console", read_console, &c);
    while (!leave && !g_atomic_int_get(&c.done) && !vs_interrupted()) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        char buf[4096];
        ssize_t r;

        /* After the end of the input, keep showing the console until Ctrl-C or it goes. */
        if (!input || poll(&pfd, 1, 100) <= 0) {
            if (!input)
                g_usleep(G_USEC_PER_SEC / 10);
            continue;
        }
        r = read(STDIN_FILENO, buf, sizeof(buf));
        if (r <= 0) {
            input = FALSE;
            continue;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == ESCAPE) {
                r = i;
                leave = TRUE;
            }
        }
        if (r > 0 && virStreamSend(st, buf, (size_t)r) < 0)
            break;
    }
    g_atomic_int_set(&c.done, 1);
    virStreamAbort(st);
    g_thread_join(reader);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    fprintf(stderr, "\n");
    return c.failed ? VS_EXIT_ERROR : VS_EXIT_OK;
}
