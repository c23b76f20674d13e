// Markdown tables of a bench run, for the terminal and for BENCHMARKS.md:
//   node bench/report.mjs bench-results/<date>-<machine>.json
/* global process, console */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FIRST_RANKING_TARGET_SECONDS, deriveAll } from './derive.mjs';

const fixed = (value, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : Number(value).toFixed(digits);

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function runTable(results) {
  const { machine, browser, ort, load } = results;
  const loadText = (snapshot) =>
    `${fixed(snapshot.loadavg.one)} / ${fixed(snapshot.loadavg.five)} / ${fixed(snapshot.loadavg.fifteen)}`;
  const others = (snapshot) =>
    snapshot.busiest
      .filter((p) => p.cpuPercent >= 5)
      .map((p) => `${p.command.split(' ')[0].split('/').pop()} ${fixed(p.cpuPercent, 0)}%`)
      .join(', ') || 'nothing above 5% CPU';
  return table(
    ['', ''],
    [
      ['date', results.startedAt],
      ['machine', `${machine.nproc} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM`],
      ['browser', `${browser.version}, headless (\`${browser.executable}\` ${browser.args.join(' ')})`],
      [
        'page',
        `crossOriginIsolated ${browser.crossOriginIsolated}, hardwareConcurrency ${browser.hardwareConcurrency}`,
      ],
      [
        'runtime',
        `onnxruntime-web ${ort.version}; backends: ${ort.backend}; ${ort.threads} WASM threads; ${ort.build}`,
      ],
      ['load average 1/5/15 min', `before ${loadText(load.before)}, after ${loadText(load.after)}`],
      ['busiest other processes', `before: ${others(load.before)}; after: ${others(load.after)}`],
      ['duration', `${fixed(results.durationSeconds, 0)} s`],
    ],
  );
}

function matmulTable(results) {
  const rows = [];
  for (const pass of results.matmul) {
    if (!pass.result) {
      rows.push([pass.at, '–', '–', '–', `failed: ${pass.error}`, '–']);
      continue;
    }
    for (const r of pass.result.results) {
      rows.push([
        pass.at,
        r.kind,
        `${r.layers} × ${r.m}×${r.k}×${r.n}`,
        `${fixed(r.gflops, 1)} / ${fixed((2 * r.layers * r.m * r.k * r.n) / (r.runs.minMs / 1000) / 1e9, 1)}`,
        r.cosineToFp32 === null ? '–' : fixed(r.cosineToFp32, 5),
        fixed(pass.otherProcessesCpuCores),
      ]);
    }
  }
  return table(
    [
      'pass',
      'kernel',
      'MatMuls: layers × M×K×N',
      'GFLOP/s median / best run',
      'cosine to fp32',
      'other processes (cores)',
    ],
    rows,
  );
}

function imageTable(derived) {
  return table(
    [
      'model',
      'dtype, backend',
      'files MB',
      'fetch + sha256 s (local)',
      'cold start s',
      'first image s',
      'image s (median, batch 1)',
      'images/s at batch 1 / 4 / 8',
      'GFLOP/s (share of kernel peak)',
      'probe cosine image / text',
      'load avg at start / end; other processes (cores)',
    ],
    derived.cases.map((c) => [
      c.model,
      `${c.dtype}, ${c.backend}${c.gpu?.isFallbackAdapter ? ' (SwiftShader)' : ''}`,
      fixed(c.fileMB, 0),
      fixed(c.downloadSeconds),
      fixed(c.coldStartSeconds),
      fixed(c.image.firstRunSeconds),
      fixed(c.image.medianSeconds, 3),
      c.image.throughput.map((t) => fixed(t.imagesPerSecond)).join(' / '),
      c.image.gflops === null
        ? '–'
        : `${fixed(c.image.gflops, 1)} (${c.image.fractionOfKernelPeak === null ? '–' : `${fixed(100 * c.image.fractionOfKernelPeak, 0)}% of ${c.image.kernel}`})`,
      `${fixed(c.probeCosine.image, 4)} / ${fixed(c.probeCosine.text, 4)}`,
      `${fixed(c.loadavg1m.start)} / ${fixed(c.loadavg1m.end)}; ${fixed(c.otherProcessesCpuCores)}`,
    ]),
  );
}

function textTable(derived) {
  return table(
    [
      'model',
      'dtype, backend',
      'prompts',
      'tokens: real / as batched',
      'real length: total s (tower s)',
      'tower GFLOP/s',
      'padded to 77: tower s (extrapolated from)',
      'padded / real',
      'length-sorted batches: tower s (padded / sorted)',
      'WASM MiB',
      'peak renderer MiB',
    ],
    derived.cases.map((c) => [
      c.model,
      `${c.dtype}, ${c.backend}${c.gpu?.isFallbackAdapter ? ' (SwiftShader)' : ''}`,
      String(c.text.prompts),
      `${fixed(c.text.meanTokens, 1)} / ${fixed(c.text.meanPaddedSeqLen, 1)}`,
      `${fixed(c.text.realTotalSeconds)} (${fixed(c.text.realTowerSeconds)})`,
      fixed(c.text.realTowerGflops, 1),
      c.text.paddedTowerSecondsExtrapolated === null
        ? '–'
        : `${fixed(c.text.paddedTowerSecondsExtrapolated, 1)} (${c.text.paddedPromptsMeasured} prompts)`,
      c.text.realLengthSpeedup === null ? '–' : `${fixed(c.text.realLengthSpeedup, 1)}x`,
      c.text.sortedTowerSeconds === null
        ? '–'
        : `${fixed(c.text.sortedTowerSeconds)} (${fixed(c.text.sortedSpeedupOverPadded, 1)}x)`,
      fixed(c.memory.wasmMiB, 0),
      fixed(c.memory.peakRendererRssMiB, 0),
    ]),
  );
}

function ensembleTable(derived) {
  const rows = derived.cases.filter((c) => c.text.ensemble);
  if (rows.length === 0) return null;
  return table(
    [
      'model',
      'dtype, backend',
      'classes × templates measured',
      'prompts',
      'tokens per prompt',
      'total s (tower s)',
      'prompts/s',
      'all classes × 80 templates, extrapolated s',
    ],
    rows.map((c) => {
      const e = c.text.ensemble;
      return [
        c.model,
        `${c.dtype}, ${c.backend}`,
        `${e.classes} × ${e.templates}`,
        String(e.prompts),
        fixed(e.meanTokens, 1),
        `${fixed(e.totalMs / 1000)} (${fixed(e.towerMs / 1000)})`,
        fixed(e.promptsPerSecond, 0),
        fixed(e.allClassesSecondsExtrapolated, 0),
      ];
    }),
  );
}

function batchSweepTable(derived) {
  const rows = derived.cases.flatMap((c) =>
    c.text.batchSweep.map((b) => [
      c.model,
      `${c.dtype}, ${c.backend}`,
      String(b.batchSize),
      String(b.prompts),
      `${fixed(b.totalMs / 1000)} (${fixed(b.towerMs / 1000)})`,
      fixed(b.promptsPerSecond, 0),
    ]),
  );
  if (rows.length === 0) return null;
  return table(
    ['model', 'dtype, backend', 'text batch', 'prompts', 'total s (tower s)', 'prompts/s (tower)'],
    rows,
  );
}

function firstRankingTable(derived) {
  const rows = derived.cases.filter((c) => c.text.firstRanking);
  if (rows.length === 0) return null;
  return table(
    [
      'model',
      'dtype, backend',
      'label set',
      'prompts',
      'text batch',
      'tokens per prompt',
      'batch sequence lengths',
      'first ranking s (tower s)',
      'prompts/s',
      `target ≤ ${FIRST_RANKING_TARGET_SECONDS} s`,
    ],
    rows.map((c) => {
      const f = c.text.firstRanking;
      return [
        c.model,
        `${c.dtype}, ${c.backend}`,
        f.name,
        String(f.prompts),
        String(f.batchSize),
        fixed(f.meanTokens, 1),
        `${Math.min(...f.seqLens)}–${Math.max(...f.seqLens)}`,
        `${fixed(f.totalMs / 1000, 1)} (${fixed(f.towerMs / 1000, 1)})`,
        fixed(f.promptsPerSecond, 0),
        f.totalMs / 1000 <= FIRST_RANKING_TARGET_SECONDS ? 'met' : '**not met**',
      ];
    }),
  );
}

function peerTable(derived) {
  const p = derived.peer;
  if (!p) return null;
  const header = `${p.library} (onnxruntime-web ${p.ortVersion ?? '?'}, dtype ${p.dtype}) on a random-weight CLIP ViT-B/16 against EVA Lens's EVA02-CLIP-B/16 int8, both on WASM in the same page setup. Ratio = EVA Lens / peer (below 1: EVA Lens takes less).`;
  const failures = p.failures.length > 0 ? `\n\nFailed: ${p.failures.join('; ')}` : '';
  return `${header}\n\n${table(
    ['', 'EVA Lens', 'peer', 'peer, used as', 'ratio'],
    p.rows.map((r) => [r.what, fixed(r.evaLens), fixed(r.peer), r.peerWay, fixed(r.ratio)]),
  )}${failures}`;
}

function preprocessTable(results) {
  const { worker, mainThread } = results.preprocess ?? {};
  if (!worker || !mainThread)
    return `Preprocessing not measured: ${results.preprocess?.note ?? 'no images'}.`;
  return table(
    ['where', 'images', 'decode + preprocess ms/image (mean of medians)'],
    [
      ['worker (the app)', String(worker.images.length), fixed(worker.meanMsPerImage, 1)],
      ['main thread (baseline)', String(mainThread.images.length), fixed(mainThread.meanMsPerImage, 1)],
    ],
  );
}

/** The real-photo case: stages per photo (median ms) on the app's path and the old one, and images/s end to end. */
function photoTable(results) {
  const cases = results.photos ?? [];
  if (cases.length === 0) return 'Real photos not measured.';
  const rows = [];
  for (const c of cases) {
    if (!c.result) {
      rows.push([`${c.model} ${c.dtype}`, 'FAILED', c.error ?? '', '', '', '', '', '', '', '', '']);
      continue;
    }
    for (const size of c.result.sizes) {
      for (const [path, t] of [
        ['reduced while read (app)', size.reduced],
        ['full resolution (before)', size.fullResolution],
      ]) {
        const prep = t.decode + t.pixels + t.thumbnail + t.preprocess;
        rows.push([
          `${c.model} ${c.dtype}`,
          `${size.label} (${size.width}×${size.height}, ${fixed(size.meanBytes / 2 ** 20, 1)} MiB) ×${size.photos}`,
          path,
          fixed(t.hash, 0),
          fixed(t.decode, 0),
          fixed(t.pixels, 0),
          fixed(t.thumbnail, 0),
          fixed(t.preprocess, 0),
          fixed(prep, 0),
          fixed(t.tower, 0),
          path.startsWith('reduced')
            ? `**${fixed(size.endToEnd.medianImagesPerSecond, 2)}** (tower alone ${fixed(
                size.endToEnd.towerOnlyImagesPerSecond,
                2,
              )}; runs ${size.endToEnd.runs
                .map((r) => fixed(r.imagesPerSecond, 2))
                .join(', ')}); max \\|Δ\\| vs full ${fixed(size.maxAbsDiffReducedVsFull, 4)}`
            : '',
        ]);
      }
    }
  }
  const loads = cases
    .map((c) => `${c.model}: ${fixed(c.loadavg1m?.start)} → ${fixed(c.loadavg1m?.end)}`)
    .join('; ');
  return [
    table(
      [
        'model',
        'photos',
        'path',
        'hash',
        'decode',
        'pixels',
        'thumbnail',
        'preprocess',
        'decode+preprocess (ms)',
        'tower (ms)',
        'end to end, images/s (median)',
      ],
      rows,
    ),
    `Stage times are medians per photo in the worker, one photo at a time (ms). End to end: \`embedImageFiles\` ` +
      `(hash for the cache, decode ahead of the tower, the app's batch size). Load average (1 min) per case: ${loads}.`,
  ].join('\n\n');
}

function baselineTable(derived) {
  const b = derived.baseline;
  if (!b) return 'No baseline: the fp32 case or a probe-passing case is missing.';
  return table(
    ['', 'baseline (fp32)', `ours (${b.bestDtype})`, 'ratio (×, >1 = ours better)'],
    b.rows.map((r) => [r.what, fixed(r.baseline), fixed(r.best), r.ratio === null ? '–' : fixed(r.ratio, 1)]),
  );
}

function targetTable(derived) {
  if (derived.targets.length === 0) return 'No int8 B/16 case in this run.';
  return table(
    ['issue #6 target', 'measured', 'met'],
    derived.targets.map((t) => [t.target, fixed(t.measured, 2), t.met ? 'yes' : '**no**']),
  );
}

export function renderReport(results) {
  if (results.settings?.photosOnly)
    return ['### Run', runTable(results), '### Real photos', photoTable(results)].join('\n\n');
  const derived = results.derived ?? deriveAll(results);
  const failures = results.models.filter((m) => !m.result);
  return [
    '### Run',
    runTable(results),
    '### Machine limit: chained MatMuls in onnxruntime-web WASM',
    matmulTable(results),
    `Kernel peaks used for the towers' share (best run at the largest shape): ${Object.entries(
      derived.kernelPeakGflops,
    )
      .map(([kind, gflops]) => `${kind} ${fixed(gflops, 1)}`)
      .join(', ')} GFLOP/s.`,
    '### Image tower',
    imageTable(derived),
    '### Text tower (ImageNet class names, "a photo of a {}.") and memory',
    textTable(derived),
    ...(ensembleTable(derived)
      ? ["### Text tower, 80-template ensemble (CLIP's ImageNet templates)", ensembleTable(derived)]
      : []),
    ...(batchSweepTable(derived)
      ? ['### Text tower batch size (1,000 class names, one template)', batchSweepTable(derived)]
      : []),
    ...(firstRankingTable(derived)
      ? ['### Big label set: time to the first ranking', firstRankingTable(derived)]
      : []),
    ...(peerTable(derived) ? ['### The peer: transformers.js in the same run', peerTable(derived)] : []),
    '### Preprocessing (real photos)',
    preprocessTable(results),
    '### Real photos (phone-size JPEGs through the app path)',
    photoTable(results),
    '### Baseline side by side (B/16)',
    baselineTable(derived),
    '### Targets',
    targetTable(derived),
    ...(failures.length > 0
      ? [
          '### Failed cases',
          failures.map((f) => `- ${f.model} ${f.dtype} ${f.backend}: ${f.error}`).join('\n'),
        ]
      : []),
  ].join('\n\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/report.mjs bench-results/<file>.json');
    process.exit(2);
  }
  console.log(renderReport(JSON.parse(readFileSync(file, 'utf8'))));
}
