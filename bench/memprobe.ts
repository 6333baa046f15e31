/**
 * Where the memory of parked runs goes: one Threadline deployment (SQLite), runs parked in stages, and after
 * each stage every Threadline process's /proc smaps grouped by kind, the V8 heap of each of its threads (a
 * preload writes them; see bench/threadstats.ts), and optionally glibc's malloc_info (via gdb).
 *
 *   npx tsc -p tsconfig.bench.json && node dist/bench/memprobe.js [--shape=all-in-one|split] [--parked=1000]
 *     [--stages=2] [--warm=200] [--churn=0] [--completed=0] [--resume-all] [--gdb] [--trim] [--env=K=V,K=V]
 *
 * --warm / --churn park and resume runs (20 at a time) before the parked stages; --gdb reads malloc_info at each
 * stage; --trim ends with a full GC in every thread and then malloc_trim(0), each followed by a reading.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeModel } from '../test/support/fakeModel';
import { startScratchTemporal } from '../test/support/temporal';
import { cpuMs } from './procs';
import { ROOT } from './root';
import { park, resume, type Parked } from './scenarios/parked';
import { oneRoundResponder } from './scenarios/throughput';
import { pool } from './stats';
import { deploy, type Deployment, type ThreadlineProcess } from './topology';

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const flag = (name: string, fallback: number) => Number(arg(name) ?? fallback);
const out = (line: string) => process.stdout.write(`${line}\n`);
const MB = (kb: number) => kb / 1024;

interface Mapping {
  key: string;
  name: string;
  sizeKb: number;
  rssKb: number;
  anonKb: number;
  perms: string;
}

function smaps(pid: number): Mapping[] {
  const text = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const maps: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        key: head[1]!,
        name: head[4] ?? '',
        sizeKb: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024,
        rssKb: 0,
        anonKb: 0,
        perms: head[3]!,
      };
      maps.push(cur);
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (field && cur) {
      if (field[1] === 'Rss') cur.rssKb = Number(field[2]);
      if (field[1] === 'Anonymous') cur.anonKb = Number(field[2]);
    }
  }
  return maps;
}

interface ThreadStat {
  threadId: number;
  label: string;
  isMainThread: boolean;
  heap: { total_heap_size: number; used_heap_size: number; malloced_memory: number; external_memory: number };
  mem: { rss: number; external: number; arrayBuffers: number };
  spaces: Record<string, { size: number; used: number }>;
}

function threads(dir: string, pid: number): ThreadStat[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith(`${pid}-`) && f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as ThreadStat)
    .sort((a, b) => a.threadId - b.threadId);
}

/** glibc's own account of its arenas (malloc_info XML, read through gdb): per arena, mapped and free bytes. */
function mallocInfo(pid: number): { arenas: number; systemMb: number; freeMb: number; mmapMb: number } | undefined {
  const file = path.join(os.tmpdir(), `malloc-info-${pid}-${Date.now()}.xml`);
  try {
    execFileSync(
      'gdb',
      [
        '-p',
        String(pid),
        '-batch',
        '-nx',
        '-ex',
        `call (void*)fopen("${file}", "w")`,
        '-ex',
        'call (int)malloc_info(0, $1)',
        '-ex',
        'call (int)fclose($1)',
      ],
      { stdio: 'ignore', timeout: 120_000 },
    );
    const xml = fs.readFileSync(file, 'utf8');
    fs.rmSync(file);
    const total = xml.slice(xml.lastIndexOf('</heap>'));
    const num = (re: RegExp) => Number(re.exec(total)?.[1] ?? NaN);
    return {
      arenas: (xml.match(/<heap nr=/g) ?? []).length,
      systemMb: num(/<system type="current" size="(\d+)"/) / 2 ** 20,
      freeMb:
        (num(/<total type="fast" count="\d+" size="(\d+)"/) + num(/<total type="rest" count="\d+" size="(\d+)"/)) /
        2 ** 20,
      mmapMb: num(/<total type="mmap" count="\d+" size="(\d+)"/) / 2 ** 20,
    };
  } catch {
    return undefined;
  }
}

interface Snapshot {
  label: string;
  maps: Mapping[];
  threads: ThreadStat[];
  malloc?: ReturnType<typeof mallocInfo>;
  cpuMs: number;
}

