/* The man page and the shell completion scripts, written from the command table (commands.h)
 * by `virt-station --generate FORMAT`, which the build runs (meson.build) so that they say
 * exactly what the commands accept. Text in, text out: nothing here prints. */
#pragma once

#include "provisioner/commands.h"

/* Returns the file @format (man, bash, zsh or fish) describing @commands (as vs_commands_all()
 * lists them), or NULL with @error set (VS_CLI_ERROR_USAGE) for another format. */
char *vs_generate(const char *format, const GPtrArray *commands, GError **error);

/* virt-station(1) in roff (generate-man.c). */
char *vs_generate_man(const GPtrArray *commands);

/* The completion scripts (generate-completion.c): bash's for
 * bash-completion/completions/virt-station, zsh's _virt-station and fish's virt-station.fish. */
char *vs_generate_bash(const GPtrArray *commands);
char *vs_generate_zsh(const GPtrArray *commands);
char *vs_generate_fish(const GPtrArray *commands);

/* For the generators: returns the options @cmd accepts (NULL: those before any command), its
 * own then the global ones, hidden ones too; --json only where @cmd supports it. */
GPtrArray *vs_generate_options(const VsCommand *cmd);
