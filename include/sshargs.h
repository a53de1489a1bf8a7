/*
 * sshargs.h: an ssh (or autossh) command line as the lines of a tunnel
 * block, so that "tunsupctl add NAME -R 2220:localhost:22 tunnel@vpn -p 22"
 * means what ssh means by it (tunsupctl(1), add). Forward specifications are
 * checked with the configuration's own forward parser (cfg.h).
 */
#ifndef TUNSUP_SSHARGS_H
#define TUNSUP_SSHARGS_H

/*
 * Translate argc/argv (the options and [user@]host, without "ssh") into
 * keyword lines, each ending in a newline. Options may follow the
 * destination, as with GNU getopt; flags combine ("-fNT"); an argument may
 * be attached ("-p22") or the next word.
 * 0 with *block set (caller frees) and *note a remark for the user or NULL
 * (caller frees), or -1 with *err set (caller frees).
 */
int	sshargs_translate(int argc, char *const *argv, char **block,
	    char **note, char **err);

#endif