function classify(m: Mapping): string {
  if (m.name === '[heap]') return 'brk heap (main arena)';
  if (m.name.startsWith('[stack')) return 'stack';
  if (m.name.startsWith('/')) return m.anonKb > 0 ? 'file (private dirty)' : 'file';
  if (m.name !== '') return m.name;
  return 'anonymous';
}

function take(label: string, pid: number, dir: string, gdb: boolean): Snapshot {
  return {
    label,
    maps: smaps(pid),
    threads: threads(dir, pid),
    malloc: gdb ? mallocInfo(pid) : undefined,
    cpuMs: cpuMs(pid),
  };
}

function report(role: string, snaps: Snapshot[], per: number[]) {
  out(`\n### ${role}`);
  const kinds = ['anonymous', 'brk heap (main arena)', 'file', 'file (private dirty)', 'stack'];
  out(
    `| stage | RSS | ${kinds.join(' | ')} | threads: V8 heap total/used (MB) | malloc arenas: n, mapped, free, mmap (MB) |`,
  );
  out(`|---|---|${kinds.map(() => '---').join('|')}|---|---|`);
  for (const s of snaps) {
    const byKind = new Map<string, number>();
    for (const m of s.maps) byKind.set(classify(m), (byKind.get(classify(m)) ?? 0) + m.rssKb);
    const rss = s.maps.reduce((a, m) => a + m.rssKb, 0);
    const th = s.threads
      .map(
        (t) =>
          `${t.label}#${t.threadId} ${(t.heap.total_heap_size / 2 ** 20).toFixed(1)}/${(t.heap.used_heap_size / 2 ** 20).toFixed(1)}` +
          ` ext ${(t.mem.external / 2 ** 20).toFixed(1)} malloced ${(t.heap.malloced_memory / 2 ** 20).toFixed(1)}`,
      )
      .join('; ');
    const mi = s.malloc
      ? `${s.malloc.arenas}, ${s.malloc.systemMb.toFixed(1)}, ${s.malloc.freeMb.toFixed(1)}, ${s.malloc.mmapMb.toFixed(1)}`
      : '-';
    out(
      `| ${s.label} | ${MB(rss).toFixed(1)} | ${kinds.map((k) => MB(byKind.get(k) ?? 0).toFixed(1)).join(' | ')} | ${th} | ${mi} |`,
    );
  }
  out('\nV8 spaces, size/used MB (main thread; workflow thread):');
  for (const s of snaps) {
    const fmtSpaces = (t?: ThreadStat) =>
      t
        ? Object.entries(t.spaces)
            .filter(([, v]) => v.size > 2 ** 20)
            .map(
              ([k, v]) =>
                `${k.replace('_space', '')} ${(v.size / 2 ** 20).toFixed(0)}/${(v.used / 2 ** 20).toFixed(0)}`,
            )
            .join(', ')
        : '-';
    out(
      `  ${s.label}: ${fmtSpaces(s.threads.find((t) => t.label === 'main'))}; ${fmtSpaces(s.threads.find((t) => t.label === 'workflows'))}`,
    );
  }
  // The mappings that grew the most between consecutive stages (by start address: arenas and V8 regions stay put).
  for (let i = 1; i < snaps.length; i++) {
    const before = new Map(snaps[i - 1]!.maps.map((m) => [m.key, m]));
    const grown = snaps[i]!.maps.map((m) => ({
      m,
      d: m.rssKb - (before.get(m.key)?.rssKb ?? 0),
      fresh: !before.has(m.key),
    }))
      .filter((x) => Math.abs(x.d) >= 1024)
      .sort((a, b) => b.d - a.d);
    const sum = (pred: (x: (typeof grown)[number]) => boolean) =>
      MB(grown.filter(pred).reduce((a, x) => a + x.d, 0)).toFixed(1);
    out(
      `\n${snaps[i - 1]!.label} → ${snaps[i]!.label} (${per[i] ?? 0} runs): mappings moving ≥ 1 MB: ${grown.length}, ` +
        `sum ${sum(() => true)} MB (anon 64 MB-aligned arena-sized ≤ 64 MB: ${sum((x) => x.m.name === '' && x.m.sizeKb <= 65536)} MB, ` +
        `anon > 64 MB: ${sum((x) => x.m.name === '' && x.m.sizeKb > 65536)} MB, named: ${sum((x) => x.m.name !== '')} MB)`,
    );
    for (const x of grown.slice(0, 12))
      out(
        `  ${x.m.key} ${x.m.perms} size ${MB(x.m.sizeKb).toFixed(1)} MB ${x.m.name || '(anon)'}${x.fresh ? ' (new)' : ''}: ${MB(x.d) >= 0 ? '+' : ''}${MB(x.d).toFixed(1)} MB (rss ${MB(x.m.rssKb).toFixed(1)})`,
      );
  }
}

