/* How library code reports while it works, instead of printing: the caller (a command file) passes
 * callbacks that print, and the library never writes to the terminal itself. Every callback may be
 * NULL, and so may the VsProgress pointer itself (then nothing is reported and nothing cancels). */
#pragma once

#include <glib.h>

typedef struct {
    /* A step of the work ("downloading URL"), one line without indentation or newline. */
    void (*step)(void *data, const char *message);
    /* Something went wrong, but the work goes on (an older copy is used, a check is skipped). */
    void (*warn)(void *data, const char *message);
    /* A transfer of @label stands at @done of @total bytes (@total 0: not known) at @rate bytes
     * a second; called at most five times a second, never before the first byte. */
    void (*bytes)(void *data, const char *label, guint64 done, guint64 total, double rate);
    /* The transfer that reported bytes (or might have) ended: whatever drew them can go. */
    void (*bytes_end)(void *data);
    /* Returns TRUE when the work should stop (Ctrl-C); asked during transfers. */
    gboolean (*cancelled)(void *data);
    void *data;
} VsProgress;

typedef enum {
    VS_PROGRESS_STEP,
    VS_PROGRESS_WARN,
} VsProgressKind;

/* Reports a step or a warning, formatted. */
void vs_progress_say(const VsProgress *progress, VsProgressKind kind, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
#define vs_progress_step(progress, ...) vs_progress_say(progress, VS_PROGRESS_STEP, __VA_ARGS__)
#define vs_progress_warn(progress, ...) vs_progress_say(progress, VS_PROGRESS_WARN, __VA_ARGS__)

/* Reports a transfer's bytes (see VsProgress.bytes). */
void vs_progress_bytes(const VsProgress *progress, const char *label, guint64 done, guint64 total,
                       double rate);

/* Reports that a transfer ended. */
void vs_progress_bytes_end(const VsProgress *progress);

/* Returns TRUE when the caller asks the work to stop. */
gboolean vs_progress_cancelled(const VsProgress *progress);
