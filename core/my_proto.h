/* my_proto: MySQL wire protocol constants shared by the codec and the state machines. */
#ifndef WP_MY_PROTO_H
#define WP_MY_PROTO_H

#include <stdint.h>

/* Capability flags (the low 32 bits; MariaDB's extended ones are not used). */
#define CLIENT_LONG_PASSWORD 0x00000001u
#define CLIENT_FOUND_ROWS 0x00000002u
#define CLIENT_LONG_FLAG 0x00000004u
#define CLIENT_CONNECT_WITH_DB 0x00000008u
#define CLIENT_NO_SCHEMA 0x00000010u
#define CLIENT_COMPRESS 0x00000020u
#define CLIENT_ODBC 0x00000040u
#define CLIENT_LOCAL_FILES 0x00000080u
#define CLIENT_IGNORE_SPACE 0x00000100u
#define CLIENT_PROTOCOL_41 0x00000200u
#define CLIENT_INTERACTIVE 0x00000400u
#define CLIENT_SSL 0x00000800u
#define CLIENT_IGNORE_SIGPIPE 0x00001000u
#define CLIENT_TRANSACTIONS 0x00002000u
#define CLIENT_RESERVED 0x00004000u
#define CLIENT_SECURE_CONNECTION 0x00008000u
#define CLIENT_MULTI_STATEMENTS 0x00010000u
#define CLIENT_MULTI_RESULTS 0x00020000u
#define CLIENT_PS_MULTI_RESULTS 0x00040000u
#define CLIENT_PLUGIN_AUTH 0x00080000u
#define CLIENT_CONNECT_ATTRS 0x00100000u
#define CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA 0x00200000u
#define CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS 0x00400000u
#define CLIENT_SESSION_TRACK 0x00800000u
#define CLIENT_DEPRECATE_EOF 0x01000000u
#define CLIENT_OPTIONAL_RESULTSET_METADATA 0x02000000u
#define CLIENT_ZSTD_COMPRESSION 0x04000000u
#define CLIENT_QUERY_ATTRIBUTES 0x08000000u

/* Server status flags carried by OK and EOF packets. */
#define SERVER_STATUS_IN_TRANS 0x0001u
#define SERVER_STATUS_AUTOCOMMIT 0x0002u
#define SERVER_MORE_RESULTS_EXISTS 0x0008u

/* Commands (first payload byte of a client packet with sequence id 0). */
enum my_command {
	COM_SLEEP = 0x00,
	COM_QUIT = 0x01,
	COM_INIT_DB = 0x02,
	COM_QUERY = 0x03,
	COM_PING = 0x0e,
	COM_CHANGE_USER = 0x11,
	COM_RESET_CONNECTION = 0x1f,
};

/* Response headers. */
#define MY_OK_HEADER 0x00
#define MY_AUTH_MORE_HEADER 0x01
#define MY_EOF_HEADER 0xfe
#define MY_AUTH_SWITCH_HEADER 0xfe
#define MY_ERR_HEADER 0xff

/* Error codes warmpool itself sends (server error numbers clients know). */
#define ER_CON_COUNT_ERROR 1040
#define ER_TOO_MANY_USER_CONNECTIONS 1203
#define ER_HANDSHAKE_ERROR 1043
#define ER_ACCESS_DENIED_ERROR 1045
#define ER_NET_PACKET_TOO_LARGE 1153
#define ER_SERVER_SHUTDOWN 1053
#define ER_SECURE_TRANSPORT_REQUIRED 3159
#define ER_CONNECTION_KILLED 1927 /* MariaDB's "Connection was killed", SQLSTATE 70100 */
/* No backend reachable. Not 2003: libmariadb rejects server errors in the
 * client range (2000-2999) as malformed. 9001 is what ProxySQL sends. */
#define ER_BACKEND_UNAVAILABLE 9001

#define MY_MAX_FRAME_PAYLOAD 0xffffffu
#define MY_SCRAMBLE_LEN 20
#define MY_DEFAULT_COLLATION 45 /* utf8mb4_general_ci */

#endif
