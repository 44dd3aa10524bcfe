/* tmpl.h: a small mustache-style template engine over json-c values, HTML-escaping by default. */
#ifndef GHB_TMPL_H
#define GHB_TMPL_H

#include "core/buf.h"
#include "core/err.h"

struct json_object;
struct tmpl_set;

/* Compiles every *.html file under dir (name = relative path without .html,
 * e.g. "partials/header"). Any syntax error or reference to a missing partial
 * fails the whole load with "file:line: message" in e. */
int tmpl_set_load(struct tmpl_set **out, const char *dir, struct err *e);
/* Same, from one in-memory source named name (for tests). */
int tmpl_set_add_string(struct tmpl_set **set, const char *name, const char *src, struct err *e);
void tmpl_set_free(struct tmpl_set *set);
int tmpl_exists(const struct tmpl_set *set, const char *name);

/* Appends template name rendered with ctx to out. */
int tmpl_render(struct buf *out, const struct tmpl_set *set, const char *name,
		struct json_object *ctx, struct err *e);
/* Appends s with & < > " ' escaped. */
void html_escape(struct buf *out, const char *s, size_t len);

#endif
