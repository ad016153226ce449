/* The command table. A command's entry is everything `--help`, the man page and the shell
 * completions say about it, and its handler; each command defines its entry once, in its
 * cmd-NAME.c. The program's commands are listed in commands.c, the libvirt module's in its one
 * exported symbol, vs_module_table (module-entry.c). generate.h writes the man page and the
 * completion scripts from them.
 *
 * Options are described statically, by the offset of their value in a struct of the command's
 * own (DeleteOptions, UpOptions...). The handler declares that struct with its defaults and
 * passes it to vs_cli_parse(), which binds each option to its field and parses with GOption:
 *
 *     typedef struct { gboolean keep_disk; } DeleteOptions;
 *     static const VsOption delete_options[] = {
 *         {"keep-disk", 0, 0, VS_FLAG(DeleteOptions, keep_disk), "Keep the system disk volume"},
 *         {NULL},
 *     };
 *
 * The fields follow GOptionEntry's order (long name, short name, flags, argument, value, help,
 * argument name), then what completes the value. VS_FLAG and its siblings fail to compile when
 * the field's type does not match the argument. */
#pragma once

#include <stddef.h>

#include "provisioner/cli.h"

/* What completes a value: an option's argument or a command's positional argument. */
typedef enum {
    VS_COMPLETE_NONE,        /* a free value: nothing is offered */
    VS_COMPLETE_FILE,        /* a file name */
    VS_COMPLETE_DIRECTORY,   /* a directory name */
    VS_COMPLETE_WORKSTATION, /* the name of a workstation (`__complete workstations`) */
    VS_COMPLETE_DOMAIN,      /* the name of any domain, foreign ones too (`__complete domains`) */
    VS_COMPLETE_IMAGE,       /* an alias of the image catalog (`__complete images`), or a file */
    VS_COMPLETE_WORDS,       /* one of the fixed words of VsOption.words */
} VsComplete;

typedef struct {
    const char *long_name;
    char short_name;
    int flags;            /* GOptionFlags; G_OPTION_FLAG_HIDDEN also keeps it out of man and
                           * completion */
    GOptionArg arg;       /* NONE, INT, STRING, FILENAME or FILENAME_ARRAY: set with VS_FLAG... */
    size_t offset;        /* ...together with the offset of the value in the options struct */
    const char *help;     /* one line */
    const char *arg_name; /* the value's name in help ("FILE", "SIZE"); NULL for a flag */
    VsComplete complete;  /* what completes the value */
    const char *const *words; /* VS_COMPLETE_WORDS: the values, NULL-terminated */
} VsOption;

/* The offset of @field in @type, which must be a @ctype: anything else fails to compile. */
// clang-format off
#define VS_OPTION_FIELD(type, field, ctype)                                                        \
    (offsetof(type, field) +                                                                       \
     0 * sizeof(char[_Generic(((type *)0)->field, ctype: 1, default: -1)]))
// clang-format on

#define VS_FLAG(type, field)      G_OPTION_ARG_NONE, VS_OPTION_FIELD(type, field, gboolean)
#define VS_INT(type, field)       G_OPTION_ARG_INT, VS_OPTION_FIELD(type, field, int)
#define VS_STRING(type, field)    G_OPTION_ARG_STRING, VS_OPTION_FIELD(type, field, char *)
#define VS_FILENAME(type, field)  G_OPTION_ARG_FILENAME, VS_OPTION_FIELD(type, field, char *)
#define VS_FILENAMES(type, field) G_OPTION_ARG_FILENAME_ARRAY, VS_OPTION_FIELD(type, field, char **)

/* Returns TRUE when @option is shown in help, the man page and completion. */
static inline gboolean
vs_option_visible(const VsOption *option)
{
    return !(option->flags & G_OPTION_FLAG_HIDDEN);
}

typedef int (*VsCommandFunc)(VsCli *cli, int argc, char **argv);

struct VsCommand {
    const char *name;
    const char *args;        /* the synopsis after the name, in `COMMAND --help` and the man page */
    const char *summary;     /* one line for `virt-station --help` */
    const char *description; /* what `COMMAND --help` and the man page say it does */
    const VsOption *options; /* terminated by an entry without a long name; NULL: none */
    const char *const *subcommands; /* the words the first argument is one of; NULL: none */
    VsComplete operand;             /* what completes the (other) positional arguments */
    VsCommandFunc run;
    gboolean json;   /* supports --json */
    gboolean hidden; /* an interface for the completion scripts: in no help, page or script */
};

/* Frees what GOption put into the string and array fields of @values for @options, and sets
 * them to NULL. */
void vs_options_clear(const VsOption *options, void *values);

/* Lets an options struct @type be declared g_auto(@type): frees what its @options put there. */
#define VS_OPTIONS_AUTO_CLEAR(type, options)                                                       \
    static inline void type##_clear(type *values)                                                  \
    {                                                                                              \
        vs_options_clear(options, values);                                                         \
    }                                                                                              \
    G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(type, type##_clear)

/* Returns @options bound to the fields of @values (the struct their offsets refer to) as GOption
 * entries, terminated by G_OPTION_ENTRY_NULL; NULL @options give an empty list. Free with
 * g_free(). */
GOptionEntry *vs_options_bind(const VsOption *options, void *values);

/* The global options, bound to the fields of VsCli (cli.c). */
extern const VsOption vs_cli_global_options[];

/* The program's own options, before any command. */
typedef struct {
    gboolean version;
    char *generate; /* man, bash, zsh or fish: print that file, generated from the table */
} VsMainOptions;

extern const VsOption vs_main_options[];

/* The commands linked into the program (each entry is in its cmd-NAME.c). */
extern const VsCommand vs_command_up;
extern const VsCommand vs_command_seed;
extern const VsCommand vs_command_complete;

/* The commands of the libvirt module, listed by its table (module-entry.c). */
extern const VsCommand vs_command_list;
extern const VsCommand vs_command_info;
extern const VsCommand vs_command_run;
extern const VsCommand vs_command_ssh;
extern const VsCommand vs_command_exec;
extern const VsCommand vs_command_console;
extern const VsCommand vs_command_start;
extern const VsCommand vs_command_stop;
extern const VsCommand vs_command_restart;
extern const VsCommand vs_command_wait;
extern const VsCommand vs_command_delete;
extern const VsCommand vs_command_snapshot;
extern const VsCommand vs_command_adopt;
extern const VsCommand vs_command_xml;
extern const VsCommand vs_command_gpu;
extern const VsCommand vs_command_image;
extern const VsCommand vs_command_bake;

/* Returns the command called @name: one of the program's, else (loading the libvirt module) one
 * of the module's. NULL when there is none (@error unset) or the module cannot be loaded. */
const VsCommand *vs_commands_find(const char *name, GError **error);

/* Returns every command in the order `virt-station --help` lists them, hidden ones too, loading
 * the libvirt module; NULL with @error set when it cannot be loaded. */
GPtrArray *vs_commands_all(GError **error);

/* Returns the text of `virt-station --help` for @commands. */
char *vs_commands_usage(const GPtrArray *commands);
