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
 * sshchan.c: the byte pumps between a session's channels and local sockets.
 *
 * With src/sshconn.c (the session, global requests, channel opens), the
 * only file that calls libssh; include/sshconn_int.h is what they share.
 * What libssh does shapes the pumps (doc/design.md, "libssh facts"):
 *
 * - libssh writes its output buffer with a blocking send(), so no channel
 *   is fed while the session has output pending (the output gate), and a
 *   pump writes no more at a time than the room the kernel has.
 * - The bytes a channel write did not take are kept and retried (writes
 *   return 0 during key re-exchange).
 * - Data libssh reads for a channel arrives through chan_data_cb from
 *   inside any libssh call that polls, straight from the packet with the
 *   bundled libssh; what the socket does not take waits in the pump's
 *   ring, and what the ring does not take is left in libssh ("held") and
 *   pulled by chan_pump_down later (doc/design.md, "The receive path"). A
 *   data hook reads the channel, so it runs after the poll, from
 *   chan_pump_all, when libssh has buffered the data.
 * - Callbacks fire re-entrantly from libssh calls: each entry from the loop
 *   is bracketed by sc_enter/sc_leave, and closed channels are only freed
 *   by the session (sc_reap) once the outermost entry has returned.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "sshconn.h"
#include "sshconn_int.h"
#include "util.h"

/*
 * fd -> channel: one read() takes up to 8 packets, which the pump then
 * sends as the room allows: a quarter of the wake-ups of 64 KiB reads.
 */
#define PUMP_BUF	(256 * 1024)
/*
 * channel -> fd: what one poll round's packets leave for a socket is
 * written with one write() after the round (chan_flush_all), up to as much
 * as libssh reads from the session socket at a time (doc/design.md, "The
 * receive path"). While the socket is full, what arrives goes behind what
 * waits for it, into a ring that grows to DOWN_MAX: with the bundled
 * libssh the window counts what the ring holds (recv-window-held.patch), so
 * the server never has more than a window in flight and in the ring
 * together, and libssh holds none of it. Without that patch the ring stays
 * at DOWN_ROUND and libssh keeps the rest, copied in and out again.
 */
#define DOWN_ROUND	(256 * 1024)
#ifdef HAVE_SSH_WINDOW_HELD
#define DOWN_MAX	(4 * 1024 * 1024)	/* recv-window-4m.patch */
#else
#define DOWN_MAX	DOWN_ROUND
#endif
/*
 * The pump hands libssh as much as the window and the socket's room allow,
 * up to the whole read, told that the socket is writable
 * (ssh_set_fd_towrite). The bundled libssh sends the packets of one write
 * with one send() (send-batch.patch); unpatched, it sends the first at
 * once and forgets that the socket was writable, so the others wait for
 * the poll() of its flush at the end of the write: two send()s instead of
 * one a packet. Each send wakes the server: with one a packet it spent a
 * tenth to a quarter more CPU per GiB receiving (doc/libssh.md, "One send
 * a write").
 * OpenSSH's channel packets carry 32 KiB; the read is a whole number of
 * them.
 */
#define CHAN_PACKET	(32 * 1024)

static int	chan_data_cb(ssh_session, ssh_channel, void *, uint32_t, int,
		    void *);
static void	chan_eof_cb(ssh_session, ssh_channel, void *);
static void	chan_close_cb(ssh_session, ssh_channel, void *);
static void	chan_rio_cb(struct ev_loop *, ev_io *, int);
static void	chan_wio_cb(struct ev_loop *, ev_io *, int);
static void	chan_update(struct sshchan *);
static void	chan_finish(struct sshchan *);
static void	chan_pump_up(struct sshchan *);
static void	chan_pump_down(struct sshchan *);
static size_t	chan_data_take(struct sshchan *, const char *, uint32_t);
static size_t	chan_data_now(struct sshchan *, const char *, uint32_t);
static size_t	chan_data_behind(struct sshchan *, const char *, uint32_t);

/* ---- a channel's life ------------------------------------------------ */

