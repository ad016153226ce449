#include "commands.h"

/* Commands that need libvirt live in the libvirt module and are named by their symbol there;
 * the others are linked into the program (see main.c). */
static const VsCommand commands[] = {
    {"up", "NAME [OPTIONS]", "Create a workstation from a cloud image (--dry-run for now)",
     vs_cmd_up, FALSE, NULL},
    {"seed", "-o FILE [OPTIONS]", "Write a cloud-init NoCloud seed ISO (like cloud-localds)",
     vs_cmd_seed, FALSE, NULL},
    {NULL, NULL, NULL, NULL, FALSE, NULL},
};

const VsCommand *
vs_cli_commands(void)
{
    return commands;
}
