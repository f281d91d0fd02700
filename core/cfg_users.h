/* cfg_users: where secrets come from (users file, password files, environment, admin token). */
#ifndef WP_CFG_USERS_H
#define WP_CFG_USERS_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

/* cfg_users_resolve fills every user's password from its one source,
 * appends the users of users_file and reads admin_token_file. False with a
 * reason in |why| when a source is missing, unreadable, ambiguous, or no
 * user is defined. */
WP_MUST_CHECK bool cfg_users_resolve(struct cfg *cfg, char *why, size_t why_len);

#endif
