/*
 * Copyright (c) 2026 The tunsup authors
 *
 * Permission to use, copy, modify, and distribute this software for any
 * purpose with or without fee is hereby granted, provided that the above
 * copyright notice and this permission notice appear in all copies.
 *
 * THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
 * WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR
 * ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
 * WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN
 * ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF
 * OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THIS SOFTWARE.
 */
/*
 * cfg.h: the tunnel spec model and its parser (tunsupd.conf(5)).
 *
 * One parser serves the configuration file, the control "add" command and
 * "tunsupd -t/-T". Fields start unset (CFG_UNSET / NULL); the first value
 * obtained wins; tunnel blocks override the top-level defaults; then
 * cfg_fill_defaults() gives every field its effective value.
 */
#ifndef TUNSUP_CFG_H
#define TUNSUP_CFG_H

#include <sys/types.h>

#include <stddef.h>

#define CFG_UNSET	(-1)
#define TUNNEL_NAME_MAX	64

enum shk_mode {
	SHK_NO = 0,
	SHK_YES = 1,
	SHK_ACCEPT_NEW = 2,
};

enum fwd_kind {
	FWD_LOCAL = 0,		/* -L */
	FWD_REMOTE,		/* -R with a target */
	FWD_DYNAMIC,		/* -D */
	FWD_REMOTE_DYNAMIC,	/* -R without a target: reverse SOCKS */
	FWD_NKINDS
};

/*
 * A kind of forward, one entry per kind in forward_kinds.c: what it is (for
 * the parser, the dump, status) and what it does (forward.c runs ops). The
 * rest of the code asks these instead of naming kinds.
 */
#define FK_HERE		0x1	/* listens on this host, else on the server */
#define FK_SOCKS	0x2	/* the client names the target (SOCKS) */

struct forward_ops;

struct fwd_kind_info {
	const char		 *name;		/* in status and metrics */
	const char		 *keyword;	/* "LocalForward" */
	int			  flags;	/* FK_* */
	const struct forward_ops *ops;		/* forward_kind.h */
};

/* One side of a forward: a TCP host:port or a unix socket path. */
struct fwd_endpoint {
	char	*host;	/* NULL when not given; "" for "*" or an empty bind */
	int	 port;	/* TCP port, 0 = let the server pick (remote); -1 if path */
	char	*path;	/* unix socket path, else NULL */
};

struct fwd_spec {
	enum fwd_kind		 kind;
	struct fwd_endpoint	 listen;
	struct fwd_endpoint	 target;	/* FWD_LOCAL and FWD_REMOTE only */
	/*
	 * How status shows it: "localhost:2220", "[::1]:8080", "*:80",
	 * "/run/x.sock". For a remote forward the host part is the bind string
	 * sent to the server (OpenSSH's: "localhost" when none was given).
	 */
	char			*listen_str;
	char			*target_str;	/* "localhost:22", or NULL */
};

struct jump_hop {
	char	 *user;	/* NULL: the tunnel's User */
	char	 *host;
	int	  port;	/* 22 when not given */
	/* Resolved through SshConfig; when NULL or 0, the tunnel's are used. */
	char	**identity_files;
	size_t	  nidentity_files;
	char	 *host_key_alias;
	char	 *user_known_hosts_file;
};

struct tunnel_spec {
	char		 *name;
	char		 *file;		/* where the Tunnel line is ("add": "<add>") */
	int		  line;

