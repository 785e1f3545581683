#include "auth.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define LOGIN_WINDOW_MS (60 * 1000)
#define LOGIN_MAX_FAILURES 10

int auth_init(struct lv_err *err)
{
	return sodium_init() < 0 ? lv_err_set(err, "libsodium could not start") : 0;
}

char *auth_hash_password(const char *password)
{
	char *out = malloc(crypto_pwhash_STRBYTES);

	if (out && crypto_pwhash_str_alg(out, password, strlen(password),
					 crypto_pwhash_OPSLIMIT_INTERACTIVE,
					 crypto_pwhash_MEMLIMIT_INTERACTIVE,
					 crypto_pwhash_ALG_ARGON2ID13) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

bool auth_check_password(const char *hash, const char *password)
{
	return hash && crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void auth_new_token(char out[65])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, 65, raw, sizeof(raw));
}

void auth_token_hash(const char *token, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The value of cookie name in the Cookie header. */
static const char *cookie(const struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static bool state_changing(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static int from_token(struct req *r, const char *token)
{
	char h[65];
	struct db_val v[1];
	json_t *row;

	auth_token_hash(token, h);
	v[0] = DB_TEXT(h);
	row = query_one(r, "SELECT t.user_id, u.can_create_courses FROM api_tokens t "
			"JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", v, 1,
			"i:user_id b:creator");
	if (!row)
		return -1;
	r->user_id = json_integer_value(json_object_get(row, "user_id"));
	r->can_create_courses = json_is_true(json_object_get(row, "creator"));
	r->via_token = true;
	json_decref(row);
	return 0;
}

static int from_cookie(struct req *r, const char *sid)
{
	char h[65];
	struct db_val v[2];
	json_t *row;
	const char *csrf;
	int rc = 0;

	auth_token_hash(sid, h);
	v[0] = DB_TEXT(h);
	v[1] = DB_INT(store_now_ms());
	row = query_one(r, "SELECT s.user_id, s.csrf, u.can_create_courses FROM sessions s "
			"JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_ms > ?",
			v, 2, "i:user_id s:csrf b:creator");
	if (!row)
		return -1;
	csrf = req_header(r, "X-CSRF-Token");
	if (state_changing(r->method) &&
	    (!csrf || strcmp(csrf, json_string_value(json_object_get(row, "csrf"))) != 0)) {
		rc = -2;
	} else {
		r->user_id = json_integer_value(json_object_get(row, "user_id"));
		r->can_create_courses = json_is_true(json_object_get(row, "creator"));
	}
	json_decref(row);
	return rc;
}

int auth_identify(struct req *r)
{
	const char *authz = req_header(r, "Authorization"), *sid = cookie(r, SESSION_COOKIE);

	if (authz && strncmp(authz, "Bearer ", 7) == 0)
		return from_token(r, authz + 7);
	if (sid)
		return from_cookie(r, sid);
	return -1;
}

static void client_addr(const struct req *r, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

static void start_session(struct req *r, int64_t user_id, json_t *me)
{
	char sid[65], h[65], csrf[65];
	struct db_val v[4];
	struct lv_err err;

	/* expired sessions go as new ones come */
	db_query(r->db, "DELETE FROM sessions WHERE expires_ms < ?",
		 (struct db_val[]){ DB_INT(store_now_ms()) }, 1, NULL, &err);
	auth_new_token(sid);
	auth_new_token(csrf);
	auth_token_hash(sid, h);
	v[0] = DB_TEXT(h);
	v[1] = DB_INT(user_id);
	v[2] = DB_TEXT(csrf);
	v[3] = DB_INT(store_now_ms() + SESSION_TTL_MS);
	if (db_query(r->db, "INSERT INTO sessions (token_hash, user_id, csrf, expires_ms) "
		     "VALUES (?, ?, ?, ?)", v, 4, NULL, &err) < 0) {
		json_decref(me);
		reply_error(r, 500, "could not start a session");
		return;
	}
	if (asprintf(&r->set_cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
		     SESSION_COOKIE, sid, SESSION_TTL_MS / 1000,
		     r->srv->cfg.secure_cookies ? "; Secure" : "") < 0)
		r->set_cookie = NULL;
	json_object_set_new(me, "csrf_token", json_string(csrf));
	reply_json(r, 200, me);
}

void auth_login(struct req *r)
{
	json_t *body = req_json(r), *row;
	const char *email, *password;
	char addr[64], key[96];
	struct db_val v[1];

	if (!body)
		return;
	email = json_string_value(json_object_get(body, "email"));
	password = json_string_value(json_object_get(body, "password"));
	if (!email || !password) {
		json_decref(body);
		reply_error(r, 400, "email and password are required");
		return;
	}
	/* per account and address: a class behind one NAT is not locked out together */
	client_addr(r, addr, sizeof(addr));
	snprintf(key, sizeof(key), "%.40s %.50s", addr, email);
	if (!limiter_allow(&r->srv->limiter, key)) {
		json_decref(body);
		reply_error(r, 429, "too many failed logins; wait a minute");
		return;
	}
	v[0] = DB_TEXT(email);
	row = query_one(r, "SELECT id, pw_hash, name, email FROM users WHERE email = ?", v, 1,
			"i:id s:pw_hash s:name s:email");
	if (!row || !auth_check_password(json_string_value(json_object_get(row, "pw_hash")),
					 password)) {
		limiter_fail(&r->srv->limiter, key);
		json_decref(row);
		json_decref(body);
		reply_error(r, 401, "wrong email or password");
		return;
	}
	limiter_reset(&r->srv->limiter, key);
	json_object_del(row, "pw_hash");
	start_session(r, json_integer_value(json_object_get(row, "id")), row);
	json_decref(body);
}

void auth_logout(struct req *r)
{
	const char *sid = cookie(r, SESSION_COOKIE);
	char h[65];
	struct lv_err err;

	if (sid) {
		auth_token_hash(sid, h);
		db_query(r->db, "DELETE FROM sessions WHERE token_hash = ?",
			 (struct db_val[]){ DB_TEXT(h) }, 1, NULL, &err);
	}
	if (asprintf(&r->set_cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
		     SESSION_COOKIE) < 0)
		r->set_cookie = NULL;
	reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- failed-login limiter: a small table of addresses, oldest reused ---- */

static unsigned slot_for(struct login_limiter *l, const char *key, int64_t now)
{
	unsigned oldest = 0;

	for (unsigned i = 0; i < sizeof(l->slot) / sizeof(l->slot[0]); i++) {
		if (strcmp(l->slot[i].key, key) == 0)
			return i;
		if (l->slot[i].window_ms < l->slot[oldest].window_ms)
			oldest = i;
	}
	snprintf(l->slot[oldest].key, sizeof(l->slot[oldest].key), "%s", key);
	l->slot[oldest].window_ms = now;
	l->slot[oldest].failures = 0;
	return oldest;
}

bool limiter_allow(struct login_limiter *l, const char *key)
{
	int64_t now = store_now_ms();
	bool ok;

	pthread_mutex_lock(&l->lock);
	unsigned i = slot_for(l, key, now);

	if (now - l->slot[i].window_ms > LOGIN_WINDOW_MS) {
		l->slot[i].window_ms = now;
		l->slot[i].failures = 0;
	}
	ok = l->slot[i].failures < LOGIN_MAX_FAILURES;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void limiter_fail(struct login_limiter *l, const char *key)
{
	pthread_mutex_lock(&l->lock);
	l->slot[slot_for(l, key, store_now_ms())].failures++;
	pthread_mutex_unlock(&l->lock);
}

void limiter_reset(struct login_limiter *l, const char *key)
{
	pthread_mutex_lock(&l->lock);
	l->slot[slot_for(l, key, store_now_ms())].failures = 0;
	pthread_mutex_unlock(&l->lock);
}
