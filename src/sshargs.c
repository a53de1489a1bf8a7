/*
 * sshargs.c: an ssh command line as the lines of a tunnel block (see
 * sshargs.h). The block is what the configuration parser reads, so the
 * meaning of every keyword stays in one place (cfg.c); forwards are passed
 * on in ssh's one-argument form, which that parser reads too.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "sshargs.h"
#include "util.h"

struct sshargs {
	struct strbuf	 block;
	char		*note;
	char		*err;
};

static int
sa_error(struct sshargs *sa, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sa_error(struct sshargs *sa, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	xvasprintf(&sa->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Append "kw value", quoted as the parser reads it back. */
static int
sa_add(struct sshargs *sa, const char *kw, const char *value)
{
	if (strchr(value, '"') != NULL || strchr(value, '\n') != NULL)
		return sa_error(sa, "cannot express a value with a double "
		    "quote or a newline: %s", value);
	sb_printf(&sa->block, "%s", kw);
	sb_arg(&sa->block, value);
	sb_printf(&sa->block, "\n");
	return 0;
}

/* -L, -R or -D: checked here, passed on in ssh's form. */
static int
sa_forward(struct sshargs *sa, int opt, const char *arg)
{
	struct fwd_spec	 fwd;
	enum fwd_kind	 kind;
	const char	*kw;
	char		*why = NULL;

	switch (opt) {
	case 'L':
		kind = FWD_LOCAL;
		kw = "LocalForward";
		break;
	case 'R':
		kind = FWD_REMOTE;
		kw = "RemoteForward";
		break;
	default:
		kind = FWD_DYNAMIC;
		kw = "DynamicForward";
		break;
	}
	if (cfg_parse_forward(kind, arg, NULL, &fwd, &why) != 0) {
		sa_error(sa, "bad forwarding specification -%c %s: %s", opt,
		    arg, why);
		free(why);
		return -1;
	}
	fwd_spec_clear(&fwd);
	return sa_add(sa, kw, arg);
}

/*
 * -o "Key=Value" or -o "Key Value": "Key Value" as written, for the parser
 * to split and unquote as it does a line of the file.
 */
static int
sa_option(struct sshargs *sa, const char *arg)
{
	const char	*key, *value;
	size_t		 len;

	key = arg + strspn(arg, " \t");
	len = strcspn(key, " \t=");
	if (len == 0 || strchr(key, '\n') != NULL)
		return sa_error(sa, "bad -o option: %s", arg);
	value = key + len;
	value += strspn(value, " \t");
	if (*value == '=')
		value++;
	value += strspn(value, " \t");
	if (*value == '\0')
		return sa_error(sa, "-o %.*s needs a value", (int)len, key);
	sb_printf(&sa->block, "%.*s %s\n", (int)len, key, value);
	return 0;
}

/* [user@]host or ssh://[user@]host[:port]. */
static int
sa_destination(struct sshargs *sa, const char *arg)
{
	char	*copy, *host, *at, *cp, *port = NULL;
	int	 r = -1;

	copy = xstrdup(arg);
	host = copy;
	if (strncmp(host, "ssh://", 6) == 0) {
		host += 6;
		if ((cp = strrchr(host, ':')) != NULL &&
		    strchr(cp, ']') == NULL) {
			*cp++ = '\0';
			port = cp;
		}
	}
	if ((at = strrchr(host, '@')) != NULL) {
		*at = '\0';
		if (*host == '\0') {
			sa_error(sa, "empty user in %s", arg);
			goto out;
		}
		if (sa_add(sa, "User", host) != 0)
			goto out;
		host = at + 1;
	}
	if (*host == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		host++;
	}
	if (*host == '\0') {
		sa_error(sa, "empty host in %s", arg);
		goto out;
	}
	if (sa_add(sa, "HostName", host) != 0 ||
	    (port != NULL && sa_add(sa, "Port", port) != 0))
		goto out;
	r = 0;
out:
	free(copy);
	return r;
}

/*
 * The ssh options understood besides -L -R -D -o and autossh's -M: the
 * keyword each one becomes, with its argument or a fixed value; NULL for
 * the ones tunsupd always behaves as (-N -T -f -n) or that are noise.
 */
static const struct sa_opt {
	int		 opt;
	int		 has_arg;
	const char	*keyword;
	const char	*value;
} sa_opts[] = {
	{ 'L', 1, NULL,			NULL },
	{ 'R', 1, NULL,			NULL },
	{ 'D', 1, NULL,			NULL },
	{ 'o', 1, NULL,			NULL },
	{ 'M', 1, NULL,			NULL },
	{ 'J', 1, "ProxyJump",		NULL },
	{ 'p', 1, "Port",		NULL },
	{ 'i', 1, "IdentityFile",	NULL },
	{ 'l', 1, "User",		NULL },
	{ 'c', 1, "Ciphers",		NULL },
	{ 'F', 1, "SshConfig",		NULL },
	{ 'C', 0, "Compression",	"yes" },
	{ 'g', 0, "GatewayPorts",	"yes" },
	{ 'N', 0, NULL,			NULL },
	{ 'T', 0, NULL,			NULL },
	{ 'f', 0, NULL,			NULL },
	{ 'n', 0, NULL,			NULL },
	{ 'q', 0, NULL,			NULL },
	{ 'v', 0, NULL,			NULL },
};

static const struct sa_opt *
sa_opt_find(int c)
{
	size_t	 i;

	for (i = 0; i < nitems(sa_opts); i++) {
		if (sa_opts[i].opt == c)
			return &sa_opts[i];
	}
	return NULL;
}

static int
sa_one(struct sshargs *sa, const struct sa_opt *o, const char *arg)
{
	switch (o->opt) {
	case 'L':
	case 'R':
	case 'D':
		return sa_forward(sa, o->opt, arg);
	case 'o':
		return sa_option(sa, arg);
	case 'M':
		if (sa->note == NULL)
			sa->note = xstrdup("autossh -M ignored: tunsupd probes "
			    "liveness itself");
		return 0;
	}
	if (o->keyword == NULL)
		return 0;
	return sa_add(sa, o->keyword, o->has_arg ? arg : o->value);
}

int
sshargs_translate(int argc, char *const *argv, char **block, char **note,
    char **err)
{
	struct sshargs		 sa;
	const struct sa_opt	*o;
	const char		*opt, *arg;
	int			 i, have_dest = 0;

	memset(&sa, 0, sizeof(sa));
	*block = *note = *err = NULL;
	for (i = 0; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			if (have_dest) {
				sa_error(&sa, "unexpected argument %s (remote "
				    "commands are not supported)", argv[i]);
				goto fail;
			}
			if (sa_destination(&sa, argv[i]) != 0)
				goto fail;
			have_dest = 1;
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			continue;
		for (opt = argv[i] + 1; *opt != '\0'; opt++) {
			if ((o = sa_opt_find(*opt)) == NULL) {
				sa_error(&sa, "unsupported ssh option -%c",
				    *opt);
				goto fail;
			}
			arg = NULL;
			if (o->has_arg) {
				if (opt[1] != '\0')
					arg = opt + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else {
					sa_error(&sa, "option -%c needs an "
					    "argument", *opt);
					goto fail;
				}
			}
			if (sa_one(&sa, o, arg) != 0)
				goto fail;
			if (arg != NULL)
				break;	/* the rest of the word was the value */
		}
	}
	if (!have_dest) {
		sa_error(&sa, "missing [user@]host");
		goto fail;
	}
	*block = sa.block.s;
	*note = sa.note;
	return 0;

fail:
	free(sa.block.s);
	free(sa.note);
	*err = sa.err;
	return -1;
}
