/* virt-station __complete WHAT: the values the generated completion scripts offer, one per line
 * and nothing else (errors too are only an exit status). `images`: the aliases of the catalog,
 * read without libvirt or network; `workstations` and `domains` (foreign ones too): names,
 * through the libvirt module's `list --names`, on the connection of `-c URI` when given. */
#include <stdio.h>
#include <string.h>

#include "provisioner/commands.h"
#include "provisioner/images/catalog.h"

static const char *const complete_subcommands[] = {"workstations", "domains", "images", NULL};

static int run_complete(VsCli *cli, int argc, char **argv);

const VsCommand vs_command_complete = {
    .name = "__complete",
    .args = "workstations|domains|images",
    .summary = "Print the values a shell completes, one per line",
    .description = "Print the names of the workstations, of all domains, or the aliases of the "
                   "image catalog, one per line: what the completion scripts offer.",
    .subcommands = complete_subcommands,
    .run = run_complete,
    .hidden = TRUE,
};

/* Prints each alias of the catalog once (it lists one entry per architecture). */
static int
print_aliases(void)
{
    g_autoptr(VsCatalog) catalog = vs_catalog_load(NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    if (!catalog)
        return VS_EXIT_ERROR;
    for (guint i = 0; i < catalog->images->len; i++) {
        const VsCatalogImage *img = catalog->images->pdata[i];
        if (g_hash_table_add(seen, img->alias))
            printf("%s\n", img->alias);
    }
    return VS_EXIT_OK;
}

static int
run_complete(VsCli *cli, int argc, char **argv)
{
    char *list_argv[] = {(char *)"list", (char *)"--names", (char *)"--all", NULL};
    const VsCommand *list;

    if (!vs_cli_parse(cli, &vs_command_complete, NULL, &argc, &argv, NULL) || argc != 2)
        return VS_EXIT_USAGE;
    if (strcmp(argv[1], "images") == 0)
        return print_aliases();
    if (strcmp(argv[1], "workstations") != 0 && strcmp(argv[1], "domains") != 0)
        return VS_EXIT_USAGE;
    list = vs_commands_find("list", NULL);
    if (!list)
        return VS_EXIT_ERROR;
    cli->quiet = TRUE;
    /* Without --all for workstations: only those virt-station owns. */
    return list->run(cli, strcmp(argv[1], "domains") == 0 ? 3 : 2, list_argv);
}
