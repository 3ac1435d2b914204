/* QEMU command line and accelerator choice. */
#include "config.h"
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "common/utils.h"
#include "runtime/hypervisor.h"

static char *
joined (char **argv)
{
  size_t len = 1;
  for (char **a = argv; *a; a++)
    len += strlen (*a) + 1;
  char *s = xmalloc0 (len);
  for (char **a = argv; *a; a++)
    {
      strcat (s, *a);
      strcat (s, " ");
    }
  return s;
}

static void
replace (char **field, const char *v)
{
  free (*field);
  *field = xstrdup (v);
}

static void
test_argv_q35_9p (void **state)
{
  kata_config_t *cfg = kata_config_default ();
  char **argv = NULL;
  kata_error_t *err = NULL;
  (void)state;
  replace (&cfg->hypervisor.tb_size, "64");
  replace (&cfg->hypervisor.kernel_params, "foo=bar");
  cfg->hypervisor.msize_9p = 8192;
  cfg->agent.debug = true;
  cfg->hypervisor.default_maxvcpus = 4;
  kata_vm_params_t p = { .cfg = cfg,
                         .sandbox_id = "sb",
                         .vm_dir = "/run/vc/vm/sb",
                         .shared_dir = "/run/vc/shared/sb,x",
                         .vcpus = 2,
                         .memory_mb = 512,
                         .debug = true };
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  char *s = joined (argv);
  assert_non_null (strstr (s, "-name sandbox-sb -machine q35,memory-backend=mem -accel tcg,tb-size=64 -cpu "
                              "max -smp 2,maxcpus=4 -m 512M,slots=10,maxmem="));
  /* guest RAM from a shared memfd (memory_backend = "memfd", the default): no THP */
  assert_non_null (strstr (s, "-object memory-backend-memfd,id=mem,size=512M,share=on "));
  assert_non_null (strstr (s, "-nodefaults -nographic -no-reboot -no-user-config "));
  /* under TCG the APIC timer's clock is given (no 100 ms calibration), after the user's params */
  assert_non_null (strstr (s, "-append console=ttyS0 quiet panic=-1 no_timer_check agent.debug=1 foo=bar "
                              "lapic_timer_hz=1000000000 "));
  assert_null (strstr (s, "agent.warm")); /* a cold boot: nothing ahead of the container */
  assert_non_null (strstr (s, "-serial file:/run/vc/vm/sb/console.log "));
  assert_non_null (strstr (s, "-qmp unix:/run/vc/vm/sb/qmp.sock,server=on,wait=off "));
  assert_non_null (strstr (s, "-device pcie-root-port,id=rp0,chassis=1,slot=1,bus=pcie.0,addr=0x10 "));
  assert_non_null (strstr (s, "-device virtio-serial-pci,id=serial0 -chardev "
                              "socket,id=agent,path=/run/vc/vm/sb/agent.sock,server=on,wait=off -device "
                              "virtserialport,bus=serial0.0,chardev=agent,name=agent.channel.0 "));
  /* commas in paths are doubled for QEMU */
  assert_non_null (
      strstr (s, "-fsdev local,id=fs0,path=/run/vc/shared/sb,,x,security_model=none,multidevs=remap -device "
                 "virtio-9p-pci,fsdev=fs0,mount_tag=kataShared "));
  free (s);
  kata_strv_free (argv);

  /* NICs (taps opened by name inside the netns) and a template clone */
  const char *taps[] = { "tap0_kata" }, *macs[] = { "02:00:00:00:00:01" };
  p.nic_taps = taps;
  p.nic_macs = macs;
  p.nics_len = 1;
  p.boot_mode = KATA_VM_BOOT_CLONE;
  p.template_path = "/run/vc/vm/template";
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, "-netdev tap,id=net0,ifname=tap0_kata,script=no,downscript=no,vhost=off "
                              "-device virtio-net-pci,netdev=net0,mac=02:00:00:00:00:01,id=nic0,romfile= "));
  assert_non_null (strstr (s, "-machine q35,memory-backend=mem "));
  assert_non_null (strstr (
      s, "-object memory-backend-file,id=mem,size=512M,mem-path=/run/vc/vm/template/memory,share=off "));
  assert_non_null (strstr (s, "-incoming defer"));
  /* no memory slots: the template's command line */
  assert_non_null (strstr (s, " -m 512M "));
  /* no vCPU slots either: the template's -smp */
  assert_non_null (strstr (s, " -smp 2,maxcpus=2 "));
  assert_null (strstr (s, "spawn=deny")); /* exec: migration */
  free (s);
  kata_strv_free (argv);
  p.boot_mode = KATA_VM_BOOT_TEMPLATE;
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, "mem-path=/run/vc/vm/template/memory,share=on "));
  assert_null (strstr (s, "-incoming"));
  /* the template's agent loads what containers need before it is saved */
  assert_non_null (strstr (s, " agent.debug=1 agent.warm=1 foo=bar "));
  free (s);
  kata_strv_free (argv);
  p.nics_len = 0;
  p.boot_mode = KATA_VM_BOOT_COLD;
  p.warm = true; /* a cached VM */
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, " agent.warm=1 "));
  free (s);
  kata_strv_free (argv);
  p.warm = false;

  assert_int_equal (kata_qemu_build_argv (&p, "kvm", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, "-accel kvm -cpu host "));
  assert_null (strstr (s, "lapic_timer_hz")); /* KVM: the guest has the TSC deadline timer */
  free (s);
  kata_strv_free (argv);

  /* memory_backend = "ram": QEMU's anonymous RAM */
  replace (&cfg->hypervisor.memory_backend, "ram");
  assert_false (kata_qemu_memfd (cfg));
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, "-machine q35 -accel"));
  assert_null (strstr (s, "memory-backend"));
  free (s);
  kata_strv_free (argv);
  kata_config_free (cfg);
}