	int		  enabled;
	char		 *hostname;	/* default: the tunnel name */
	int		  port;		/* default 22 */
	char		 *user;		/* default: the daemon's user */
	char		**identity_files;	/* accumulate; ~ expanded */
	size_t		  nidentity_files;
	char		**certificate_files;	/* accumulate; ~ expanded */
	size_t		  ncertificate_files;
	char		 *identity_passphrase_file; /* path, "credential:NAME" */
	char		 *password_file;	/* path, "credential:NAME" */
	int		  identities_only;
	char		 *identity_agent;	/* path, "none"; default $SSH_AUTH_SOCK */
	char		 *user_known_hosts_file;	/* default ~/.ssh/known_hosts */
	int		  strict_host_key_checking;	/* enum shk_mode */
	char		 *host_key_alias;
	struct jump_hop	 *jumps;		/* ProxyJump chain, outermost first */
	size_t		  njumps;
	/* FallbackHost, in order (user NULL: User; port: Port). */
	struct jump_hop	 *fallbacks;
	size_t		  nfallbacks;
	long		  connect_timeout_ms;		/* default 30s */
	long		  server_alive_interval_ms;	/* default 15s; 0 = off */
	int		  server_alive_count_max;	/* default 3 */
	struct fwd_spec	 *forwards;		/* accumulate */
	size_t		  nforwards;
	int		  exit_on_forward_failure;
	int		  gateway_ports;
	int		  stream_local_bind_unlink;
	char		 *ciphers;
	int		  compression;
	long		  retry_min_ms;		/* default 1s */
	long		  retry_max_ms;		/* default 60s */
	long		  retry_network_max_ms;	/* default 5s */
	int		  forward_probe;	/* default yes */
	char		 *ssh_config;		/* path or NULL ("none") */
	char		 *proxy_command;	/* for /bin/sh, or NULL ("none") */
	int		  proxy_use_fdpass;	/* it passes a socket back */
	/* ssh_config(5) keywords with the same meaning (see tunsupd.conf(5)). */
	char		 *kex_algorithms;	/* NULL: libssh's defaults */
	char		 *host_key_algorithms;
	char		 *pubkey_accepted_algorithms;
	char		 *macs;
	long		  rekey_data;		/* bytes; 0: the cipher's default */
	long		  rekey_time_ms;	/* 0: none */
	int		  tcp_keep_alive;	/* default yes */
	char		 *bind_address;		/* numeric, or NULL */
	char		 *bind_interface;	/* or NULL */
	int		  address_family;	/* enum cfg_af */
	int		  hash_known_hosts;	/* default no */
	int		  required_rsa_size;	/* default 1024 */
	char		 *ignore_unknown;	/* patterns; parsing only */
	char		 *event_command;	/* for /bin/sh, or NULL ("none") */
	long		  event_command_timeout_ms;	/* default 10s */
	char		 *local_command;	/* for /bin/sh, or NULL ("none") */
	int		  permit_local_command;	/* default no */
	long		  forward_probe_interval_ms; /* 0: every keepalive round */
};

enum cfg_af {
	CFG_AF_ANY = 0,
	CFG_AF_INET,
	CFG_AF_INET6,
};

/* Error messages, each "file:line: message". */
struct cfg_errors {
	char	**msg;
	size_t	  n;
};

struct cfg {
	char			 *path;
	char			 *control_group;	/* top level only */
	char			 *state_file;	/* top level only; NULL: default */
	char			 *metrics_listen;	/* top level only, or NULL */
	/*
	 * Lines before the first Tunnel, as parsed (not filled: unset fields
	 * stay CFG_UNSET/NULL; "none" may be kept as the string "none").
	 */
	struct tunnel_spec	  defaults;
	struct tunnel_spec	**tunnels;
	size_t			  ntunnels;
	/* "file:line: ignored: ..." for keywords tunsupd cannot honour. */
	struct cfg_errors	  warnings;
};