struct sshchan *
chan_new(struct sshconn *c, ssh_channel ch)
{
	struct sshchan	*sc;

	sc = xcalloc(1, sizeof(*sc));
	sc->c = c;
	sc->ch = ch;
	sc->fd = -1;
	ssh_callbacks_init(&sc->cbs);
	sc->cbs.userdata = sc;
	sc->cbs.channel_data_function = chan_data_cb;
	sc->cbs.channel_eof_function = chan_eof_cb;
	sc->cbs.channel_close_function = chan_close_cb;
	ssh_add_channel_callbacks(ch, &sc->cbs);
	TAILQ_INSERT_TAIL(&c->chans, sc, entry);
	return sc;
}

void
chan_free(struct sshchan *sc)
{
	struct sshconn	*c = sc->c;

	TAILQ_REMOVE(&c->chans, sc, entry);
	ev_io_stop(c->loop, &sc->rio);
	ev_io_stop(c->loop, &sc->wio);
	if (sc->fd != -1)
		close(sc->fd);
	if (sc->ch != NULL) {
		ssh_remove_channel_callbacks(sc->ch, &sc->cbs);
		if (c->s != NULL && c->phase == SC_READY) {
			/* libssh keeps it until the peer's CLOSE. */
			if (ssh_channel_is_open(sc->ch))
				ssh_channel_close(sc->ch);
			ssh_channel_free(sc->ch);
		}
	}
	if (sc->ctr != NULL && sc->ctr->active > 0)
		sc->ctr->active--;
	free(sc->up);
	free(sc->down);
	free(sc->host);
	free(sc->path);
	free(sc->orig_host);
	free(sc);
}

/* ---- what the forwards call ----------------------------------------- */

void
sshchan_set_data_hook(struct sshchan *sc, void (*fn)(void *, struct sshchan *),
    void *arg)
{
	sc->data_hook = fn;
	sc->data_arg = arg;
}

int
sshchan_write_raw(struct sshchan *sc, const void *buf, size_t len)
{
	int	 n;

	if (sc->state != CH_OPEN || sc->ch == NULL)
		return -1;
	n = ssh_channel_write(sc->ch, buf, (uint32_t)len);
	sc_update_io(sc->c);
	return n;
}

int
sshchan_read_raw(struct sshchan *sc, void *buf, size_t len)
{
	int	 n;

	if (sc->state != CH_OPEN || sc->ch == NULL)
		return -1;
	n = ssh_channel_read_nonblocking(sc->ch, buf, (uint32_t)len, 0);
	if (n > 0)
		sc->held -= (size_t)n < sc->held ? (size_t)n : sc->held;
	if (n == 0 && (sc->ch_closed || ssh_channel_is_eof(sc->ch)))
		return -1;
	return n < 0 ? -1 : n;
}

/*
 * The down ring is empty and a copy from src (NULL: not known) starts a
 * fill. A session's packets keep their place in libssh's buffer and fill
 * ours one after the other, 32 KiB apart, so one unlucky pair of addresses
 * made every copy of a process one of copy_skew()'s slow ones: the fill
 * starts where it is not.
 */
static void
chan_down_start(struct sshchan *sc, const void *src)
{
	if (sc->down == NULL) {
		sc->down = xmalloc(DOWN_ROUND);
		sc->down_cap = DOWN_ROUND;
	}
	sc->down_off = src != NULL ? copy_skew(sc->down, src) : 0;
}

/*
 * How much of n bytes from src the down ring (started: chan_down_start)
 * takes, grown for them up to DOWN_MAX (its size stays a multiple of 4 KiB,
 * so that a wrap does not move a copy into copy_skew()'s slow case).
 */
static size_t
down_room(struct sshchan *sc, size_t n, const void *src)
{
	size_t	 cap, first, off;
	char	*mem;

	cap = sc->down_cap;
	while (cap < DOWN_MAX && cap - sc->down_len < n)
		cap *= 2;
	if (cap > sc->down_cap) {
		/* What waits, in a row; the next copy from src not slowed. */
		mem = xmalloc(cap);
		off = copy_skew(mem + sc->down_len, src);
		first = sc->down_cap - sc->down_off;
		if (first > sc->down_len)
			first = sc->down_len;
		memcpy(mem + off, sc->down + sc->down_off, first);
		memcpy(mem + off + first, sc->down, sc->down_len - first);
		free(sc->down);
		sc->down = mem;
		sc->down_cap = cap;
		sc->down_off = off;
	}
	return n < cap - sc->down_len ? n : cap - sc->down_len;
}