/* Writes a 1 MiB file whose first sector is MBR (an MBR partition table when MBR is true). */
static void
write_disk (const char *path, bool mbr, unsigned char ptype, unsigned disk_id)
{
  unsigned char sec[512] = { 0 };
  FILE *f = fopen (path, "w");
  assert_non_null (f);
  if (mbr)
    {
      sec[440] = disk_id & 0xff;
      sec[441] = (disk_id >> 8) & 0xff;
      sec[442] = (disk_id >> 16) & 0xff;
      sec[443] = (disk_id >> 24) & 0xff;
      sec[446 + 4] = ptype;
      sec[510] = 0x55;
      sec[511] = 0xAA;
    }
  assert_int_equal (fwrite (sec, 1, sizeof sec, f), sizeof sec);
  assert_int_equal (ftruncate (fileno (f), 1 << 20), 0);
  fclose (f);
}

/* The image guest: read-only drive, root=PARTUUID from the MBR, the seed's systemd
   parameters before kernel_params; errors for what is not a bootable disk. */
static void
test_argv_image (void **state)
{
  kata_config_t *cfg = kata_config_default ();
  char **argv = NULL;
  kata_error_t *err = NULL;
  char dir[] = "/tmp/kata-test-image.XXXXXX";
  (void)state;
  assert_non_null (mkdtemp (dir));
  char *img = xasprintf ("%s/kata,containers.img", dir);
  write_disk (img, true, 0x83, 0x1234abcd);
  replace (&cfg->hypervisor.initrd, "");
  replace (&cfg->hypervisor.image, img);
  replace (&cfg->hypervisor.kernel_params, "foo=bar");
  kata_vm_params_t p = { .cfg = cfg, .sandbox_id = "sb", .vm_dir = "/run/vc/vm/sb", .shared_dir = "/s" };
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  char *s = joined (argv);
  assert_null (strstr (s, "-initrd"));
  assert_non_null (strstr (s, "-append console=ttyS0 quiet panic=-1 no_timer_check root=PARTUUID=1234abcd-01 "
                              "rootfstype=ext4 rootflags=errors=remount-ro ro "
                              "systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service "
                              "systemd.mask=systemd-networkd.socket foo=bar "));
  char *drive
      = xasprintf ("-drive file=%s/kata,,containers.img,if=none,id=drive-image,format=raw,readonly=on,"
                   "aio=threads -device virtio-blk-pci,drive=drive-image,id=image ",
                   dir);
  assert_non_null (strstr (s, drive));
  free (drive);
  free (s);
  kata_strv_free (argv);

  /* not a disk image, a GPT, an empty partition table, nvdimm asked for */
  write_disk (img, false, 0, 0);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  assert_non_null (strstr (err->msg, "not a disk image"));
  kata_error_free (err);
  err = NULL;
  write_disk (img, true, 0xEE, 1);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_non_null (strstr (err->msg, "GPT"));
  kata_error_free (err);
  err = NULL;
  write_disk (img, true, 0, 1);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_non_null (strstr (err->msg, "no first partition"));
  kata_error_free (err);
  err = NULL;
  write_disk (img, true, 0x83, 1);
  cfg->hypervisor.disable_image_nvdimm = false;
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_non_null (strstr (err->msg, "disable_image_nvdimm"));
  kata_error_free (err);
  err = NULL;
  cfg->hypervisor.disable_image_nvdimm = true;
  unlink (img);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_int_equal (err->status, ENOENT);
  kata_error_free (err);
  rmdir (dir);
  free (img);
  kata_config_free (cfg);
}

