/* virt-station console: the serial console through libvirt's stream API, so it works for remote
 * hosts too. The terminal is raw while attached; Ctrl-] leaves. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "commands.h"
#include "interrupt.h"
#include "station.h"

#define ESCAPE 0x1d /* Ctrl-] */

int
vs_cmd_console(VsCli *cli, int argc, char **argv)
{
    static const VsCommand self = {
        "console", "NAME", "Attach to a workstation's serial console; Ctrl-] leaves.",
        NULL,      FALSE,  NULL};
    g_auto(VsTarget) t = {.lock = -1};
    g_autoptr(GError) error = NULL;
    g_autoptr(virStream) st = NULL;
    struct termios saved, raw;
    gboolean tty = isatty(STDIN_FILENO), done = FALSE;
    const char *name;
    int status = VS_EXIT_OK;

    if (!vs_cli_parse(cli, &self, NULL, &argc, &argv, &error) ||
        !vs_target_name("console", argc, argv, &name, &error) ||
        !vs_target_open(cli, name, FALSE, &t, &error))
        return vs_cli_fail(cli, "console", error);
    st = virStreamNew(t.conn, VIR_STREAM_NONBLOCK);
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
    while (!done && !vs_interrupted()) {
        struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
        char buf[4096];
        int n;

        if (poll(&pfd, 1, 20) > 0) {
            ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
            if (r <= 0) {
                done = TRUE; /* end of input: leave */
            } else {
                for (ssize_t i = 0; i < r; i++)
                    if (buf[i] == ESCAPE)
                        r = i, done = TRUE;
                for (ssize_t off = 0; off < r;) {
                    n = virStreamSend(st, buf + off, (size_t)(r - off));
                    if (n == -2) {
                        g_usleep(1000);
                        continue;
                    }
                    if (n < 0) {
                        done = TRUE;
                        status = VS_EXIT_ERROR;
                        break;
                    }
                    off += n;
                }
            }
        }
        while ((n = virStreamRecv(st, buf, sizeof(buf))) > 0) {
            if (write(STDOUT_FILENO, buf, (size_t)n) < 0)
                break;
        }
        if (n == 0 || n == -1) {
            if (n == -1)
                status = VS_EXIT_ERROR;
            done = TRUE; /* the console went away: the domain stopped */
        }
    }
    virStreamAbort(st);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    fprintf(stderr, "\n");
    return status;
}