/* The window counts what the down ring holds (recv-window-held.patch). */
static void
down_tell(struct sshchan *sc, size_t bytes)
{
#ifdef HAVE_SSH_WINDOW_HELD
	if (sc->ch != NULL)
		(void)ssh_channel_set_window_held(sc->ch, (uint32_t)bytes);
#else
	(void)sc;
	(void)bytes;
#endif
}

/* n bytes more in the down ring: count them, and tell the window. */
static void
down_took(struct sshchan *sc, size_t n)
{
	sc->down_len += n;
	sc->down_fill += n;
	if (sc->ctr != NULL)
		sc->ctr->bytes_in += n;
	down_tell(sc, sc->down_len);
}

/* Append n bytes (down_room() said they fit). */
static void
down_put(struct sshchan *sc, const char *data, size_t n)
{
	size_t	 tail, first;

	if (n == 0)
		return;
	tail = (sc->down_off + sc->down_len) % sc->down_cap;
	first = sc->down_cap - tail < n ? sc->down_cap - tail : n;
	memcpy(sc->down + tail, data, first);
	memcpy(sc->down, data + first, n - first);
	down_took(sc, n);
}

void
sshchan_unread(struct sshchan *sc, const void *buf, size_t len)
{
	(void)chan_data_behind(sc, buf, len);
}

/* Bytes read ahead of the channel (a few), to be sent first. */
void
sshchan_preload(struct sshchan *sc, const void *buf, size_t len)
{
	if (len == 0)
		return;
	if (sc->up == NULL)
		sc->up = xmalloc(PUMP_BUF);
	if (len > PUMP_BUF - sc->up_len)
		len = PUMP_BUF - sc->up_len;
	memcpy(sc->up + sc->up_len, buf, len);
	sc->up_len += len;
}

void
sshchan_attach(struct sshchan *sc, int fd, struct pump_counters *ctr)
{
	struct sshconn	*c = sc->c;

	sc->fd = fd;
	sc->ctr = ctr;
	if (ctr != NULL) {
		ctr->active++;
		ctr->total++;
		ctr->bytes_in += sc->down_len;	/* unread bytes */
	}
	ev_io_init(&sc->rio, NULL, fd, EV_READ);
	ev_io_init(&sc->wio, NULL, fd, EV_WRITE);
	sc->rio.data = sc->wio.data = sc;
	sc_enter(c);
	chan_pump_up(sc);	/* preloaded bytes, if any */
	chan_pump_down(sc);	/* what arrived before the fd */
	chan_update(sc);
	sc_leave(c);
}

void
sshchan_close(struct sshchan *sc)
{
	if (sc->state == CH_DONE)
		return;
	sc->state = CH_DONE;
	sc->open_cb = NULL;
	sc->data_hook = NULL;
	ev_io_stop(sc->c->loop, &sc->rio);
	ev_io_stop(sc->c->loop, &sc->wio);
	if (sc->c->root->depth == 0)
		sc_kick(sc->c);
}

/* ---- the pumps ------------------------------------------------------ */

/* Both directions are finished, or one failed: close it for both sides. */
static void
chan_finish(struct sshchan *sc)
{
	sshchan_close(sc);
}

/*
 * An empty buffer whose last fill was small goes back: a connection that is
 * not a bulk transfer (a shell, a request now and then) keeps none of its
 * 256 KiB between bursts; a bulk one keeps them.
 */
static void
chan_trim(struct sshchan *sc)
{
	if (sc->up != NULL && sc->up_len == 0 && sc->up_last < PUMP_BUF / 4) {
		free(sc->up);
		sc->up = NULL;
	}
	if (sc->down != NULL && sc->down_len == 0 && !sc->reading &&
	    sc->down_last < DOWN_ROUND / 4) {
		free(sc->down);
		sc->down = NULL;
	}
}

