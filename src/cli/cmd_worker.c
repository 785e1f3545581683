/* labvisor worker: command line over libworker (src/worker/worker.h). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "platform.h"
#include "util/parse.h"
#include "worker/worker.h"

#define CMD "worker"

static void usage_worker(FILE *out)
{
	fprintf(out,
		"Usage: labvisor worker [OPTIONS]\n"
		"\n"
		"Claims jobs from the platform's queue (grading, regrading, building an\n"
		"assignment's image) and runs them in sandboxes, sending heartbeats while it\n"
		"works.  Run any number, on this machine or on others sharing one PostgreSQL\n"
		"database; `labvisor serve` starts its own unless --workers 0.  SIGTERM or\n"
		"Ctrl-C: finish the job at hand, then exit.\n"
		"\n"
		"Options:\n"
		"  --db URL            postgres://... or sqlite:PATH (default: serve's default,\n"
		"                      sqlite:%s/labvisor.db)\n"
		"  --work-dir DIR      cached assignment archives (default DATA/work); scratch\n"
		"                      folders go in /tmp/labvisor-worker-*, removed on exit\n"
		"                      (or by the next worker, after a crash)\n"
		"  --name NAME         how claims show this worker (default host:pid)\n"
		"  --jobs N            tests of one submission run in parallel (default 1)\n"
		"  --stale SECONDS     take back a job whose worker sent no heartbeat for this\n"
		"                      long (default 30)\n"
		"  --heartbeat SECONDS (default 5)\n"
		"  --max-jobs N        exit after N jobs\n"
		"  -h, --help          show this help\n", platform_data_dir());
}

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

static void log_line(const char *line)
{
	time_t t = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	fprintf(stderr, "%s labvisor worker: %s\n", when, line);
}

int cmd_worker(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' }, { "work-dir", required_argument, NULL, 'w' },
		{ "name", required_argument, NULL, 'n' }, { "jobs", required_argument, NULL, 'j' },
		{ "stale", required_argument, NULL, 's' }, { "heartbeat", required_argument, NULL, 'b' },
		{ "max-jobs", required_argument, NULL, 'm' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char db[4200], work[4200], name[300], host[256] = "host";
	struct worker_config cfg = { .jobs = 1, .stale_ms = 30000, .heartbeat_ms = 5000,
				     .stop = &stopping, .log = log_line };
	struct sigaction sa = { .sa_handler = on_stop };
	struct lv_err err;
	double secs;
	unsigned long n;
	int c;

	snprintf(db, sizeof(db), "sqlite:%s/labvisor.db", platform_data_dir());
	snprintf(work, sizeof(work), "%s/work", platform_data_dir());
	gethostname(host, sizeof(host) - 1);
	snprintf(name, sizeof(name), "%s:%d", host, (int)getpid());
	cfg.db_url = db;
	cfg.work_dir = work;
	cfg.name = name;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cfg.db_url = optarg; break;
		case 'w': cfg.work_dir = optarg; break;
		case 'n': cfg.name = optarg; break;
		case 'j': case 'm':
			if (!lv_parse_uint(optarg, 1, 64, &n))
				return cli_error(CMD, "--%s wants a number from 1 to 64",
						 c == 'j' ? "jobs" : "max-jobs"), LV_EXIT_USAGE;
			if (c == 'j')
				cfg.jobs = (unsigned)n;
			else
				cfg.max_jobs = (unsigned)n;
			break;
		case 's': case 'b':
			if (!lv_parse_seconds(optarg, &secs) || secs <= 0)
				return cli_error(CMD, "'%s' is not a number of seconds", optarg),
				       LV_EXIT_USAGE;
			*(c == 's' ? &cfg.stale_ms : &cfg.heartbeat_ms) = (int64_t)(secs * 1000);
			break;
		case 'h': usage_worker(stdout); return 0;
		default: usage_worker(stderr); return LV_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_error(CMD, "unexpected argument '%s'", argv[optind]), LV_EXIT_USAGE;
	if (cfg.heartbeat_ms * 2 > cfg.stale_ms)
		return cli_error(CMD, "--heartbeat must be at most half of --stale"), LV_EXIT_USAGE;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (worker_run(&cfg, &err) < 0)
		return cli_error(CMD, "%s", err.msg), 1;
	return 0;
}
