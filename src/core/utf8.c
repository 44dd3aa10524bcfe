/* utf8.c: the one UTF-8 check (RFC 3629 §4's table of well-formed byte sequences). */
#include "core/utf8.h"

size_t utf8_decode(unsigned *cp, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	if (!len || s[0] == 0)
		return 0;
	if (s[0] < 0x80) {
		if (cp)
			*cp = s[0];
		return 1;
	}
	size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (!n || n > len)
		return 0;
	unsigned v = s[0] & (0x7fu >> n);
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[k] & 0x3fu);
	}
	static const unsigned least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < least[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if (cp)
		*cp = v;
	return n;
}

size_t utf8_char_len(const char *s, size_t len)
{
	return utf8_decode(NULL, s, len);
}

int utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t n = utf8_decode(NULL, s + i, len - i);
		if (!n)
			return 0;
		i += n;
	}
	return 1;
}
