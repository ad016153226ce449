#include "provisioner/base/progress.h"

void
vs_progress_say(const VsProgress *progress, VsProgressKind kind, const char *format, ...)
{
    void (*say)(void *, const char *) = NULL;
    va_list ap;

    if (progress)
        say = kind == VS_PROGRESS_WARN ? progress->warn : progress->step;
    if (!say)
        return;
    va_start(ap, format);
    g_autofree char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    say(progress->data, msg);
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
