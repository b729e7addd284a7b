/**
 * The seccomp filter every sandboxed process runs under (bubblewrap `--seccomp`): a classic BPF
 * program refusing, with EPERM, the system calls an org's code has no business making —
 * debugging other processes, loading kernel code or modules, mounting, new namespaces, kernel
 * keyrings, eBPF, perf, io_uring, clock and host changes. Everything else is allowed (a
 * denylist: the namespaces, read-only root and cgroups do the confining; this shrinks the
 * kernel surface reachable from inside).
 *
 * Only x86-64 is enforced, the architecture it is tested on; elsewhere the sandbox says so.
 * The x32 ABI gets EPERM; any other ABI (i386) kills the process.
 */

/** x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const DENIED_X86_64: Record<string, number> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kexec_load: 246,
  kexec_file_load: 320,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  move_mount: 429,
  open_tree: 428,
  mount_setattr: 442,
  fspick: 433,
  open_tree_attr: 467,
  unshare: 272,
  setns: 308,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  acct: 163,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  open_by_handle_at: 304,
  name_to_handle_at: 303,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  syslog: 103,
  settimeofday: 164,
  clock_settime: 227,
  clock_adjtime: 305,
  adjtimex: 159,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  quotactl: 179,
  vhangup: 153,
  lookup_dcookie: 212,
};

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
// BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const ALLOW = 0x7fff0000;
const ERRNO_EPERM = 0x00050000 | 1;
const KILL_PROCESS = 0x80000000;

export const SECCOMP_DENIED = Object.keys(DENIED_X86_64);

/** Whether the filter can be enforced on this machine's architecture. */
export function seccompSupported(): boolean {
  return process.arch === 'x64';
}

/** Namespace flags of clone(2): creating namespaces is refused however it is asked for. */
const CLONE_NEW_ANY = 0x7e020080; // NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
const NR_CLONE = 56;
const NR_CLONE3 = 435;
const JSET_K = 0x45;
const ERRNO_ENOSYS = 0x00050000 | 38;
/** Calls newer than the newest one reviewed here answer ENOSYS (libc falls back), not allow. */
const NEWEST_REVIEWED = 467;

/** The filter as bubblewrap reads it: an array of `struct sock_filter` (8 bytes each). */
export function seccompProgram(): Buffer {
  const numbers = Object.values(DENIED_X86_64);
  const n = numbers.length;
  // 0 load arch · 1 arch check · 2 kill (foreign arch) · 3 load nr · 4 x32 check · 5 too new? ·
  // 6 clone? · 7 clone3? · 8..8+n-1 denied calls · allow · deny · clone flags: load, test,
  // deny, allow · enosys. (BPF jumps only go forward, so the clone block has its own returns.)
  const allow = 8 + n;
  const deny = allow + 1;
  const cloneCheck = deny + 1;
  const enosys = cloneCheck + 4;
  const insns: Array<[number, number, number, number]> = [];
  const jump = (code: number, k: number, to: number) => {
    const at = insns.length;
    insns.push([code, to - at - 1, 0, k]);
  };
  insns.push([LD_W_ABS, 0, 0, 4]); // seccomp_data.arch
  insns.push([JEQ_K, 1, 0, AUDIT_ARCH_X86_64]);
  insns.push([RET_K, 0, 0, KILL_PROCESS]);
  insns.push([LD_W_ABS, 0, 0, 0]); // seccomp_data.nr
  jump(JGE_K, X32_SYSCALL_BIT, deny); // the x32 ABI would bypass the numbers below
  jump(JGE_K, NEWEST_REVIEWED + 1, enosys);
  jump(JEQ_K, NR_CLONE, cloneCheck);
  // clone3 passes its flags in memory, out of a filter's sight: "not implemented" makes libc
  // fall back to clone, whose flags are checked.
  jump(JEQ_K, NR_CLONE3, enosys);
  for (const nr of numbers) jump(JEQ_K, nr, deny);
  insns.push([RET_K, 0, 0, ALLOW]);
  insns.push([RET_K, 0, 0, ERRNO_EPERM]);
  insns.push([LD_W_ABS, 0, 0, 16]); // low 32 bits of clone's flags (args[0], little-endian)
  insns.push([JSET_K, 0, 1, CLONE_NEW_ANY]);
  insns.push([RET_K, 0, 0, ERRNO_EPERM]);
  insns.push([RET_K, 0, 0, ALLOW]);
  insns.push([RET_K, 0, 0, ERRNO_ENOSYS]);
  if (insns.length !== enosys + 1) throw new Error('seccomp program layout is off');
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
