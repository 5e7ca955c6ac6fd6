/* world: the fakes, the config and one run of the real binary under
 * libfaketime, for the soak driver and the damaged-state corpus. */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "soak.h"

/* A run that takes longer than this (real time) hangs. */
#define RUN_HANG_SECONDS 60

void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("soak: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

void *
xmalloc(size_t n)
{
	return xrealloc(NULL, n);
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void
sbuf_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void
sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof small) {
		sbuf_add(b, small, (size_t)n);
		return;
	}
	{
		char *big = xmalloc((size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		sbuf_add(b, big, (size_t)n);
		free(big);
	}
}

void
sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

uint64_t
rnd_next(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
rnd_below(uint64_t *st, uint64_t n)
{
	return n ? rnd_next(st) % n : 0;
}

int
rnd_chance(uint64_t *st, double p)
{
	return (double)(rnd_next(st) >> 11) / (double)(1ULL << 53) < p;
}

int
file_read(const char *path, struct sbuf *b)
{
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		sbuf_add(b, chunk, (size_t)n);
	close(fd);
	if (b->p == NULL)
		sbuf_add(b, "", 0);
	return n < 0 ? -1 : 0;
}

int
file_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char *c = p;

	if (fd < 0)
		return -1;
	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k <= 0) {
			close(fd);
			return -1;
		}
		c += k;
		n -= (size_t)k;
	}
	return close(fd);
}

/* ---- secrets as needles ---------------------------------------------- */

static void
add_needle(struct world *w, const char *s)
{
	size_t i;

	for (i = 0; i < w->nneedles; i++)
		if (strcmp(w->needles[i], s) == 0)
			return;
	w->needles = xrealloc(w->needles, (w->nneedles + 1) * sizeof *w->needles);
	w->needles[w->nneedles++] = xstrdup(s);
}

/* Every 4-character piece of s as raw text, percent-encoded (both
 * cases), JSON-escaped (short and \u00XX forms) and HTML-escaped. */
static void
add_secret(struct world *w, const char *s)
{
	size_t len = strlen(s), i, j;

	for (i = 0; i + 4 <= len; i++) {
		struct sbuf raw = { 0 }, pu = { 0 }, pl = { 0 }, js = { 0 }, ju = { 0 }, ht = { 0 };

		for (j = i; j < i + 4; j++) {
			unsigned char c = (unsigned char)s[j];
			int plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_' || c == '~';

			sbuf_add(&raw, &s[j], 1);
			if (plain) {
				sbuf_add(&pu, &s[j], 1);
				sbuf_add(&pl, &s[j], 1);
				sbuf_add(&ju, &s[j], 1);
			} else {
				sbuf_addf(&pu, "%%%02X", c);
				sbuf_addf(&pl, "%%%02x", c);
				sbuf_addf(&ju, "\\u%04x", c);
			}
			if (c == '"' || c == '\\' || c == '/')
				sbuf_addf(&js, "\\%c", c);
			else
				sbuf_add(&js, &s[j], 1);
			if (c == '&')
				sbuf_addf(&ht, "&amp;");
			else if (c == '<')
				sbuf_addf(&ht, "&lt;");
			else if (c == '>')
				sbuf_addf(&ht, "&gt;");
			else if (c == '"')
				sbuf_addf(&ht, "&quot;");
			else if (c == '\'')
				sbuf_addf(&ht, "&#039;");
			else
				sbuf_add(&ht, &s[j], 1);
		}
		add_needle(w, raw.p);
		add_needle(w, pu.p);
		add_needle(w, pl.p);
		add_needle(w, js.p);
		add_needle(w, ju.p);
		add_needle(w, ht.p);
		sbuf_free(&raw);
		sbuf_free(&pu);
		sbuf_free(&pl);
		sbuf_free(&js);
		sbuf_free(&ju);
		sbuf_free(&ht);
	}
}

static const char *
find_bytes(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle), i;

	if (k == 0 || k > n)
		return NULL;
	for (i = 0; i + k <= n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
			return hay + i;
	return NULL;
}

