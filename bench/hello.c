/* hello.c: the comparison responder for `scripts/dev bench http`: a minimal libfcgi
 * loop printing a fixed page of the landing page's size (argv[2] bytes). With "detach"
 * as argv[4] it closes the way ghbridge does on a unix socket (stdin drained, then a
 * detached close without libfcgi's linger; see finish_request in src/http/server.c),
 * so the benchmark can show both the stock loop and the same loop at its best. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcgiapp.h>

int main(int argc, char **argv)
{
	size_t size = argc > 2 ? (size_t)atol(argv[2]) : 4096;
	int procs = argc > 3 ? atoi(argv[3]) : 2;
	int detach = argc > 4 && strcmp(argv[4], "detach") == 0;
	if (argc < 2) {
		fprintf(stderr, "usage: hello-fcgi ADDR [BYTES] [PROCESSES] [detach]\n");
		return 2;
	}
	char *page = malloc(size + 1);
	memset(page, 'x', size);
	char head[128];
	int hn = snprintf(head, sizeof head, "Status: 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n\r\n", size);
	FCGX_Init();
	int sock = FCGX_OpenSocket(argv[1], 1024);
	if (sock < 0)
		return 1;
	for (int i = 1; i < procs; i++)
		if (fork() == 0)
			break;
	FCGX_Request r;
	FCGX_InitRequest(&r, sock, 0);
	while (FCGX_Accept_r(&r) >= 0) {
		/* Not FCGX_FPrintF: libfcgi's own printf does not know %zu and printed the page
		 * into the header, so nginx answered 502 for every request. */
		FCGX_PutStr(head, hn, r.out);
		FCGX_PutStr(page, (int)size, r.out);
		if (detach) {
			char trash[4096];
			while (FCGX_GetStr(trash, sizeof trash, r.in) > 0)
				;
			FCGX_Detach(&r);
		}
		FCGX_Finish_r(&r);
	}
	return 0;
}
