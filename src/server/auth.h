/*
 * Who is asking: passwords (argon2id, libsodium), session cookies with a
 * CSRF token each, API tokens, and the failed-login limiter.  Only hashes
 * of session ids and tokens are stored: a copy of the database opens no
 * account.
 */
#ifndef LV_SERVER_AUTH_H
#define LV_SERVER_AUTH_H

#include "server.h"

#define SESSION_COOKIE "lv_session"
#define SESSION_TTL_MS (12LL * 3600 * 1000)

int auth_init(struct lv_err *err);

/* An argon2id hash string of password, or NULL (out of memory). */
char *auth_hash_password(const char *password);
bool auth_check_password(const char *hash, const char *password);

/* A random token (64 hex digits) and its stored form (hash, 64 hex digits). */
void auth_new_token(char out[65]);
void auth_token_hash(const char *token, char out[65]);

/* Sets r->user_id etc. from the session cookie or the bearer token; for a
 * cookie, state-changing methods need the X-CSRF-Token header to match. */
int auth_identify(struct req *r);

/* Login: checks the limiter, the password, makes the session and cookie. */
void auth_login(struct req *r);
void auth_logout(struct req *r);

/* The limiter: false when addr has failed too often lately. */
bool limiter_allow(struct login_limiter *l, const char *addr);
void limiter_fail(struct login_limiter *l, const char *addr);
void limiter_reset(struct login_limiter *l, const char *addr);

#endif
