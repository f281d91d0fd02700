/* my_command: what warmpool does with each protocol command, in one table. */
#ifndef WP_MY_COMMAND_H
#define WP_MY_COMMAND_H

#include <stdint.h>

/* How a client's command is handled. The statements inside COM_QUERY and
 * COM_STMT_PREPARE texts are decided by my_classify (my_pin.h); this is
 * the level above it. README, "Transaction pooling", has the same table. */
enum my_command_rule {
	MY_CMD_PIN = 0,	     /* per-connection effects, or replies warmpool does not follow: pins */
	MY_CMD_STATELESS,    /* relayed; leaves nothing in the session (COM_PING, COM_STATISTICS) */
	MY_CMD_TEXT,	     /* COM_QUERY, COM_INIT_DB: each statement classified */
	MY_CMD_SET_OPTION,   /* tracked and restored like a SET */
	MY_CMD_RESET,	     /* COM_RESET_CONNECTION: the session starts over; pipelined, it pins */
	MY_CMD_STATEMENT,    /* COM_STMT_*: ids mapped and texts prepared again (stmt_relay) */
	MY_CMD_QUIT,	     /* answered by warmpool: the connection goes back */
	MY_CMD_CHANGE_USER,  /* answered by warmpool: a login against its users */
	MY_CMD_KILL,	     /* answered by warmpool: its thread ids (my_kill.h) */
};

enum my_command_rule my_command_rule(uint8_t command);

#endif
