#include "pvm_compat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <x86intrin.h>

#include "vm.h"

#define MSR_TSC      0x10
#define MSR_STAR     0xc0000081
#define MSR_LSTAR    0xc0000082
#define MSR_TSC_AUX  0xc0000103
#define RFLAGS_AC    (1ull << 18)
#define PF_INSN      0x10               /* page-fault error code: instruction fetch */
#define FLAGS_ARITH  0x8d5ull           /* CF PF AF ZF SF OF */
#define FLAG_ZF      0x40ull

bool pvm_host_detected(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

int pvm_check_cpus(unsigned cpus, struct lv_err *err)
{
	if (cpus <= 1)
		return 0;
	return lv_err_set(err, "--cpus %u: on this PVM host a Linux guest can have one vCPU only "
			  "(an SMP kernel starts its other CPUs with KVM paravirtual IPIs, a "
			  "`vmcall` that PVM neither carries out nor reports, and hangs); use "
			  "--cpus 1 here, more on hardware with VT-x/AMD-V", cpus);
}

const char *pvm_cmdline(void)
{
	/* noxsave: xrstor is refused; clearcpuid: cx16 popcnt pcid smap invpcid clwb
	 * rdtscp erms fsrm (bits of the kernel's feature words); lpj: no delay-loop
	 * calibration under the emulator; rodata=off: write-protecting the kernel's
	 * read-only data (page-table splits, freeing the gaps) costs ~9 s of
	 * emulated code at boot here (measured; `--append rodata=on` restores it) */
	return "noxsave clearcpuid=141,151,145,308,298,312,59,297,580 tsc=reliable lpj=1000000 "
	       "rodata=off";
}

/* ---- guest memory by virtual address ---- */

static int gva_to_gpa(struct vcpu *v, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation t = { .linear_address = gva };

	if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return -1;
	*gpa = t.physical_address;
	return 0;
}

/* len bytes at gva (page by page, each through the one guest-memory check). */
static int gva_access(struct vcpu *v, uint64_t gva, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;

	while (len) {
		uint64_t gpa;
		size_t chunk = 4096 - (gva & 4095);

		if (chunk > len)
			chunk = len;
		if (gva_to_gpa(v, gva, &gpa) < 0 ||
		    !(write ? gm_copy_out(&v->vm->mem, gpa, p, chunk)
			    : gm_copy_in(&v->vm->mem, p, gpa, chunk)))
			return -1;
		gva += chunk;
		p += chunk;
		len -= chunk;
	}
	return 0;
}

static int get_msr(struct vcpu *v, uint32_t index, uint64_t *value)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = { .h.nmsrs = 1, .e.index = index };

	if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
		return -1;
	*value = m.e.data;
	return 0;
}

/* ---- decoding what we emulate ---- */

#define INSN_MAX 15              /* the longest x86 instruction */

struct insn {
	uint8_t b[32];          /* INSN_MAX guest bytes, zeros after: decoding never reads past */
	unsigned len;           /* bytes consumed so far */
	bool opsize16, rep, rex_w, rex_r, rex_x, rex_b;
	int seg;                /* 0, or 4 (fs) / 5 (gs) */
};

/* General registers in the encoding's order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15). */
static __u64 *reg_ptr(struct kvm_regs *r, unsigned n)
{
	__u64 *map[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi,
			      &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
			      &r->r14, &r->r15 };
	return map[n & 15];
}

static void prefixes(struct insn *in)
{
	/* a guest can send nothing but prefixes: stop where an instruction must end */
	for (; in->len < INSN_MAX - 1; in->len++) {
		uint8_t c = in->b[in->len];

		if (c == 0x66)
			in->opsize16 = true;
		else if (c == 0xf3)
			in->rep = true;
		else if (c == 0x64 || c == 0x65)
			in->seg = c - 0x60;
		else if (c != 0xf0 && c != 0xf2 && c != 0x2e && c != 0x3e && c != 0x26 && c != 0x36)
			break;
	}
	if ((in->b[in->len] & 0xf0) == 0x40 && in->len < INSN_MAX - 1) {
		uint8_t rex = in->b[in->len++];

		in->rex_w = rex & 8;
		in->rex_r = rex & 4;
		in->rex_x = rex & 2;
		in->rex_b = rex & 1;
	}
}

