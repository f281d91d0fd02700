/* command_test: the protocol command table, and what it does with commands it does not list. */
#include <criterion/criterion.h>

#include "my_command.h"
#include "my_proto.h"

Test(command, texts_statements_and_answered_here)
{
	cr_expect_eq(my_command_rule(COM_QUERY), MY_CMD_TEXT);
	cr_expect_eq(my_command_rule(COM_INIT_DB), MY_CMD_TEXT);
	cr_expect_eq(my_command_rule(COM_STMT_EXECUTE), MY_CMD_STATEMENT);
	cr_expect_eq(my_command_rule(COM_STMT_BULK_EXECUTE), MY_CMD_STATEMENT);
	cr_expect_eq(my_command_rule(COM_QUIT), MY_CMD_QUIT);
	cr_expect_eq(my_command_rule(COM_CHANGE_USER), MY_CMD_CHANGE_USER);
	cr_expect_eq(my_command_rule(COM_PROCESS_KILL), MY_CMD_KILL);
	cr_expect_eq(my_command_rule(COM_RESET_CONNECTION), MY_CMD_RESET);
}

/* Commands with per-connection effects, and numbers no server knows. */
Test(command, everything_else_pins)
{
	const uint8_t others[] = {0x00 /* SLEEP */, 0x05 /* CREATE_DB */, 0x07 /* REFRESH */,
				  0x0d /* DEBUG */,  0x12 /* BINLOG_DUMP */, 0x15 /* REGISTER_SLAVE */,
				  0x20,		     0xfb,		     0xff};
	for (size_t i = 0; i < sizeof(others); i++)
		cr_expect_eq(my_command_rule(others[i]), MY_CMD_PIN, "command 0x%02x", others[i]);
	unsigned stateless = 0;
	for (unsigned c = 0; c < 256; c++)
		stateless += my_command_rule((uint8_t)c) == MY_CMD_STATELESS;
	cr_expect_eq(stateless, 3, "only COM_PING, COM_FIELD_LIST and COM_STATISTICS");
}