const char *
secret_in(const struct world *w, const char *s, size_t n)
{
	size_t i;

	for (i = 0; s != NULL && i < w->nneedles; i++)
		if (find_bytes(s, n, w->needles[i]) != NULL)
			return w->needles[i];
	return NULL;
}

/* ---- the fakes ------------------------------------------------------ */

static size_t
curl_sink(char *p, size_t size, size_t nmemb, void *ud)
{
	sbuf_add(ud, p, size * nmemb);
	return size * nmemb;
}

json_object *
discord_admin(struct world *w, const char *method, const char *fmt, ...)
{
	CURL *c = w->curl;
	struct sbuf body = { 0 };
	char path[512], url[640];
	json_object *j = NULL;
	va_list ap;
	long code = 0;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/_fake/%s", w->discord_port, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	if (curl_easy_perform(c) == CURLE_OK &&
	    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code == 200 && body.p != NULL)
		j = json_tokener_parse(body.p);
	sbuf_free(&body);
	return j;
}

long
discord_calls(struct world *w)
{
	json_object *j = discord_admin(w, "GET", "stats"), *v;
	long n = -1;

	if (j != NULL && json_object_object_get_ex(j, "calls", &v))
		n = (long)json_object_get_int64(v);
	json_object_put(j);
	if (n < 0)
		die("the fake Discord does not answer its stats");
	return n;
}

