/* fuzz.h: what every libFuzzer target of tunsup shares. */
#ifndef TUNSUP_FUZZ_H
#define TUNSUP_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* An invariant of the code under test: abort, so libFuzzer saves the input. */
#define check(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #e);					\
		abort();						\
	}								\
} while (0)

#endif
