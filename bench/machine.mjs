// What the bench ran on and what else was running: the machine is shared, so every result carries the load
// average and the busiest processes before and after, and the renderer's memory is sampled from /proc.
/* global setInterval, clearInterval */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

function readProcFile(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function describeMachine() {
  const cpuinfo = readProcFile('/proc/cpuinfo');
  const memTotalKb = Number(/^MemTotal:\s+(\d+)/m.exec(readProcFile('/proc/meminfo'))?.[1] ?? 0);
  return {
    nproc: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memoryGiB: Math.round((memTotalKb / 1024 / 1024) * 10) / 10,
    kernel: release(),
  };
}

/** `2cpu-amd-epyc-7b13`: the file-name part of a result. */
export function machineSlug(machine) {
  const cpu = machine.cpuModel
    .toLowerCase()
    .replace(/\((r|tm)\)|processor|\d+-core|cpu @.*$/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `${machine.nproc}cpu-${cpu}`;
}

function cpuTicks(pid) {
  // /proc/<pid>/stat: "pid (comm) state ppid … utime stime …"; comm may hold spaces, so split after the last ')'.
  const stat = readProcFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function listPids() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/**
 * Load averages and the five busiest processes over the next second (CPU time sampled twice from /proc), leaving
 * out `ownPid` and everything it started: the "what else was running" note.
 */
export async function loadSnapshot(ownPid) {
  const before = new Map(listPids().map((pid) => [pid, cpuTicks(pid)]));
  const started = Date.now();
  await sleep(1000);
  const seconds = (Date.now() - started) / 1000;
  const ticksPerSecond = 100; // USER_HZ on Linux
  const busiest = listPids()
    .filter((pid) => before.has(pid) && !isDescendant(pid, ownPid))
    .map((pid) => ({
      pid,
      cpuPercent: (100 * (cpuTicks(pid) - before.get(pid))) / ticksPerSecond / seconds,
      rssMiB: Math.round(statusKb(pid, 'VmRSS') / 1024),
      command: readProcFile(`/proc/${pid}/cmdline`).split('\0').join(' ').trim().slice(0, 120),
    }))
    .filter((p) => p.command !== '')
    .sort((a, b) => b.cpuPercent - a.cpuPercent)
    .slice(0, 5);
  const [one, five, fifteen] = loadavg();
  return { at: new Date().toISOString(), loadavg: { one, five, fifteen }, busiest };
}

function parentPid(pid) {
  const stat = readProcFile(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function isDescendant(pid, rootPid) {
  for (let p = pid, depth = 0; p > 1 && depth < 32; p = parentPid(p), depth++) if (p === rootPid) return true;
  return false;
}

function statusKb(pid, field) {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readProcFile(`/proc/${pid}/status`))?.[1] ?? 0);
}

/** CPU ticks so far of every process outside `ownPid`'s tree, for `otherCpuCores`. */
export function otherProcessTicks(ownPid) {
  return new Map(
    listPids()
      .filter((pid) => !isDescendant(pid, ownPid))
      .map((pid) => [pid, cpuTicks(pid)]),
  );
}

/**
 * How many CPU cores other processes used on average since `before` (from `otherProcessTicks`): a process started
 * meanwhile counts in full, one that ended meanwhile is missed, so this is a lower bound.
 */
export function otherCpuCores(ownPid, before, seconds) {
  let ticks = 0;
  for (const [pid, now] of otherProcessTicks(ownPid)) ticks += now - (before.get(pid) ?? 0);
  return ticks / 100 / seconds; // USER_HZ = 100
}

/** PIDs of Chromium renderer processes started (at any depth) by `rootPid`. */
export function rendererPids(rootPid) {
  return listPids().filter(
    (pid) => readProcFile(`/proc/${pid}/cmdline`).includes('--type=renderer') && isDescendant(pid, rootPid),
  );
}

/** Samples the renderers' resident memory every `intervalMs` while a case runs; `stop()` gives the peak. */
export function startRendererSampler(rootPid, intervalMs = 250) {
  let peakBytes = 0;
  const sample = () => {
    const rssKb = rendererPids(rootPid).reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0);
    peakBytes = Math.max(peakBytes, rssKb * 1024);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peakRendererRssBytes: peakBytes };
    },
  };
}
