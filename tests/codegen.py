#!/usr/bin/env python3
"""codegen.py - check the instructions each decode mode compiles to.

For every decode mode the host can build (global, gs, zero on x86-64;
global and reg with the AArch64 cross compiler when it is installed) and
every compiler present (gcc, clang), compile tests/codegen-probe.c with
-O2 and that mode's rgn/decode.h, disassemble it with objdump and check
the probe that takes a 64-bit index:
  global  one RIP-relative load of the base, one load indexed by 8
  gs      one load with a %gs: operand indexed by 8, no base load
  zero    one load indexed by 8, no base load
  reg     (AArch64, 32-bit argument) one ldr off x28 with uxtw #3
          (AArch64 global: a PC-relative base load, then the same ldr)
Prints every sequence it saw.  usage: codegen.py SRCDIR BUILDDIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

src, build = sys.argv[1], sys.argv[2]
HEADERS = {
    'global': 'arch/generic/rgn_decode_global.h',
    'zero': 'arch/generic/rgn_decode_zero.h',
    'gs': 'arch/x86_64/rgn_decode_gs.h',
    'reg': 'arch/aarch64/rgn_decode_reg.h',
}
# (compiler, objdump, modes, extra flags)
TARGETS = [
    ('gcc', 'objdump', ['global', 'gs', 'zero'], ['-std=gnu17']),
    ('clang', 'objdump', ['global', 'gs', 'zero'], ['-std=gnu17']),
    ('aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-objdump', ['global', 'reg'],
     ['-std=gnu17', '-ffixed-x28']),
]


def disassemble(cc, objdump, arch, mode, flags, tmp):
    inc = os.path.join(tmp, mode)
    os.makedirs(os.path.join(inc, 'rgn'), exist_ok=True)
    shutil.copy(os.path.join(src, HEADERS[mode]), os.path.join(inc, 'rgn', 'decode.h'))
    # the release sequences: a debug build's header would add the checks
    with open(os.path.join(build, 'include', 'rgn', 'version.h')) as f:
        version_h = re.sub(r'#define RGN_DEBUG_BUILD \d+', '#define RGN_DEBUG_BUILD 0', f.read())
    with open(os.path.join(inc, 'rgn', 'version.h'), 'w') as f:
        f.write(version_h)
    obj = os.path.join(inc, cc + '.o')
    subprocess.run([cc, '-O2', '-fPIE', '-DRGN_STATIC', *flags, '-I', inc,
                    '-I', os.path.join(src, 'include'),
                    '-c', os.path.join(src, 'tests/codegen-probe.c'), '-o', obj],
                   check=True)
    out = subprocess.run([objdump, '-d', '--no-show-raw-insn', obj],
                         check=True, capture_output=True, text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r'^[0-9a-f]+ <(\w+)>:', line)
        if m:
            cur = funcs.setdefault(m.group(1), [])
            continue
        m = re.match(r'^\s+[0-9a-f]+:\s+(.*)$', line)
        if m and cur is not None:
            ins = m.group(1)
            ins = ins.split('//')[0] if arch == 'aarch64' else ins.split('#')[0]
            ins = re.sub(r'\s+', ' ', ins).strip()
            if ins and not re.match(r'(nop|endbr64|ret|xchg %ax,%ax|cs nopw|data16)', ins):
                cur.append(ins)
    return funcs


def loads(ins):
    return [i for i in ins if '(' in i or '[' in i]


def check(mode, arch, funcs):
    idx, ref = funcs['rgn_probe_idx'], funcs['rgn_probe_ref']
    if mode == 'reg':
        ok = len(ref) == 1 and re.fullmatch(r'ldr x0, \[x28, w0, uxtw #3\]', ref[0])
        return ok, ref
    if arch == 'aarch64':
        ld = loads(ref)
        return (len(ld) == 2 and 'uxtw #3' in ld[-1] and
                any(i.startswith('adrp') for i in ref)), ref
    ld = loads(idx)
    if mode == 'global':
        ok = (len(ld) == 2 and '(%rip)' in ld[0] and re.search(r',8\)', ld[1])
              and '%gs' not in ''.join(ld))
    elif mode == 'gs':
        ok = len(ld) == 1 and '%gs:' in ld[0] and re.search(r',8\)', ld[0]) \
            and '(%rip)' not in ''.join(idx)
    else:
        ok = len(ld) == 1 and re.search(r'\(,%\w+,8\)', ld[0]) and '(%rip)' not in ''.join(idx)
    return bool(ok), idx


failed = checked = 0
with tempfile.TemporaryDirectory() as tmp:
    for cc, objdump, modes, flags in TARGETS:
        if not shutil.which(cc) or not shutil.which(objdump):
            print(f'skip {cc}: not installed')
            continue
        arch = 'aarch64' if cc.startswith('aarch64') else 'x86_64'
        for mode in modes:
            funcs = disassemble(cc, objdump, arch, mode, flags, os.path.join(tmp, cc))
            ok, seq = check(mode, arch, funcs)
            checked += 1
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {arch:7} {cc:22} {mode:6} "
                  f"{' ; '.join(seq)}")
            print(f"     {'':7} {'':22} {'':6} 32-bit arg: {' ; '.join(funcs['rgn_probe_ref'])}")
            print(f"     {'':7} {'':22} {'':6} chase loop: {' ; '.join(funcs['rgn_probe_chase'])}")
print(f'{checked - failed} passed, {failed} failed')
sys.exit(1 if failed or checked == 0 else 0)
