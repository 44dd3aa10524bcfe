/* utf8.h: the one UTF-8 check (RFC 3629) every string from outside passes, and its decoder. */
#ifndef GHB_UTF8_H
#define GHB_UTF8_H

#include <stddef.h>

/* The character s[0..len) starts with, by RFC 3629 §4 (no overlong forms, no surrogates
 * U+D800–DFFF, nothing above U+10FFFF) and no NUL: its length (1–4) with its code point in *cp
 * (cp may be NULL); 0 when s starts with no such character or len is 0 (*cp untouched). */
size_t utf8_decode(unsigned *cp, const char *s, size_t len);
/* utf8_decode's length alone. */
size_t utf8_char_len(const char *s, size_t len);
/* 1 when s[0..len) is well-formed UTF-8 text by utf8_decode's rules, NUL-free (no C string or
 * PostgreSQL text holds one); 0 otherwise. */
int utf8_valid(const char *s, size_t len);

#endif
