/* cfg_table: the declarative table of every config key (types, defaults, limits, help). */
#ifndef WP_CFG_TABLE_H
#define WP_CFG_TABLE_H

#include <stddef.h>

enum cfg_section {
	CFG_SECTION_GLOBAL = 0,	  /* [warmpool] */
	CFG_SECTION_LISTENER = 1, /* [listener NAME] */
	CFG_SECTION_BACKEND = 2,  /* [backend NAME] */
	CFG_SECTION_USER = 3,	  /* [user NAME] */
	CFG_SECTION_GROUP = 4,	  /* [group NAME] */
};

enum cfg_type {
	CFG_INT = 0, /* |choices|, when set, are words accepted besides a number:
		      * choices[i] is stored as -1 - i (such keys have min >= 0) */
	CFG_BOOL = 1,
	CFG_STR = 2,
	CFG_ENUM = 3, /* stored as int; names in |choices|, NULL-terminated */
};

struct cfg_key {
	enum cfg_section section;
	const char *name;
	enum cfg_type type;
	size_t offset;	     /* into struct cfg / cfg_listener / cfg_backend / cfg_user */
	const char *def;     /* default as it would be written in the file; NULL: none */
	long min, max;	     /* CFG_INT limits */
	const char *const *choices; /* CFG_ENUM names; CFG_INT words (see CFG_INT) */
	const char *help;
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_keys_len;

const char *cfg_section_str(enum cfg_section section);

#endif