static void
test_argv_microvm_virtiofs (void **state)
{
  kata_config_t *cfg = kata_config_default ();
  char **argv = NULL;
  kata_error_t *err = NULL;
  char long_dir[200];
  (void)state;
  replace (&cfg->hypervisor.machine_type, "microvm");
  replace (&cfg->hypervisor.shared_fs, "virtio-fs");
  memset (long_dir, 'a', sizeof long_dir - 1);
  long_dir[0] = '/';
  long_dir[sizeof long_dir - 1] = '\0';
  kata_vm_params_t p = {
    .cfg = cfg, .sandbox_id = "sb", .vm_dir = long_dir, .shared_dir = "/s", .vcpus = 1, .memory_mb = 256
  };
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  char *s = joined (argv);
  assert_non_null (
      strstr (s, "-machine microvm,pic=off,pit=off,rtc=on,memory-backend=mem -accel tcg,tb-size=32 "));
  assert_non_null (strstr (s, "-object memory-backend-memfd,id=mem,size=256M,share=on "));
  assert_non_null (strstr (s, "-global virtio-mmio.force-legacy=false "));
  /* no CPU hot-plug on microvm: maxcpus = the boot vCPUs */
  assert_non_null (strstr (s, " -smp 1,maxcpus=1 "));
  assert_non_null (strstr (s, "-device virtio-serial-device,id=serial0 "));
  /* sun_path is too short: relative socket paths (QEMU runs in the VM dir) */
  assert_non_null (strstr (s, "-chardev socket,id=agent,path=agent.sock,server=on,wait=off "));
  assert_non_null (strstr (
      s, "-chardev socket,id=vfs,path=vfsd.sock -device vhost-user-fs-device,chardev=vfs,tag=kataShared "));
  assert_null (strstr (s, "pcie-root-port"));
  if (kata_host_tsc_khz ())
    assert_non_null (strstr (s, "tsc_early_khz="));
  free (s);
  kata_strv_free (argv);

  replace (&cfg->hypervisor.machine_type, "pc");
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), -1);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  kata_error_free (err);
  kata_config_free (cfg);
}

/* firmware: "seabios" keeps the configured kernel, a qboot file boots the PVH vmlinux
   next to it (when it exists), microvm never gets -bios. */
