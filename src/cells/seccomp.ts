/**
 * The seccomp filter every sandboxed process runs under (bubblewrap `--seccomp`): a classic BPF
 * program refusing, with EPERM, the system calls an org's code has no business making —
 * debugging other processes, loading kernel code or modules, mounting, new namespaces, kernel
 * keyrings, eBPF, perf, io_uring, clock and host changes. Everything else is allowed (a
 * denylist: the namespaces, read-only root and cgroups do the confining; this shrinks the
 * kernel surface reachable from inside).
 *
 * Only x86-64 is enforced, the architecture it is tested on; elsewhere the sandbox says so.
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

/** The filter as bubblewrap reads it: an array of `struct sock_filter` (8 bytes each). */
export function seccompProgram(): Buffer {
  const numbers = Object.values(DENIED_X86_64);
  const insns: Array<[number, number, number, number]> = [];
  const n = numbers.length;
  // Layout: 0 load arch; 1 arch check; 2 kill (foreign arch); 3 load nr; 4 x32 check;
  // 5..5+n-1 one check per denied call; 5+n allow; 5+n+1 deny.
  const deny = 5 + n + 1;
  insns.push([LD_W_ABS, 0, 0, 4]); // seccomp_data.arch
  insns.push([JEQ_K, 1, 0, AUDIT_ARCH_X86_64]);
  insns.push([RET_K, 0, 0, KILL_PROCESS]);
  insns.push([LD_W_ABS, 0, 0, 0]); // seccomp_data.nr
  insns.push([JGE_K, deny - 5, 0, X32_SYSCALL_BIT]); // the x32 ABI would bypass the numbers below
  numbers.forEach((nr, i) => {
    const at = 5 + i;
    insns.push([JEQ_K, deny - at - 1, 0, nr]);
  });
  insns.push([RET_K, 0, 0, ALLOW]);
  insns.push([RET_K, 0, 0, ERRNO_EPERM]);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}
