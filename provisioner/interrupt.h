/* Ctrl-C while virt-station changes the host: noticed between steps, never mid-call. */
#pragma once

#include <glib.h>

/* Catches SIGINT and SIGTERM from now on: they only set a flag. */
void vs_interrupt_catch(void);

/* Returns TRUE once SIGINT or SIGTERM arrived. */
gboolean vs_interrupted(void);

/* A hook for tests: when VIRT_STATION_TEST_PAUSE names @step, prints "paused before STEP" on
 * stderr and waits (up to a minute) for a signal, so a test can interrupt exactly there. Only in
 * builds with test hooks (common/vs-fault.h); a no-op otherwise. */
void vs_interrupt_test_pause(const char *step);

/* The test hooks at @step: pauses there as vs_interrupt_test_pause() does, then returns FALSE
 * with @error set when VIRT_STATION_TEST_FAIL names @step (common/vs-fault.h); else TRUE. */
gboolean vs_interrupt_test_point(const char *step, GError **error);
