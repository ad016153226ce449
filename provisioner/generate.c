#include "provisioner/generate.h"

#include <string.h>

char *
vs_generate(const char *format, const GPtrArray *commands, GError **error)
{
    if (strcmp(format, "man") == 0)
        return vs_generate_man(commands);
    if (strcmp(format, "bash") == 0)
        return vs_generate_bash(commands);
    if (strcmp(format, "zsh") == 0)
        return vs_generate_zsh(commands);
    if (strcmp(format, "fish") == 0)
        return vs_generate_fish(commands);
    g_set_error(error, VS_CLI_ERROR, VS_CLI_ERROR_USAGE,
                "--generate: '%s' is not one of man, bash, zsh, fish", format);
    return NULL;
}

GPtrArray *
vs_generate_options(const VsCommand *cmd)
{
    GPtrArray *options = g_ptr_array_new();

    for (const VsOption *o = cmd ? cmd->options : NULL; o && o->long_name; o++)
        g_ptr_array_add(options, (gpointer)o);
    for (const VsOption *o = vs_cli_global_options; o->long_name; o++) {
        if (cmd && !cmd->json && strcmp(o->long_name, "json") == 0)
            continue;
        g_ptr_array_add(options, (gpointer)o);
    }
    for (const VsOption *o = vs_main_options; !cmd && o->long_name; o++)
        g_ptr_array_add(options, (gpointer)o);
    return options;
}
