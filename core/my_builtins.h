/* my_builtins.h: is a name before "(" the server's own (a builtin function or a keyword)? */
#ifndef WP_MY_BUILTINS_H
#define WP_MY_BUILTINS_H

/* How a name may be written before "(" and still be the server's own. A
 * keyword (REPLACE, IF, NOW) is one only as a bare word: quoted it is an
 * identifier, and the lexer takes NOW, COUNT, SUBSTRING... as keywords only
 * when "(" follows at once; elsewhere the server looks for a stored
 * function of that name. Native functions (ABS, GET_LOCK) are the server's
 * own in every form. */
enum my_builtin_form {
	MY_BUILTIN_GLUED = 1,  /* name(  */
	MY_BUILTIN_QUOTED = 2, /* `name`(  (and "name"( under ANSI_QUOTES) */
	MY_BUILTIN_SPACED = 4, /* name (, or a comment before "(" */
};

/* my_builtin_forms: the forms (enum my_builtin_form) in which |upper| (an
 * identifier in upper case) is a name MariaDB or MySQL resolves itself
 * before "(": a native function or a keyword; 0 for none. Anything else
 * before "(" in an expression is a stored or loadable function, which runs
 * with the client's session and may change it. The list is asked of real
 * servers by tools/gen-builtins.py. */
unsigned my_builtin_forms(const char *upper);

#endif
