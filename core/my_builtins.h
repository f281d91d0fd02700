/* my_builtins.h: is a name before "(" the server's own (a builtin function or a keyword)? */
#ifndef WP_MY_BUILTINS_H
#define WP_MY_BUILTINS_H

#include <stdint.h>

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

/* A name either server resolves itself before "(": a native function or a
 * keyword. Anything else before "(" in an expression is a stored or
 * loadable function, which runs with the client's session and may change
 * it. */
struct my_builtin {
	const char *name;
	uint8_t mariadb;	 /* the forms (enum my_builtin_form) MariaDB owns; 0: none */
	uint8_t mariadb_arities; /* with how many arguments (bit n: n, bit 4: 4 or more):
				    MariaDB's POINT(1, 2) is its own, POINT(1) a stored call */
	uint8_t mysql;		 /* the same for MySQL */
	uint8_t mysql_arities;
};

/* Every number of arguments (MY_BUILTIN_ARITY_MAX and more share a bit). */
#define MY_BUILTIN_ARITY_MAX 4
#define MY_BUILTIN_ANY_ARITY 0x1f

/* my_builtin_find: |upper| (an identifier in upper case) in the list asked
 * of MariaDB 10.11 and MySQL 9.7 by tools/gen-builtins.py; NULL when
 * neither owns it. */
const struct my_builtin *my_builtin_find(const char *upper);

#endif
