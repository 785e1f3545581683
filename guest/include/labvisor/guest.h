/*
 * Labvisor guest SDK: what a freestanding bare guest needs to talk to the
 * VMM.  Link with crt0.S and the files of guest/lib/ using link.ld (see guest/meson.build).
 *
 * Every vCPU enters main(); when main returns, vCPU 0 ends the VM with the
 * return value as exit code and any other vCPU halts (RAX = return value).
 * Hypercall argument blocks live on the caller's stack, so they must be
 * below 4 GiB: SDK guests run with --mem of at most 4 GiB.
 *
 * Functions that can fail return a negated LV_E* code (hypercall_abi.h).
 */
#ifndef LABVISOR_GUEST_H
#define LABVISOR_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "labvisor/hypercall_abi.h"

int main(void);

/* The raw call: one outl to port 0x500 + nr with the block's address. */
static inline void lv_hypercall(unsigned nr, void *args)
{
	__asm__ volatile("outl %0, %w1"
			 : : "a"((uint32_t)(uintptr_t)args), "Nd"((uint16_t)(LV_HC_PORT_BASE + nr))
			 : "memory");
}

/* Console. */
static inline void lv_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %w1" : : "a"(v), "Nd"(port) : "memory");
}
int64_t lv_console_write(const void *buf, size_t len);
int lv_puts(const char *s);                       /* adds no newline */
int lv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int lv_snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int lv_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

/* With `vm run --vsock`: the guest-physical address of the virtio-mmio
 * window of the virtio-vsock device (RDX at entry), else 0. */
extern uint64_t lv_virtio_base;

/* VM control. */
__attribute__((noreturn)) void lv_exit(int code);
__attribute__((noreturn)) void lv_halt(uint64_t rax);
unsigned lv_vcpu_id(void);
unsigned lv_vcpu_count(void);
uint64_t lv_time_ns(void);
int64_t lv_abi_version(void);

/* Exit statistics: the CPUID-style leaves 0x4FFFFFFC..0x4FFFFFFF. */
int64_t lv_exit_stats(uint32_t leaf, uint32_t ecx, uint32_t out[4]);

/* Files in the shared folder (--share). */
int64_t lv_open(const char *path, uint32_t flags, uint32_t mode);
int64_t lv_close(int64_t fd);
int64_t lv_read(int64_t fd, void *buf, size_t len);
int64_t lv_write(int64_t fd, const void *buf, size_t len);
int64_t lv_pread(int64_t fd, void *buf, size_t len, int64_t off);
int64_t lv_pwrite(int64_t fd, const void *buf, size_t len, int64_t off);
int64_t lv_lseek(int64_t fd, int64_t off, int whence);
int64_t lv_fstat(int64_t fd, struct lv_stat *st);
int64_t lv_unlink(const char *path);
/* Next name in a directory opened with LV_O_DIRECTORY, NUL-terminated;
 * returns its length, 0 at the end. */
int64_t lv_readdir(int64_t fd, char *name, size_t len, uint32_t *type);

/* A short message for a negated LV_E* code. */
const char *lv_strerror(int64_t err);

/* The few C library pieces a freestanding guest needs (the compiler may
 * call memcpy/memset/memcmp on its own). */
size_t lv_strlen(const char *s);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
