/* Enum <-> string tables in one place. */
#pragma once

#include <glib.h>

/* Defines vs_NAME_to_string() and vs_NAME_from_string() (-1 for an unknown string) over the
 * spellings given in enum order. A value without its spelling (or a spelling too many) does not
 * compile. */
#define VS_ENUM_IMPL(name, Type, last, ...)                                                        \
    G_STATIC_ASSERT(G_N_ELEMENTS(((const char *const[]){__VA_ARGS__})) == (last));                 \
    static const char *const name##_names[last] = {__VA_ARGS__};                                   \
    const char *vs_##name##_to_string(Type value)                                                  \
    {                                                                                              \
        g_return_val_if_fail((int)value >= 0 && value < last, NULL);                               \
        return name##_names[value];                                                                \
    }                                                                                              \
    int vs_##name##_from_string(const char *str)                                                   \
    {                                                                                              \
        for (int i = 0; i < last; i++)                                                             \
            if (g_strcmp0(name##_names[i], str) == 0)                                              \
                return i;                                                                          \
        return -1;                                                                                 \
    }
