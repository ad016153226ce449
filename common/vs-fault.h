/* Fault injection for the test suites (tests/libvirt/test-faults.c).
 *
 * When the environment variable VIRT_STATION_TEST_FAIL names a point, the code at that point
 * fails as if the operation there had failed, with the error "injected failure at POINT", and
 * takes its usual failure path (rollback, cleanup). VIRT_STATION_TEST_PAUSE (provisioner/
 * interrupt.h) holds the program instead, for a signal, at the points of `up` and `start` and at
 * delete-gpu (the points in provisioner/; those below it only fail). The hooks are compiled
 * in only when meson's test_hooks option is on (VS_TEST_HOOKS in vs-config.h: the development and
 * CI builds); in a release build vs_fault_point() is a constant TRUE and the variables are never
 * read. The points, in the order a command reaches them:
 *   up:          pool, base, base-upload (in the base upload, once some bytes are sent),
 *                overlay, seed, gpu, define, start
 *   start:       start-gpu (before the GPU is taken), start-domain (before the domain starts)
 *   delete:      delete-undefine, delete-volume (after the first volume is deleted, before the
 *                next), delete-gpu (before the GPU is given back)
 *   image pull:  pull-verify (downloaded, not yet verified), pull-unpack (once some bytes are
 *                unpacked), pull-cache (the image renamed into the cache, its record not written)
 * (`up` pulls its image too, so the pull points fire there as well.) Header only, so that gpu/,
 * domains/ and provisioner/ use it alike without a library of its own. */
#pragma once

#include <glib.h>

#include "vs-config.h"

#define VS_FAULT_ERROR (g_quark_from_static_string("vs-fault-error"))

/* Returns FALSE with @error set ("injected failure at @point") when VIRT_STATION_TEST_FAIL names
 * @point in a build with test hooks; TRUE otherwise. */
static inline gboolean
vs_fault_point(const char *point, GError **error)
{
#if VS_TEST_HOOKS
    if (g_strcmp0(g_getenv("VIRT_STATION_TEST_FAIL"), point) == 0) {
        g_set_error(error, VS_FAULT_ERROR, 0, "injected failure at %s", point);
        return FALSE;
    }
#endif
    return TRUE;
}
