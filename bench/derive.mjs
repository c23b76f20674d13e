// Numbers derived from a bench run's raw timings: per-case seconds, throughput and achieved GFLOP/s (against the
// MatMul micro-benchmark of the same run), the baseline ratios and issue #6's targets. Pure functions of the
// results JSON, so `bench/report.mjs` can re-derive an old file.

/** Which micro-benchmark kernel a tower dtype's MatMuls run on in WASM. */
const KERNEL_OF_DTYPE = { fp32: 'fp32', fp16: 'fp16', int8: 'int8', q4: 'q4' };

/** Issue #6's targets for the B/16 towers on WASM. */
export const TARGETS = {
  int8ImageSeconds: 0.55,
  int8ClassNamesSeconds: 12,
  realLengthSpeedupOverPadded: 5,
};

/**
 * The best GFLOP/s each kernel reached at the largest MatMul shape (fastest run of any pass): the machine is
 * shared, and the fastest run is the one least disturbed by other work.
 */
export function kernelPeaks(matmulPasses) {
  const peaks = {};
  for (const pass of matmulPasses) {
    if (!pass.result) continue;
    const largest = Math.max(...pass.result.results.map((r) => r.m * r.k * r.n));
    for (const r of pass.result.results) {
      const best = (2 * r.layers * r.m * r.k * r.n) / (r.runs.minMs / 1000) / 1e9;
      if (r.m * r.k * r.n === largest) peaks[r.kind] = Math.max(peaks[r.kind] ?? 0, best);
    }
  }
  return peaks;
}

/** FLOPs of a text batch list, from the per-prompt FLOPs at each sequence length. */
function textFlops(batches, flopsBySeqLen) {
  return batches.reduce((sum, b) => sum + b.batch * flopsBySeqLen[String(b.seqLen)], 0);
}

export function deriveCase(modelCase, flops, peaks) {
  const c = modelCase.result;
  const image = c.image;
  const b1Seconds = image.batch1.medianMs / 1000;
  const backend = c.backend ?? 'wasm';
  // The micro-benchmark measures the WASM kernels only.
  const peak = backend === 'wasm' ? (peaks[KERNEL_OF_DTYPE[c.dtype]] ?? null) : null;
  const imageGflops = flops ? flops.image.flopsPerImage / b1Seconds / 1e9 : null;
  const throughput = [{ batch: 1, imagesPerSecond: 1 / b1Seconds }].concat(
    image.batches.map((b) => ({ batch: b.batch, imagesPerSecond: b.batch / (b.runs.medianMs / 1000) })),
  );
  const best = throughput.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  const real = c.text.realLength;
  const realTowerSeconds = real.towerMs / 1000;
  const padded = c.text.paddedToContext;
  const paddedMsPerPrompt = padded ? padded.towerMs / padded.prompts : null;
  const paddedTowerSeconds = padded ? (paddedMsPerPrompt * real.prompts) / 1000 : null;
  const tokenizeSeconds = (real.totalMs - real.towerMs) / 1000;
  const sorted = c.text.sortedByLength;
  const sortedTowerSeconds = sorted ? sorted.towerMs / 1000 : null;
  const bySeqLen = flops?.text.flopsPerPromptBySeqLen;
  return {
    model: modelCase.part ? `${modelCase.model} (${modelCase.part})` : modelCase.model,
    dtype: c.dtype,
    backend,
    gpu: c.gpu ?? null,
    probeOk: image.probeCosine >= image.minProbeCosine && c.text.probeCosine >= image.minProbeCosine,
    probeCosine: { image: image.probeCosine, text: c.text.probeCosine },
    caseSeconds: modelCase.seconds,
    loadavg1m: modelCase.loadavg1m,
    otherProcessesCpuCores: modelCase.otherProcessesCpuCores ?? null,
    coldStartSeconds: c.sessionMs / 1000,
    downloadSeconds: c.downloadMs / 1000,
    fileMB: (c.fileBytes.image + c.fileBytes.text) / 1e6,
    image: {
      firstRunSeconds: image.firstRunMs / 1000,
      medianSeconds: b1Seconds,
      throughput,
      bestBatch: best.batch,
      bestImagesPerSecond: best.imagesPerSecond,
      gflops: imageGflops,
      fractionOfKernelPeak: imageGflops !== null && peak ? imageGflops / peak : null,
      kernel: KERNEL_OF_DTYPE[c.dtype],
    },
    text: {
      prompts: real.prompts,
      meanTokens: real.meanTokens,
      meanPaddedSeqLen: real.batches.reduce((s, b) => s + b.batch * b.seqLen, 0) / real.prompts,
      realTotalSeconds: real.totalMs / 1000,
      realTowerSeconds,
      tokenizeSeconds,
      realTowerGflops: bySeqLen ? textFlops(real.batches, bySeqLen) / realTowerSeconds / 1e9 : null,
      paddedPromptsMeasured: padded?.prompts ?? 0,
      paddedTowerSecondsExtrapolated: paddedTowerSeconds,
      paddedTowerGflops:
        padded && bySeqLen ? textFlops(padded.batches, bySeqLen) / (padded.towerMs / 1000) / 1e9 : null,
      realLengthSpeedup: paddedTowerSeconds !== null ? paddedTowerSeconds / realTowerSeconds : null,
      paddedMaxCosineGap: padded?.maxCosineGap ?? null,
      sortedTowerSeconds,
      sortedMeanPaddedSeqLen: sorted
        ? sorted.batches.reduce((s, b) => s + b.batch * b.seqLen, 0) / sorted.prompts
        : null,
      sortedSpeedupOverPadded:
        sorted && paddedMsPerPrompt !== null ? (paddedMsPerPrompt * sorted.prompts) / sorted.towerMs : null,
      sortedMaxCosineGap: sorted?.maxCosineGap ?? null,
      ensemble: c.text.ensemble
        ? {
            ...c.text.ensemble,
            promptsPerSecond: c.text.ensemble.prompts / (c.text.ensemble.totalMs / 1000),
            // Same prompts per second for every class: the template set is the same, class names differ in length.
            allClassesSecondsExtrapolated:
              (c.text.ensemble.totalMs / 1000) * (real.prompts / c.text.ensemble.classes),
          }
        : null,
      batchSweep: (c.text.batchSweep ?? []).map((b) => ({
        ...b,
        promptsPerSecond: b.prompts / (b.towerMs / 1000),
      })),
      firstRanking: c.text.firstRanking
        ? {
            ...c.text.firstRanking,
            promptsPerSecond: c.text.firstRanking.prompts / (c.text.firstRanking.totalMs / 1000),
          }
        : null,
    },
    memory: {
      wasmMiB: (c.memory.afterText.wasmBytes ?? NaN) / 2 ** 20,
      workerJsHeapMiB:
        c.memory.afterText.jsHeapUsedBytes === null ? null : c.memory.afterText.jsHeapUsedBytes / 2 ** 20,
      peakRendererRssMiB: modelCase.memory.peakRendererRssBytes / 2 ** 20,
    },
  };
}

