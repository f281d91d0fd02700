#!/usr/bin/env python3
"""gen-builtins.py: writes core/my_builtins.c, the names a server resolves itself
when they stand before "(" (builtin functions and keywords), asked of real servers.

  tools/gen-builtins.py --server mariadb:PORT:BINARY --server mysql:PORT:BINARY > core/my_builtins.c

Candidates are the identifiers found in each server's binary (its function
registry holds every native function's name); each is asked of every server as
`SELECT name() FROM DUAL WHERE 0`. ERR 1305 or 1630 (FUNCTION db.name does not
exist) means the server would look for a stored or loadable function; any other
answer (a parameter count error, a syntax error, a result) means it is the
server's own. Users app/app-secret, database sbtest (tools/mariadb-fixture.sh).
Each name is kept with what each server owns of it: the classifier reads the
list of the backend's kind (its greeting says MariaDB or not).

Each kept name is asked twice more: quoted (`name`()), and with a space before
"(" (name ()). A keyword (REPLACE, IF, LEFT, NOW...) is the server's own only as
a bare word: quoted it is an identifier, a stored function's name; and the
lexer takes NOW, COUNT, SUBSTRING... as keywords only when "(" follows at once.
"""
import argparse
import re
import subprocess
import sys

import pymysql

ER_SP_DOES_NOT_EXIST = 1305
ER_FUNC_INEXISTENT_NAME_COLLISION = 1630  # does not exist; a builtin's name
FORMS = [("GLUED", "{}({})"), ("QUOTED", "`{}`({})"), ("SPACED", "{} ({})")]
ARITIES = 5  # asked with 0 to 4 arguments; the last stands for 4 or more


def candidates(binary):
    out = subprocess.run(["strings", "-n", "2", binary], capture_output=True, check=True).stdout
    return {w.upper() for w in re.findall(rb"\b[A-Za-z_][A-Za-z0-9_]{0,63}\b", out)
            for w in [w.decode()]}


def is_own(cur, call):
    try:
        cur.execute(f"SELECT {call} FROM DUAL WHERE 0")
        cur.fetchall()
        return True
    except pymysql.err.MySQLError as e:
        return e.args[0] not in (ER_SP_DOES_NOT_EXIST, ER_FUNC_INEXISTENT_NAME_COLLISION)


def owned_in_modes(port, names, modes):
    """owned() under each sql_mode of |modes|: what every one owns (MariaDB's
    ORACLE mode has its own grammar: ELSEIF(1) calls a stored function)."""
    found = [owned(port, names, mode) for mode in modes]
    mine = {}
    for name in set.intersection(*(set(f) for f in found)):
        forms = set.intersection(*(f[name][0] for f in found))
        mask = 0x1f
        for f in found:
            mask &= f[name][1]
        if mask:
            mine[name] = (forms, mask)
    return mine


def owned(port, names, mode=None):
    """{name: (set of FORMS labels, bit mask of ARITIES)} for the names the
    server owns glued with some number of arguments (MariaDB's POINT only
    with two: POINT(1) calls a stored function). The other forms are asked
    with the first number it owns."""
    conn = pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-secret",
                           database="sbtest", autocommit=True)
    mine = {}
    with conn.cursor() as cur:
        if mode is not None:
            cur.execute(f"SET sql_mode = '{mode}'")
        for name in sorted(names):
            args = [", ".join(["1"] * n) for n in range(ARITIES)]
            mask = sum(1 << n for n in range(ARITIES) if is_own(cur, FORMS[0][1].format(name, args[n])))
            if mask:
                first = args[(mask & -mask).bit_length() - 1]
                mine[name] = ({label for label, form in FORMS if is_own(cur, form.format(name, first))},
                              mask)
    conn.close()
    return mine


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", action="append", required=True,
                    help="mariadb:PORT:BINARY and mysql:PORT:BINARY")
    args = ap.parse_args()
    servers = [s.split(":", 2) for s in args.server]
    if sorted(label for label, _, _ in servers) != ["mariadb", "mysql"]:
        sys.exit("gen-builtins: one --server mariadb:... and one --server mysql:...")
    names = set()
    for _, _, binary in servers:
        names |= candidates(binary)
    found, versions = {}, []
    for label, port, _ in sorted(servers):
        modes = [None, "ORACLE"] if label == "mariadb" else [None]
        found[label] = owned_in_modes(int(port), names, modes)
        print(f"{label}: {len(found[label])} of {len(names)} candidates", file=sys.stderr)
        conn = pymysql.connect(host="127.0.0.1", port=int(port), user="app", password="app-secret")
        versions.append(conn.get_server_info())
        conn.close()
    write_c(found, versions)


def forms_c(owned):
    forms, mask = owned if owned else ((), 0)
    labels = "|".join(label[0] for label, _ in FORMS if label in forms) or "0"
    return f"{labels}, 0x{mask:02x}"


def write_c(found, versions):
    names = sorted(set(found["mariadb"]) | set(found["mysql"]))
    print("/* my_builtins.c: the names MariaDB and MySQL resolve themselves before \"(\". */")
    print("/* Generated by tools/gen-builtins.py from " + ", ".join(versions) + "; do not edit. */")
    print('#include "my_builtins.h"\n')
    print("#include <stdlib.h>\n#include <string.h>\n")
    print("#define G MY_BUILTIN_GLUED\n#define Q MY_BUILTIN_QUOTED\n#define S MY_BUILTIN_SPACED\n")
    print("/* name, MariaDB's forms and argument counts, MySQL's */")
    print("static const struct my_builtin builtins[] = {")
    for n in names:
        print(f'\t{{"{n}", {forms_c(found["mariadb"].get(n))}, {forms_c(found["mysql"].get(n))}}},')
    print("};\n")
    print("static int cmp_name(const void *key, const void *elem)\n{")
    print("\treturn strcmp((const char *)key, ((const struct my_builtin *)elem)->name);\n}\n")
    print("const struct my_builtin *my_builtin_find(const char *upper)\n{")
    print("\treturn bsearch(upper, builtins, sizeof(builtins) / sizeof(builtins[0]), sizeof(builtins[0]),")
    print("\t\t       cmp_name);\n}")


if __name__ == "__main__":
    main()
