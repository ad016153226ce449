#include "provisioner/cli-progress.h"

#include <stdio.h>
#include <unistd.h>

#include "provisioner/interrupt.h"

#define MIB (1024.0 * 1024.0)

/* A progress bar only where someone watches it redrawn. */
static gboolean
draws_bar(const VsCli *cli)
{
    return !cli->quiet && isatty(STDERR_FILENO);
}

static void
on_step(void *data, const char *message)
{
    vs_cli_progress(data, "  %s", message);
}

static void
on_warn(void *data, const char *message)
{
    vs_cli_warn("%s", message);
}

static void
human_bytes(char *buf, gsize size, double bytes)
{
    if (bytes >= 1024 * MIB)
        g_snprintf(buf, size, "%.2f GiB", bytes / (1024 * MIB));
    else
        g_snprintf(buf, size, "%.1f MiB", bytes / MIB);
}

static void
on_bytes(void *data, const char *label, guint64 done_bytes, guint64 total_bytes, double rate)
{
    double done = done_bytes, whole = total_bytes;
    char have[32], all[32];

    if (!draws_bar(data))
        return;
    human_bytes(have, sizeof have, done);
    human_bytes(all, sizeof all, whole);
    if (whole > 0 && rate > 0) {
        guint64 eta = (guint64)((whole - done) / rate);
        fprintf(stderr, "\r  %s %3.0f%% %s of %s  %.1f MiB/s  ETA %" G_GUINT64_FORMAT ":%02u   ",
                label, 100.0 * done / whole, have, all, rate / MIB, eta / 60, (guint)(eta % 60));
    } else {
        fprintf(stderr, "\r  %s %s  %.1f MiB/s   ", label, have, rate / MIB);
    }
}

static void
on_bytes_end(void *data)
{
    if (draws_bar(data))
        fputs("\r\033[K", stderr);
}

static gboolean
on_cancelled(void *data)
{
    return vs_interrupted();
}

VsProgress
vs_cli_progress_reporter(VsCli *cli)
{
    return (VsProgress){
        .step = on_step,
        .warn = on_warn,
        .bytes = on_bytes,
        .bytes_end = on_bytes_end,
        .cancelled = on_cancelled,
        .data = cli,
    };
}
