/* arena.h: per-request region allocator, freed in one place at the end of a request. */
#ifndef GHB_ARENA_H
#define GHB_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t total;      /* bytes handed out since the last reset */
};

#define ARENA_INIT { NULL, 0 }

void *arena_alloc(struct arena *a, size_t n);           /* 16-byte aligned, aborts on OOM */
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keeps the first chunk so a steady request loop does no malloc at all. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
