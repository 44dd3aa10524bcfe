/* cmd.h: the subcommands of the ghbridge binary. Each returns the process exit code. */
#ifndef GHB_CMD_H
#define GHB_CMD_H

int cmd_fcgi(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_jobs(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_rotate_key(int argc, char **argv);
int cmd_apikey(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_version(int argc, char **argv);

/* Shared by subcommands: prints "ghbridge CMD: unknown option" plus usage, returns 2. */
int cmd_usage_error(const char *cmd, const char *usage, const char *what);

#endif