/* Watchers follow the buffers (as sniproxy's reactivate_watchers). */
static void
chan_update(struct sshchan *sc)
{
	struct ev_loop	*loop = sc->c->loop;
	int		 want_r, want_w;

	if (sc->state != CH_OPEN || sc->fd == -1)
		return;
	chan_trim(sc);
	want_r = !sc->fd_eof && sc->up_len == 0;
	want_w = sc->down_len > 0 && !sc->flush_due;
	if (want_r && !ev_is_active(&sc->rio)) {
		ev_set_cb(&sc->rio, chan_rio_cb);
		ev_io_start(loop, &sc->rio);
	} else if (!want_r && ev_is_active(&sc->rio))
		ev_io_stop(loop, &sc->rio);
	if (want_w && !ev_is_active(&sc->wio)) {
		ev_set_cb(&sc->wio, chan_wio_cb);
		ev_io_start(loop, &sc->wio);
	} else if (!want_w && ev_is_active(&sc->wio))
		ev_io_stop(loop, &sc->wio);
	/* Finished both ways? */
	if (sc->eof_sent && (sc->fd_shut || sc->ch_closed) && !sc->held &&
	    sc->down_len == 0)
		chan_finish(sc);
}

/* fd -> channel, respecting the output gate and the window. */
static void
chan_pump_up(struct sshchan *sc)
{
	struct sshconn	*c = sc->c;
	uint32_t	 win;
	size_t		 n, room = 0;
	int		 w;

	while (sc->state == CH_OPEN && sc->up_off < sc->up_len) {
		if (sc_gate_closed(c))
			return;		/* libssh still has output */
		/* The kernel is asked only when our own count runs short. */
		if (room < ROOM_MIN && (room = sc_sock_room(c)) < ROOM_MIN) {
			c->want_room = 1;	/* EV_WRITE wakes us */
			return;
		}
		if ((win = ssh_channel_window_size(sc->ch)) == 0)
			return;
		n = sc->up_len - sc->up_off;
		if (n > win)
			n = win;
		/*
		 * Leave room for the packets' headers, padding and MACs
		 * (about 60 bytes for each 32 KiB).
		 */
		if (n > room - room / 64 - ROOM_MIN / 2)
			n = room - room / 64 - ROOM_MIN / 2;
		/* It fits (room above): libssh may send it at once. */
		ssh_set_fd_towrite(c->s);
		w = ssh_channel_write(sc->ch, sc->up + sc->up_off,
		    (uint32_t)n);
		if (w < 0) {
			chan_finish(sc);
			return;
		}
		if (w == 0)
			return;		/* rekey: keep the bytes, retry */
		/* the packets, at most (the bound on n keeps it >= 0) */
		room -= (size_t)w + (size_t)w / 64 + ROOM_MIN / 2;
		sc->up_off += (size_t)w;
		if (sc->ctr != NULL)
			sc->ctr->bytes_out += (uint64_t)w;
	}
	if (sc->state != CH_OPEN)
		return;
	if (sc->up_off == sc->up_len) {
		sc->up_off = sc->up_len = 0;
		if (sc->fd_eof && !sc->eof_sent) {
			ssh_channel_send_eof(sc->ch);
			sc->eof_sent = 1;
		}
	}
}

static void
chan_rio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sshchan	*sc = w->data;
	struct sshconn	*c = sc->c;
	ssize_t		 n;

	sc_enter(c);
	if (sc->up == NULL)
		sc->up = xmalloc(PUMP_BUF);
	n = read(sc->fd, sc->up, PUMP_BUF / CHAN_PACKET * CHAN_PACKET);
	if (sc->carries != NULL && sc->carries->phase == SC_READY)
		sc_kick(sc->carries);	/* room again */
	if (n > 0) {
		sc->up_len = sc->up_last = (size_t)n;
		sc->up_off = 0;
	} else if (n == 0) {
		sc->fd_eof = 1;
	} else if (errno != EAGAIN && errno != EINTR) {
		chan_finish(sc);
		goto out;
	}
	chan_pump_up(sc);
	chan_update(sc);
	sc_update_io(c);
out:
	sc_leave(c);
}

static int
chan_write_fd(struct sshchan *sc)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	size_t		 first, before = sc->down_len;
	int		 rc = 0;

	sc->flush_due = 0;
	while (sc->down_len > 0) {
		first = sc->down_cap - sc->down_off;
		if (first > sc->down_len)
			first = sc->down_len;
		iov[0].iov_base = sc->down + sc->down_off;
		iov[0].iov_len = first;
		iov[1].iov_base = sc->down;
		iov[1].iov_len = sc->down_len - first;
		n = writev(sc->fd, iov, iov[1].iov_len > 0 ? 2 : 1);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				rc = -1;
			break;
		}
		sc->down_off = (sc->down_off + (size_t)n) % sc->down_cap;
		sc->down_len -= (size_t)n;
	}
	if (sc->down_len == 0) {
		sc->down_last = sc->down_fill;
		sc->down_fill = 0;
		sc->down_off = 0;
	}
	if (sc->down_len < before)
		down_tell(sc, sc->down_len);
	return rc;
}

