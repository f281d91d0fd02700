/* cfg_users: reading user secrets from files and the environment. */
#include "cfg_users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* read_first_line returns the file's first line without its newline, or
 * NULL with the reason in |why|. */
static char *read_first_line(const char *path, char *why, size_t why_len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(why, why_len, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char line[1024];
	char *r = fgets(line, sizeof(line), f);
	fclose(f);
	if (!r) {
		snprintf(why, why_len, "%s is empty", path);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	char *pw = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return pw;
}

static bool resolve_one(struct cfg_user *u, char *why, size_t why_len)
{
	int sources = !!u->password + !!u->password_file + !!u->password_env;
	if (sources != 1) {
		snprintf(why, why_len,
			 "[user %s]: set exactly one of password, password_file, password_env",
			 u->name);
		return false;
	}
	if (u->password_file) {
		u->password = read_first_line(u->password_file, why, why_len);
		return u->password != NULL;
	}
	if (u->password_env) {
		const char *v = getenv(u->password_env);
		if (!v) {
			snprintf(why, why_len, "[user %s]: environment variable %s is not set",
				 u->name, u->password_env);
			return false;
		}
		u->password = xstrdup(v);
	}
	return true;
}

static bool add_user(struct cfg *cfg, const char *name, const char *password, char *why,
		     size_t why_len)
{
	if (cfg_find_user(cfg, name)) {
		snprintf(why, why_len, "user '%s' is defined twice", name);
		return false;
	}
	cfg->users = xrealloc(cfg->users, (cfg->n_users + 1) * sizeof(*cfg->users));
	cfg->users[cfg->n_users++] = (struct cfg_user){
		.name = xstrdup(name),
		.password = xstrdup(password),
	};
	return true;
}

/* Lines are "name:password"; '#' starts a comment line; blank lines skip.
 * The password is everything after the first colon, so it may hold colons. */
static bool read_users_file(struct cfg *cfg, char *why, size_t why_len)
{
	FILE *f = fopen(cfg->users_file, "r");
	if (!f) {
		snprintf(why, why_len, "users_file %s: %s", cfg->users_file, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("users_file is readable by everyone; chmod 600 it",
			 "path=\"%s\"", cfg->users_file);
	char line[2048];
	int lineno = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *colon = strchr(line, ':');
		if (!colon || colon == line) {
			snprintf(why, why_len, "%s:%d: expected name:password", cfg->users_file,
				 lineno);
			ok = false;
			break;
		}
		*colon = '\0';
		ok = add_user(cfg, line, colon + 1, why, why_len);
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return ok;
}

/* resolve_admin_token reads admin_token_file into admin_token. */
static bool resolve_admin_token(struct cfg *cfg, char *why, size_t why_len)
{
	if (!cfg->admin_token_file)
		return true;
	if (cfg->admin_token) {
		snprintf(why, why_len, "admin_token and admin_token_file: set only one");
		return false;
	}
	cfg->admin_token = read_first_line(cfg->admin_token_file, why, why_len);
	return cfg->admin_token != NULL;
}

bool cfg_users_resolve(struct cfg *cfg, char *why, size_t why_len)
{
	for (size_t i = 0; i < cfg->n_users; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->users[i].name, cfg->users[j].name) == 0) {
				snprintf(why, why_len, "user '%s' is defined twice",
					 cfg->users[i].name);
				return false;
			}
		}
		if (!resolve_one(&cfg->users[i], why, why_len))
			return false;
	}
	if (cfg->users_file && !read_users_file(cfg, why, why_len))
		return false;
	if (cfg->n_users == 0) {
		snprintf(why, why_len, "no users: add users_file or a [user NAME] section");
		return false;
	}
	return resolve_admin_token(cfg, why, why_len);
}
