/* The verdict of a run, as JSON and as one line for people. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "sandbox.h"

const char *sandbox_status_name(enum sb_status s)
{
	static const char *const names[] = {
		[SB_OK] = "OK", [SB_TIME_LIMIT] = "TIME_LIMIT", [SB_MEMORY_LIMIT] = "MEMORY_LIMIT",
		[SB_OUTPUT_LIMIT] = "OUTPUT_LIMIT", [SB_RUNTIME_ERROR] = "RUNTIME_ERROR",
		[SB_SANDBOX_ERROR] = "SANDBOX_ERROR",
	};
	return names[s];
}

char *sandbox_report_json(const struct sandbox_report *r)
{
	json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:i, s:s}",
			      "status", sandbox_status_name(r->status), "id", r->id,
			      "exit_code", r->exit_code, "signal", r->signal,
			      "cpu_time", r->cpu_sec, "wall_time", r->wall_sec,
			      "max_rss_kib", (json_int_t)r->max_rss_kib,
			      "processes", (json_int_t)r->processes,
			      "output_bytes", (json_int_t)r->output_bytes,
			      "cgroup_version", r->cgroup_version, "message", r->message);
	char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;

	json_decref(j);
	return s;
}
