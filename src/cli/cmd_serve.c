/* labvisor serve: the web UI and API (src/server/) plus a pool of workers. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "platform.h"
#include "server/demo.h"
#include "server/server.h"
#include "util/fs.h"
#include "util/parse.h"

#define CMD "serve"
#define MAX_WORKERS 32

static void usage_serve(FILE *out)
{
	fprintf(out,
		"Usage: labvisor serve [OPTIONS]\n"
		"\n"
		"Serves the web UI and the JSON API (docs/api.md) and runs a pool of workers\n"
		"that grade submissions, so one command does everything on one machine.\n"
		"With no --db, the data lives in SQLite under %s\n"
		"(set LABVISOR_DATA to move it).  Ctrl-C or SIGTERM stops it; queued work\n"
		"stays in the database.\n"
		"\n"
		"Options:\n"
		"  --demo             add a demo course (the example assignments) and one account\n"
		"                     per role to an empty database, and print them\n"
		"  --db URL           postgres://USER@HOST/DB or sqlite:PATH\n"
		"  --listen ADDR      IPv4 address to listen on (default 127.0.0.1)\n"
		"  --port N           (default 8080)\n"
		"  --workers N        grading workers to run (default 2; 0: use separate\n"
		"                     `labvisor worker` processes)\n"
		"  --threads N        HTTP threads (default 4)\n"
		"  --web DIR          the UI's files (default: web/ of this installation)\n"
		"  --examples DIR     assignments for --demo (default: examples/)\n"
		"  --secure-cookies   mark cookies Secure (behind an HTTPS proxy)\n"
		"  -h, --help         show this help\n", platform_data_dir());
}

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

struct pool {
	pid_t pid[MAX_WORKERS];
	unsigned n;
	const char *db;
	char self[PATH_MAX];
};

static pid_t spawn_worker(const struct pool *p, unsigned i)
{
	char name[64], work[PATH_MAX + 32];
	pid_t pid;

	snprintf(name, sizeof(name), "serve-%d-%u", (int)getpid(), i);
	snprintf(work, sizeof(work), "%s/work-%u", platform_data_dir(), i);
	pid = fork();
	if (pid == 0) {
		execl(p->self, p->self, "worker", "--db", p->db, "--name", name, "--work-dir", work,
		      (char *)NULL);
		fprintf(stderr, "labvisor serve: cannot start a worker: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Keeps n workers running until stopped; a worker that dies is restarted. */
static void supervise(struct pool *p)
{
	while (!stopping) {
		int status;
		pid_t dead = waitpid(-1, &status, 0);

		for (unsigned i = 0; dead > 0 && i < p->n; i++)
			if (p->pid[i] == dead && !stopping) {
				fprintf(stderr, "labvisor serve: worker %u ended (status %d); "
					"starting it again\n", i, WIFEXITED(status) ?
					WEXITSTATUS(status) : 128 + WTERMSIG(status));
				sleep(1);
				p->pid[i] = spawn_worker(p, i);
			}
		if (dead < 0 && errno == ECHILD)
			pause();
	}
	for (unsigned i = 0; i < p->n; i++)
		if (p->pid[i] > 0)
			kill(p->pid[i], SIGTERM);
	for (unsigned i = 0; i < p->n; i++)
		if (p->pid[i] > 0)
			waitpid(p->pid[i], NULL, 0);
}

static int prepare_db(const char *url, bool demo, const char *examples, struct lv_err *err)
{
	struct db *db;
	int rc;

	if (db_open(url, &db, err) < 0)
		return -1;
	rc = store_migrate(db, err);
	if (rc == 0 && demo)
		rc = demo_seed(db, examples, err);
	db_close(db);
	return rc;
}

static void announce(const struct server_config *cfg, bool demo, unsigned workers)
{
	printf("labvisor serve: http://%s:%u/  (database %s, %u worker%s)\n", cfg->listen_addr,
	       cfg->port, cfg->db_url, workers, workers == 1 ? "" : "s");
	if (demo) {
		printf("demo accounts (email / password):\n");
		for (const struct demo_account *a = demo_accounts; a->email; a++)
			printf("  %-11s %-28s %s\n", a->role, a->email, a->password);
	}
	fflush(stdout);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "demo", no_argument, NULL, 'D' }, { "db", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' }, { "port", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' }, { "threads", required_argument, NULL, 't' },
		{ "web", required_argument, NULL, 'W' }, { "examples", required_argument, NULL, 'e' },
		{ "secure-cookies", no_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char db[PATH_MAX + 16], web[PATH_MAX], ex[PATH_MAX];
	struct server_config cfg = { .listen_addr = "127.0.0.1", .port = 8080, .threads = 4 };
	struct pool pool = { .n = 2 };
	const char *examples = platform_find("examples", ex, sizeof(ex));
	struct sigaction sa = { .sa_handler = on_stop };
	struct server srv;
	struct lv_err err;
	bool demo = false;
	unsigned long n;
	int c;

	snprintf(db, sizeof(db), "sqlite:%s/labvisor.db", platform_data_dir());
	cfg.db_url = db;
	cfg.web_dir = platform_find("web", web, sizeof(web));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D': demo = true; break;
		case 'd': cfg.db_url = optarg; break;
		case 'l': cfg.listen_addr = optarg; break;
		case 'W': cfg.web_dir = optarg; break;
		case 'e': examples = optarg; break;
		case 's': cfg.secure_cookies = true; break;
		case 'p': case 'w': case 't':
			if (!lv_parse_uint(optarg, c == 'w' ? 0 : 1, c == 'p' ? 65535 : MAX_WORKERS, &n))
				return cli_error(CMD, "'%s' is out of range for --%s", optarg,
						 c == 'p' ? "port" : c == 'w' ? "workers" : "threads"),
				       LV_EXIT_USAGE;
			if (c == 'p')
				cfg.port = (unsigned)n;
			else if (c == 'w')
				pool.n = (unsigned)n;
			else
				cfg.threads = (unsigned)n;
			break;
		case 'h': usage_serve(stdout); return 0;
		default: usage_serve(stderr); return LV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_error(CMD, "unexpected argument '%s'", argv[optind]), LV_EXIT_USAGE;
	if (!cfg.web_dir)
		return cli_error(CMD, "the web UI's files were not found; give --web DIR"),
		       LV_EXIT_USAGE;
	if (demo && !examples)
		return cli_error(CMD, "the examples folder was not found; give --examples DIR"),
		       LV_EXIT_USAGE;
	/* 0711: workers' scratch folders inside must be reachable by sandboxes */
	if (lv_mkdirs(platform_data_dir(), 0711, &err) < 0 || chmod(platform_data_dir(), 0711) < 0)
		return cli_error(CMD, "%s: %s", platform_data_dir(), err.msg), 1;
	if (prepare_db(cfg.db_url, demo, examples, &err) < 0)
		return cli_error(CMD, "%s", err.msg), 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (server_start(&srv, &cfg, &err) < 0)
		return cli_error(CMD, "%s", err.msg), 1;
	ssize_t len = readlink("/proc/self/exe", pool.self, sizeof(pool.self) - 1);

	pool.self[len > 0 ? len : 0] = '\0';
	pool.db = cfg.db_url;
	for (unsigned i = 0; i < pool.n; i++)
		pool.pid[i] = spawn_worker(&pool, i);
	announce(&cfg, demo, pool.n);
	supervise(&pool);
	server_stop(&srv);
	fprintf(stderr, "labvisor serve: stopped\n");
	return 0;
}
