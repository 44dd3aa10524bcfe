/* buf.h: a growable byte buffer, always NUL-terminated, with one growth rule. */
#ifndef GHB_BUF_H
#define GHB_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *data;   /* NULL until the first append; then always NUL-terminated */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

/* Appends abort on allocation failure: a server out of memory cannot answer
 * anything useful, and checking every append would hide the real logic. */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);     /* len = 0, keeps the memory */
void buf_free(struct buf *b);
char *buf_steal(struct buf *b);     /* caller owns the result; b is emptied */
const char *buf_cstr(const struct buf *b); /* "" for an empty buffer */

#endif
