/* The completion scripts of bash, zsh and fish, from the command table. Each script carries the
 * table's data (commands, options, what completes each value) and asks the program only for what
 * changes: `virt-station __complete workstations|domains|images` (cmd-complete.c). */
#include <string.h>

#include "provisioner/generate.h"

/* Returns how the scripts name what completes a value ("" for nothing). */
static const char *
kind_name(VsComplete complete)
{
    switch (complete) {
    case VS_COMPLETE_NONE:
        return "";
    case VS_COMPLETE_FILE:
        return "file";
    case VS_COMPLETE_DIRECTORY:
        return "directory";
    case VS_COMPLETE_WORKSTATION:
        return "workstation";
    case VS_COMPLETE_DOMAIN:
        return "domain";
    case VS_COMPLETE_IMAGE:
        return "image";
    case VS_COMPLETE_WORDS:
        return "words";
    }
    g_assert_not_reached();
}

/* Appends @words separated by spaces. */
static void
append_words(GString *out, const char *const *words)
{
    for (guint i = 0; words && words[i]; i++)
        g_string_append_printf(out, "%s%s", i ? " " : "", words[i]);
}

/* Appends @text in single quotes for sh (@fish: for fish, which escapes inside them). */
static void
append_quoted(GString *out, const char *text, gboolean fish)
{
    g_string_append_c(out, '\'');
    for (const char *c = text; *c; c++) {
        if (*c == '\'')
            g_string_append(out, fish ? "\\'" : "'\\''");
        else if (*c == '\\' && fish)
            g_string_append(out, "\\\\");
        else
            g_string_append_c(out, *c);
    }
    g_string_append_c(out, '\'');
}

/* Appends " -f --file" for each visible option of @options (@taking_value: for each that takes
 * a value, hidden ones too). */
static void
append_flags(GString *out, const GPtrArray *options, gboolean taking_value)
{
    for (guint i = 0; i < options->len; i++) {
        const VsOption *o = options->pdata[i];
        if (taking_value ? o->arg == G_OPTION_ARG_NONE : !vs_option_visible(o))
            continue;
        if (o->short_name)
            g_string_append_printf(out, " -%c", o->short_name);
        g_string_append_printf(out, " --%s", o->long_name);
    }
}

/* bash: the case of @cmd (NULL: before any command) in _virt_station_command. */
static void
bash_command(GString *out, const VsCommand *cmd)
{
    g_autoptr(GPtrArray) options = vs_generate_options(cmd);

    g_string_append_printf(out, "    %s)\n        flags='", cmd ? cmd->name : "*");
    append_flags(out, options, FALSE);
    g_string_append(out, " '\n        takes='");
    append_flags(out, options, TRUE);
    g_string_append(out, " '\n");
    if (cmd && cmd->subcommands) {
        g_string_append(out, "        subcommands='");
        append_words(out, cmd->subcommands);
        g_string_append(out, "'\n");
    }
    if (cmd && cmd->operand)
        g_string_append_printf(out, "        operand=%s\n", kind_name(cmd->operand));
    g_string_append(out, "        ;;\n");
}

/* bash: the cases of @cmd's options whose values complete, in _virt_station_option. */
static void
bash_option_values(GString *out, const VsCommand *cmd)
{
    g_autoptr(GPtrArray) options = vs_generate_options(cmd);

    for (guint i = 0; i < options->len; i++) {
        const VsOption *o = options->pdata[i];
        if (!o->complete)
            continue;
        g_string_append(out, "    ");
        if (o->short_name)
            g_string_append_printf(out, "'%s -%c' | ", cmd->name, o->short_name);
        g_string_append_printf(out, "'%s --%s') kind=%s", cmd->name, o->long_name,
                               kind_name(o->complete));
        if (o->words) {
            g_string_append(out, " values='");
            append_words(out, o->words);
            g_string_append_c(out, '\'');
        }
        g_string_append(out, " ;;\n");
    }
}

