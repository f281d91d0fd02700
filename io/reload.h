/* reload: SIGHUP: read the config again, check it, and swap it in with the workers parked. */
#ifndef WP_RELOAD_H
#define WP_RELOAD_H

#include "runtime.h"

/* reload replaces rt's config with the file's current content, or logs why
 * not and keeps the running one. Clients stay connected either way.
 * Listeners, backends (added or removed), workers and the admin endpoint
 * need a restart; everything else applies to new backend connections and
 * logins at once. Called on main's thread only. */
void reload(struct runtime *rt);

/* reload_park is the worker's side: wait while main swaps the config, then
 * apply it to the worker's pools. */
void reload_park(struct worker *w);

#endif