/**
 * The naive way against ours, on the B/16 model: fp32, batch 1, every prompt padded to the context length,
 * preprocessing on the main thread; against the dtype with the fastest batch-1 image latency that passes the probe.
 */
export function deriveBaseline(cases, preprocess, modelKey) {
  const ofModel = cases.filter((c) => c.model === modelKey && c.backend === 'wasm');
  const fp32 = ofModel.find((c) => c.dtype === 'fp32');
  const passing = ofModel.filter((c) => c.probeOk);
  if (!fp32 || passing.length === 0) return null;
  const best = passing.reduce((a, b) => (b.image.medianSeconds < a.image.medianSeconds ? b : a));
  const mainPrep = preprocess?.mainThread ? preprocess.mainThread.meanMsPerImage / 1000 : 0;
  const workerPrep = preprocess?.worker ? preprocess.worker.meanMsPerImage / 1000 : 0;
  const baselineText = fp32.text.paddedTowerSecondsExtrapolated + fp32.text.tokenizeSeconds;
  const rows = [
    {
      what: 'cold start: both sessions (s)',
      baseline: fp32.coldStartSeconds,
      best: best.coldStartSeconds,
    },
    {
      what: 'one image, decode + preprocess + image tower (s)',
      baseline: fp32.image.medianSeconds + mainPrep,
      best: best.image.medianSeconds + workerPrep,
    },
    {
      what: 'main-thread time per image (ms; ours preprocesses in the worker)',
      baseline: mainPrep * 1000,
      best: 0,
    },
    {
      what: `images per second (baseline batch 1, ours batch ${best.image.bestBatch})`,
      baseline: fp32.image.throughput[0].imagesPerSecond,
      best: best.image.bestImagesPerSecond,
      higherIsBetter: true,
    },
    {
      what: `${fp32.text.prompts} class-name prompts (s; baseline padded to 77, extrapolated)`,
      baseline: baselineText,
      best: best.text.realTotalSeconds,
    },
    { what: 'download, both towers (MB)', baseline: fp32.fileMB, best: best.fileMB },
    {
      what: 'peak renderer memory (MiB)',
      baseline: fp32.memory.peakRendererRssMiB,
      best: best.memory.peakRendererRssMiB,
    },
  ].map((row) => ({
    ...row,
    ratio: row.higherIsBetter ? row.best / row.baseline : row.best === 0 ? null : row.baseline / row.best,
  }));
  return { model: modelKey, bestDtype: best.dtype, rows };
}

