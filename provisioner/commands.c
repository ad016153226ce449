#include "commands.h"

/* Commands that need libvirt live in the libvirt module and are named by their symbol there;
 * the others are linked into the program (see main.c). */
static const VsCommand commands[] = {
    {"up", "NAME", "Create a workstation from a cloud image and wait until ready", vs_cmd_up, FALSE,
     NULL},
    {"list", "[--all] [--json]", "List workstations (--all: foreign domains too)", NULL, TRUE,
     "vs_cmd_list"},
    {"info", "NAME [--json]", "Show a workstation", NULL, TRUE, "vs_cmd_info"},
    {"ssh", "NAME [-- COMMAND]", "Log in to a workstation over SSH", NULL, FALSE, "vs_cmd_ssh"},
    {"exec", "NAME -- COMMAND", "Run a command in a workstation; exit with its status", NULL, FALSE,
     "vs_cmd_exec"},
    {"console", "NAME", "Attach to a workstation's serial console (Ctrl-] leaves)", NULL, FALSE,
     "vs_cmd_console"},
    {"start", "NAME", "Start a workstation and wait until ready", NULL, FALSE, "vs_cmd_start"},
    {"stop", "NAME [--force]", "Shut a workstation down", NULL, FALSE, "vs_cmd_stop"},
    {"restart", "NAME", "Shut down, start and wait until ready", NULL, FALSE, "vs_cmd_restart"},
    {"wait", "NAME", "Wait until a workstation is ready", NULL, FALSE, "vs_cmd_wait"},
    {"delete", "NAME [--keep-disk]", "Delete a workstation and the volumes it owns", NULL, FALSE,
     "vs_cmd_delete"},
    {"adopt", "NAME", "Take over a copy of a workstation (virt-clone, virt-manager's Clone)", NULL,
     FALSE, "vs_cmd_adopt"},
    {"xml", "NAME", "Print a workstation's domain XML", NULL, FALSE, "vs_cmd_xml"},
    {"gpu", "probe", "Show the host's GPUs and the plan --gpu auto would make", NULL, TRUE,
     "vs_cmd_gpu"},
    {"image", "list|pull|rm|prune", "Cloud images: the catalog, the download cache, pruning", NULL,
     TRUE, "vs_cmd_image"},
    {"seed", "-o FILE", "Write a cloud-init NoCloud seed ISO (like cloud-localds)", vs_cmd_seed,
     FALSE, NULL},
    {NULL, NULL, NULL, NULL, FALSE, NULL},
};

const VsCommand *
vs_cli_commands(void)
{
    return commands;
}
