#include "commands.h"

static const VsCommand commands[] = {
    {"seed", "-o FILE [OPTIONS]", "Write a cloud-init NoCloud seed ISO (like cloud-localds)",
     vs_cmd_seed, FALSE},
    {NULL, NULL, NULL, NULL, FALSE},
};

const VsCommand *
vs_cli_commands(void)
{
    return commands;
}