/*
 * channel -> fd: pull what libssh holds for us, write it out. Only what it
 * holds: a read with nothing held would read the session socket, and the
 * callback would have to leave every packet of it to libssh, which then
 * copies it into the channel's buffer and again into ours. New data comes
 * through the poll round, with one copy (doc/design.md, "The receive
 * path").
 */
static void
chan_pump_down(struct sshchan *sc)
{
	int	 n;

	while (sc->state == CH_OPEN && sc->fd != -1) {
		if (chan_write_fd(sc) != 0) {
			chan_finish(sc);
			return;
		}
		if (sc->down_len > 0)
			return;		/* the fd is full: wait for EV_WRITE */
		if (!sc->held && !sc->ch_eof && !sc->ch_closed)
			return;
		chan_down_start(sc, NULL);	/* libssh's buffer: not known */
		/*
		 * Held data or the peer's EOF: the read does not poll (were it
		 * to handle packets, their callback must not fill the buffer
		 * that the read then copies into), and it tops the window up
		 * at once: the window is told first what the ring will hold.
		 */
		down_tell(sc, sc->held < DOWN_ROUND ? sc->held : DOWN_ROUND);
		sc->reading = 1;
		n = ssh_channel_read_nonblocking(sc->ch, sc->down, DOWN_ROUND, 0);
		sc->reading = 0;
		if (sc->state != CH_OPEN)
			return;
		if (n > 0) {
			sc->held -= (size_t)n < sc->held ? (size_t)n : sc->held;
			down_took(sc, (size_t)n);
			continue;
		}
		down_tell(sc, 0);
		sc->held = 0;
		if (n == 0 && !ssh_channel_is_eof(sc->ch))
			return;		/* nothing more for now */
		/* EOF (or closed) and every byte delivered. */
		if (!sc->fd_shut) {
			shutdown(sc->fd, SHUT_WR);
			sc->fd_shut = 1;
		}
		if (n < 0 && n != SSH_EOF)
			chan_finish(sc);
		return;
	}
}

static void
chan_wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sshchan	*sc = w->data;
	struct sshconn	*c = sc->c;

	sc_enter(c);
	chan_pump_down(sc);
	chan_update(sc);
	sc_update_io(c);
	sc_leave(c);
}

/*
 * libssh offers the callback all it holds for the channel (the packet's data
 * where it lies when it holds nothing else) and keeps what the callback
 * leaves: so what is left is what it holds.
 */
static int
chan_data_cb(ssh_session s, ssh_channel ch, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct sshchan	*sc = userdata;
	size_t		 n;

	if (is_stderr)
		return (int)len;	/* nothing to do with it */
	n = chan_data_take(sc, data, len);
	sc->held = len - n;
	return (int)n;
}

/* What the pump takes of the len bytes libssh holds for it. */
static size_t
chan_data_take(struct sshchan *sc, const char *data, uint32_t len)
{
	size_t	 n;

	if (sc->state == CH_DONE)
		return len;		/* nothing to do with it */
	if (sc->fd == -1) {
		/*
		 * Not attached yet (target still connecting) or a probe. The
		 * hook reads the channel, and the data is there only once we
		 * return (the bundled libssh offers it before it buffers it):
		 * it runs after the poll, from chan_pump_all.
		 */
		if (sc->data_hook != NULL) {
			sc->hook_due = 1;
			sc_kick(sc->c);
		}
		return 0;
	}
	if (sc->reading)
		return 0;		/* keep order: the ring goes first */
	if (sc->down_len > 0 && !sc->flush_due)
		return chan_data_behind(sc, data, len);
	if (!sc->c->polling)
		return chan_data_now(sc, data, len);
	/*
	 * Inside the poll round: collected, written once after it. A full
	 * round is written first; if the socket is full, the rest goes
	 * behind what waits.
	 */
	if (sc->down_len + len > DOWN_ROUND) {
		if (chan_write_fd(sc) != 0) {
			chan_finish(sc);
			return len;
		}
		if (sc->down_len > 0) {
			chan_update(sc);
			return chan_data_behind(sc, data, len);
		}
	}
	if (sc->down_len == 0)
		chan_down_start(sc, data);
	n = DOWN_ROUND - sc->down_len;
	if (n > len)
		n = len;
	n = down_room(sc, n, data);
	down_put(sc, data, n);
	sc->flush_due = 1;
	return n;
}