void	cfg_errors_add(struct cfg_errors *, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	cfg_errors_clear(struct cfg_errors *);
/* All messages joined with newlines (caller frees), or NULL if none. */
char	*cfg_errors_join(const struct cfg_errors *);

/*
 * Parse a file (and its Includes). Returns NULL and fills errs on any error:
 * a file with an error is never half-applied.
 */
struct cfg	*cfg_load(const char *path, struct cfg_errors *errs);
/* The same, from a string (tests, fuzzers); name is used in messages. */
struct cfg	*cfg_load_string(const char *name, const char *text,
		    struct cfg_errors *errs);
void		 cfg_free(struct cfg *);
/* Remove tunnel i from cfg and hand it to the caller. */
struct tunnel_spec *cfg_take_tunnel(struct cfg *, size_t i);

/*
 * Parse the body of one tunnel block (the control "add" command): lines
 * separated by newlines, no "Tunnel" line. base (may be NULL) supplies the
 * top-level defaults. Returns a filled spec or NULL with errs set; what
 * -t would warn of ("ignored: ...") goes to warns (may be NULL).
 */
struct tunnel_spec *cfg_parse_tunnel(const struct cfg *base, const char *name,
		    const char *text, struct cfg_errors *errs,
		    struct cfg_errors *warns);

/* One line of a tunnel block and the user's words it came from. */
struct cfg_line {
	char	*text;		/* "Port 2222" */
	char	*origin;	/* "-p 2222": messages read "origin: message" */
};
/*
 * The same from separate lines: a message about a line names its origin,
 * one about the whole tunnel file:line (the place of its "Tunnel" line).
 */
struct tunnel_spec *cfg_parse_tunnel_lines(const struct cfg *base,
		    const char *name, const char *file, int line,
		    const struct cfg_line *lines, size_t n,
		    struct cfg_errors *errs, struct cfg_errors *warns);
/* 1 if name is a keyword of the parser's table (any case), else 0. */
int	cfg_keyword_known(const char *name);

void	tunnel_spec_free(struct tunnel_spec *);
/* The effective configuration of a tunnel as "keyword value" lines (-T). */
char	*tunnel_spec_dump(const struct tunnel_spec *);
/* 1 if both specs mean the same tunnel (reload keeps it), else 0. */
int	tunnel_spec_equal(const struct tunnel_spec *, const struct tunnel_spec *);
/* The same, their forwards aside (reload changes those in the session). */
int	tunnel_spec_equal_but_forwards(const struct tunnel_spec *,
	    const struct tunnel_spec *);
/* A copy, as filled as the original. */
struct tunnel_spec *tunnel_spec_copy(const struct tunnel_spec *);
/*
 * One forward line of t's block ("LocalForward 8080 db:5432", or ssh's
 * one-argument form), filled as t's own are (GatewayPorts): tunsupctl
 * forward and cancel, the state file. 0, or -1 with *err (caller frees).
 */
int	tunnel_spec_parse_forward(const struct tunnel_spec *, const char *line,
	    struct fwd_spec *, char **err);
/* 1 if a and b are the same forward (kind, listen, target), else 0. */
int	fwd_spec_equal(const struct fwd_spec *, const struct fwd_spec *);
/*
 * The index of t's forward equal to fwd, or with clash set of the one that
 * listens where fwd would (on the same side); -1 if none.
 */
ssize_t	tunnel_spec_forward_find(const struct tunnel_spec *,
	    const struct fwd_spec *, int clash);
/* Append fwd to t's forwards (its contents taken, fwd zeroed); drop one. */
void	tunnel_spec_add_forward(struct tunnel_spec *, struct fwd_spec *);
void	tunnel_spec_drop_forward(struct tunnel_spec *, size_t i);
/*
 * The i-th keyword of the parser's table (NULL past the end); *top_only is
 * set for the ones that are not part of a tunnel (Tunnel, Include,
 * ControlGroup). For tests that must cover every keyword.
 */
const char *cfg_keyword(size_t i, int *top_only);

/* A string that grows (the dump, sshargs' blocks); start it zeroed. */
struct strbuf {
	char	*s;
	size_t	 len;
	size_t	 size;
};
void	sb_printf(struct strbuf *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* " arg", quoted and escaped where the parser would otherwise split it. */
void	sb_arg(struct strbuf *, const char *arg);

/* Valid tunnel name: [A-Za-z0-9._-]{1,64}. */
int	tunnel_name_valid(const char *);

/* "30", "30s", "5m", "1h30m", "500ms" -> milliseconds. 0 or -1. */
int	cfg_parse_time(const char *, long *ms);
/*
 * Parse forward arguments as ssh does: arg2 is NULL for DynamicForward and
 * reverse SOCKS. Fills fwd (caller frees with fwd_spec_clear). 0, or -1
 * with *err set (caller frees).
 * With arg2 NULL, FWD_LOCAL and FWD_REMOTE also take ssh's one-argument
 * command-line form ("8080:db:5432", "bind:2220:localhost:22"); FWD_REMOTE
 * with only "[bind:]port" becomes FWD_REMOTE_DYNAMIC.
 * listen.host: NULL for a local/dynamic forward without a bind address
 * (bind loopback, or all with GatewayPorts: the fill step sets listen_str),
 * "localhost" for a remote one without (what OpenSSH sends), "" for "*".
 */
int	cfg_parse_forward(enum fwd_kind, const char *arg1, const char *arg2,
	    struct fwd_spec *fwd, char **err);
void	fwd_spec_clear(struct fwd_spec *);
const struct fwd_kind_info *fwd_kind_info(enum fwd_kind);
/* The kind whose status name is name ("local" ...), or NULL. */
const struct fwd_kind_info *fwd_kind_by_name(const char *name);
const char *fwd_kind_name(enum fwd_kind);	/* "local", "remote", ... */

/* Shared with sshconfig.c, which reads ssh_config files with them. */
#define CFG_MAX_ARGS	16
/* Split a line as ssh_config(5): up to CFG_MAX_ARGS arguments, or -1. */
int	 cfg_split_line(char *line, char **kw, char **argv, const char **why);
/* A whole regular file: 0, or -1 with *why set (caller frees). */
int	 cfg_read_file(const char *path, char **text, char **why);
char	*cfg_expand_tilde(const char *path);	/* "~" and "~user" */
/*
 * A line's text after its keyword and separator, as it stands (quotes and
 * all), without trailing blanks, if the keyword is name; else NULL.
 */
char	*cfg_line_rest(const char *line, const char *name);
/* "[user@]host[:port],..." (port CFG_UNSET when not given). 0 or -1. */
int	 cfg_parse_jumps(const char *, struct jump_hop **, size_t *, char **err);
void	 cfg_jumps_free(struct jump_hop *, size_t);

#endif
