/* unit.h: what the criterion tests share. Include after criterion.h. */
#ifndef TUNSUP_UNIT_H
#define TUNSUP_UNIT_H

#include <stdlib.h>

#include "cfg.h"

/* The configuration in text (named name in messages), or the test fails. */
static inline struct cfg *
unit_cfg(const char *name, const char *text)
{
	struct cfg_errors	 errs = { NULL, 0 };
	struct cfg		*c;
	char			*msg;

	c = cfg_load_string(name, text, &errs);
	msg = cfg_errors_join(&errs);
	cr_assert_not_null(c, "config: %s", msg != NULL ? msg : "?");
	cr_assert_null(msg, "config: %s", msg);
	cfg_errors_clear(&errs);
	return c;
}

#endif
