/* my_builtins.h: is a name before "(" the server's own (a builtin function or a keyword)? */
#ifndef WP_MY_BUILTINS_H
#define WP_MY_BUILTINS_H

#include <stdbool.h>

/* my_builtin_name: |upper| (an identifier in upper case) is a name MariaDB or
 * MySQL resolves itself when it stands before "(": a native function or a
 * keyword. Anything else before "(" in an expression is a stored or loadable
 * function, which runs with the client's session and may change it. The list
 * is asked of real servers by tools/gen-builtins.py. */
bool my_builtin_name(const char *upper);

#endif
