#include "virtqueue.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int broken(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int broken(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

void vq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int vq_activate(struct virtq *q, const struct guest_mem *gm, char *why, size_t whylen)
{
	uint64_t n = q->size;

	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1)))
		return broken(why, whylen, "queue size %llu is not a power of two up to %d",
			      (unsigned long long)n, VQ_MAX_SIZE);
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3))
		return broken(why, whylen, "misaligned rings (descriptors %#llx, driver area "
			      "%#llx, device area %#llx)", (unsigned long long)q->desc_gpa,
			      (unsigned long long)q->avail_gpa, (unsigned long long)q->used_gpa);
	q->desc = gm_range(gm, q->desc_gpa, 16 * n);
	q->avail = gm_range(gm, q->avail_gpa, 6 + 2 * n);
	q->used = gm_range(gm, q->used_gpa, 6 + 8 * n);
	if (!q->desc || !q->avail || !q->used)
		return broken(why, whylen, "a ring lies outside guest RAM (descriptors %#llx, "
			      "driver area %#llx, device area %#llx, %llu entries)",
			      (unsigned long long)q->desc_gpa, (unsigned long long)q->avail_gpa,
			      (unsigned long long)q->used_gpa, (unsigned long long)n);
	q->last_avail = 0;
	q->used_idx = 0;
	return 0;
}

static uint16_t avail_idx(const struct virtq *q)
{
	return __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
}

bool vq_has_avail(const struct virtq *q)
{
	return q->avail && avail_idx(q) != q->last_avail;
}

/* Adds descriptor `d` (a private copy: the driver cannot change it under us). */
static int add_buf(struct vq_chain *c, const struct guest_mem *gm, const struct vring_desc *d,
		   uint16_t i, char *why, size_t whylen)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	uint8_t *p;

	if (d->flags & VRING_DESC_F_INDIRECT)
		return broken(why, whylen, "descriptor %u is indirect (not negotiated)", i);
	if (!writable && c->nwrite)
		return broken(why, whylen, "descriptor %u: a readable buffer after a writable one",
			      i);
	p = gm_range(gm, d->addr, d->len);
	if (!p)
		return broken(why, whylen, "descriptor %u: buffer %#llx+%u is outside guest RAM",
			      i, (unsigned long long)d->addr, d->len);
	c->buf[c->nread + c->nwrite] = (struct vq_buf){ .p = p, .len = d->len };
	if (writable) {
		c->nwrite++;
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

int vq_pop(struct virtq *q, const struct guest_mem *gm, struct vq_chain *c, char *why,
	   size_t whylen)
{
	uint16_t pending = (uint16_t)(avail_idx(q) - q->last_avail);
	uint16_t i;

	if (pending == 0)
		return 0;
	if (pending > q->size)
		return broken(why, whylen, "the driver's index ran %u entries ahead of a queue of %u",
			      pending, q->size);
	i = __atomic_load_n(&q->avail[2 + q->last_avail % q->size], __ATOMIC_RELAXED);
	c->head = i;
	c->nread = c->nwrite = 0;
	c->read_len = c->write_len = 0;
	for (unsigned n = 0;; n++) {
		struct vring_desc d;

		if (i >= q->size)
			return broken(why, whylen, "descriptor index %u outside a queue of %u", i,
				      q->size);
		if (n >= q->size)
			return broken(why, whylen, "a chain from descriptor %u is longer than the "
				      "queue (a loop?)", c->head);
		memcpy(&d, &q->desc[i], sizeof(d));
		if (add_buf(c, gm, &d, i, why, whylen) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

void vq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	struct vring_used_elem e = { .id = head, .len = written };

	memcpy((uint8_t *)q->used + 4 + 8 * (q->used_idx % q->size), &e, sizeof(e));
	q->used_idx++;
	__atomic_store_n(&q->used[1], q->used_idx, __ATOMIC_RELEASE);
}

static size_t chain_copy(const struct vq_buf *b, unsigned n, size_t off, uint8_t *host,
			 size_t len, bool to_guest)
{
	size_t done = 0;

	for (unsigned k = 0; k < n && done < len; k++) {
		size_t take;

		if (off >= b[k].len) {
			off -= b[k].len;
			continue;
		}
		take = b[k].len - off;
		if (take > len - done)
			take = len - done;
		if (to_guest)
			memcpy(b[k].p + off, host + done, take);
		else
			memcpy(host + done, b[k].p + off, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t vq_chain_read(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	return chain_copy(c->buf, c->nread, off, dst, len, false);
}

size_t vq_chain_write(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	return chain_copy(c->buf + c->nread, c->nwrite, off, (uint8_t *)src, len, true);
}
