/* refname.c: the one check of ref and branch names, by git's rules (git-check-ref-format(1)) and GitHub's. */
#include <string.h>
#include "git/refname.h"

/* Written out rather than taken from libgit2: 1.5's git_reference_name_is_valid and
 * git_branch_name_is_valid accept DEL (0x7f), which git-check-ref-format(1) rule 4 and git's own
 * refs.c (refname_disposition[]) refuse, and a ref GitHub's git refuses must never reach a push. */

/* One byte's rule, as git's refname_disposition[]: rule 4 (control characters below 0x20, DEL, space,
 * '~', '^', ':'), rule 5 ('?', '*', '['; no --refspec-pattern here), rule 10 ('\'). Bytes of 0x80
 * and above are git's to allow (they are UTF-8's). */
static const char *bad_byte(unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		return "cannot contain control characters (bytes below 0x20, or DEL)";
	switch (c) {
	case ' ': return "cannot contain a space";
	case '~': return "cannot contain '~'";
	case '^': return "cannot contain '^'";
	case ':': return "cannot contain ':'";
	case '?': return "cannot contain '?'";
	case '*': return "cannot contain '*'";
	case '[': return "cannot contain '['";
	case '\\': return "cannot contain '\\'";
	default: return NULL;
	}
}

/* git's check_refname_component: one slash-separated part, [s, end). */
static const char *component_problem(const char *s, const char *end)
{
	if (s == end)
		return "cannot begin or end with '/' or contain '//'"; /* rule 6 */
	char last = '\0';
	for (const char *c = s; c < end; c++) {
		const char *why = bad_byte((unsigned char)*c);
		if (why)
			return why;
		if (*c == '.' && last == '.')
			return "cannot contain '..'"; /* rule 3 */
		if (*c == '{' && last == '@')
			return "cannot contain '@{'"; /* rule 8 */
		last = *c;
	}
	if (*s == '.')
		return "cannot have a part (between slashes) that begins with '.'"; /* rule 1 */
	if (end - s >= 5 && memcmp(end - 5, ".lock", 5) == 0)
		return "cannot have a part (between slashes) that ends with '.lock'"; /* rule 1 */
	return NULL;
}

/* The rules shared by full ref names and branch names; parts counts the components. */
static const char *ref_problem(const char *refname, int *parts)
{
	*parts = 0;
	if (!refname || !*refname)
		return "cannot be empty";
	if (strcmp(refname, "@") == 0)
		return "cannot be the single character '@'"; /* rule 9 */
	for (const char *s = refname;;) {
		const char *end = strchr(s, '/');
		if (!end)
			end = s + strlen(s);
		const char *why = component_problem(s, end);
		if (why)
			return why;
		(*parts)++;
		if (!*end)
			break;
		s = end + 1;
	}
	if (refname[strlen(refname) - 1] == '.')
		return "cannot end with '.'"; /* rule 7 */
	return NULL;
}

const char *git_refname_problem(const char *refname)
{
	int parts;
	const char *why = ref_problem(refname, &parts);
	if (why)
		return why;
	if (parts < 2)
		return "must contain at least one '/' (as in refs/heads/…)"; /* rule 2 */
	return NULL;
}

/* RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF. */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned char c = *s;
		int n;
		unsigned cp;
		if (c < 0x80) {
			s++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		s += n + 1;
	}
	return 1;
}

const char *git_branch_name_problem(const char *name)
{
	if (!name || !*name)
		return "cannot be empty";
	if (strlen(name) > GIT_BRANCH_NAME_MAX)
		return "is longer than 200 characters";
	/* git check-ref-format --branch (strbuf_check_branch_ref): the full ref refs/heads/<name>,
	 * and two rules of its own. */
	if (name[0] == '-')
		return "cannot begin with '-'";
	if (strcmp(name, "HEAD") == 0)
		return "cannot be 'HEAD'";
	int parts;
	const char *why = ref_problem(name, &parts);
	if (why && strcmp(name, "@") != 0) /* refs/heads/@ is a valid ref: rule 9 is about the whole name */
		return why;
	/* GitHub's own. */
	if (strncmp(name, "refs/", 5) == 0)
		return "cannot begin with 'refs/' (GitHub refuses such ambiguous names)";
	if (strlen(name) == 40 && strspn(name, "0123456789abcdefABCDEF") == 40)
		return "cannot be 40 hexadecimal digits (GitHub refuses names that read as a commit id)";
	if (!utf8_ok((const unsigned char *)name))
		return "is not valid UTF-8";
	return NULL;
}
