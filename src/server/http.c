/*
 * HTTP with libmicrohttpd: a thread pool, each request's body gathered
 * (JSON, CSV, or multipart/form-data through MHD's post processor) up to
 * MAX_BODY, then routed (routes.c) with a database connection from the
 * pool; static UI files for everything outside /api/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "routes.h"
#include "server.h"

#define MAX_BODY (64u << 20)

struct conn_state {
	char *body;
	size_t len;
	bool too_large;
	struct MHD_PostProcessor *pp;
	struct form_part *parts;
	size_t nparts;
};

/* ---- answers ---- */

void reply_json(struct req *r, unsigned status, json_t *j)
{
	r->status = status;
	json_decref(r->json);
	r->json = j ? j : json_object();
}

void reply_error(struct req *r, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(r, status, json_pack("{s:s}", "error", msg));
}

void reply_text(struct req *r, unsigned status, const char *type, char *text)
{
	r->status = status;
	free(r->text);
	r->text = text;
	r->content_type = type;
}

const char *req_header(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_arg(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *req_json(struct req *r)
{
	json_error_t e;
	json_t *j = r->body_len ? json_loadb(r->body, r->body_len, 0, &e) : NULL;

	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "the body must be a JSON object%s%s", r->body_len ? ": " : "",
			    r->body_len ? e.text : "");
		return NULL;
	}
	return j;
}

const struct form_part *req_part(const struct req *r, const char *name)
{
	for (size_t i = 0; i < r->nparts; i++)
		if (strcmp(r->parts[i].name, name) == 0)
			return &r->parts[i];
	return NULL;
}

/* ---- request bodies ---- */

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *filename, const char *type, const char *enc,
			       const char *data, uint64_t off, size_t size)
{
	struct conn_state *cs = cls;
	struct form_part *p = cs->nparts ? &cs->parts[cs->nparts - 1] : NULL;
	char *grown;

	(void)kind, (void)type, (void)enc;
	if (!p || off == 0) {
		struct form_part *parts = realloc(cs->parts, (cs->nparts + 1) * sizeof(*parts));

		if (!parts)
			return MHD_NO;
		cs->parts = parts;
		p = &cs->parts[cs->nparts++];
		memset(p, 0, sizeof(*p));
		p->name = strdup(key);
		p->filename = filename ? strdup(filename) : NULL;
	}
	if (cs->len + size > MAX_BODY) {
		cs->too_large = true;
		return MHD_NO;
	}
	grown = realloc(p->data, p->len + size + 1);
	if (!grown)
		return MHD_NO;
	p->data = grown;
	memcpy(p->data + p->len, data, size);
	p->len += size;
	p->data[p->len] = '\0';
	cs->len += size;
	return MHD_YES;
}

static int take_body(struct MHD_Connection *conn, struct conn_state *cs, const char *data,
		     size_t size)
{
	const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	char *grown;

	if (!cs->pp && !cs->body && type && strncmp(type, "multipart/form-data", 19) == 0)
		cs->pp = MHD_create_post_processor(conn, 64 * 1024, on_part, cs);
	if (cs->pp)
		return MHD_post_process(cs->pp, data, size) == MHD_YES && !cs->too_large ? 0 : -1;
	if (cs->len + size > MAX_BODY) {
		cs->too_large = true;
		return -1;
	}
	grown = realloc(cs->body, cs->len + size + 1);
	if (!grown)
		return -1;
	cs->body = grown;
	memcpy(cs->body + cs->len, data, size);
	cs->len += size;
	cs->body[cs->len] = '\0';
	return 0;
}

static void free_state(struct conn_state *cs)
{
	if (!cs)
		return;
	if (cs->pp)
		MHD_destroy_post_processor(cs->pp);
	for (size_t i = 0; i < cs->nparts; i++) {
		free(cs->parts[i].name);
		free(cs->parts[i].filename);
		free(cs->parts[i].data);
	}
	free(cs->parts);
	free(cs->body);
	free(cs);
}