static pid_t
spawn_fake(struct world *w, const char *name, char *const argv[])
{
	char path[512], out[400];
	pid_t pid;
	int fd;

	snprintf(path, sizeof path, "%s/%s", w->fakes, name);
	snprintf(out, sizeof out, "%s/%s.out", w->tmp, name);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

static int
wait_port(const char *file)
{
	int i;

	for (i = 0; i < 500; i++) {
		struct sbuf b = { 0 };
		int port = 0;

		if (file_read(file, &b) == 0 && b.n > 0)
			port = atoi(b.p);
		sbuf_free(&b);
		if (port > 0)
			return port;
		usleep(10000);
	}
	return 0;
}

void
world_write_config(struct world *w)
{
	struct sbuf b = { 0 };

	sbuf_addf(&b, "[moodle]\nurl = http://127.0.0.1:%d\nusername = alice\n"
	    "password = %s\nlookahead_days = 7\n\n", w->moodle_port, w->password);
	sbuf_addf(&b, "[discord]\nwebhook_url = http://127.0.0.1:%d/api/v10/webhooks/%s/%s\n"
	    "role_id = %s\nping_minutes = 5\n\n", w->discord_port, w->webhook_id[w->hook],
	    w->webhook_token[w->hook], w->role);
	sbuf_addf(&b, "[schedule]\nmeeting_minutes = 60\n\n[state]\npath = %s\n\n"
	    "[http]\nconnect_timeout = 5\ntimeout = 10\n", w->state);
	if (file_write(w->cfg, b.p, b.n) != 0)
		die("%s: %s", w->cfg, strerror(errno));
	chmod(w->cfg, 0600);
	sbuf_free(&b);
}

/* Alternating letters and digits: no piece of it reads as a word or a
 * number that moodlecord could print for another reason. */
static void
make_token(uint64_t *rs, char *out, size_t n, const char *letters, const char *digits)
{
	size_t i, nl = strlen(letters), nd = strlen(digits);

	for (i = 0; i + 1 < n; i++)
		out[i] = i % 2 ? digits[rnd_below(rs, nd)] : letters[rnd_below(rs, nl)];
	out[n - 1] = '\0';
}

void
world_init(struct world *w, const char *moodlecord, const char *fakes,
    const char *libfaketime, uint64_t seed, int tmpfs)
{
	const char *tmpdir = getenv("TMPDIR");
	uint64_t rs = seed ^ 0x5eedf00dULL;
	int i;

	memset(w, 0, sizeof *w);
	w->moodlecord = moodlecord;
	w->fakes = fakes;
	w->libfaketime = libfaketime;
	snprintf(w->tmp, sizeof w->tmp, "%s/mc-soak.XXXXXX", tmpdir ? tmpdir : "/tmp");
	if (mkdtemp(w->tmp) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(w->statedir, sizeof w->statedir, "%s/state", w->tmp);
	snprintf(w->state, sizeof w->state, "%s/state.mdb", w->statedir);
	snprintf(w->cfg, sizeof w->cfg, "%s/config", w->tmp);
	snprintf(w->scenario, sizeof w->scenario, "%s/scenario.json", w->tmp);
	snprintf(w->sanlog, sizeof w->sanlog, "%s/san", w->tmp);
	if (mkdir(w->statedir, 0700) != 0 || mkdir(w->sanlog, 0700) != 0)
		die("mkdir: %s", strerror(errno));
	if (tmpfs && mount("tmpfs", w->statedir, "tmpfs", 0, "size=8m,mode=0700") == 0)
		w->mounted = 1;

	snprintf(w->password, sizeof w->password, "Pw%%7&<Kq>\"Zr!9x");
	make_token(&rs, w->moodle_token, 33, "abcdef", "0123456789");
	snprintf(w->role, sizeof w->role, "987654321098765432");
	w->nhooks = 8;
	for (i = 0; i < w->nhooks; i++) {
		snprintf(w->webhook_id[i], sizeof w->webhook_id[i], "1234567890123456%02d", i + 10);
		make_token(&rs, w->webhook_token[i], 69, "ghijkmnopqrstuvwxyzGHJKLMNPQRSTUVWXYZ",
		    "23456789");
		add_secret(w, w->webhook_token[i]);
	}
	add_secret(w, w->password);
	add_secret(w, w->moodle_token);
	w->curl = curl_easy_init();
	if (w->curl == NULL)
		die("curl_easy_init failed");
	w->calls_known = -1;
}

void
world_start(struct world *w)
{
	char mport[300], dport[300], rate[] = "50/1";
	char hooks[8][160];
	char *dargv[32];
	int i, k = 0;

	for (i = 0; i < w->nhooks; i++)
		snprintf(hooks[i], sizeof hooks[i], "%s/%s", w->webhook_id[i], w->webhook_token[i]);

	snprintf(mport, sizeof mport, "%s/moodle.port", w->tmp);
	snprintf(dport, sizeof dport, "%s/discord.port", w->tmp);
	{
		char *margv[] = { "fake_moodle", "--port-file", mport, "--scenario", w->scenario, NULL };

		if (access(w->scenario, R_OK) != 0)
			die("write the scenario before world_start");
		w->moodle_pid = spawn_fake(w, "fake_moodle", margv);
	}
	dargv[k++] = "fake_discord";
	dargv[k++] = "--port-file";
	dargv[k++] = dport;
	dargv[k++] = "--rate";
	dargv[k++] = rate;
	for (i = 0; i < w->nhooks; i++) {
		dargv[k++] = "--webhook";
		dargv[k++] = hooks[i];
	}
	dargv[k] = NULL;
	w->discord_pid = spawn_fake(w, "fake_discord", dargv);
	w->moodle_port = wait_port(mport);
	w->discord_port = wait_port(dport);
	if (w->moodle_port == 0 || w->discord_port == 0)
		die("the fakes did not start (see %s/*.out)", w->tmp);
	world_write_config(w);
}

static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[1024];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void
world_stop(struct world *w)
{
	size_t i;

	if (w->moodle_pid > 0) {
		kill(w->moodle_pid, SIGTERM);
		waitpid(w->moodle_pid, NULL, 0);
	}
	if (w->discord_pid > 0) {
		kill(w->discord_pid, SIGTERM);
		waitpid(w->discord_pid, NULL, 0);
	}
	if (w->mounted)
		umount2(w->statedir, MNT_DETACH);
	if (getenv("SOAK_KEEP") == NULL)
		remove_tree(w->tmp);
	else
		fprintf(stderr, "soak: kept %s\n", w->tmp);
	if (w->curl != NULL)
		curl_easy_cleanup(w->curl);
	for (i = 0; i < w->nneedles; i++)
		free(w->needles[i]);
	free(w->needles);
}

/* ---- one run -------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
held_now(struct world *w)
{
	json_object *j = discord_admin(w, "GET", "stats"), *v;
	long n = 0;

	if (j != NULL && json_object_object_get_ex(j, "held", &v))
		n = (long)json_object_get_int64(v);
	json_object_put(j);
	return n;
}

/* The environment and argv of a run at simulated time t. */
struct runenv {
	char ft[64], ld[300], asan[400], ubsan[400], home[300], xdg[300];
	char *env[16], *argv[16];
};

static void
runenv_make(struct world *w, int64_t t, const char *const *args, struct runenv *re)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int i, k = 0;

	gmtime_r(&tt, &tm);
	strftime(re->ft, sizeof re->ft, "FAKETIME=@%Y-%m-%d %H:%M:%S", &tm);
	snprintf(re->ld, sizeof re->ld, "LD_PRELOAD=%s", w->libfaketime);
	snprintf(re->asan, sizeof re->asan, "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:"
	    "halt_on_error=1:verify_asan_link_order=0:log_path=%s/asan", w->sanlog);
	snprintf(re->ubsan, sizeof re->ubsan, "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:"
	    "log_path=%s/ubsan", w->sanlog);
	snprintf(re->home, sizeof re->home, "HOME=%s", w->tmp);
	snprintf(re->xdg, sizeof re->xdg, "XDG_CONFIG_HOME=%s/none", w->tmp);
	re->env[k++] = re->ft;
	re->env[k++] = re->ld;
	re->env[k++] = "FAKETIME_DONT_FAKE_MONOTONIC=1";
	re->env[k++] = "FAKETIME_NO_CACHE=1";
	re->env[k++] = "TZ=UTC";
	re->env[k++] = "PATH=/usr/bin:/bin";
	re->env[k++] = "no_proxy=127.0.0.1";
	re->env[k++] = "NO_PROXY=127.0.0.1";
	re->env[k++] = re->asan;
	re->env[k++] = re->ubsan;
	re->env[k++] = re->home;
	re->env[k++] = re->xdg;
	re->env[k] = NULL;
	k = 0;
	re->argv[k++] = (char *)w->moodlecord;
	re->argv[k++] = "-c";
	re->argv[k++] = w->cfg;
	for (i = 0; args[i] != NULL && k < 15; i++)
		re->argv[k++] = (char *)args[i];
	re->argv[k] = NULL;
}

/* Start a run: its pid, *fd the read end of its stdout and stderr. */
static pid_t
spawn(struct world *w, int64_t t, const char *const *args, int *fd)
{
	struct runenv re;
	int pfd[2];
	pid_t pid;

	runenv_make(w, t, args, &re);
	if (pipe(pfd) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execve(w->moodlecord, re.argv, re.env);
		_exit(127);
	}
	close(pfd[1]);
	*fd = pfd[0];
	return pid;
}

static void
ended(struct run *r, int st, int sent)
{
	if (WIFSIGNALED(st)) {
		r->status = -1;
		r->sig = WTERMSIG(st);
		r->killed = sent && r->sig == SIGKILL && !r->hung;
	} else {
		r->status = WEXITSTATUS(st);
	}
	if (r->out.p == NULL)
		sbuf_add(&r->out, "", 0);
}

void
world_run(struct world *w, int64_t t, const char *const *args, enum kill_mode kill_how,
    long delay_us, struct run *r)
{
	long calls0;
	int fd, st = 0, eof = 0, sent = 0;
	double t0, next_poll = 0;
	pid_t pid;

	memset(r, 0, sizeof *r);
	/* admin calls are not counted: the count after the last run holds */
	calls0 = w->calls_known >= 0 ? w->calls_known : discord_calls(w);
	if (kill_how == KILL_HOLD_AFTER)
		json_object_put(discord_admin(w, "POST", "hold?next=1&stage=after"));
	pid = spawn(w, t, args, &fd);
	t0 = mono();
	while (!eof) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double now;

		if (poll(&p, 1, kill_how == KILL_NONE ? 200 : 1) > 0) {
			char chunk[4096];
			ssize_t n = read(fd, chunk, sizeof chunk);

			if (n > 0)
				sbuf_add(&r->out, chunk, (size_t)n);
			else
				eof = 1;
		}
		now = mono();
		if (sent)
			continue;
		if (kill_how == KILL_DELAY && (now - t0) * 1e6 >= (double)delay_us) {
			kill(pid, SIGKILL);
			sent = 1;
		} else if (kill_how == KILL_HOLD_AFTER && now >= next_poll) {
			next_poll = now + 0.002;
			if (held_now(w) != 0) {
				kill(pid, SIGKILL);
				sent = 1;
			}
		}
		if (!sent && now - t0 > RUN_HANG_SECONDS) {
			kill(pid, SIGKILL);
			sent = 1;
			r->hung = 1;
		}
	}
	close(fd);
	if (waitpid(pid, &st, 0) < 0)
		die("waitpid: %s", strerror(errno));
	if (kill_how == KILL_HOLD_AFTER) {
		json_object_put(discord_admin(w, "POST", "release"));
		json_object_put(discord_admin(w, "POST", "hold?call=0"));
	}
	ended(r, st, sent);
	w->calls_known = discord_calls(w);
	r->calls = w->calls_known - calls0;
}