/*
 * The socket is full: into the ring behind what waits there, as far as it
 * has room; libssh keeps the rest.
 */
static size_t
chan_data_behind(struct sshchan *sc, const char *data, uint32_t len)
{
	size_t	 n;

	if (sc->down_len == 0)
		chan_down_start(sc, data);
	n = down_room(sc, len, data);
	down_put(sc, data, n);
	return n;
}

/*
 * Outside a poll round (a read or write of ours ran libssh's poll): straight
 * to the socket, the rest into the ring.
 */
static size_t
chan_data_now(struct sshchan *sc, const char *data, uint32_t len)
{
	size_t	 n;
	ssize_t	 w;

	w = write(sc->fd, data, len);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			chan_finish(sc);
			return len;
		}
		w = 0;
	}
	if (sc->ctr != NULL)
		sc->ctr->bytes_in += (size_t)w;
	n = (size_t)w;
	if (n < len)
		n += chan_data_behind(sc, data + n, len - n);
	chan_update(sc);
	return n;
}

/* After a poll round: write what its packets left in the pumps. */
void
chan_flush_all(struct sshconn *c)
{
	struct sshchan	*sc;

	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (!sc->flush_due)
			continue;
		if (sc->state != CH_OPEN || sc->fd == -1) {
			sc->flush_due = 0;
			continue;
		}
		if (chan_write_fd(sc) != 0)
			chan_finish(sc);
		else
			chan_update(sc);
	}
}

static void
chan_eof_cb(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sshchan	*sc = userdata;

	sc->ch_eof = 1;
	if (sc->data_hook != NULL)
		sc->data_hook(sc->data_arg, sc);
	if (sc->fd != -1 && sc->down_len == 0 && !sc->held) {
		shutdown(sc->fd, SHUT_WR);
		sc->fd_shut = 1;
	}
	chan_update(sc);
}

static void
chan_close_cb(ssh_session s, ssh_channel ch, void *userdata)
{
	struct sshchan	*sc = userdata;

	sc->ch_closed = 1;
	sc->ch_eof = 1;
	if (sc->data_hook != NULL)
		sc->data_hook(sc->data_arg, sc);
	if (sc->fd == -1 && sc->data_hook == NULL) {
		chan_finish(sc);
		return;
	}
	/* Our side can send no more; what libssh holds is still drained. */
	sc->eof_sent = 1;
	sc->fd_eof = 1;
	if (sc->fd != -1 && sc->down_len == 0 && !sc->held) {
		if (!sc->fd_shut)
			shutdown(sc->fd, SHUT_WR);
		sc->fd_shut = 1;
	}
	chan_update(sc);
}

/* After each poll: pumps stalled on the gate, the window or held data. */
void
chan_pump_all(struct sshconn *c)
{
	struct sshchan	*sc;

	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (sc->state != CH_OPEN || sc->fd == -1)
			continue;
		/* Only a pump with something to send asks the kernel. */
		if (sc->up_off == sc->up_len && (!sc->fd_eof || sc->eof_sent))
			continue;
		if (sc_gate_closed(c))
			break;
		if (sc_sock_room(c) < ROOM_MIN) {
			c->want_room = 1;
			break;
		}
		chan_pump_up(sc);
		chan_update(sc);
	}
	TAILQ_FOREACH(sc, &c->chans, entry) {
		if (sc->state == CH_OPEN && sc->hook_due) {
			sc->hook_due = 0;
			if (sc->data_hook != NULL && sc->fd == -1)
				sc->data_hook(sc->data_arg, sc);
		}
		if (sc->state != CH_OPEN || sc->fd == -1)
			continue;
		if ((sc->held || sc->ch_eof) && sc->down_len == 0) {
			chan_pump_down(sc);
			chan_update(sc);
		}
	}
}

