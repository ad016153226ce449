/* YAML parse time against document size: the loader of every YAML file virt-station reads
 * (provisioner/base/yaml-load.c: the depth check over events, then libyaml's tree) on flat
 * documents of 1, 2, 4, 8... MiB. Prints the best of three times for each size, the time per
 * MiB, and its ratio to the smallest document's: a ratio near 1 at every size is linear growth.
 * Usage: build/bench/yaml-parse [LARGEST-MiB] (default 32; built with the project, not
 * installed). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "provisioner/base/yaml-load.h"

/* Returns a block mapping of "key-N: value N" lines, @bytes long at least. */
static GString *
flat_document(gsize bytes)
{
    GString *doc = g_string_sized_new(bytes + 64);

    for (guint n = 0; doc->len < bytes; n++)
        g_string_append_printf(doc, "key-%08u: a value of line %u\n", n, n);
    return doc;
}

/* Returns the CPU time this process has used, in seconds (less noisy than the wall clock on a
 * busy machine). */
static double
cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns the best CPU time of three loads of @doc, in seconds. */
static double
best_load_time(const GString *doc)
{
    double best = G_MAXDOUBLE;

    for (int i = 0; i < 3; i++) {
        yaml_document_t parsed;
        g_autoptr(GError) error = NULL;
        double start = cpu_seconds();
        if (!vs_yaml_load_bounded(doc->str, doc->len, "bench", VS_YAML_SINGLE, doc->len, &parsed,
                                  &error)) {
            fprintf(stderr, "yaml-parse: %s\n", error->message);
            exit(1);
        }
        best = MIN(best, cpu_seconds() - start);
        yaml_document_delete(&parsed);
    }
    return best;
}

int
main(int argc, char **argv)
{
    guint64 largest = 32;
    double first_per_mib = 0;

    if (argc > 2 ||
        (argc == 2 && !g_ascii_string_to_unsigned(argv[1], 10, 1, 4096, &largest, NULL))) {
        fprintf(stderr, "usage: %s [LARGEST-MiB]\n", argv[0]);
        return 2;
    }
    printf("%8s %12s %10s %8s\n", "MiB", "CPU seconds", "ms/MiB", "ratio");
    for (guint64 mib = 1; mib <= largest; mib *= 2) {
        g_autoptr(GString) doc = flat_document(mib << 20);
        double seconds = best_load_time(doc);
        double per_mib = seconds * 1000 / ((double)doc->len / (1 << 20));
        if (mib == 1)
            first_per_mib = per_mib;
        printf("%8" G_GUINT64_FORMAT " %12.3f %10.1f %8.2f\n", mib, seconds, per_mib,
               per_mib / first_per_mib);
    }
    printf("ratio: time per MiB against the 1 MiB document's (linear growth keeps it near 1)\n");
    return 0;
}
