/* Hypervisor selection and accelerator choice. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/utils.h"
#include "runtime/hypervisor.h"

const struct hypervisor_ops *kata_hypervisor_override;

const struct hypervisor_ops *
kata_hypervisor_get (const char *name)
{
  if (kata_hypervisor_override)
    return kata_hypervisor_override;
  if (name == NULL || strcmp (name, "qemu") == 0)
    return &kata_qemu_ops;
  return NULL;
}

/* Why KVM cannot be used here, or NULL when it can. */
static const char *
kvm_unusable_reason (void)
{
  struct stat st;
  int fd;

  if (stat ("/sys/module/kvm_pvm", &st) == 0)
    return "KVM cannot run guests on this host (kvm_pvm, nested paravirtual KVM)";
  fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return "/dev/kvm does not exist";
      return "/dev/kvm cannot be opened";
    }
  close (fd);
  return NULL;
}

int
kata_hypervisor_choose_accel (const char *accel, const char **chosen, char **reason, kata_error_t **err)
{
  const char *why;

  if (reason)
    *reason = NULL;
  if (accel == NULL || *accel == '\0')
    accel = "auto";
  if (strcmp (accel, "tcg") == 0)
    {
      *chosen = "tcg";
      if (reason)
        *reason = xstrdup ("accel=\"tcg\" is configured");
      return 0;
    }
  why = kvm_unusable_reason ();
  if (strcmp (accel, "kvm") == 0)
    {
      if (why)
        return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                      "accel=kvm requested but %s; use accel=\"auto\" or \"tcg\"", why);
      *chosen = "kvm";
      if (reason)
        *reason = xstrdup ("accel=\"kvm\" is configured and /dev/kvm is usable");
      return 0;
    }
  if (strcmp (accel, "auto") != 0)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "invalid accel `%s`: expected \"auto\", \"kvm\" or \"tcg\"", accel);
  if (why)
    {
      *chosen = "tcg";
      if (reason)
        *reason = xasprintf ("accel=\"auto\": using TCG because %s", why);
      return 0;
    }
  *chosen = "kvm";
  if (reason)
    *reason = xstrdup ("accel=\"auto\": using KVM (/dev/kvm is usable)");
  return 0;
}

unsigned long
kata_host_tsc_khz (void)
{
  cleanup_free char *data = NULL;
  unsigned long khz = 0;

  if (kata_read_file ("/sys/devices/system/cpu/cpu0/tsc_freq_khz", &data, NULL, 4096, NULL) == 0)
    {
      khz = strtoul (data, NULL, 10);
      if (khz > 0)
        return khz;
    }
  free (data);
  data = NULL;
  if (kata_read_file ("/proc/cpuinfo", &data, NULL, 0, NULL) == 0)
    {
      const char *p = strstr (data, "cpu MHz");
      if (p && (p = strchr (p, ':')))
        khz = (unsigned long)(strtod (p + 1, NULL) * 1000.0);
    }
  return khz;
}

int
kata_guest_image_probe (const char *path, unsigned *disk_id, kata_error_t **err)
{
  unsigned char mbr[512];
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  struct stat st;
  ssize_t n;
  if (fd < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.image `%s`", path);
  if (fstat (fd, &st) < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.image `%s`", path);
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
    return kata_make_error_nostr (err, KATA_EBADCONFIG, "hypervisor.qemu.image `%s`: not a file", path);
  n = pread (fd, mbr, sizeof mbr, 0);
  if (n < 0)
    return kata_make_error (err, errno, "hypervisor.qemu.image `%s`", path);
  if (n < (ssize_t)sizeof mbr || mbr[510] != 0x55 || mbr[511] != 0xAA)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "hypervisor.qemu.image `%s`: not a disk image (no partition table; "
                                  "build one with tools/osbuilder/build-image.sh)",
                                  path);
  /* partition entry 1 at 446: type at +4, 0xEE is GPT's protective MBR */
  if (mbr[446 + 4] == 0xEE)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "hypervisor.qemu.image `%s`: GPT partition tables are not supported "
                                  "(expected an MBR one, as tools/osbuilder/build-image.sh writes)",
                                  path);
  if (mbr[446 + 4] == 0)
    return kata_make_error_nostr (
        err, KATA_EBADCONFIG, "hypervisor.qemu.image `%s`: the partition table has no first partition", path);
  *disk_id
      = (unsigned)mbr[440] | (unsigned)mbr[441] << 8 | (unsigned)mbr[442] << 16 | (unsigned)mbr[443] << 24;
  if (*disk_id == 0)
    return kata_make_error_nostr (err, KATA_EBADCONFIG,
                                  "hypervisor.qemu.image `%s`: the MBR has no disk identifier", path);
  return 0;
}
