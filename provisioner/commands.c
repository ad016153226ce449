#include "provisioner/commands.h"

#include <string.h>

#include "provisioner/module.h"

/* Stands for the libvirt module's commands in the table below: they are listed there. */
static const VsCommand module_commands = {"(the libvirt module's commands)"};

/* The program's commands, in the order of `virt-station --help`. The others live in the libvirt
 * module (see main.c for why), which is loaded only to run, list or look one of them up. */
static const VsCommand *const program_commands[] = {
    &vs_command_up, &module_commands, &vs_command_seed, &vs_command_complete, NULL,
};

const VsOption vs_main_options[] = {
    {"version", 0, 0, VS_FLAG(VsMainOptions, version), "Show the version"},
    {"generate", 0, G_OPTION_FLAG_HIDDEN, VS_STRING(VsMainOptions, generate),
     "Print the man page or a shell's completion, generated from the command table",
     "man|bash|zsh|fish"},
    {NULL},
};

GOptionEntry *
vs_options_bind(const VsOption *options, void *values)
{
    guint n = 0;
    GOptionEntry *entries;

    while (options && options[n].long_name)
        n++;
    entries = g_new0(GOptionEntry, n + 1);
    for (guint i = 0; i < n; i++) {
        const VsOption *o = &options[i];
        entries[i] = (GOptionEntry){
            o->long_name, o->short_name, o->flags, o->arg, (char *)values + o->offset,
            o->help,      o->arg_name};
    }
    return entries;
}

void
vs_options_clear(const VsOption *options, void *values)
{
    for (const VsOption *o = options; o && o->long_name; o++) {
        gpointer field = (char *)values + o->offset;
        if (o->arg == G_OPTION_ARG_STRING || o->arg == G_OPTION_ARG_FILENAME)
            g_clear_pointer((char **)field, g_free);
        else if (o->arg == G_OPTION_ARG_STRING_ARRAY || o->arg == G_OPTION_ARG_FILENAME_ARRAY)
            g_clear_pointer((char ***)field, g_strfreev);
    }
}

static const VsCommand *
find_in(const VsCommand *const *commands, const char *name)
{
    for (guint i = 0; commands[i]; i++) {
        if (commands[i] != &module_commands && strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

const VsCommand *
vs_commands_find(const char *name, GError **error)
{
    const VsCommand *cmd = find_in(program_commands, name);
    const VsModuleTable *module;

    if (cmd)
        return cmd;
    module = vs_module_load(error);
    return module ? find_in(module->commands, name) : NULL;
}

GPtrArray *
vs_commands_all(GError **error)
{
    const VsModuleTable *module = vs_module_load(error);
    GPtrArray *all;

    if (!module)
        return NULL;
    all = g_ptr_array_new();
    for (guint i = 0; program_commands[i]; i++) {
        if (program_commands[i] != &module_commands) {
            g_ptr_array_add(all, (gpointer)program_commands[i]);
            continue;
        }
        for (guint k = 0; module->commands[k]; k++)
            g_ptr_array_add(all, (gpointer)module->commands[k]);
    }
    return all;
}

/* Appends @text from column @col, breaking lines before column 80 and indenting the next ones by
 * @indent; ends the line. */
static void
append_wrapped(GString *out, const char *text, guint col, guint indent)
{
    g_auto(GStrv) words = g_strsplit(text, " ", -1);

    for (guint i = 0; words[i]; i++) {
        guint len = (guint)strlen(words[i]);
        if (i > 0 && col + 1 + len >= 80) {
            g_string_append_printf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (i > 0) {
            g_string_append_c(out, ' ');
            col++;
        }
        g_string_append(out, words[i]);
        col += len;
    }
    g_string_append_c(out, '\n');
}

/* Appends "  -c, --connect URI   help" for each visible option of @options. */
static void
append_options(GString *out, const VsOption *options)
{
    for (const VsOption *o = options; o->long_name; o++) {
        gsize start = out->len;
        if (!vs_option_visible(o))
            continue;
        if (o->short_name)
            g_string_append_printf(out, "  -%c, --%s", o->short_name, o->long_name);
        else
            g_string_append_printf(out, "      --%s", o->long_name);
        if (o->arg_name)
            g_string_append_printf(out, " %s", o->arg_name);
        g_string_append_printf(out, "%*s", (int)MAX(22 - (int)(out->len - start), 1), "");
        append_wrapped(out, o->help, 22, 22);
    }
}

char *
vs_commands_usage(const GPtrArray *commands)
{
    GString *out = g_string_new("Usage: virt-station [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
                                "Provision and manage GPU-capable workstation VMs on libvirt.\n\n"
                                "Commands:\n");
    GString *exits = g_string_new("Exit status:");

    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        if (!cmd->hidden)
            g_string_append_printf(out, "  %-10s %s\n", cmd->name, cmd->summary);
    }
    g_string_append(out, "\nGlobal options (also accepted after the command):\n");
    append_options(out, vs_cli_global_options);
    append_options(out, vs_main_options);
    g_string_append(out, "\n`virt-station COMMAND --help` shows a command's options; `man "
                         "virt-station` all of them.\n\n");
    for (VsExit status = 0; status < VS_EXIT_COUNT; status++)
        g_string_append_printf(exits, " %d %s%s", status, vs_cli_exit_meaning(status),
                               status + 1 < VS_EXIT_COUNT ? "," : ".");
    append_wrapped(out, exits->str, 0, 0);
    g_string_free(exits, TRUE);
    return g_string_free(out, FALSE);
}
