/* Runs a fuzz target over every file of its corpus folder: the corpus stays a regression test
 * in every build, with or without a fuzzing compiler. Usage: replay DIR */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;
    guint n = 0;

    if (argc != 2 || !(dir = g_dir_open(argv[1], 0, NULL))) {
        fprintf(stderr, "usage: replay CORPUS-DIR\n");
        return 2;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(argv[1], name, NULL);
        g_autofree char *data = NULL;
        gsize len;
        if (!g_file_get_contents(path, &data, &len, NULL))
            return 1;
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        n++;
    }
    printf("replayed %u inputs from %s\n", n, argv[1]);
    return n > 0 ? 0 : 1;
}
