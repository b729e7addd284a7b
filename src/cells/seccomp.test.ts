/** The seccomp program, run through a small classic-BPF interpreter: every path gives the intended answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SECCOMP_DENIED, seccompProgram } from './seccomp.ts';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

/** seccomp_data: nr (u32), arch (u32), instruction pointer (u64), args[6] (u64 each). */
function data(nr: number, arch = 0xc000003e, arg0 = 0): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(nr >>> 0, 0);
  b.writeUInt32LE(arch >>> 0, 4);
  b.writeUInt32LE(arg0 >>> 0, 16);
  return b;
}

function run(program: Buffer, input: Buffer): number {
  let a = 0;
  for (let pc = 0; pc * 8 < program.length; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) a = input.readUInt32LE(k);
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else if (code === 0x45) pc += (a & k) !== 0 ? jt : jf;
    else throw new Error(`unexpected opcode ${code.toString(16)}`);
  }
  throw new Error('fell off the end of the program');
}

test('denied calls get EPERM, others pass, namespaces via clone are refused, clone3 falls back, foreign ABIs die', () => {
  const p = seccompProgram();
  assert.equal(SECCOMP_DENIED.length, 48);
  assert.equal(run(p, data(101)), EPERM, 'ptrace');
  assert.equal(run(p, data(272)), EPERM, 'unshare');
  assert.equal(run(p, data(321)), EPERM, 'bpf');
  assert.equal(run(p, data(0)), ALLOW, 'read');
  assert.equal(run(p, data(57)), ALLOW, 'fork');
  assert.equal(run(p, data(56, undefined, 0x01200011)), ALLOW, 'clone as fork/pthread does');
  assert.equal(run(p, data(56, undefined, 0x10000000 | 17)), EPERM, 'clone with CLONE_NEWUSER');
  assert.equal(run(p, data(56, undefined, 0x40000000)), EPERM, 'clone with CLONE_NEWNET');
  assert.equal(run(p, data(435)), ENOSYS, 'clone3');
  assert.equal(run(p, data(467)), EPERM, 'open_tree_attr');
  assert.equal(run(p, data(470)), ENOSYS, 'a call newer than the list: not implemented, not allowed');
  assert.equal(run(p, data(0x40000000 + 101)), EPERM, 'x32 ABI');
  assert.equal(run(p, data(101, 0x40000003)), KILL, 'i386 ABI');
});