/* ---- static files ---- */

static const char *mime_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".ico", "image/x-icon" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

static struct MHD_Response *static_file(const struct server *s, const char *url, unsigned *status)
{
	char path[4096];
	struct stat st;
	int fd;
	struct MHD_Response *resp;

	/* Only plain names under web/: no "..", no hidden files. */
	if (strstr(url, "..") || strstr(url, "/.") || !s->cfg.web_dir)
		url = "/index.html";
	if (strcmp(url, "/") == 0 || !strchr(url + 1, '.'))
		url = "/index.html";            /* the single-page app's routes */
	snprintf(path, sizeof(path), "%s%s", s->cfg.web_dir ? s->cfg.web_dir : "", url);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		*status = 404;
		return MHD_create_response_from_buffer(9, (void *)"not found", MHD_RESPMEM_PERSISTENT);
	}
	resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime_type(path));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	*status = 200;
	return resp;
}

/* ---- one request ---- */

static struct MHD_Response *api_response(struct req *r)
{
	struct MHD_Response *resp;

	if (r->text) {
		resp = MHD_create_response_from_buffer(strlen(r->text), r->text, MHD_RESPMEM_MUST_FREE);
		r->text = NULL;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
	} else {
		char *s = json_dumps(r->json ? r->json : json_object(), JSON_COMPACT);

		resp = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	}
	if (r->set_cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
	if (r->disposition)
		MHD_add_response_header(resp, "Content-Disposition", r->disposition);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	return resp;
}

static enum MHD_Result handle(struct server *s, struct MHD_Connection *conn, const char *url,
			      const char *method, struct conn_state *cs)
{
	struct MHD_Response *resp;
	unsigned status;
	enum MHD_Result ret;

	if (strncmp(url, "/api/", 5) != 0) {
		resp = static_file(s, url, &status);
	} else {
		struct req r = { .srv = s, .conn = conn, .method = method, .path = url + 4,
				 .body = cs->body, .body_len = cs->len, .parts = cs->parts,
				 .nparts = cs->nparts, .status = 500 };

		if (cs->too_large) {
			reply_error(&r, 413, "the upload is larger than %u MiB", MAX_BODY >> 20);
		} else {
			r.db = db_pool_take(&s->pool);
			route_request(&r);
			db_pool_give(&s->pool, r.db);
		}
		status = r.status;
		resp = api_response(&r);
		json_decref(r.json);
		free(r.text);
		free(r.set_cookie);
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct conn_state *cs = *con_cls;

	(void)version;
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		*con_cls = cs;
		return cs ? MHD_YES : MHD_NO;
	}
	if (*size) {
		if (!cs->too_large && take_body(conn, cs, data, *size) < 0 && !cs->too_large)
			return MHD_NO;
		*size = 0;
		return MHD_YES;
	}
	return handle(cls, conn, url, method, cs);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	free_state(*con_cls);
	*con_cls = NULL;
}

int server_start(struct server *s, const struct server_config *cfg, struct lv_err *err)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->port) };

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	pthread_mutex_init(&s->limiter.lock, NULL);
	if (inet_pton(AF_INET, cfg->listen_addr, &sin.sin_addr) != 1)
		return lv_err_set(err, "--listen %s is not an IPv4 address", cfg->listen_addr);
	if (auth_init(err) < 0 || db_pool_open(&s->pool, cfg->db_url, cfg->threads, err) < 0)
		return -1;
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				     MHD_USE_ERROR_LOG, (uint16_t)cfg->port, NULL, NULL,
				     on_request, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads,
				     MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				     MHD_OPTION_END);
	if (!s->daemon) {
		db_pool_close(&s->pool);
		return lv_err_sys(err, errno, "listening on %s:%u", cfg->listen_addr, cfg->port);
	}
	return 0;
}

void server_stop(struct server *s)
{
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	db_pool_close(&s->pool);
}