static const char bash_functions[] =
    "# Adds to COMPREPLY the values of kind $1 that start with $2; $3: the words of kind words, "
    "$4: the\n"
    "# connection URI typed on the line, if any.\n"
    "_virt_station_values()\n"
    "{\n"
    "    local IFS=$'\\n' vs=${COMP_WORDS[0]:-virt-station}\n"
    "    local -a connect=()\n"
    "    [[ -n $4 ]] && connect=(-c \"$4\")\n"
    "    case $1 in\n"
    "    words) COMPREPLY+=($(compgen -W \"${3// /$'\\n'}\" -- \"$2\")) ;;\n"
    "    file) COMPREPLY+=($(compgen -f -- \"$2\")) && compopt -o filenames 2>/dev/null ;;\n"
    "    directory) COMPREPLY+=($(compgen -d -- \"$2\")) && compopt -o filenames 2>/dev/null ;;\n"
    "    workstation | domain)\n"
    "        COMPREPLY+=($(compgen -W \"$(\"$vs\" \"${connect[@]}\" __complete \"$1s\" "
    "2>/dev/null)\" -- \"$2\"))\n"
    "        ;;\n"
    "    image)\n"
    "        COMPREPLY+=($(compgen -W \"$(\"$vs\" __complete images 2>/dev/null)\" -- \"$2\"))\n"
    "        COMPREPLY+=($(compgen -f -- \"$2\")) && compopt -o filenames 2>/dev/null\n"
    "        ;;\n"
    "    esac\n"
    "    return 0\n"
    "}\n"
    "\n"
    "_virt_station()\n"
    "{\n"
    "    local -a words=()\n"
    "    local cword=0 i w\n"
    "    # Put together what COMP_WORDBREAKS split: ubuntu:24.04, --gpu=vgpu:TYPE.\n"
    "    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do\n"
    "        w=${COMP_WORDS[i]}\n"
    "        if ((i > 1)) && [[ $w == [:=] || ${COMP_WORDS[i - 1]} == [:=] ]]; then\n"
    "            words[${#words[@]} - 1]+=$w\n"
    "        else\n"
    "            words+=(\"$w\")\n"
    "        fi\n"
    "        ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))\n"
    "    done\n"
    "    local cur=${words[cword]} prev=${words[cword - 1]} cmd= uri= nargs=0\n"
    "    local flags takes subcommands operand kind values opt= text=$cur\n"
    "    COMPREPLY=()\n"
    "    _virt_station_command ''\n"
    "    for ((i = 1; i < cword; i++)); do\n"
    "        w=${words[i]}\n"
    "        case $w in\n"
    "        --) [[ -n $cmd ]] && return 0 ;; # then a command for the workstation: not ours\n"
    "        -c | --connect) uri=${words[i + 1]} ;;\n"
    "        --connect=*) uri=${w#*=} ;;\n"
    "        esac\n"
    "        if [[ $takes == *\" $w \"* ]]; then\n"
    "            ((i++))\n"
    "        elif [[ $w != -* && -z $cmd ]]; then\n"
    "            cmd=$w\n"
    "            _virt_station_command \"$cmd\"\n"
    "        elif [[ $w != -* ]]; then\n"
    "            ((nargs++))\n"
    "        fi\n"
    "    done\n"
    "    if [[ $cur == --*=* ]]; then\n"
    "        opt=${cur%%=*} text=${cur#*=}\n"
    "    elif ((cword > 1)) && [[ $takes == *\" $prev \"* ]]; then\n"
    "        opt=$prev\n"
    "    fi\n"
    "    if [[ -n $opt ]]; then\n"
    "        _virt_station_option \"$cmd\" \"$opt\"\n"
    "        _virt_station_values \"$kind\" \"$text\" \"$values\" \"$uri\"\n"
    "    elif [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
    "    elif [[ -z $cmd ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$_virt_station_commands\" -- \"$cur\"))\n"
    "    elif [[ -n $subcommands ]] && ((nargs == 0)); then\n"
    "        COMPREPLY=($(compgen -W \"$subcommands\" -- \"$cur\"))\n"
    "    else\n"
    "        _virt_station_values \"$operand\" \"$cur\" '' \"$uri\"\n"
    "    fi\n"
    "    # Bash replaces only what follows the last ':' of the word.\n"
    "    if [[ $text == *:* ]]; then\n"
    "        local colon=${text%\"${text##*:}\"}\n"
    "        COMPREPLY=(\"${COMPREPLY[@]#\"$colon\"}\")\n"
    "    fi\n"
    "    # A value ending in ':' (vgpu:, bridge:) wants more: no space after it.\n"
    "    if [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *: ]]; then\n"
    "        compopt -o nospace 2>/dev/null\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "\n"
    "complete -F _virt_station virt-station\n";