void
world_run_two(struct world *w, int64_t t, const char *const *a1, const char *const *a2,
    struct run *r1, struct run *r2)
{
	struct run *r[2] = { r1, r2 };
	int fd[2], open_fds = 2, st, i;
	pid_t pid[2];
	long calls0;
	double t0;

	memset(r1, 0, sizeof *r1);
	memset(r2, 0, sizeof *r2);
	calls0 = w->calls_known >= 0 ? w->calls_known : discord_calls(w);
	pid[0] = spawn(w, t, a1, &fd[0]);
	pid[1] = spawn(w, t, a2, &fd[1]);
	t0 = mono();
	while (open_fds > 0) {
		struct pollfd p[2];
		int n = 0, map[2];

		for (i = 0; i < 2; i++)
			if (fd[i] >= 0) {
				p[n].fd = fd[i];
				p[n].events = POLLIN;
				map[n++] = i;
			}
		if (poll(p, (nfds_t)n, 200) > 0) {
			for (i = 0; i < n; i++) {
				char chunk[4096];
				ssize_t k;

				if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				k = read(p[i].fd, chunk, sizeof chunk);
				if (k > 0) {
					sbuf_add(&r[map[i]]->out, chunk, (size_t)k);
				} else {
					close(p[i].fd);
					fd[map[i]] = -1;
					open_fds--;
				}
			}
		}
		if (mono() - t0 > RUN_HANG_SECONDS) {
			for (i = 0; i < 2; i++)
				if (fd[i] >= 0 && !r[i]->hung) {
					kill(pid[i], SIGKILL);
					r[i]->hung = 1;
				}
		}
	}
	for (i = 0; i < 2; i++) {
		if (waitpid(pid[i], &st, 0) < 0)
			die("waitpid: %s", strerror(errno));
		ended(r[i], st, r[i]->hung);
	}
	w->calls_known = discord_calls(w);
	r1->calls = r2->calls = w->calls_known - calls0;
}

void
run_free(struct run *r)
{
	sbuf_free(&r->out);
}

char *
sanitizer_reports(struct world *w)
{
	DIR *d = opendir(w->sanlog);
	struct dirent *de;
	struct sbuf b = { 0 };

	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		char p[1024];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", w->sanlog, de->d_name);
		file_read(p, &b);
		unlink(p);
	}
	closedir(d);
	return b.p;
}
