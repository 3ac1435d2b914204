/*
 * bare-init: a trivial PID 1 used to measure the guest boot floor and to
 * probe what the guest kernel offers.  Not part of the product image.
 *
 * Default: make sure stdio is the console, print "KATA-BARE-READY" and
 * power the VM off (reboot(RB_POWER_OFF)).
 *
 * Kernel command line switches (read from /proc/cmdline):
 *   bareinit.probe=1   before powering off, print what the agent will need:
 *                      virtio-ports names, filesystems, cgroup2 controllers,
 *                      mount the 9p share "kataShared" and list it, and
 *                      write a line to the agent.channel.0 port.
 *   bareinit.reset=1   use reboot(RB_AUTOBOOT) instead of RB_POWER_OFF
 *                      (with QEMU -no-reboot and reboot=t this also exits).
 *
 * Build: gcc -static -Os -o bare-init bare-init.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static char cmdline[4096];
static int console_inherited; /* stdio came from the initramfs /dev/console */

static void say(const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

static void console_stdio(void)
{
	int fd;

	if (fcntl(1, F_GETFD) >= 0) {
		console_inherited = 1;
		return;
	}
	mkdir("/dev", 0755);
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, "mode=0755") < 0 && errno != EBUSY)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

static int has_flag(const char *flag)
{
	const char *p = cmdline;
	size_t n = strlen(flag);

	while ((p = strstr(p, flag)) != NULL) {
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void read_cmdline(void)
{
	int fd;
	ssize_t n;

	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		return;
	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	if (n > 0)
		cmdline[n] = '\0';
	close(fd);
}

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/*
 * Generic kernel flavor: load /lib/modules/<name>.ko in the order given by
 * /lib/modules/modules.load, as the agent does.
 */
static int load_modules(int verbose)
{
	FILE *f = fopen("/lib/modules/modules.load", "r");
	char line[256], path[512];
	int n = 0, fd;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		snprintf(path, sizeof(path), "/lib/modules/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) < 0) {
			if (errno != EEXIST)
				printf("PROBE module %s: FAILED: %s\n", line, strerror(errno));
		} else {
			n++;
			if (verbose)
				printf("PROBE module %s: loaded\n", line);
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
	return n;
}

static void probe_ports(char *agent_dev, size_t agent_dev_size)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	char path[512], name[256];

	if (!d) {
		printf("PROBE virtio-ports: none (%s)\n", strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		if (read_small(path, name, sizeof(name)) < 0)
			name[0] = '\0';
		printf("PROBE virtio-port %s name=%s\n", e->d_name, name);
		if (strcmp(name, "agent.channel.0") == 0)
			snprintf(agent_dev, agent_dev_size, "/dev/%s", e->d_name);
	}
	closedir(d);
}

static void probe_filesystems(void)
{
	static const char *want[] = { "9p", "virtiofs", "fuse", "overlay", "ext4", "cgroup2", "devpts",
				      "tmpfs", "mqueue", NULL };
	char buf[4096], line[64];
	int i;

	if (read_small("/proc/filesystems", buf, sizeof(buf)) < 0) {
		printf("PROBE filesystems: cannot read\n");
		return;
	}
	for (i = 0; want[i]; i++) {
		snprintf(line, sizeof(line), "\t%s\n", want[i]);
		/* the last entry has no trailing newline after read_small trims */
		int found = strstr(buf, line) != NULL;
		if (!found) {
			size_t bl = strlen(buf), wl = strlen(want[i]);
			found = bl > wl && buf[bl - wl - 1] == '\t' && strcmp(buf + bl - wl, want[i]) == 0;
		}
		printf("PROBE fs %s %s\n", want[i], found ? "yes" : "NO");
	}
}

static void probe_9p(void)
{
	DIR *d;
	struct dirent *e;
	char buf[256];

	mkdir("/mnt", 0755);
	if (mount("kataShared", "/mnt", "9p", 0, "trans=virtio,version=9p2000.L,msize=524288") < 0) {
		printf("PROBE 9p mount kataShared: FAILED: %s\n", strerror(errno));
		return;
	}
	printf("PROBE 9p mount kataShared: ok\n");
	d = opendir("/mnt");
	if (d) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				printf("PROBE 9p entry %s\n", e->d_name);
		closedir(d);
	}
	if (read_small("/mnt/hello.txt", buf, sizeof(buf)) == 0)
		printf("PROBE 9p hello.txt: %s\n", buf);
	umount("/mnt");
}

static void probe_cgroup2(void)
{
	char buf[512];

	mkdir("/sys/fs/cgroup", 0755);
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
		printf("PROBE cgroup2 mount: FAILED: %s\n", strerror(errno));
		return;
	}
	if (read_small("/sys/fs/cgroup/cgroup.controllers", buf, sizeof(buf)) == 0)
		printf("PROBE cgroup2 controllers: %s\n", buf);
}

static void probe(void)
{
	char agent_dev[300] = "";
	char buf[256];
	int fd;

	mkdir("/sys", 0555);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	printf("PROBE console from initramfs /dev/console: %s\n", console_inherited ? "yes" : "no (mounted devtmpfs)");
	if (read_small("/proc/sys/kernel/osrelease", buf, sizeof(buf)) == 0)
		printf("PROBE kernel %s\n", buf);
	if (read_small("/sys/devices/system/cpu/online", buf, sizeof(buf)) == 0)
		printf("PROBE cpus online %s\n", buf);
	/* The initramfs /dev only holds console: device nodes come from devtmpfs. */
	printf("PROBE devtmpfs on /dev: %s\n",
	       mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") == 0 ? "ok" : strerror(errno));
	probe_ports(agent_dev, sizeof(agent_dev));
	probe_filesystems();
	probe_cgroup2();
	probe_9p();
	mkdir("/dev/pts", 0755);
	printf("PROBE devpts mount: %s\n",
	       mount("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666") == 0 ? "ok" : strerror(errno));
	fd = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY);
	printf("PROBE ptmx open: %s\n", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0)
		close(fd);
	if (agent_dev[0]) {
		fd = open(agent_dev, O_WRONLY | O_NONBLOCK);
		if (fd >= 0) {
			static const char msg[] = "hello from bare-init\n";
			ssize_t w = write(fd, msg, sizeof(msg) - 1);
			printf("PROBE agent channel %s write: %s\n", agent_dev, w > 0 ? "ok" : strerror(errno));
			close(fd);
		} else {
			printf("PROBE agent channel %s open: %s\n", agent_dev, strerror(errno));
		}
	} else {
		printf("PROBE agent channel: NOT FOUND\n");
	}
	fflush(stdout);
}

int main(void)
{
	console_stdio();
	read_cmdline();
	if (access("/lib/modules/modules.load", F_OK) == 0) {
		int n = load_modules(has_flag("bareinit.probe=1"));
		printf("PROBE loaded %d modules\n", n);
		fflush(stdout);
	}
	say("KATA-BARE-READY\n");
	if (has_flag("bareinit.probe=1")) {
		probe();
		say("KATA-BARE-PROBE-DONE\n");
	}
	sync();
	if (has_flag("bareinit.reset=1"))
		reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	/* Power-off is not available: fall back to a reset (QEMU -no-reboot exits). */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