char *
vs_generate_bash(const GPtrArray *commands)
{
    GString *out = g_string_new("# bash completion for virt-station(1): generated by `virt-station "
                                "--generate bash`\n# from its command table; do not edit.\n\n"
                                "_virt_station_commands='");
    guint shown = 0;

    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        if (!cmd->hidden)
            g_string_append_printf(out, "%s%s", shown++ ? " " : "", cmd->name);
    }
    g_string_append(out, "'\n\n# Sets flags (to offer), takes (the options that take a value), "
                         "subcommands and\n# operand (what completes the arguments) for the "
                         "command $1.\n_virt_station_command()\n{\n    subcommands= operand=\n"
                         "    case $1 in\n");
    for (guint i = 0; i < commands->len; i++) {
        if (!((const VsCommand *)commands->pdata[i])->hidden)
            bash_command(out, commands->pdata[i]);
    }
    bash_command(out, NULL);
    g_string_append(out, "    esac\n}\n\n# Sets kind (what completes it) and values (kind words) "
                         "for the value of option $2\n# of command $1.\n_virt_station_option()\n"
                         "{\n    kind= values=\n    case \"$1 $2\" in\n");
    for (guint i = 0; i < commands->len; i++) {
        if (!((const VsCommand *)commands->pdata[i])->hidden)
            bash_option_values(out, commands->pdata[i]);
    }
    g_string_append(out, "    esac\n}\n\n");
    g_string_append(out, bash_functions);
    return g_string_free(out, FALSE);
}

/* zsh: appends @text for an _arguments explanation in single quotes: [ and ] escaped. */
static void
zsh_append_explanation(GString *out, const char *text)
{
    for (const char *c = text; *c; c++) {
        if (*c == '[' || *c == ']')
            g_string_append_c(out, '\\');
        if (*c == '\'')
            g_string_append(out, "'\\''");
        else
            g_string_append_c(out, *c);
    }
}

/* zsh: the _arguments action completing the value (or the operand) of kind @complete. */
static void
zsh_append_action(GString *out, VsComplete complete, const char *const *words)
{
    switch (complete) {
    case VS_COMPLETE_NONE:
        g_string_append(out, " ");
        break;
    case VS_COMPLETE_FILE:
        g_string_append(out, "_files");
        break;
    case VS_COMPLETE_DIRECTORY:
        g_string_append(out, "_files -/");
        break;
    case VS_COMPLETE_WORKSTATION:
        g_string_append(out, "_virt_station_names workstations");
        break;
    case VS_COMPLETE_DOMAIN:
        g_string_append(out, "_virt_station_names domains");
        break;
    case VS_COMPLETE_IMAGE:
        g_string_append(out, "_virt_station_images");
        break;
    case VS_COMPLETE_WORDS:
        g_string_append_c(out, '(');
        for (guint i = 0; words[i]; i++) {
            g_auto(GStrv) parts = g_strsplit(words[i], ":", -1);
            g_autofree char *escaped = g_strjoinv("\\:", parts);
            g_string_append_printf(out, "%s%s", i ? " " : "", escaped);
        }
        g_string_append_c(out, ')');
        break;
    }
}

