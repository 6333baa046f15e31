/**
 * A seccomp filter for the sandbox (classic BPF, as bwrap's `--seccomp FD` takes it): system calls Python
 * and its libraries never need, and that are the kernel's usual attack surface or a way to reach other
 * processes, fail with EPERM. Everything else is allowed, so ordinary code (subprocesses, threads,
 * multiprocessing, numpy) runs unchanged. A process of another architecture ABI (x32, i386) is killed.
 *
 * Only x86_64 has a table here; on other machines the sandbox runs without this filter (its other walls
 * stay) and the worker says so at boot.
 */
const DENIED_X86_64: Record<string, number> = {
  // other processes' memory
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  // kernel attack surface unneeded by Python code
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  modify_ldt: 154,
  iopl: 172,
  ioperm: 173,
  uselib: 134,
  personality: 135,
  lookup_dcookie: 212,
  syslog: 103,
  // namespaces, mounts, modules, the machine itself
  unshare: 272,
  setns: 308,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  open_by_handle_at: 304,
  name_to_handle_at: 303,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  kexec_load: 246,
  kexec_file_load: 320,
  reboot: 169,
  swapon: 167,
  swapoff: 168,
  acct: 163,
  quotactl: 179,
  vhangup: 153,
  settimeofday: 164,
  clock_settime: 227,
  adjtimex: 159,
  clock_adjtime: 305,
};

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;

// BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
// struct seccomp_data offsets
const NR = 0;
const ARCH = 4;

export const SECCOMP_DENIED = Object.keys(DENIED_X86_64);

/** The compiled filter for this machine, or null where there is no table for its architecture. */
export function seccompFilter(): Buffer | null {
  if (process.arch !== 'x64') return null;
  const denied = Object.values(DENIED_X86_64);
  const program: Array<[number, number, number, number]> = [];
  program.push([LD_W_ABS, 0, 0, ARCH]);
  program.push([JEQ_K, 1, 0, AUDIT_ARCH_X86_64]);
  program.push([RET_K, 0, 0, RET_KILL_PROCESS]);
  program.push([LD_W_ABS, 0, 0, NR]);
  // Every check jumps to the EPERM return at the very end when it matches.
  const errnoAt = program.length + 1 + denied.length + 1;
  program.push([JGE_K, errnoAt - program.length - 1, 0, X32_SYSCALL_BIT]);
  for (const nr of denied) program.push([JEQ_K, errnoAt - program.length - 1, 0, nr]);
  program.push([RET_K, 0, 0, RET_ALLOW]);
  program.push([RET_K, 0, 0, RET_ERRNO | EPERM]);
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    bytes.writeUInt16LE(code, i * 8);
    bytes.writeUInt8(jt, i * 8 + 2);
    bytes.writeUInt8(jf, i * 8 + 3);
    bytes.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return bytes;
}