async function main() {
  const shape = (arg('shape') ?? 'all-in-one') as Deployment['shape'];
  const count = flag('parked', 1000);
  const stages = flag('stages', 2);
  const warm = flag('warm', 200);
  const completed = flag('completed', 0);
  const gdb = process.argv.includes('--gdb');
  const extraEnv = Object.fromEntries(
    (arg('env') ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memprobe-'));
  process.env.BENCH_NODE_ARGS = [process.env.BENCH_NODE_ARGS ?? '', '-r', path.join(__dirname, 'threadstats.js')]
    .join(' ')
    .trim();
  const model = await startFakeModel();
  model.setResponder(oneRoundResponder);
  const temporal = await startScratchTemporal(ROOT, 'threadline-memprobe-', 'tuned');
  const dep = await deploy(temporal.address, 'sqlite', shape, model.baseURL, { ...extraEnv, MEMPROBE_DIR: dir });
  const procs: Record<string, ThreadlineProcess> =
    shape === 'split' ? { api: dep.api, worker: dep.workers[0]! } : { start: dep.api };
  const snaps = new Map<string, Snapshot[]>(Object.keys(procs).map((k) => [k, []]));
  const per: number[] = [0];
  const settle = async () => new Promise((r) => setTimeout(r, 8_000)); // the preload writes every 2 s
  const snapshot = async (label: string) => {
    await settle();
    for (const [role, p] of Object.entries(procs)) snaps.get(role)!.push(take(label, p.pid, dir, gdb));
    out(`${new Date().toISOString()} ${label}`);
  };
  try {
    const tool = { type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object' } } };
    const assistant = (await dep.openai.beta.assistants.create({ model: 'bench', tools: [tool] })).id;
    const parkN = (n: number) => park(dep, assistant, n);
    const resumeAll = async (runs: Parked[]) => {
      await pool(runs, 20, (r) => resume(dep, r));
    };
    await snapshot('started');
    if (warm > 0) {
      await resumeAll(await parkN(warm));
      per.push(warm);
      await snapshot(`warm (${warm} runs completed)`);
    }
    const churn = flag('churn', 0);
    if (churn > 0) {
      // The same work as parking, but each run resumed at once: never more than 20 parked.
      await pool(Array.from({ length: churn / 20 }), 1, async () => resumeAll(await parkN(20)));
      per.push(churn);
      await snapshot(`churn (${churn} more runs parked and resumed, ≤ 20 at a time)`);
    }
    const all: Parked[] = [];
    for (let s = 1; s <= stages; s++) {
      all.push(...(await parkN(count)));
      per.push(count);
      await snapshot(`${s * count} parked`);
    }
    const idle0 = Object.values(procs).map((p) => cpuMs(p.pid));
    await new Promise((r) => setTimeout(r, 20_000));
    out(
      `idle CPU with ${all.length} parked (% of a core, 20 s): ${Object.values(procs)
        .map((p, i) => ((100 * (cpuMs(p.pid) - idle0[i]!)) / 20_000).toFixed(2))
        .join(' / ')}`,
    );
    if (completed > 0) {
      await resumeAll(all.splice(0, completed));
      per.push(completed);
      await snapshot(`${completed} of them resumed`);
    }
    if (process.argv.includes('--trim')) {
      // What of it is garbage and slack: a full GC in every thread, then glibc's malloc_trim(0) (gdb).
      for (const p of Object.values(procs)) fs.writeFileSync(path.join(dir, `gc-${p.pid}`), String(Date.now()));
      per.push(0);
      await snapshot('after full GC in every thread');
      for (const p of Object.values(procs))
        execFileSync('gdb', ['-p', String(p.pid), '-batch', '-nx', '-ex', 'call (int)malloc_trim(0)'], {
          stdio: 'ignore',
          timeout: 120_000,
        });
      per.push(0);
      await snapshot('after malloc_trim(0)');
    }
    if (process.argv.includes('--resume-all') && all.length > 0) {
      per.push(all.length);
      await resumeAll(all.splice(0));
      await snapshot('all resumed');
    }
    for (const [role, s] of snaps) report(role, s, per);
  } finally {
    await dep.stop();
    await model.close();
    await temporal.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