/* zsh: the _arguments spec of option @o, on a line of its own. */
static void
zsh_option(GString *out, const VsOption *o)
{
    gboolean value = o->arg != G_OPTION_ARG_NONE;
    gboolean repeat = o->arg == G_OPTION_ARG_FILENAME_ARRAY || o->arg == G_OPTION_ARG_STRING_ARRAY;

    g_string_append(out, " \\\n    ");
    if (o->short_name)
        g_string_append_printf(out, "'%s(-%c --%s)'{-%c%s,--%s%s}'", repeat ? "*" : "",
                               o->short_name, o->long_name, o->short_name, value ? "+" : "",
                               o->long_name, value ? "=" : "");
    else
        g_string_append_printf(out, "'%s--%s%s", repeat ? "*" : "", o->long_name, value ? "=" : "");
    g_string_append_c(out, '[');
    zsh_append_explanation(out, o->help);
    g_string_append_c(out, ']');
    if (value) {
        g_string_append_printf(out, ":%s:", o->arg_name ? o->arg_name : "value");
        zsh_append_action(out, o->complete, o->words);
    }
    g_string_append_c(out, '\'');
}

/* zsh: the options of @cmd (NULL: before any command) as _arguments specs. */
static void
zsh_options(GString *out, const VsCommand *cmd)
{
    g_autoptr(GPtrArray) options = vs_generate_options(cmd);

    for (guint i = 0; i < options->len; i++) {
        if (vs_option_visible(options->pdata[i]))
            zsh_option(out, options->pdata[i]);
    }
}

static const char zsh_functions[] =
    "# The names of __complete $1 (workstations or domains), on the connection typed with -c.\n"
    "_virt_station_names() {\n"
    "  local -a names\n"
    "  names=(${(f)\"$(_call_program names $_vs_prog $_vs_connect __complete $1 2>/dev/null)\"})\n"
    "  _wanted names expl name compadd -a names\n"
    "}\n"
    "\n"
    "# The aliases of the image catalog, and files.\n"
    "_virt_station_images() {\n"
    "  local -a aliases\n"
    "  aliases=(${(f)\"$(_call_program images $_vs_prog __complete images 2>/dev/null)\"})\n"
    "  _alternative 'aliases:image alias:compadd -a aliases' 'files:image file:_files'\n"
    "}\n"
    "\n";

/* zsh: the case of @cmd in _virt_station's state `argument`. */
static void
zsh_command(GString *out, const VsCommand *cmd)
{
    g_string_append_printf(out, "      (%s)\n        _arguments -s -S", cmd->name);
    zsh_options(out, cmd);
    if (cmd->subcommands) {
        g_autofree char *words = g_strjoinv(" ", (char **)cmd->subcommands);
        g_string_append_printf(out, " \\\n    '1:subcommand:(%s)'", words);
    }
    if (cmd->operand) {
        g_string_append_printf(out, " \\\n    '*:%s:", kind_name(cmd->operand));
        zsh_append_action(out, cmd->operand, NULL);
        g_string_append_c(out, '\'');
    }
    g_string_append(out, " && ret=0\n        ;;\n");
}

char *
vs_generate_zsh(const GPtrArray *commands)
{
    GString *out = g_string_new("#compdef virt-station\n# zsh completion for virt-station(1): "
                                "generated by `virt-station --generate zsh`\n# from its command "
                                "table; do not edit.\n\n");

    g_string_append(out, zsh_functions);
    g_string_append(out, "_virt_station() {\n  local _vs_prog=$words[1] curcontext=$curcontext "
                         "state line i ret=1\n  local -a _vs_connect\n"
                         "  for (( i = 2; i < CURRENT; i++ )); do\n    case $words[i] in\n"
                         "      (-c|--connect) _vs_connect=(-c \"$words[i+1]\") ;;\n"
                         "      (--connect=*) _vs_connect=(-c \"${words[i]#*=}\") ;;\n"
                         "    esac\n  done\n  _arguments -C");
    zsh_options(out, NULL);
    g_string_append(out, " \\\n    '1:command:->command' '*::argument:->argument' && ret=0\n"
                         "  case $state in\n    (command)\n      local -a commands\n"
                         "      commands=(\n");
    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        g_autofree char *item = g_strdup_printf("%s:%s", cmd->name, cmd->summary);
        if (cmd->hidden)
            continue;
        g_string_append(out, "        ");
        append_quoted(out, item, FALSE);
        g_string_append_c(out, '\n');
    }
    g_string_append(out, "      )\n      _describe -t commands 'virt-station command' commands "
                         "&& ret=0\n      ;;\n    (argument)\n"
                         "      curcontext=${curcontext%:*:*}:virt-station-$words[1]:\n"
                         "      case $words[1] in\n");
    for (guint i = 0; i < commands->len; i++) {
        if (!((const VsCommand *)commands->pdata[i])->hidden)
            zsh_command(out, commands->pdata[i]);
    }
    g_string_append(out, "      esac\n      ;;\n  esac\n  return ret\n}\n\n_virt_station \"$@\"\n");
    return g_string_free(out, FALSE);
}