struct operand {
	bool is_reg;
	unsigned reg;           /* ModRM.reg (with REX.R) */
	unsigned rm_reg;        /* is_reg: the r/m register */
	uint64_t addr;          /* !is_reg: the effective (linear) address */
};

static int32_t disp32(const uint8_t *p)
{
	int32_t d;

	memcpy(&d, p, 4);
	return d;
}

/* ModRM (+SIB, displacement) at in->len; rip_end is filled in afterwards. */
static void modrm(struct insn *in, struct kvm_regs *r, const struct kvm_sregs *s,
		  struct operand *op, uint64_t rip)
{
	uint8_t m = in->b[in->len++];
	unsigned mod = m >> 6, rm = m & 7;
	bool riprel = false;
	uint64_t a = 0;

	op->reg = ((m >> 3) & 7) | (in->rex_r ? 8 : 0);
	op->is_reg = mod == 3;
	op->rm_reg = rm | (in->rex_b ? 8 : 0);
	if (op->is_reg)
		return;
	if (rm == 4) {
		uint8_t sib = in->b[in->len++];
		unsigned idx = ((sib >> 3) & 7) | (in->rex_x ? 8 : 0), base = sib & 7;

		if (idx != 4)
			a += *reg_ptr(r, idx) << (sib >> 6);
		if (base == 5 && mod == 0) {
			a += (uint64_t)(int64_t)disp32(in->b + in->len);
			in->len += 4;
		} else {
			a += *reg_ptr(r, base | (in->rex_b ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) {
		riprel = true;
	} else {
		a = *reg_ptr(r, rm | (in->rex_b ? 8 : 0));
	}
	if (mod == 1) {
		a += (uint64_t)(int64_t)(int8_t)in->b[in->len++];
	} else if (mod == 2 || riprel) {
		a += (uint64_t)(int64_t)disp32(in->b + in->len);
		in->len += 4;
	}
	if (riprel)
		a += rip + in->len;     /* relative to the end: nothing follows these encodings */
	if (in->seg == 4)
		a += s->fs.base;
	else if (in->seg == 5)
		a += s->gs.base;
	op->addr = a;
}

/* ---- the instructions ---- */

static int inject(struct vcpu *v, unsigned vector)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	if (vector < 32) {
		ev.exception.injected = 1;
		ev.exception.nr = (uint8_t)vector;
		ev.exception.has_error_code = 0;
	} else {
		ev.interrupt.injected = 1;
		ev.interrupt.nr = (uint8_t)vector;
		ev.interrupt.soft = 1;
	}
	ev.flags = 0;
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev);
}

static int popcnt(struct vcpu *v, struct insn *in, struct kvm_regs *r, const struct kvm_sregs *s)
{
	struct operand op;
	uint64_t src = 0;
	__u64 *dst;
	unsigned size = in->rex_w ? 8 : in->opsize16 ? 2 : 4;

	modrm(in, r, s, &op, r->rip);
	if (op.is_reg)
		src = *reg_ptr(r, op.rm_reg);
	else if (gva_access(v, op.addr, &src, size, false) < 0)
		return -1;
	if (size < 8)
		src &= (1ull << (size * 8)) - 1;
	dst = reg_ptr(r, op.reg);
	if (size == 2)
		*dst = (*dst & ~0xffffull) | (uint64_t)__builtin_popcountll(src);
	else
		*dst = (uint64_t)__builtin_popcountll(src);
	r->rflags = (r->rflags & ~FLAGS_ARITH) | (src ? 0 : FLAG_ZF);
	return 0;
}

static int mxcsr(struct vcpu *v, struct insn *in, struct kvm_regs *r, const struct kvm_sregs *s,
		 bool load)
{
	struct operand op;
	struct kvm_fpu fpu;
	uint32_t val;

	modrm(in, r, s, &op, r->rip);
	if (op.is_reg || ioctl(v->fd, KVM_GET_FPU, &fpu) < 0)
		return -1;
	if (!load)
		return gva_access(v, op.addr, &fpu.mxcsr, 4, true);
	if (gva_access(v, op.addr, &val, 4, false) < 0)
		return -1;
	fpu.mxcsr = val;
	return ioctl(v->fd, KVM_SET_FPU, &fpu);
}

/* The #PF entry hooked by pvm_hook_page_faults: a syscall gone wrong (1), or a
 * page fault (0), or -1. */
static int page_fault_entry(struct vcpu *v, struct kvm_regs *r, struct kvm_sregs *s)
{
	uint64_t frame[6], lstar, star;         /* error code, rip, cs, rflags, rsp, ss */

	if (gva_access(v, r->rsp, frame, sizeof(frame), false) < 0 ||
	    get_msr(v, MSR_LSTAR, &lstar) < 0 || get_msr(v, MSR_STAR, &star) < 0)
		return -1;
	if (!(frame[0] & PF_INSN) || frame[1] != lstar || (frame[2] & 3) != 3) {
		r->rip += 3;                    /* a real page fault: the NOP we replaced */
		return 0;
	}
	/* syscall should have entered at LSTAR in kernel mode: make it so */
	s->cs.selector = (uint16_t)((star >> 32) & 0xfffc);
	s->cs.base = 0;
	s->cs.limit = 0xffffffff;
	s->cs.type = 11;
	s->cs.dpl = 0;
	s->cs.l = 1;
	s->cs.db = 0;
	s->ss.selector = (uint16_t)(((star >> 32) + 8) & 0xfffc);
	s->ss.base = 0;
	s->ss.limit = 0xffffffff;
	s->ss.type = 3;
	s->ss.dpl = 0;
	s->ss.db = 1;
	r->rip = lstar;
	r->rsp = frame[4];
	r->rflags = frame[3];
	return ioctl(v->fd, KVM_SET_SREGS, s) < 0 ? -1 : 1;
}

/* Carries out the instruction; 1 done (registers to be set), 2 done, 0 not one
 * of ours, -1 failed.  *reason: how the exit counts. */
static int emulate(struct vcpu *v, struct insn *in, struct kvm_regs *r, struct kvm_sregs *s,
		   unsigned *reason)
{
	const uint8_t *b = in->b + in->len;
	uint64_t value;
	int rc;

	*reason = LV_EXIT_PVM_EMULATED;
	if (r->rip == v->vm->pf_hook_gva && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xca) {
		if ((rc = page_fault_entry(v, r, s)) == 1)
			*reason = LV_EXIT_PVM_SYSCALL;
		return rc < 0 ? -1 : 1;
	}
	if (b[0] == 0xcc) {                                     /* int3 */
		r->rip += in->len + 1;
		return ioctl(v->fd, KVM_SET_REGS, r) < 0 || inject(v, 3) < 0 ? -1 : 2;
	}
	if (b[0] == 0xcd) {                                     /* int n */
		r->rip += in->len + 2;
		return ioctl(v->fd, KVM_SET_REGS, r) < 0 || inject(v, b[1]) < 0 ? -1 : 2;
	}
	if (b[0] == 0x9b) {                                     /* fwait */
		in->len++;
	} else if (b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xca || b[2] == 0xcb)) {
		r->rflags = b[2] == 0xca ? r->rflags & ~RFLAGS_AC : r->rflags | RFLAGS_AC;
		in->len += 3;                                   /* clac / stac */
	} else if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xf9) {     /* rdtscp */
		if (get_msr(v, MSR_TSC, &value) < 0)
			return -1;
		r->rax = (uint32_t)value;
		r->rdx = value >> 32;
		r->rcx = get_msr(v, MSR_TSC_AUX, &value) < 0 ? 0 : (uint32_t)value;
		in->len += 3;
	} else if (b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xd0) {     /* xgetbv */
		struct kvm_xcrs x;

		value = 1;                                      /* x87 only */
		if (ioctl(v->fd, KVM_GET_XCRS, &x) == 0)
			for (unsigned i = 0; i < x.nr_xcrs; i++)
				if (x.xcrs[i].xcr == (uint32_t)r->rcx)
					value = x.xcrs[i].value;
		r->rax = (uint32_t)value;
		r->rdx = value >> 32;
		in->len += 3;
	} else if (b[0] == 0x0f && b[1] == 0xae && ((b[2] >> 3) & 7) >= 2 &&
		   ((b[2] >> 3) & 7) <= 3 && (b[2] >> 6) != 3) {        /* ldmxcsr / stmxcsr */
		in->len += 2;
		if (mxcsr(v, in, r, s, ((in->b[in->len] >> 3) & 7) == 2) < 0)
			return -1;
	} else if (in->rep && b[0] == 0x0f && b[1] == 0xb8) {          /* popcnt */
		in->len += 2;
		if (popcnt(v, in, r, s) < 0)
			return -1;
	} else {
		return 0;
	}
	r->rip += in->len;
	return 1;
}

