#include "base/progress.h"

/* Formats the message and hands it to @say. */
static void
report(void (*say)(void *, const char *), void *data, const char *format, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    say(data, msg);
}

void
vs_progress_step(const VsProgress *progress, const char *format, ...)
{
    va_list ap;

    if (!progress || !progress->step)
        return;
    va_start(ap, format);
    report(progress->step, progress->data, format, ap);
    va_end(ap);
}

void
vs_progress_warn(const VsProgress *progress, const char *format, ...)
{
    va_list ap;

    if (!progress || !progress->warn)
        return;
    va_start(ap, format);
    report(progress->warn, progress->data, format, ap);
    va_end(ap);
}

void
vs_progress_bytes(const VsProgress *progress, const char *label, guint64 done, guint64 total,
                  double rate)
{
    if (progress && progress->bytes)
        progress->bytes(progress->data, label, done, total, rate);
}

void
vs_progress_bytes_end(const VsProgress *progress)
{
    if (progress && progress->bytes_end)
        progress->bytes_end(progress->data);
}

gboolean
vs_progress_cancelled(const VsProgress *progress)
{
    return progress && progress->cancelled && progress->cancelled(progress->data);
}