static const char fish_functions[] =
    "# Sets __vs_cmd (the command on the line, -- after a --), __vs_nargs (its arguments so far)\n"
    "# and __vs_uri (what -c gave).\n"
    "function __virt_station_scan\n"
    "    set -g __vs_cmd\n"
    "    set -g __vs_nargs 0\n"
    "    set -g __vs_uri\n"
    "    set -l tokens (commandline -opc)\n"
    "    set -l i 2\n"
    "    while test $i -le (count $tokens)\n"
    "        set -l w $tokens[$i]\n"
    "        if test \"$w\" = -- -a -n \"$__vs_cmd\"\n"
    "            set __vs_cmd --\n"
    "            return\n"
    "        else if __virt_station_takes \"$__vs_cmd\" $w\n"
    "            contains -- $w -c --connect; and set -q tokens[(math $i + 1)]; "
    "and set __vs_uri $tokens[(math $i + 1)]\n"
    "            set i (math $i + 1)\n"
    "        else if string match -q -- '--connect=*' $w\n"
    "            set __vs_uri (string replace -- '--connect=' '' $w)\n"
    "        else if string match -q -- '-*' $w\n"
    "        else if test -z \"$__vs_cmd\"\n"
    "            set __vs_cmd $w\n"
    "        else\n"
    "            set __vs_nargs (math $__vs_nargs + 1)\n"
    "        end\n"
    "        set i (math $i + 1)\n"
    "    end\n"
    "end\n"
    "\n"
    "# True when the command on the line is $argv[1] ('' before one) and, with $argv[2], when\n"
    "# that many arguments follow it.\n"
    "function __virt_station_using\n"
    "    __virt_station_scan\n"
    "    test \"$__vs_cmd\" = \"$argv[1]\"; or return 1\n"
    "    set -q argv[2]; or return 0\n"
    "    test $__vs_nargs -eq $argv[2]\n"
    "end\n"
    "\n"
    "# The names of __complete $argv[1] (workstations, domains, images), on the connection of -c.\n"
    "function __virt_station_values\n"
    "    __virt_station_scan\n"
    "    set -l connect\n"
    "    test -n \"$__vs_uri\"; and set connect -c $__vs_uri\n"
    "    set -l prog (commandline -opc)[1]\n"
    "    $prog $connect __complete $argv[1] 2>/dev/null\n"
    "end\n"
    "\n";

/* fish: the flags of `complete` that complete a value (or an operand) of kind @complete. */
static void
fish_append_value(GString *out, VsComplete complete, const char *const *words)
{
    switch (complete) {
    case VS_COMPLETE_NONE:
        g_string_append(out, " -x");
        break;
    case VS_COMPLETE_FILE:
        g_string_append(out, " -r -F");
        break;
    case VS_COMPLETE_DIRECTORY:
        g_string_append(out, " -x -a '(__fish_complete_directories)'");
        break;
    case VS_COMPLETE_WORKSTATION:
        g_string_append(out, " -x -a '(__virt_station_values workstations)'");
        break;
    case VS_COMPLETE_DOMAIN:
        g_string_append(out, " -x -a '(__virt_station_values domains)'");
        break;
    case VS_COMPLETE_IMAGE:
        g_string_append(out, " -r -F -a '(__virt_station_values images)'");
        break;
    case VS_COMPLETE_WORDS:
        g_string_append(out, " -x -a '");
        append_words(out, words);
        g_string_append_c(out, '\'');
        break;
    }
}

