/**
 * Progress of a model download or import over the whole model: bytes done (files already stored count), the total,
 * and the transfer rate over a sliding window with the time left at that rate.
 */

export interface TransferProgress {
  /** The file being downloaded, verified or stored (its manifest path). */
  file: string;
  stage: 'download' | 'verify' | 'store';
  /** Bytes of the whole model done so far (resumed and already stored files count), and the total. */
  loaded: number;
  total: number;
  /** Transfer rate over the last few seconds; 0 until bytes arrive. */
  bytesPerSecond: number;
  /** At that rate; null while the rate is unknown. */
  secondsLeft: number | null;
}

/** Seconds over which the transfer rate is averaged. */
const RATE_WINDOW_MS = 5000;

export class ProgressMeter {
  /** Bytes of the files finished (committed, or found stored and intact). */
  private finished = 0;
  private file = '';
  private fileBytes = 0;
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    readonly total: number,
    private readonly now: () => number,
    private readonly onProgress?: (progress: TransferProgress) => void,
  ) {}

  /** Starts a file whose partial already holds `offset` bytes (0 after a restart). */
  startFile(file: string, offset: number, stage: TransferProgress['stage'] = 'download'): void {
    this.file = file;
    this.fileBytes = offset;
    this.report(stage);
  }

  /** `bytes` more of the current file arrived (download) or were written (store). */
  advance(bytes: number, stage: TransferProgress['stage'] = 'download'): void {
    this.fileBytes += bytes;
    this.samples.push({ at: this.now(), bytes });
    this.report(stage);
  }

  verifying(file: string): void {
    if (file !== this.file) this.startFile(file, 0, 'verify');
    else this.report('verify');
  }

  finishFile(bytes: number): void {
    this.finished += bytes;
    this.fileBytes = 0;
  }

  private report(stage: TransferProgress['stage']): void {
    const loaded = Math.min(this.total, this.finished + this.fileBytes);
    const bytesPerSecond = this.rate();
    this.onProgress?.({
      file: this.file,
      stage,
      loaded,
      total: this.total,
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 ? (this.total - loaded) / bytesPerSecond : null,
    });
  }

  private rate(): number {
    const now = this.now();
    while (this.samples.length > 0 && now - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    if (!first) return 0;
    // The first sample marks when the window starts; the bytes that arrived after it are the ones it measures.
    const bytes = this.samples.reduce((sum, sample) => sum + sample.bytes, 0) - first.bytes;
    // A floor on the window, so two chunks that arrive together do not report an absurd rate.
    return (bytes * 1000) / Math.max(now - first.at, 250);
  }
}
