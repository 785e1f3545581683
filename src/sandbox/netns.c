#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define VETH_NET 0x0AC70000u    /* 10.199.0.0 */

extern char **environ;

void veth_for_box(int id, struct veth *v)
{
	snprintf(v->host_if, sizeof(v->host_if), "lvh%d", id);
	snprintf(v->box_if, sizeof(v->box_if), "lvs%d", id);
	v->host_addr = VETH_NET + 4u * (unsigned)id + 1;
	v->box_addr = VETH_NET + 4u * (unsigned)id + 2;
}

/* Runs iproute2's `ip` with argv; its stderr is the message on failure. */
static int run_ip(char *const argv[], struct lv_err *err)
{
	static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };
	posix_spawn_file_actions_t fa;
	const char *ip = NULL;
	char msg[256] = "";
	int pipefd[2], status, rc;
	pid_t pid;
	ssize_t n;

	for (unsigned i = 0; i < 4 && !ip; i++)
		if (access(paths[i], X_OK) == 0)
			ip = paths[i];
	if (!ip)
		return lv_err_set(err, "--net veth needs iproute2's ip command (apt-get install iproute2)");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return lv_err_sys(err, errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, ip, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc == 0) {
		n = read(pipefd[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
	}
	close(pipefd[0]);
	if (rc != 0)
		return lv_err_sys(err, rc, "running %s", ip);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return lv_err_set(err, "ip %s %s: %s", argv[1], argv[2], msg[0] ? msg : "failed");
	return 0;
}

int veth_create(const struct veth *v, pid_t pid, struct lv_err *err)
{
	char pidstr[16], addr[32];
	struct in_addr a = { htonl(v->host_addr) };

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	snprintf(addr, sizeof(addr), "%s/30", inet_ntoa(a));
	char *add[] = { "ip", "link", "add", (char *)v->host_if, "type", "veth", "peer", "name",
			(char *)v->box_if, "netns", pidstr, NULL };
	char *addr_add[] = { "ip", "addr", "add", addr, "dev", (char *)v->host_if, NULL };
	char *up[] = { "ip", "link", "set", (char *)v->host_if, "up", NULL };

	if (run_ip(add, err) < 0 || run_ip(addr_add, err) < 0 || run_ip(up, err) < 0) {
		veth_delete(v);
		return lv_err_wrap(err, "--net veth");
	}
	return 0;
}

int veth_exists(const struct veth *v)
{
	return if_nametoindex(v->host_if) != 0;
}

void veth_delete(const struct veth *v)
{
	char *del[] = { "ip", "link", "del", (char *)v->host_if, NULL };
	struct lv_err ignored;

	if (veth_exists(v))
		run_ip(del, &ignored);
}

static int set_flags_up(int sock, const char *ifname, struct lv_err *err)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return lv_err_sys(err, errno, "interface %s", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return lv_err_sys(err, errno, "bringing %s up", ifname);
	return 0;
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
}

static int configure_box_end(int sock, const struct veth *v, struct lv_err *err)
{
	struct ifreq ifr = { 0 };
	struct rtentry rt = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", v->box_if);
	set_sin(&ifr.ifr_addr, v->box_addr);
	if (ioctl(sock, SIOCSIFADDR, &ifr) < 0)
		return lv_err_sys(err, errno, "address of %s", v->box_if);
	set_sin(&ifr.ifr_netmask, 0xFFFFFFFCu);
	if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0)
		return lv_err_sys(err, errno, "netmask of %s", v->box_if);
	if (set_flags_up(sock, v->box_if, err) < 0)
		return -1;
	set_sin(&rt.rt_dst, 0);
	set_sin(&rt.rt_genmask, 0);
	set_sin(&rt.rt_gateway, v->host_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(sock, SIOCADDRT, &rt) < 0)
		return lv_err_sys(err, errno, "default route via %s", v->host_if);
	return 0;
}

int net_setup_inside(const struct veth *v, struct lv_err *err)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (sock < 0)
		return lv_err_sys(err, errno, "socket");
	rc = set_flags_up(sock, "lo", err);
	if (rc == 0 && v)
		rc = configure_box_end(sock, v, err);
	close(sock);
	return rc;
}