/* fish: the `complete` lines of @cmd's options (NULL: before any command), its operands and
 * subcommands. */
static void
fish_command(GString *out, const VsCommand *cmd)
{
    g_autoptr(GPtrArray) options = vs_generate_options(cmd);
    g_autofree char *using =
        g_strdup_printf("-n '__virt_station_using %s'", cmd ? cmd->name : "\"\"");

    for (guint i = 0; i < options->len; i++) {
        const VsOption *o = options->pdata[i];
        if (!vs_option_visible(o))
            continue;
        g_string_append_printf(out, "complete -c virt-station %s", using);
        if (o->short_name)
            g_string_append_printf(out, " -s %c", o->short_name);
        g_string_append_printf(out, " -l %s", o->long_name);
        if (o->arg != G_OPTION_ARG_NONE)
            fish_append_value(out, o->complete, o->words);
        g_string_append(out, " -d ");
        append_quoted(out, o->help, TRUE);
        g_string_append_c(out, '\n');
    }
    if (cmd && cmd->subcommands) {
        g_string_append_printf(out,
                               "complete -c virt-station -n '__virt_station_using %s 0' -x "
                               "-a '",
                               cmd->name);
        append_words(out, cmd->subcommands);
        g_string_append(out, "'\n");
    }
    if (cmd && cmd->operand) {
        /* After the subcommand, if any. */
        g_string_append_printf(out, "complete -c virt-station -n '__virt_station_using %s%s'",
                               cmd->name, cmd->subcommands ? "; and test $__vs_nargs -gt 0" : "");
        fish_append_value(out, cmd->operand, NULL);
        g_string_append_c(out, '\n');
    }
}

/* fish: __virt_station_takes, true when option $argv[2] of command $argv[1] takes a value. */
static void
fish_takes(GString *out, const GPtrArray *commands)
{
    g_string_append(out, "function __virt_station_takes\n    switch \"$argv[1] $argv[2]\"\n");
    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        g_autoptr(GString) flags = g_string_new(NULL);
        for (const VsOption *o = cmd->options; o && o->long_name; o++) {
            if (o->arg != G_OPTION_ARG_NONE && o->short_name)
                g_string_append_printf(flags, " '%s -%c'", cmd->name, o->short_name);
            if (o->arg != G_OPTION_ARG_NONE)
                g_string_append_printf(flags, " '%s --%s'", cmd->name, o->long_name);
        }
        if (flags->len)
            g_string_append_printf(out, "        case%s\n            return 0\n", flags->str);
    }
    g_string_append(out, "    end\n    contains -- $argv[2] -c --connect\nend\n\n");
}

char *
vs_generate_fish(const GPtrArray *commands)
{
    GString *out = g_string_new("# fish completion for virt-station(1): generated by "
                                "`virt-station --generate fish`\n# from its command table; do not "
                                "edit.\n\n");

    fish_takes(out, commands);
    g_string_append(out, fish_functions);
    g_string_append(out, "complete -c virt-station -f\n");
    for (guint i = 0; i < commands->len; i++) {
        const VsCommand *cmd = commands->pdata[i];
        if (cmd->hidden)
            continue;
        g_string_append_printf(
            out, "complete -c virt-station -n '__virt_station_using \"\"' -a %s -d ", cmd->name);
        append_quoted(out, cmd->summary, TRUE);
        g_string_append_c(out, '\n');
    }
    fish_command(out, NULL);
    for (guint i = 0; i < commands->len; i++) {
        if (!((const VsCommand *)commands->pdata[i])->hidden)
            fish_command(out, commands->pdata[i]);
    }
    return g_string_free(out, FALSE);
}