static int fetch(struct vcpu *v, const struct kvm_regs *r, struct insn *in)
{
	const struct kvm_run *run = v->run;

	memset(in, 0, sizeof(*in));
	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		memcpy(in->b, run->emulation_failure.insn_bytes,
		       run->emulation_failure.insn_size < INSN_MAX ? run->emulation_failure.insn_size
								   : INSN_MAX);
		if (run->emulation_failure.insn_size >= 4)
			return 0;
	}
	return gva_access(v, r->rip, in->b, INSN_MAX, false);
}

int pvm_handle_emulation_failure(struct vcpu *v, char *what, size_t len, unsigned *reason)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct insn in;
	int rc;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0 ||
	    fetch(v, &r, &in) < 0) {
		snprintf(what, len, "PVM layer: cannot read the instruction: %s", strerror(errno));
		return -1;
	}
	prefixes(&in);
	rc = emulate(v, &in, &r, &s, reason);
	if (rc == 1 && ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		rc = -1;
	if (rc > 0)
		return 1;
	snprintf(what, len, "instruction at rip=%#llx that KVM could not emulate and the PVM layer "
		 "does not know: %02x %02x %02x %02x %02x %02x %02x %02x",
		 (unsigned long long)r.rip, in.b[0], in.b[1], in.b[2], in.b[3], in.b[4], in.b[5],
		 in.b[6], in.b[7]);
	return rc;
}

void pvm_hook_page_faults(struct vcpu *v)
{
	struct kvm_sregs s;
	uint8_t gate[16], code[3];
	uint64_t target;
	static const uint8_t nop3[] = { 0x0f, 0x1f, 0x00 }, nop1x3[] = { 0x90, 0x90, 0x90 };
	static const uint8_t clac[] = { 0x0f, 0x01, 0xca };

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0 || s.idt.limit < 15 * 16 - 1 ||
	    gva_access(v, s.idt.base + 14 * 16, gate, sizeof(gate), false) < 0)
		return;
	target = (uint64_t)gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 |
		 (uint64_t)gate[7] << 24 | (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 |
		 (uint64_t)gate[10] << 48 | (uint64_t)gate[11] << 56;
	if (target == v->vm->pf_hook_gva || gva_access(v, target, code, 3, false) < 0)
		return;
	/* the final entry (asm_exc_page_fault) starts with ASM_CLAC's padding: a NOP */
	if ((memcmp(code, nop3, 3) == 0 || memcmp(code, nop1x3, 3) == 0) &&
	    gva_access(v, target, (void *)clac, 3, true) == 0)
		v->vm->pf_hook_gva = target;
}
