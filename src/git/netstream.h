/* netstream.h: timeouts for libgit2's network connections (a socket stream registered with libgit2). */
#ifndef GHB_GIT_NETSTREAM_H
#define GHB_GIT_NETSTREAM_H

/* Makes libgit2 open its plain (and, under TLS, underlying) sockets through the stream in netstream.c. */
int git_netstream_register(void);
/* A connect, read or write that waits longer than this fails with a "timed out" network error. */
void git_netstream_timeout(int seconds);

#endif
