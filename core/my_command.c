/* my_command: what warmpool does with each protocol command, in one table. */
#include "my_command.h"

#include "my_proto.h"

/* Indexed by command byte; what is not listed (COM_SLEEP, COM_CREATE_DB,
 * COM_REFRESH, COM_SHUTDOWN, COM_DEBUG, replication commands, numbers no
 * server knows) is MY_CMD_PIN: its effect or its reply is not followed. */
static const uint8_t rules[256] = {
	[COM_QUIT] = MY_CMD_QUIT,
	[COM_INIT_DB] = MY_CMD_TEXT,
	[COM_QUERY] = MY_CMD_TEXT,
	[COM_FIELD_LIST] = MY_CMD_STATELESS,
	[COM_STATISTICS] = MY_CMD_STATELESS,
	[COM_PROCESS_KILL] = MY_CMD_KILL,
	[COM_PING] = MY_CMD_STATELESS,
	[COM_CHANGE_USER] = MY_CMD_CHANGE_USER,
	[COM_STMT_PREPARE] = MY_CMD_STATEMENT,
	[COM_STMT_EXECUTE] = MY_CMD_STATEMENT,
	[COM_STMT_SEND_LONG_DATA] = MY_CMD_STATEMENT,
	[COM_STMT_CLOSE] = MY_CMD_STATEMENT,
	[COM_STMT_RESET] = MY_CMD_STATEMENT,
	[COM_SET_OPTION] = MY_CMD_SET_OPTION,
	[COM_STMT_FETCH] = MY_CMD_STATEMENT,
	[COM_RESET_CONNECTION] = MY_CMD_RESET,
	[COM_STMT_BULK_EXECUTE] = MY_CMD_STATEMENT,
};

enum my_command_rule my_command_rule(uint8_t command)
{
	return (enum my_command_rule)rules[command];
}