/** Issue #6's targets, checked against the int8 B/16 case. */
export function checkTargets(cases, modelKey) {
  const int8 = cases.find((c) => c.model === modelKey && c.dtype === 'int8' && c.backend === 'wasm');
  if (!int8) return [];
  return [
    {
      target: `int8 image tower ≤ ${TARGETS.int8ImageSeconds} s/image (batch 1, median)`,
      measured: int8.image.medianSeconds,
      met: int8.image.medianSeconds <= TARGETS.int8ImageSeconds,
    },
    {
      target: `1,000 class names ≤ ${TARGETS.int8ClassNamesSeconds} s on int8 (tokenizer + text tower)`,
      measured: int8.text.realTotalSeconds,
      met: int8.text.realTotalSeconds <= TARGETS.int8ClassNamesSeconds,
    },
    {
      target: `real length ≥ ${TARGETS.realLengthSpeedupOverPadded}x faster than padded to 77 (int8 text tower)`,
      measured: int8.text.realLengthSpeedup,
      met:
        int8.text.realLengthSpeedup !== null &&
        int8.text.realLengthSpeedup >= TARGETS.realLengthSpeedupOverPadded,
    },
  ];
}

/** Issue #19's target for a big label set: ImageNet-1k's first ranking on B/16 int8 WASM. */
export const FIRST_RANKING_TARGET_SECONDS = 60;

/**
 * EVA Lens against the peer (transformers.js on a CLIP ViT-B/16 of the same size), row by row. `ratio` is EVA Lens
 * / peer of the measured quantity (seconds or MiB): below 1, EVA Lens needs less.
 */
export function derivePeer(results, cases) {
  const peer = results.peer;
  if (!peer) return null;
  const ours = cases.find(
    (c) => c.model === 'eva02-b16-random' && c.dtype === 'int8' && c.backend === 'wasm',
  );
  const byMode = Object.fromEntries(peer.cases.map((c) => [c.mode, c]));
  const pipeline = byMode.pipeline?.result ?? null;
  const split = byMode.split?.result ?? null;
  const peakMiB = (c) => (c?.memory ? c.memory.peakRendererRssBytes / 2 ** 20 : null);
  const wasmMiB = (r) => (r?.memory.afterRuns.wasmBytes ?? NaN) / 2 ** 20;
  const row = (what, evaLens, peerValue, peerWay) => ({
    what,
    evaLens,
    peer: peerValue,
    peerWay,
    ratio: evaLens !== null && peerValue ? evaLens / peerValue : null,
  });
  const rows = [];
  if (ours) {
    const load = ours.downloadSeconds + ours.coldStartSeconds;
    const oursOneImage = ours.image.medianSeconds;
    rows.push(
      row('load: fetch + sessions (s)', load, pipeline ? pipeline.loadMs / 1000 : null, 'pipeline()'),
      row('load: fetch + sessions (s)', load, split ? split.loadMs / 1000 : null, 'split towers'),
      row(
        'one image, image tower (s, median; EVA Lens: labels already embedded)',
        oursOneImage,
        pipeline ? pipeline.perImage.medianMs / 1000 : null,
        `pipeline(image, ${pipeline?.perImageLabels ?? '–'} labels)`,
      ),
      row(
        'one image: preprocess + image tower (s, median)',
        oursOneImage + (results.preprocess?.worker?.meanMsPerImage ?? 0) / 1000,
        split ? split.perImage.medianMs / 1000 : null,
        'processor + vision model',
      ),
      row(
        'one image, image tower only (s, median)',
        oursOneImage,
        split?.imageTowerOnly ? split.imageTowerOnly.medianMs / 1000 : null,
        'vision model',
      ),
      row(
        `${ours.text.prompts} labels, "a photo of a {}." (s)`,
        ours.text.realTotalSeconds,
        pipeline ? pipeline.allLabelsMs / 1000 : null,
        'pipeline(image, 1,000 labels)',
      ),
      row(
        `${ours.text.prompts} labels, "a photo of a {}." (s)`,
        ours.text.realTotalSeconds,
        split ? split.allLabelsMs / 1000 : null,
        'tokenizer + text model, one call',
      ),
      row(
        'peak renderer memory (MiB)',
        ours.memory.peakRendererRssMiB,
        peakMiB(byMode.pipeline),
        'pipeline()',
      ),
      row(
        'peak renderer memory (MiB)',
        ours.memory.peakRendererRssMiB,
        peakMiB(byMode.split),
        'split towers',
      ),
      row('WASM heap (MiB)', ours.memory.wasmMiB, pipeline ? wasmMiB(pipeline) : null, 'pipeline()'),
      row('WASM heap (MiB)', ours.memory.wasmMiB, split ? wasmMiB(split) : null, 'split towers'),
    );
  }
  return {
    library: `${peer.library} ${peer.version}`,
    ortVersion: pipeline?.ortVersion ?? split?.ortVersion ?? null,
    dtype: peer.dtype,
    failures: peer.cases.filter((c) => c.error).map((c) => `${c.mode}: ${c.error}`),
    rows,
  };
}

export function deriveAll(results) {
  const peaks = kernelPeaks(results.matmul);
  const cases = results.models
    .filter((m) => m.result)
    .map((m) => deriveCase(m, results.flops[m.model] ?? null, peaks));
  return {
    kernelPeakGflops: peaks,
    cases,
    baseline: deriveBaseline(cases, results.preprocess, 'eva02-b16-random'),
    targets: checkTargets(cases, 'eva02-b16-random'),
    peer: derivePeer(results, cases),
  };
}
