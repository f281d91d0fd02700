/* log_test: values a peer chose cannot forge a log line or a logfmt field. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

Test(log, escape_quotes_backslashes_and_controls)
{
	char out[64];
	cr_expect_str_eq(log_escape(out, sizeof(out), "app"), "app");
	cr_expect_str_eq(log_escape(out, sizeof(out), "a\"b\\c"), "a\\\"b\\\\c");
	cr_expect_str_eq(log_escape(out, sizeof(out), "x\nlevel=error\r\x7f"),
			 "x\\x0alevel=error\\x0d\\x7f");
}

Test(log, escape_truncates_within_the_buffer)
{
	char out[8];
	log_escape(out, sizeof(out), "\n\n\n\n");
	cr_expect_lt(strlen(out), sizeof(out));
	cr_expect_str_eq(out, "\\x0a");
}

/* A line with a newline inside a value stays one line. */
Test(log, emitted_line_has_no_inner_newline)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	int saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_emit(LOG_WARN, "authentication failed", "user=\"%s\"", "a\nts=forged level=error");
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	char buf[2048] = {0};
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	cr_assert_gt(n, 0);
	cr_expect_eq(strchr(buf, '\n'), buf + n - 1, "one newline, at the end: %s", buf);
	cr_expect_not_null(strstr(buf, "user=\"a\\x0ats=forged"));
}