static void
test_argv_firmware (void **state)
{
  kata_config_t *cfg = kata_config_default ();
  char **argv = NULL, *s;
  kata_error_t *err = NULL;
  char dir[] = "/tmp/kata-test-fw.XXXXXX";
  (void)state;
  assert_non_null (mkdtemp (dir));
  char *vmlinuz = xasprintf ("%s/vmlinuz.container", dir), *vmlinux = xasprintf ("%s/vmlinux.container", dir);
  char *qboot = xasprintf ("%s/qboot.rom", dir), *other = xasprintf ("%s/OVMF.fd", dir);
  assert_int_equal (kata_write_file_atomic (vmlinuz, "z", 1, 0644, NULL), 0);
  replace (&cfg->hypervisor.kernel, vmlinuz);
  kata_vm_params_t p
      = { .cfg = cfg, .sandbox_id = "sb", .vm_dir = "/v", .shared_dir = "/s", .memory_mb = 128 };
  char *want_z = xasprintf ("-no-user-config -kernel %s ", vmlinuz);
  char *want_qz = xasprintf ("-no-user-config -bios %s -kernel %s ", qboot, vmlinuz);
  char *want_qx = xasprintf ("-no-user-config -bios %s -kernel %s ", qboot, vmlinux);
  char *want_o = xasprintf ("-no-user-config -bios %s -kernel %s ", other, vmlinuz);

  replace (&cfg->hypervisor.firmware, "seabios");
  assert_null (kata_qemu_firmware (cfg));
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, want_z));
  free (s);
  kata_strv_free (argv);

  /* qboot without a vmlinux next to the kernel: the configured kernel */
  replace (&cfg->hypervisor.firmware, qboot);
  assert_string_equal (kata_qemu_firmware (cfg), qboot);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, want_qz));
  free (s);
  kata_strv_free (argv);

  assert_int_equal (kata_write_file_atomic (vmlinux, "x", 1, 0644, NULL), 0);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, want_qx));
  free (s);
  kata_strv_free (argv);

  /* another firmware file: -bios, the configured kernel */
  replace (&cfg->hypervisor.firmware, other);
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_non_null (strstr (s, want_o));
  free (s);
  kata_strv_free (argv);

  /* "": qboot when installed */
  replace (&cfg->hypervisor.firmware, "");
  if (access (KATA_QBOOT_PATH, R_OK) == 0)
    assert_string_equal (kata_qemu_firmware (cfg), KATA_QBOOT_PATH);
  else
    assert_null (kata_qemu_firmware (cfg));

  /* microvm: no firmware, the vmlinux */
  replace (&cfg->hypervisor.machine_type, "microvm");
  replace (&cfg->hypervisor.firmware, qboot);
  assert_null (kata_qemu_firmware (cfg));
  assert_int_equal (kata_qemu_build_argv (&p, "tcg", &argv, &err), 0);
  s = joined (argv);
  assert_null (strstr (s, "-bios"));
  assert_non_null (strstr (s, vmlinux));
  free (s);
  kata_strv_free (argv);

  unlink (vmlinuz);
  unlink (vmlinux);
  rmdir (dir);
  free (vmlinuz);
  free (vmlinux);
  free (qboot);
  free (other);
  free (want_z);
  free (want_qz);
  free (want_qx);
  free (want_o);
  kata_config_free (cfg);
}

static void
test_accel (void **state)
{
  const char *chosen = NULL;
  char *reason = NULL;
  kata_error_t *err = NULL;
  struct stat st;
  bool pvm = stat ("/sys/module/kvm_pvm", &st) == 0 || access ("/dev/kvm", R_OK | W_OK) < 0;
  (void)state;

  assert_int_equal (kata_hypervisor_choose_accel ("tcg", &chosen, &reason, &err), 0);
  assert_string_equal (chosen, "tcg");
  free (reason);
  assert_int_equal (kata_hypervisor_choose_accel ("auto", &chosen, &reason, &err), 0);
  assert_string_equal (chosen, pvm ? "tcg" : "kvm");
  assert_non_null (reason);
  free (reason);
  if (pvm)
    {
      assert_int_equal (kata_hypervisor_choose_accel ("kvm", &chosen, &reason, &err), -1);
      assert_non_null (strstr (err->msg, "accel=kvm requested but"));
      kata_error_free (err);
      err = NULL;
    }
  assert_int_equal (kata_hypervisor_choose_accel ("hvf", &chosen, &reason, &err), -1);
  assert_int_equal (err->status, KATA_EBADCONFIG);
  kata_error_free (err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_argv_q35_9p),
    cmocka_unit_test (test_argv_image),
    cmocka_unit_test (test_argv_microvm_virtiofs),
    cmocka_unit_test (test_argv_firmware),
    cmocka_unit_test (test_accel),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
